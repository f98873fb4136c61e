"""The change feed: which municipalities' published entries changed, in the order the changes committed.

Systems that keep a copy of the registry (FHI's and Helsedirektoratet's contact lists, alerting) take the
dump once (`/api/municipalities.ndjson`, with the cursor it is current to), then follow `/api/changes/`.

- **Recording.** The write path notes every change (registry.versioning.note_data_changed, called only by
  registry.services) with the rows it wrote; `record` works out whose entries they change (an appointment
  to an arrangement changes every member's entry, a physician's new number every entry they serve in) and
  writes one `Change` per municipality, in the same transaction, without a sequence.
- **Ordering.** After the commit, the data version's bump stamps every unstamped change with the new
  counter (`stamp`, under the counter's row lock, one bump at a time). A change is invisible to readers
  until stamped, and a stamp is only handed out after every earlier stamp committed, so a reader that has
  seen sequence N never later finds a change at or below N: a cursor never skips a change that commits late.
- **Reading.** A page lists each changed municipality once, with its entry as the API shows it now (to this
  reader: numbers for authorities only to those who may see them), or a tombstone when the number no
  longer names an active municipality (ceased, with its successors; renumbered; deleted).
"""

from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.models import (
    Appointment,
    Arrangement,
    Change,
    County,
    CountyGovernor,
    District,
    FormerNumber,
    FunctionContact,
    Legevakt,
    Membership,
    Municipality,
    Phone,
    Physician,
)

PAGE_SIZE = 100


def affected_municipalities(objects):
    """Return {municipality id: number} of the entries that a write of `objects` changes (or a delete: call
    it before deleting, while the rows still lead to their municipalities). A few queries, none per row."""
    direct, physicians, appointments, arrangements = set(), set(), set(), set()
    legevakter, districts, counties, offices, named = set(), set(), set(), set(), set()
    for obj in objects:
        if isinstance(obj, Municipality):
            direct.add(obj.pk)
            named.add(obj.pk)
        elif isinstance(obj, (FormerNumber, Membership)):
            direct.add(obj.municipality_id)
            if isinstance(obj, Membership):
                arrangements.add(obj.arrangement_id)  # the other members' entries list the members
        elif isinstance(obj, District):
            direct.add(obj.municipality_id)
        elif isinstance(obj, Arrangement):
            arrangements.add(obj.pk)
        elif isinstance(obj, Physician):
            physicians.add(obj.pk)
        elif isinstance(obj, Appointment):
            direct.add(obj.municipality_id)
            arrangements.add(obj.arrangement_id)
            physicians.add(obj.physician_id)  # their other entries list where else they serve
        elif isinstance(obj, Phone):
            physicians.add(obj.physician_id)
            appointments.add(obj.appointment_id)
        elif isinstance(obj, FunctionContact):
            direct.add(obj.municipality_id)
            districts.add(obj.district_id)
            arrangements.add(obj.arrangement_id)
            legevakter.add(obj.legevakt_id)
        elif isinstance(obj, Legevakt):
            legevakter.add(obj.pk)
        elif isinstance(obj, County):
            counties.add(obj.pk)
        elif isinstance(obj, CountyGovernor):
            offices.add(obj.pk)
    for found in (physicians, appointments, arrangements, legevakter, districts, counties, offices):
        found.discard(None)
    today = timezone.localdate()
    if named:
        # Other entries name these municipalities (a new name or number, a reform): their arrangements'
        # members, where their physicians also serve, and their predecessors and successors.
        arrangements |= set(Membership.objects.filter(municipality__in=named).values_list("arrangement_id", flat=True))
        serving_here = Appointment.objects.open_on(today).filter(municipality__in=named)
        physicians |= set(serving_here.values_list("physician_id", flat=True).distinct())
        links = Municipality.successors.through.objects.filter(
            Q(from_municipality__in=named) | Q(to_municipality__in=named)
        )
        for earlier, later in links.values_list("from_municipality_id", "to_municipality_id"):
            direct |= {earlier, later}
    if physicians or appointments:
        # Where the physicians serve (an entry lists where else its physician serves; ended appointments are in
        # no entry), and where the numbers' appointments are.
        held = Appointment.objects.open_on(today).filter(physician__in=physicians) | Appointment.objects.filter(
            pk__in=appointments
        )
        for municipality_id, arrangement_id in held.values_list("municipality_id", "arrangement_id"):
            direct.add(municipality_id)
            arrangements.add(arrangement_id)
        arrangements.discard(None)
    if arrangements:
        direct |= set(Membership.objects.filter(arrangement__in=arrangements).values_list("municipality_id", flat=True))
    if legevakter:
        served = FunctionContact.objects.filter(legevakt__in=legevakter)
        direct |= set(served.values_list("municipality_id", flat=True))
    if districts:
        direct |= set(District.objects.filter(pk__in=districts).values_list("municipality_id", flat=True))
    direct.discard(None)
    municipalities = Municipality.objects.filter(pk__in=direct)
    if counties or offices:
        municipalities = municipalities | Municipality.objects.filter(county__in=counties)
        municipalities = municipalities | Municipality.objects.filter(county__county_governor__in=offices)
    return dict(municipalities.values_list("pk", "number"))


