"""Editors and readers of restricted numbers pass a TOTP second factor first, when REGISTRY_REQUIRE_2FA is on."""

import base64
import re
import time
from urllib.parse import quote

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.two_factor import requires_second_factor
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
ADMIN = "/admin/"
SETUP = "/konto/tofaktor/oppsett/"
VERIFY = "/konto/tofaktor/"


@pytest.fixture(autouse=True)
def two_factor_on(settings):
    settings.REGISTRY_REQUIRE_2FA = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def editor():
    """An editor (staff) who has not set up an authenticator app yet."""
    return UserFactory(username="kari", is_staff=True)


@pytest.fixture
def enrolled_editor():
    """An editor with a confirmed authenticator app."""
    user = UserFactory(username="ola", is_staff=True)
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user


@pytest.fixture
def plain_user():
    """An account with no role: logs in, edits nothing, sees no restricted number, so needs no second factor."""
    return UserFactory(username="fhi", is_staff=False)


@pytest.fixture
def national_reader(db):
    """A national reader (FHI): edits nothing, but sees numbers for authorities only."""
    from accounts.services import add_reader

    user = add_reader(username="leser")[0]
    user.set_password(PASSWORD)
    user.save()
    return user


def code_for(device):
    device.refresh_from_db()
    return str(TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()).zfill(device.digits)


def wrong_code_for(device):
    return "000000" if code_for(device) != "000000" else "111111"


def password_login(username):
    client = Client()
    response = client.post(reverse("admin:login"), {"username": username, "password": PASSWORD, "next": ADMIN})
    assert response.status_code == 302
    return client


def secret_on(page):
    """Return the key the setup page shows as text."""
    return re.search(r"<code>([A-Z2-7 ]+)</code>", page.content.decode()).group(1).replace(" ", "")


def code_from(secret, *, steps_ahead=0):
    """Return the code an app given `secret` shows now, or `steps_ahead` 30-second steps later."""
    totp = TOTP(base64.b32decode(secret))
    totp.time = time.time() + steps_ahead * totp.step
    return str(totp.token()).zfill(totp.digits)


def test_an_editor_without_an_app_is_sent_to_set_one_up(editor):
    client = password_login("kari")
    response = client.get(ADMIN)
    assert response.status_code == 302 and response["Location"] == f"{SETUP}?next={quote(ADMIN, safe='')}"


def test_setup_shows_the_qr_code_and_the_key(editor):
    client = password_login("kari")
    response = client.get(SETUP)
    body = response.content.decode()
    device = TOTPDevice.objects.get(user=editor)
    assert response.status_code == 200 and not device.confirmed
    assert 'src="data:image/svg+xml;base64,' in body
    secret = re.search(r"<code>([A-Z2-7 ]+)</code>", body).group(1).replace(" ", "")
    # The key shown as text is the device's key: an app given it by hand makes the same codes.
    assert TOTP(base64.b32decode(secret)).token() == TOTP(device.bin_key).token()


def test_setup_with_a_wrong_code_is_refused_and_leaves_the_admin_closed(editor):
    client = password_login("kari")
    client.get(SETUP)
    response = client.post(SETUP, {"token": wrong_code_for(editor.totpdevice_set.get())})
    assert response.status_code == 200 and "Koden er feil eller utløpt" in response.content.decode()
    assert not TOTPDevice.objects.get(user=editor).confirmed
    assert client.get(ADMIN).status_code == 302


def test_setup_confirmed_with_the_right_code_opens_the_admin(editor):
    client = password_login("kari")
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=editor)

    response = client.post(SETUP, {"token": code_for(device), "next": ADMIN})

    assert response.status_code == 302 and response["Location"] == ADMIN
    assert TOTPDevice.objects.get(user=editor).confirmed
    assert client.get(ADMIN).status_code == 200


def test_an_enrolled_editor_must_give_the_code_after_the_password(enrolled_editor):
    client = password_login("ola")
    response = client.get(ADMIN)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY + "?")
    assert client.get(reverse("admin:registry_municipality_changelist")).status_code == 302


def test_the_right_code_opens_the_admin_and_the_session_key_changes(enrolled_editor):
    client = password_login("ola")
    key_before = client.session.session_key
    device = enrolled_editor.totpdevice_set.get()

    response = client.post(VERIFY, {"token": code_for(device), "next": ADMIN})

    assert response.status_code == 302 and response["Location"] == ADMIN
    assert client.get(ADMIN).status_code == 200
    assert client.session.session_key != key_before


def test_a_wrong_code_is_refused_and_the_next_try_is_throttled(enrolled_editor):
    client = password_login("ola")
    device = enrolled_editor.totpdevice_set.get()
    first = client.post(VERIFY, {"token": wrong_code_for(device)})
    second = client.post(VERIFY, {"token": code_for(device)})

    assert "Koden er feil eller utløpt" in first.content.decode()
    assert "For mange feil koder på rad" in second.content.decode()
    assert client.get(ADMIN).status_code == 302


def test_a_code_cannot_be_used_twice(enrolled_editor):
    device = enrolled_editor.totpdevice_set.get()
    code = code_for(device)
    first, second = password_login("ola"), password_login("ola")
    assert first.post(VERIFY, {"token": code}).status_code == 302
    response = second.post(VERIFY, {"token": code})
    assert response.status_code == 200 and second.get(ADMIN).status_code == 302


def test_a_letter_code_gets_a_clear_message(enrolled_editor):
    client = password_login("ola")
    response = client.post(VERIFY, {"token": "abcdef"})
    assert "Koden har 6 sifre" in response.content.decode()


