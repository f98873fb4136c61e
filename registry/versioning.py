"""When the national list's data last changed, in an order every app server agrees on.

Cached pages and rows, and the list's ETag, are keyed (`cache_variant`) by a *data state*: when the data last
changed (the newest history row; also the list's Last-Modified) and a counter that every committed
change bumps once it has committed. The counter is what makes the state follow commit order: an
import whose history rows are dated before an edit that committed first still changes the state when
it commits, and so do changes with no history of their own (a county's or an office's name).

Every change goes through the write path (registry.services), which calls `note_data_changed` once per
write, after the rows are written. A process reads the state from
the database at most once per VERSION_SECONDS and forgets it on every change it makes, so its own
edits show at once and other servers' within a second.
"""

import datetime
import functools
import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Now
from django.utils import timezone

from registry import feed
from registry.models import (
    Appointment,
    Arrangement,
    County,
    CountyGovernor,
    DataVersion,
    District,
    FunctionContact,
    Legevakt,
    Membership,
    Municipality,
    Phone,
    Physician,
)

# Models with history: their newest history row says when the data changed.
TRACKED = [Municipality, Physician, Appointment, Phone, District, Arrangement, Membership, FunctionContact, Legevakt]
# Shown on every page but without history: only the counter notes their changes.
ALSO_SHOWN = [County, CountyGovernor]

VERSION_SECONDS = 1.0
_remembered = {"state": None, "read_at": None}


@dataclass(frozen=True)
class DataState:
    changed_at: datetime.datetime | None
    counter: int

    @property
    def key(self):
        return f"{self.changed_at.isoformat() if self.changed_at else '-'}#{self.counter}"


@functools.cache
def _state_sql():
    # Built once: reaching the history model through `model.history` builds a manager each time (1 ms).
    tables = [model.history.model._meta.db_table for model in TRACKED]
    history = " UNION ALL ".join(f"SELECT MAX(history_date) AS changed FROM {table}" for table in tables)
    return (
        f"SELECT (SELECT MAX(changed) FROM ({history}) AS changes), version.counter, version.changed_at "
        f"FROM (SELECT 1 AS one) AS one LEFT JOIN {DataVersion._meta.db_table} AS version ON version.id = 1"
    )


def _aware(value):
    if isinstance(value, str):  # SQLite returns the text it stored
        value = datetime.datetime.fromisoformat(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.UTC)
    return value


def read_data_state():
    """Return the DataState from the database. One query."""
    with connection.cursor() as cursor:
        cursor.execute(_state_sql())
        history_changed, counter, counted_at = cursor.fetchone()
    moments = [moment for moment in (_aware(history_changed), _aware(counted_at)) if moment is not None]
    return DataState(changed_at=max(moments) if moments else None, counter=counter or 0)


def current_data_state():
    """The DataState, read from the database at most once per VERSION_SECONDS in this process."""
    now = time.monotonic()
    read_at = _remembered["read_at"]
    if read_at is None or now - read_at >= VERSION_SECONDS or now < read_at:
        _remembered["state"] = read_data_state()
        _remembered["read_at"] = now
    return _remembered["state"]


def cache_variant(*, state, language, restricted):
    """Return what every cached copy of the list, and its ETag, depends on besides the address (a hash).

    The data state, the day (appointments start and end at midnight), the language, whether the reader
    sees numbers for authorities only, and whether the deployment makes the list login-only. The page
    cache, the row cache and the ETag all build their keys from this one function, so none of them can
    leave a part out.
    """
    parts = [
        state.key,
        timezone.localdate().isoformat(),
        language or "",
        "restricted" if restricted else "public",
        "login-only" if settings.REGISTRY_LIST_REQUIRES_LOGIN else "open",
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def forget_data_state():
    """Make the next current_data_state() ask the database."""
    _remembered["read_at"] = None


def note_data_changed(changed):
    """Note a change to what the list shows: the rows `changed` (written, or about to be deleted) go into the
    change feed in this transaction (registry.feed.record), and the counter is bumped once it has committed.

    Called by registry.services only, once per write. A change that is rolled back bumps nothing and leaves
    nothing in the feed.
    """
    feed.record(changed)
    forget_data_state()
    transaction.on_commit(_bump)


def _bump():
    """Bump the counter and stamp the feed's committed changes with it, in one transaction: the counter's row
    lock makes concurrent bumps wait for each other, so stamps are handed out in commit order."""
    with transaction.atomic():
        if not DataVersion.objects.filter(pk=1).update(counter=F("counter") + 1, changed_at=Now()):
            DataVersion.objects.get_or_create(pk=1, defaults={"counter": 0, "changed_at": timezone.now()})
            DataVersion.objects.filter(pk=1).update(counter=F("counter") + 1, changed_at=Now())
        feed.stamp(DataVersion.objects.values_list("counter", flat=True).get(pk=1))
    forget_data_state()


def keep_counter_at_least(counter):
    """After a restore from a backup: never let the counter (and the feed's sequence) go back below `counter`,
    the value before the restore, so that no cursor a reader holds points past the feed's end."""
    DataVersion.objects.update_or_create(pk=1, defaults={})
    DataVersion.objects.filter(pk=1, counter__lt=counter).update(counter=counter)


def read_counter():
    """The counter as stored now (0 before the first change)."""
    return DataVersion.objects.filter(pk=1).values_list("counter", flat=True).first() or 0
