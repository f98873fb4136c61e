"""Two-factor login for everyone who can edit: a TOTP code from an authenticator app (django-otp).

With REGISTRY_REQUIRE_2FA on, a staff account that has logged in with its password may do nothing
but finish the login: enter the code from its app, or, the first time, set up the app by scanning a
QR code and confirming one code. Lost phone: a national administrator deletes the account's TOTP
device in the admin, and the next login sets up a new one.
"""

import base64
import io
from urllib.parse import urlencode

import django_otp
from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.qr import write_qrcode_image


def requires_second_factor(user):
    """Return True when `user` must pass a second factor: the setting is on and the account can edit."""
    return bool(
        settings.REGISTRY_REQUIRE_2FA
        and user.is_authenticated
        and user.is_active
        and (user.is_staff or user.is_superuser)
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
    return reverse("admin:index")


def _finish_login(request, device):
    """Mark this session as having passed the second factor, under a new session key."""
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


@login_required
def setup(request):
    """Set up an authenticator app: show its secret as a QR code and as text, and confirm one code from it."""
    if confirmed_device(request.user) is not None:
        # Replacing a device is an administrator's job; otherwise a stolen password could swap the phone.
        return redirect(f"{reverse('accounts:two-factor-verify')}?{urlencode({'next': _next_url(request)})}")
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name=str(_("Authenticator app")), confirmed=False)
    form = TokenForm(request.POST or None, device=device)
    if form.is_valid():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return _finish_login(request, device)
    secret = base64.b32encode(device.bin_key).decode("ascii")
    context = _page_context(
        request,
        form=form,
        qr_code=_qr_data_uri(device.config_url),
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    )
    return render(request, "accounts/two_factor_setup.html", context)