def record(objects):
    """Write one unstamped Change for each entry `objects` change. Called by note_data_changed only."""
    affected = affected_municipalities(objects)
    Change.objects.bulk_create(
        [Change(municipality_id=pk, number=number) for pk, number in sorted(affected.items(), key=lambda i: i[1])]
    )


def stamp(counter):
    """Give every committed, unstamped change the sequence `counter`: the caller holds the counter's row lock
    in this transaction (registry.versioning), so stamps are handed out one commit after another."""
    Change.objects.filter(sequence__isnull=True).update(sequence=counter)


# Reading the feed.


class CursorError(ValueError):
    """A cursor that is not one the feed gave out."""


@dataclass(frozen=True)
class Cursor:
    """A position in the feed: after every change up to `sequence`, and in it up to the change id `after`
    (None: all of that sequence). Written "12" or "12.3456"."""

    sequence: int
    after: int | None = None

    @classmethod
    def parse(cls, text):
        if text in (None, ""):
            return None
        sequence, _dot, after = str(text).partition(".")
        if not sequence.isdigit() or (after and not after.isdigit()) or len(text) > 40:
            raise CursorError(
                _("«%(cursor)s» is not a cursor of this feed. Use the `next` address of the last page you read.")
                % {"cursor": text}
            )
        return cls(int(sequence), int(after) if after else None)

    def __str__(self):
        return f"{self.sequence}" if self.after is None else f"{self.sequence}.{self.after}"


def latest_cursor():
    """The cursor after every change stamped so far: what the dump is current to (read it before the dump)."""
    latest = Change.objects.filter(sequence__isnull=False).order_by("-sequence").values_list("sequence", flat=True)
    return Cursor(latest.first() or 0)


@dataclass
class Page:
    numbers: list  # [(number, municipality id or None, sequence)] each number once, in feed order
    cursor: Cursor  # where the next page starts
    more: bool


def read(since, *, limit=PAGE_SIZE):
    """The changes after `since` (a Cursor; None: from the beginning), at most `limit` of them. Two queries."""
    changes = Change.objects.filter(sequence__isnull=False)
    if since is not None:
        after = changes.filter(sequence__gt=since.sequence)
        if since.after is not None:
            after = after | changes.filter(sequence=since.sequence, pk__gt=since.after)
        changes = after
    rows = list(
        changes.order_by("sequence", "pk").values_list("pk", "sequence", "municipality_id", "number")[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    if not rows:
        return Page(numbers=[], cursor=since or latest_cursor(), more=False)
    last_pk, last_sequence = rows[-1][0], rows[-1][1]
    cursor = Cursor(last_sequence, last_pk if more else None)
    # Each municipality once, where it last changed on this page; its entry is read as it is now.
    seen = {}
    for _pk, sequence, municipality_id, number in rows:
        key = (municipality_id, number)
        seen.pop(key, None)
        seen[key] = sequence
    return Page(numbers=[(number, pk, sequence) for (pk, number), sequence in seen.items()], cursor=cursor, more=more)
