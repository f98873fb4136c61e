"""Editors must pass a TOTP second factor before they can use the admin, when REGISTRY_REQUIRE_2FA is on."""

import base64
import re
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
def reader():
    """A national reader (FHI): logs in, edits nothing, so needs no second factor."""
    return UserFactory(username="fhi", is_staff=False)


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


def test_a_reader_who_cannot_edit_needs_no_second_factor(reader):
    assert not requires_second_factor(reader)
    client = Client()
    client.force_login(reader)
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
