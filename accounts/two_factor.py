"""Two-factor login for everyone who can edit or see numbers for authorities only: a TOTP code (django-otp).

With REGISTRY_REQUIRE_2FA on, such an account that has logged in with its password may do nothing
but finish the login: enter the code from its app, or, the first time, set up the app by scanning a
QR code and confirming one code. Lost phone: a national administrator deletes the account's TOTP
device in the admin, and the next login sets up a new one.

The secret shown during setup belongs to the session that shows it. An initial password travels to
a new user somehow; whoever else knows it and opens the setup page first must not keep a secret
that the user later confirms. So each session gets its own unconfirmed device, and creating it
discards every unconfirmed device of the account made before (by an earlier or another session).
Confirming one discards the rest: only the confirmed secret ever passes the second factor.
"""

import base64
import io
from urllib.parse import urlencode

import django_otp
from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.qr import write_qrcode_image

from accounts.access import sees_restricted_numbers

# The session's own unconfirmed device during setup (its primary key).
SETUP_DEVICE = "two_factor_setup_device"


def requires_second_factor(user):
    """Return True when `user` must pass a second factor.

    The setting is on and the account can edit (staff) or sees numbers for authorities only
    (national readers too). Costs a permission query once per request for other accounts.
    """
    return bool(
        settings.REGISTRY_REQUIRE_2FA
        and user.is_authenticated
        and user.is_active
        and (user.is_staff or user.is_superuser or sees_restricted_numbers(user))
    )


def confirmed_device(user):
    """Return the user's confirmed TOTP device, or None when they have not set one up."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk").first()


class RequireTwoFactorMiddleware:
    """Sends an editor who has not passed the second factor to the code page (or to setup), whatever they ask for.

    Needs django_otp's OTPMiddleware before it. Static files, the health check, the language switch
    and logging out stay open.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if requires_second_factor(user) and not user.is_verified() and not self._is_open(request.path_info):
            has_device = confirmed_device(user) is not None
            target = reverse("accounts:two-factor-verify" if has_device else "accounts:two-factor-setup")
            return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def _is_open(path):
        open_paths = {
            reverse("accounts:two-factor-verify"),
            reverse("accounts:two-factor-setup"),
            reverse("admin:logout"),
            reverse("logout"),
            reverse("healthz"),
            reverse("set_language"),
        }
        return path in open_paths or path.startswith("/" + settings.STATIC_URL.lstrip("/"))


class TokenForm(forms.Form):
    """One code from the authenticator app, checked against `device` (django-otp throttles wrong codes)."""

    token = forms.CharField(
        label=_("Code from the authenticator app"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )

    def __init__(self, *args, device, **kwargs):
        super().__init__(*args, **kwargs)
        self.device = device

    def clean_token(self):
        token = self.cleaned_data["token"].replace(" ", "")
        if not token.isdigit() or len(token) != self.device.digits:
            raise ValidationError(
                _("The code has %(digits)s digits. Type the code your authenticator app shows now."),
                params={"digits": self.device.digits},
            )
        allowed, _details = self.device.verify_is_allowed()
        if not allowed:
            raise ValidationError(_("Too many wrong codes in a row. Wait a minute, then type the code shown now."))
        if not self.device.verify_token(token):
            raise ValidationError(
                _("The code is wrong or has expired. Type the code your authenticator app shows now.")
            )
        return token


def _next_url(request):
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    # Readers do not use the admin: they came to log in to the national list.
    return reverse("admin:index") if request.user.is_staff else resolve_url(settings.LOGIN_REDIRECT_URL)


def _finish_login(request, device):
    """Mark this session as having passed the second factor, under a new session key."""
    request.session.pop(SETUP_DEVICE, None)
    request.session.cycle_key()
    django_otp.login(request, device)
    return redirect(_next_url(request))


def _page_context(request, **extra):
    # The admin's look without its navigation: nothing in the admin is open until this step is done.
    context = admin.site.each_context(request)
    context.update(available_apps=[], is_nav_sidebar_enabled=False, next=_next_url(request), **extra)
    return context


def _qr_data_uri(text):
    out = io.BytesIO()
    write_qrcode_image(text, out)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode("ascii")


@login_required
def verify(request):
    """Ask for the code from the app of an account that has one set up."""
    device = confirmed_device(request.user)
    if device is None:
        return redirect(f"{reverse('accounts:two-factor-setup')}?{urlencode({'next': _next_url(request)})}")
    form = TokenForm(request.POST or None, device=device)
    if form.is_valid():
        return _finish_login(request, device)
    return render(request, "accounts/two_factor_verify.html", _page_context(request, form=form))


def _session_device(request):
    """Return (this session's unconfirmed device, whether it was made just now).

    A session without one, or whose device has been discarded (another session started setup
    since), gets a new device with a new secret; every other unconfirmed device of the account goes.
    """
    user = request.user
    key = request.session.get(SETUP_DEVICE)
    device = TOTPDevice.objects.filter(user=user, confirmed=False, pk=key).first() if key else None
    if device is not None:
        return device, False
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name=str(_("Authenticator app")), confirmed=False)
    request.session[SETUP_DEVICE] = device.pk
    return device, True


def _confirm(device):
    """Confirm `device` and discard the account's other unconfirmed devices; False when it is too late.

    Too late: another session confirmed a device first, or started setup again (`device` is gone).
    """
    with transaction.atomic():
        # One confirmation at a time per account: two sessions confirming at once would leave two apps.
        get_user_model().objects.select_for_update().filter(pk=device.user_id).first()
        if confirmed_device(device.user) is not None:
            return False
        if not TOTPDevice.objects.filter(pk=device.pk, confirmed=False).update(confirmed=True):
            return False
        TOTPDevice.objects.filter(user_id=device.user_id, confirmed=False).delete()
    device.confirmed = True
    return True


def _to_verify(request):
    return redirect(f"{reverse('accounts:two-factor-verify')}?{urlencode({'next': _next_url(request)})}")


@login_required
def setup(request):
    """Set up an authenticator app: show this session's secret as a QR code and as text, and confirm one code."""
    if confirmed_device(request.user) is not None:
        # Replacing a device is an administrator's job; otherwise a stolen password could swap the phone.
        return _to_verify(request)
    had_device = SETUP_DEVICE in request.session
    device, is_new = _session_device(request)
    # A code typed for a secret that was discarded meanwhile is not checked against the new one.
    restarted = is_new and had_device
    form = TokenForm(None if restarted else request.POST or None, device=device)
    if form.is_valid():
        if not _confirm(device):
            return _to_verify(request)
        return _finish_login(request, device)
    secret = base64.b32encode(device.bin_key).decode("ascii")
    context = _page_context(
        request,
        form=form,
        restarted=restarted,
        qr_code=_qr_data_uri(device.config_url),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    )
    return render(request, "accounts/two_factor_setup.html", context)
