"""Sessions end after inactivity, passwords follow Django's validators, and a new password logs out other sessions."""

import datetime

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADMIN = "/admin/"
OLD_PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def editor():
    """An editor logged in in two browsers, at work and at home."""
    return UserFactory(username="kari", is_staff=True, is_superuser=True)


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def later(monkeypatch, seconds):
    """Move the clock forward by `seconds`."""
    now = timezone.now() + datetime.timedelta(seconds=seconds)
    monkeypatch.setattr(timezone, "now", lambda: now)


def test_session_ends_after_the_idle_time(editor, settings, monkeypatch):
    client = logged_in(editor)
    assert client.get(ADMIN).status_code == 200

    later(monkeypatch, settings.SESSION_COOKIE_AGE + 1)

    assert client.get(ADMIN)["Location"].startswith(reverse("admin:login"))


def test_each_request_starts_the_idle_time_again(editor, settings, monkeypatch):
    client = logged_in(editor)
    for _ in range(3):
        later(monkeypatch, settings.SESSION_COOKIE_AGE * 2 // 3)
        assert client.get(ADMIN).status_code == 200
    expires = Session.objects.get(session_key=client.session.session_key).expire_date
    assert expires > timezone.now() + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)


def test_session_cookie_lasts_only_the_idle_time(editor, settings, monkeypatch):
    client = logged_in(editor)
    later(monkeypatch, settings.SESSION_TOUCH_SECONDS + 1)
    response = client.get(ADMIN)
    assert response.cookies["sessionid"]["max-age"] == settings.SESSION_COOKIE_AGE == 3600


def test_a_new_password_logs_out_the_other_sessions_but_not_this_one(editor):
    at_work, at_home = logged_in(editor), logged_in(editor)
    new_password = "Blåbærsyltetøy i Trondheim 2026"

    response = at_work.post(
        reverse("admin:password_change"),
        {"old_password": OLD_PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )

    assert response.status_code == 302
    assert at_work.get(ADMIN).status_code == 200
    assert at_home.get(ADMIN)["Location"].startswith(reverse("admin:login"))


def test_a_password_set_by_an_administrator_logs_the_user_out(editor):
    browser = logged_in(editor)
    editor.set_password("Et helt nytt passord 2026")
    editor.save()
    assert browser.get(ADMIN)["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("kort1", "for kort"),
        ("123456789012345", "bare tall"),
        ("password12345", "for vanlig"),
        ("kari.example.no", "for lik"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(editor, password, reason):
    response = logged_in(editor).post(
        reverse("admin:password_change"),
        {"old_password": OLD_PASSWORD, "new_password1": password, "new_password2": password},
    )
    assert response.status_code == 200 and reason in response.content.decode()


def test_a_session_is_not_written_again_within_the_touch_interval(editor, settings, monkeypatch):
    client = logged_in(editor)
    client.get(ADMIN)
    expires = Session.objects.get(session_key=client.session.session_key).expire_date
    later(monkeypatch, settings.SESSION_TOUCH_SECONDS // 2)
    client.get(ADMIN)
    assert Session.objects.get(session_key=client.session.session_key).expire_date == expires
    later(monkeypatch, settings.SESSION_TOUCH_SECONDS + 1)
    client.get(ADMIN)
    assert Session.objects.get(session_key=client.session.session_key).expire_date > expires
