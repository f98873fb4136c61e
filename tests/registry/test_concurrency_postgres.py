"""Real concurrent transactions on PostgreSQL: each thread has its own connection, as two app servers would.

SQLite serialises all writers, so these races cannot happen there and these tests skip; CI runs the
suite on PostgreSQL too, where they run.
"""

import threading

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse

from registry.concurrency import VersionCheckedFormMixin
from registry.models import Appointment, Physician, Role
from tests.browser_forms import form_data
from tests.factories import PhysicianFactory, UserFactory, municipality, write

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL=postgres://…)"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WAIT = 10  # seconds; every wait is bounded so that a broken lock fails the test instead of hanging it
BLOCKED = 1.0  # how long a thread must stay stuck to count as waiting for a lock


def run_in_thread(name, function, results):
    """Start `function` in a thread with its own database connection; store its result or exception."""

    def target():
        try:
            results[name] = function()
        except Exception as error:  # noqa: BLE001 - the test inspects what each thread ended with
            results[name] = error
        finally:
            connection.close()

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


def logged_in(username):
    client = Client()
    client.force_login(UserFactory(username=username, is_staff=True, is_superuser=True))
    return client


def test_two_simultaneous_admin_saves_cannot_both_pass(monkeypatch):
    grong = municipality("5045")
    url = reverse("admin:registry_municipality_change", args=[grong.pk])
    alice, bob = logged_in("alice"), logged_in("bob")
    form_a = form_data(alice.get(url), "municipality_form")
    form_b = form_data(bob.get(url), "municipality_form")
    form_a["parallel_names"] = "Alice"
    form_b["parallel_names"] = "Bob"

    checked, release = threading.Event(), threading.Event()
    original_check = VersionCheckedFormMixin._refuse_if_changed_since_loaded

    def check_then_pause(self):
        original_check(self)
        if threading.current_thread().name == "alice":
            # Alice has passed her check and holds the row lock; she has not written yet.
            checked.set()
            release.wait(WAIT)

    monkeypatch.setattr(VersionCheckedFormMixin, "_refuse_if_changed_since_loaded", check_then_pause)
    results = {}
    thread_a = run_in_thread("alice", lambda: alice.post(url, form_a), results)
    assert checked.wait(WAIT)
    thread_b = run_in_thread("bob", lambda: bob.post(url, form_b), results)
    thread_b.join(BLOCKED)
    bob_was_waiting = thread_b.is_alive()
    release.set()
    thread_a.join(WAIT)
    thread_b.join(WAIT)

    assert bob_was_waiting, "Bob's check did not wait for Alice's row lock"
    assert results["alice"].status_code == 302
    assert results["bob"].status_code == 200
    assert "Alice" in " ".join(results["bob"].context["adminform"].form.non_field_errors())
    grong.refresh_from_db()
    assert grong.parallel_names == "Alice"


def race(create, count=2):
    """Run `create` in `count` threads that check for a duplicate first, then insert, at the same moment."""
    barrier = threading.Barrier(count, timeout=WAIT)
    results = {}

    def attempt():
        with transaction.atomic():
            create(barrier)
        return "saved"

    threads = [run_in_thread(f"importer-{n}", attempt, results) for n in range(count)]
    for thread in threads:
        thread.join(WAIT)
    return sorted(results.values(), key=str)


def test_concurrent_imports_cannot_create_two_physicians_with_one_hpr_number():
    def create(barrier):
        # What an importer does: look the natural key up, then insert when it is missing.
        missing = not Physician.objects.filter(hpr_number="7654321").exists()
        barrier.wait()  # both have looked, neither has inserted
        if missing:
            write(Physician(name="Ola Lege", hpr_number="7654321"))

    outcomes = race(create)

    assert Physician.objects.filter(hpr_number="7654321").count() == 1
    assert "saved" in outcomes and any(isinstance(outcome, IntegrityError) for outcome in outcomes), outcomes


def test_concurrent_imports_cannot_create_the_same_appointment_twice():
    physician = PhysicianFactory()
    grong = municipality("5045")
    key = {"physician": physician, "municipality": grong, "role": Role.CHIEF_PHYSICIAN, "start_date": "2025-01-01"}

    def create(barrier):
        missing = not Appointment.objects.filter(**key).exists()
        barrier.wait()
        if missing:
            write(Appointment(**key))

    outcomes = race(create)

    assert Appointment.objects.filter(**key).count() == 1
    assert "saved" in outcomes and any(isinstance(outcome, IntegrityError) for outcome in outcomes), outcomes
