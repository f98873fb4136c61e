"""The change feed under real concurrent transactions on PostgreSQL: a change that commits late is not skipped.

SQLite serialises all writers, so this race cannot happen there and the test skips; CI runs the suite on
PostgreSQL too, where it runs.
"""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from registry import services
from registry.models import Appointment, Physician, Role
from tests.factories import municipality

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL=postgres://…)"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

FEED = reverse("registry:api:changes")
WAIT = 10  # seconds; every wait is bounded so that a broken lock fails the test instead of hanging it


def appoint(name, number):
    """Register a physician and appoint them chief physician of `number`, in one transaction."""
    with services.write_path():
        (physician,) = services.save_entries([Physician(name=name)], by=services.SYSTEM, reason="test")
        services.appoint(
            [Appointment(physician=physician, municipality=municipality(number), role=Role.CHIEF_PHYSICIAN)],
            by=services.SYSTEM,
            reason="test",
        )


def changed(client, since):
    page = client.get(FEED, {"since": since}).json()
    return [change["number"] for change in page["changes"]], page["cursor"]


def test_a_change_that_commits_after_a_later_one_is_not_skipped():
    client = Client()
    start = client.get(reverse("registry:api:dump"))["Registry-Cursor"]
    written, release, errors = threading.Event(), threading.Event(), []

    def slow():
        # Writes first, commits last: its change has the lower id but must come after the other in the feed.
        try:
            with services.write_path():
                appoint("Demo Sen Fiktivsen", "5045")
                written.set()
                assert release.wait(WAIT)
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=slow, daemon=True)
    thread.start()
    assert written.wait(WAIT)
    appoint("Demo Rask Fiktivsen", "4601")  # commits while the other transaction is still open
    numbers, cursor = changed(client, start)
    assert numbers == ["4601"]  # the open transaction's change is not visible, and not given a sequence
    release.set()
    thread.join(WAIT)
    assert not thread.is_alive() and errors == []
    numbers, _cursor = changed(client, cursor)
    assert numbers == ["5045"]  # after the cursor the reader already holds: not skipped
