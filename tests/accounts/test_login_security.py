"""Failed logins are throttled per account and address, and per account from all addresses (django-axes)."""

import datetime

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.login_security import counted_address
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
OFFICE = "192.0.2.10"
ELSEWHERE = "198.51.100.20"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # These tests log in dozens of times; the production hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def editor():
    """An editor whose password an attacker is guessing."""
    return UserFactory(username="kari", is_staff=True)


@pytest.fixture
def colleague():
    """Another editor at the same office, behind the same address."""
    return UserFactory(username="ola", is_staff=True)


def log_in(username, password, address=OFFICE, **headers):
    client = Client(REMOTE_ADDR=address, **headers)
    return client.post(reverse("admin:login"), {"username": username, "password": password})


def fail(times, username="kari", address=OFFICE, **headers):
    return [log_in(username, "wrong password", address, **headers).status_code for _ in range(times)]


def test_wrong_passwords_up_to_the_limit_get_the_login_form_again(editor, settings):
    assert fail(settings.AXES_FAILURE_LIMIT - 1) == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert log_in("kari", PASSWORD).status_code == 302


def test_the_last_allowed_failure_locks_out_with_a_norwegian_message(editor, settings):
    statuses = fail(settings.AXES_FAILURE_LIMIT)
    response = log_in("kari", PASSWORD)

    assert statuses[-1] == 429 and response.status_code == 429
    body = response.content.decode()
    assert "For mange mislykkede innlogginger" in body and "15 minutter" in body


def test_lockout_is_for_the_account_and_address_together(editor, colleague, settings):
    fail(settings.AXES_FAILURE_LIMIT)

    # The same person from home, and a colleague at the same office, still get in.
    assert log_in("kari", PASSWORD, address=ELSEWHERE).status_code == 302
    assert log_in("ola", PASSWORD, address=OFFICE).status_code == 302


def test_lockout_ends_after_the_cool_off_time(editor, settings):
    fail(settings.AXES_FAILURE_LIMIT)
    assert log_in("kari", PASSWORD).status_code == 429

    AccessAttempt.objects.update(
        attempt_time=datetime.datetime.now(datetime.UTC) - settings.AXES_COOLOFF_TIME - datetime.timedelta(seconds=1)
    )

    assert log_in("kari", PASSWORD).status_code == 302


def test_a_successful_login_clears_the_failures(editor, settings):
    fail(settings.AXES_FAILURE_LIMIT - 1)
    assert log_in("kari", PASSWORD).status_code == 302
    assert fail(settings.AXES_FAILURE_LIMIT - 1)[-1] == 200


def test_a_forged_forwarded_for_header_does_not_escape_the_lockout(editor, settings):
    fail(settings.AXES_FAILURE_LIMIT)
    response = log_in("kari", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert response.status_code == 429


def test_behind_a_configured_proxy_the_forwarded_client_address_counts(editor, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    fail(settings.AXES_FAILURE_LIMIT, address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.5")

    # Other clients behind the same proxy are not locked out with the attacker...
    assert log_in("kari", PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 302
    # ...and the attacker cannot get out by prepending a fake address: the proxy's own entry is last.
    forged = "198.51.100.7, 203.0.113.5"
    assert log_in("kari", PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR=forged).status_code == 429


def test_authenticate_without_a_request_is_not_counted_but_works(editor):
    # The shell and scripts call authenticate() without a request; axes' own backend would raise.
    assert authenticate(username="kari", password=PASSWORD) == editor
    assert authenticate(username="kari", password="wrong") is None


# Per account, from all addresses together.


def rotating_addresses(count):
    """`count` different client addresses, as a proxy reporting rotating clients would send them."""
    return [f"203.0.113.{n}" for n in range(1, count + 1)]


def test_30_wrong_passwords_from_30_addresses_then_the_right_one_is_refused(editor, settings):
    statuses = [log_in("kari", "wrong password", address).status_code for address in rotating_addresses(30)]

    response = log_in("kari", PASSWORD, address="198.51.100.99")

    limit = settings.LOGIN_ACCOUNT_FAILURE_LIMIT
    assert statuses[: limit - 1] == [200] * (limit - 1) and set(statuses[limit - 1 :]) == {429}
    assert response.status_code == 429
    body = response.content.decode()
    assert "fra flere adresser" in body and "si fra til administratorene" in body
    assert "_auth_user_id" not in Client().session


def test_failures_for_one_account_do_not_pause_another(editor, colleague, settings):
    for address in rotating_addresses(settings.LOGIN_ACCOUNT_FAILURE_LIMIT):
        log_in("kari", "wrong password", address)
    assert log_in("ola", PASSWORD, address="203.0.113.1").status_code == 302


def test_the_account_opens_again_when_the_failures_leave_the_window(editor, settings):
    for address in rotating_addresses(settings.LOGIN_ACCOUNT_FAILURE_LIMIT):
        log_in("kari", "wrong password", address)
    assert log_in("kari", PASSWORD, address=ELSEWHERE).status_code == 429

    AccessFailureLog.objects.update(
        attempt_time=datetime.datetime.now(datetime.UTC)
        - settings.LOGIN_ACCOUNT_FAILURE_WINDOW
        - datetime.timedelta(seconds=1)
    )

    assert log_in("kari", PASSWORD, address=ELSEWHERE).status_code == 302


def test_the_account_limit_is_a_setting(editor, settings):
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 3
    assert [log_in("kari", "wrong", address).status_code for address in rotating_addresses(3)] == [200, 200, 429]


def test_unlock_login_opens_a_paused_account_at_once(editor, settings):
    for address in rotating_addresses(settings.LOGIN_ACCOUNT_FAILURE_LIMIT):
        log_in("kari", "wrong password", address)
    fail(settings.AXES_FAILURE_LIMIT, address=OFFICE)

    call_command("unlock_login", "kari")

    assert log_in("kari", PASSWORD, address=OFFICE).status_code == 302


# IPv6 clients are counted by their /64 network.


@pytest.mark.parametrize(
    "address, counted",
    [
        ("192.0.2.10", "192.0.2.10"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::"),
        ("2001:DB8:1:2::1", "2001:db8:1:2::"),
        ("::ffff:192.0.2.10", "192.0.2.10"),
        (" 2001:db8:1:3::1 ", "2001:db8:1:3::"),
        ("not an address", None),
        ("", None),
    ],
)
def test_addresses_are_counted_ipv4_as_is_and_ipv6_by_their_64(address, counted):
    assert counted_address(address) == counted


def test_addresses_in_one_ipv6_64_share_one_lockout(editor, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in("kari", "wrong password", address=f"2001:db8:1:2::{n + 1:x}")

    assert log_in("kari", PASSWORD, address="2001:db8:1:2:ffff::1").status_code == 429
    # Another network (the owner's phone, say) is not locked out with it.
    assert log_in("kari", PASSWORD, address="2001:db8:1:3::1").status_code == 302


def test_a_forwarded_ipv6_client_is_counted_by_its_64_too(editor, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in("kari", "wrong password", address=proxy, HTTP_X_FORWARDED_FOR=f"2001:db8:9:9::{n + 1:x}")
    assert log_in("kari", PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="2001:db8:9:9::abc").status_code == 429