def test_an_enrolled_editor_cannot_set_up_a_second_app_with_only_the_password(enrolled_editor):
    client = password_login("ola")
    response = client.get(SETUP)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=enrolled_editor).count() == 1


def test_a_foreign_next_address_is_ignored(enrolled_editor):
    client = password_login("ola")
    device = enrolled_editor.totpdevice_set.get()
    response = client.post(VERIFY, {"token": code_for(device), "next": "https://evil.example.com/"})
    assert response["Location"] == ADMIN


def test_logging_out_stays_possible_before_the_second_factor(enrolled_editor):
    client = password_login("ola")
    response = client.post(reverse("admin:logout"))
    assert response.status_code == 302 and response["Location"] == resolve_url(settings.LOGOUT_REDIRECT_URL)
    assert "_auth_user_id" not in client.session


def test_an_account_that_neither_edits_nor_sees_restricted_numbers_needs_no_second_factor(plain_user):
    assert not requires_second_factor(plain_user)
    client = Client()
    client.force_login(plain_user)
    # Not staff, so the admin sends them to its login page, not to the two-factor pages.
    assert not client.get(ADMIN)["Location"].startswith("/konto/")


def test_with_the_setting_off_an_editor_goes_straight_in(editor, settings):
    settings.REGISTRY_REQUIRE_2FA = False
    client = password_login("kari")
    assert client.get(ADMIN).status_code == 200


def test_the_two_factor_pages_need_a_login():
    response = Client().get(VERIFY)
    assert response.status_code == 302 and response["Location"].startswith(resolve_url(settings.LOGIN_URL))


def test_nobody_reads_an_accounts_totp_key_in_the_admin(enrolled_editor, admin_client, settings):
    # A national administrator deletes a lost device; reading its key would let them pass as its owner.
    settings.REGISTRY_REQUIRE_2FA = False
    device = enrolled_editor.totpdevice_set.get()
    assert admin_client.get(reverse("admin:otp_totp_totpdevice_config", args=[device.pk])).status_code == 403
    assert admin_client.get(reverse("admin:otp_totp_totpdevice_qrcode", args=[device.pk])).status_code == 403
    change = admin_client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk]))
    assert change.status_code == 200 and device.key not in change.content.decode()


# The secret shown during setup belongs to the session that shows it.


def test_each_login_is_shown_its_own_secret_and_a_reload_the_same(editor):
    first, second = password_login("kari"), password_login("kari")
    secret = secret_on(first.get(SETUP))

    assert secret_on(first.get(SETUP)) == secret
    assert secret_on(second.get(SETUP)) != secret


def test_the_first_sessions_secret_no_longer_works_after_the_second_confirms(editor):
    # Someone who knows the initial password opens setup first and keeps the secret...
    intruder = password_login("kari")
    kept = secret_on(intruder.get(SETUP))
    # ...then the user sets up their own phone.
    owner = password_login("kari")
    own = secret_on(owner.get(SETUP))
    assert owner.post(SETUP, {"token": code_from(own), "next": ADMIN})["Location"] == ADMIN

    # The kept secret passes neither in the intruder's session nor in a new login.
    later = code_from(kept, steps_ahead=1)
    assert intruder.post(VERIFY, {"token": later}).status_code == 200
    again = password_login("kari")
    assert again.post(VERIFY, {"token": later}).status_code == 200
    assert intruder.get(ADMIN).status_code == 302 and again.get(ADMIN).status_code == 302
    assert list(TOTPDevice.objects.filter(user=editor).values_list("confirmed", flat=True)) == [True]


def test_a_code_for_a_secret_replaced_by_another_login_is_refused_with_a_warning(editor):
    first = password_login("kari")
    kept = secret_on(first.get(SETUP))
    password_login("kari").get(SETUP)  # another login starts setup: the first one's device goes

    response = first.post(SETUP, {"token": code_from(kept)})

    body = response.content.decode()
    assert response.status_code == 200 and "ble startet på nytt" in body
    assert secret_on(response) != kept
    assert not TOTPDevice.objects.filter(user=editor, confirmed=True).exists()
    assert first.get(ADMIN).status_code == 302


def test_a_session_cannot_confirm_after_another_confirmed_first(editor):
    slow = password_login("kari")
    slow_secret = secret_on(slow.get(SETUP))
    fast = password_login("kari")
    fast.post(SETUP, {"token": code_from(secret_on(fast.get(SETUP)))})

    response = slow.post(SETUP, {"token": code_from(slow_secret, steps_ahead=1)})

    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=editor).count() == 1


# Readers see numbers for authorities only: they pass the second factor too.


def reader_login():
    client = Client()
    response = client.post(reverse("login"), {"username": "leser", "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_a_national_reader_is_sent_to_set_up_an_app_and_then_to_the_list(national_reader):
    client = reader_login()
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == f"{SETUP}?next=%2F"

    secret = secret_on(client.get(response["Location"]))
    confirmed = client.post(SETUP, {"token": code_from(secret), "next": "/"})

    assert confirmed.status_code == 302 and confirmed["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_national_reader_with_an_app_gives_the_code_before_the_list(national_reader):
    device = TOTPDevice.objects.create(user=national_reader, name="phone", confirmed=True)
    client = reader_login()
    assert client.get("/api/municipalities/")["Location"].startswith(VERIFY + "?")

    response = client.post(VERIFY, {"token": code_for(device)})

    # Readers do not use the admin: without a next address they land on the list.
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/api/municipalities/").status_code == 200


def test_a_reader_can_log_out_before_the_second_factor(national_reader):
    client = reader_login()
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and "_auth_user_id" not in client.session
