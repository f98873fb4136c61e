"""What an import would do: a plan of operations, each with its reason, worked out in memory.

An import is three steps (imports.services runs them):

1. read and normalise the sheet (imports.sheets, imports.normalise): `read_rows` turns each row's cells
   into clean values, or into errors naming the cell;
2. plan (`make_plan`, this module): a pure function of those rows, the registry as loaded once
   (`Snapshot.load`, a fixed number of queries) and the importer's scope. It returns the Plan: per
   row, the operations (create a physician, appoint, add a number, …) each with its reason, what was
   inferred (name only, old number, a Sami name), and "not changed: kept by …" for what another
   office keeps; or the row's errors. It never picks between two meanings: that is a row error
   naming the candidates;
3. apply (imports.apply): exactly the plan's operations, through registry.services, in one transaction.

Later rows see earlier ones (one physician on several rows is one person), so planning works on light
records rather than model instances: a preview of 10,000 rows would otherwise build and throw away
tens of thousands of model objects.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import CharField
from django.db.models.functions import Cast
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy, gettext_noop
from django.utils.translation import gettext as _

from imports import normalise
from imports.normalise import (
    ARRANGEMENT,
    DISTRICT,
    FUNCTION_EMAIL,
    FUNCTION_PHONE,
    LEGEVAKT_NAME,
    LEGEVAKT_PHONE,
    MUNICIPALITY_NAME,
    MUNICIPALITY_NUMBER,
    NOTE,
    PERSON_FIELDS,
    PERSON_ROLES,
    ROLE,
    CellError,
    MunicipalityIndex,
    format_phone_entry,
    name_key,
    person_column,
)
from registry.models import (
    Appointment,
    Arrangement,
    ArrangementKind,
    ContactKind,
    District,
    FormerNumber,
    FunctionContact,
    Legevakt,
    Membership,
    Municipality,
    Phone,
    PhoneKind,
    Physician,
    Role,
    handover_end,
)
from registry.phones import parse_phone
from registry.search import ALTERNATIVE, PRIMARY, fold
from registry.validators import REFUSED_IN_TEXT, refused_character

ROLE_SLOTS = PERSON_ROLES


# A phone number as the preview shows it, formatted only if it is shown.
phone_text = lazy(format_phone_entry, str)


def _later(message, params=None, *more):
    text = gettext(message) % params if params else gettext(message)
    return "; ".join([text, *(str(part) for part in more)]) if more else text


# A reason as the preview shows it, translated only if it is shown: a 10,000-row sheet has some 80,000
# operations, and the preview shows a few hundred of them. The message is marked with gettext_noop.
later = lazy(_later, str)


class PhysicianRecord:
    __slots__ = ("pk", "name", "email", "hpr_number", "changeable", "keepers")

    def __init__(self, pk, name, email, hpr_number, changeable=True, keepers=""):
        self.pk, self.name, self.email, self.hpr_number = pk, name, email or "", hpr_number or None
        # Whether the importer may change the person, and if not, who may (for "not changed: kept by …").
        self.changeable, self.keepers = changeable, keepers


def place_key(municipality, district=None, arrangement=None):
    """What identifies where an appointment or a function contact is: an arrangement, a district or a municipality.
    An arrangement is its record (one per arrangement in a plan, new ones included)."""
    if arrangement is not None:
        return ("a", arrangement)
    if district is not None:
        return ("d", district.pk)
    return ("m", municipality.pk)


class ArrangementRecord:
    __slots__ = ("pk", "name", "kind", "roles", "members")

    def __init__(self, pk, name, kind, roles):
        self.pk, self.name, self.kind = pk, name, kind
        self.roles = roles  # the roles it holds for its members: a list of Role values
        # Municipality id → None when a member on the day, else the later day it joins.
        self.members = {}

    def covers(self, role):
        return role in self.roles

    def label(self):
        return Arrangement.label_of(self.name, self.kind)


def _district_keys(text):
    """A district's name as the importer compares it: folded in both spellings, without a leading "Bydel"."""
    keys = set()
    for spelling in (PRIMARY, ALTERNATIVE):
        folded = fold(text, spelling=spelling)
        keys.add(folded)
        if folded.startswith("bydel "):
            keys.add(folded[len("bydel ") :])
    return keys


class DistrictRecord:
    __slots__ = ("pk", "number", "name", "municipality", "keys")

    def __init__(self, pk, number, name, municipality):
        self.pk, self.number, self.name, self.municipality = pk, number, name, municipality
        self.keys = _district_keys(name)


class LegevaktRecord:
    __slots__ = ("pk", "name", "e164", "number", "opening_hours", "changeable", "keepers", "served", "set_on_row")

    def __init__(self, pk, name, e164, number, opening_hours, *, changeable=True, keepers=""):
        self.pk, self.name, self.e164, self.number, self.opening_hours = pk, name, e164, number, opening_hours
        self.changeable, self.keepers = changeable, keepers
        self.served = set()  # the place keys of the municipalities and districts it serves
        self.set_on_row = None  # the row of this sheet that gave its number, once one has


class Place:
    """Where a row's people and function contacts go: the municipality itself, one of its districts, or an
    arrangement it is a member of (`pending`: one this sheet names for the first time)."""

    __slots__ = ("municipality", "district", "arrangement", "pending")

    def __init__(self, municipality, district=None, arrangement=None, pending=None):
        self.municipality, self.district, self.arrangement, self.pending = municipality, district, arrangement, pending

    @property
    def key(self):
        return place_key(self.municipality, self.district, self.arrangement)

    def __str__(self):
        if self.arrangement is not None:
            return self.arrangement.name
        if self.district is not None:
            return f"{self.district.name} ({self.municipality.name})"
        return self.municipality.name

    def owner_ids(self):
        """The foreign keys of a function contact here: exactly one owner."""
        if self.arrangement is not None:
            return {"arrangement_id": self.arrangement.pk}
        if self.district is not None:
            return {"district_id": self.district.pk}
        return {"municipality_id": self.municipality.pk}


class AppointmentRecord:
    __slots__ = (
        "pk",
        "physician",
        "municipality",
        "district",
        "arrangement",
        "role",
        "start_date",
        "end_date",
        "note",
        "hpr_confirmation",
    )

    def __init__(self, pk, physician, municipality, role, start_date, end_date, note, district=None, arrangement=None):
        self.pk, self.physician, self.municipality, self.role = pk, physician, municipality, role
        self.district, self.arrangement = district, arrangement
        self.start_date, self.end_date, self.note = start_date, end_date, note
        self.hpr_confirmation = None

    @property
    def place(self):
        return place_key(self.municipality, self.district, self.arrangement)

    def place_name(self):
        if self.arrangement is not None:
            return self.arrangement.name
        if self.district is not None:
            return f"{self.municipality.number} {self.municipality.name}, {self.district.name}"
        return f"{self.municipality.number} {self.municipality.name}"


class MembershipRecord:
    __slots__ = ("pk", "arrangement", "municipality", "valid_from")

    def __init__(self, arrangement, municipality, valid_from):
        self.pk, self.arrangement, self.municipality, self.valid_from = None, arrangement, municipality, valid_from


class FunctionContactRecord:
    __slots__ = ("pk", "place", "kind", "role", "email", "e164", "number", "opening_hours", "legevakt")

    def __init__(self, pk, place, kind, role, *, email="", e164="", number=None, opening_hours="", legevakt=None):
        self.pk, self.place, self.kind, self.role = pk, place, kind, role
        self.email, self.e164, self.number, self.opening_hours = email, e164, number, opening_hours
        self.legevakt = legevakt


class PhoneRecord:
    __slots__ = ("pk", "physician", "municipality", "e164", "number", "note", "kind")

    def __init__(self, pk, e164, note, *, physician=None, municipality=None, number=None, kind=""):
        self.pk, self.e164, self.note, self.number, self.kind = pk, e164, note, number, kind
        self.physician, self.municipality = physician, municipality


# Operations.

CREATE_PHYSICIAN = "create_physician"
CHANGE_PHYSICIAN = "change_physician"
APPOINT = "appoint"
CHANGE_APPOINTMENT = "change_appointment"
END_APPOINTMENT = "end_appointment"
ADD_PHONE = "add_phone"
CHANGE_PHONE = "change_phone"
ADD_FUNCTION_CONTACT = "add_function_contact"
CHANGE_FUNCTION_CONTACT = "change_function_contact"
CREATE_ARRANGEMENT = "create_arrangement"
CHANGE_ARRANGEMENT = "change_arrangement"
ADD_MEMBERSHIP = "add_membership"
CREATE_LEGEVAKT = "create_legevakt"
CHANGE_LEGEVAKT = "change_legevakt"
# What a row creates, rather than changes: the preview counts such a row as new.
CREATING = (CREATE_PHYSICIAN, APPOINT, CREATE_ARRANGEMENT, ADD_MEMBERSHIP, CREATE_LEGEVAKT)


@dataclass
class Operation:
    """One change the import will make. `target` is the record created or changed."""

    action: str
    row: int | None
    target: object
    column: str = ""  # the layout key the value comes from, for the preview
    field: str = ""  # the field it changes
    old: object = ""
    new: object = ""
    reason: str = ""

    def key(self):
        """What identifies the operation for the plan's digest: the same plan has the same keys.

        Values as stored (a number's E.164 and note), not as shown: formatting 30,000 numbers to hash
        them took a third of a big sheet's plan.
        """
        target = self.target
        new = self.action in (*CREATING, ADD_PHONE, ADD_FUNCTION_CONTACT)
        ident = "new" if new or getattr(target, "pk", None) is None else target.pk
        if self.action in (ADD_PHONE, CHANGE_PHONE):
            values = f"{target.e164}|{target.note}"
        elif self.action == ADD_FUNCTION_CONTACT:
            legevakt = target.legevakt.name if target.legevakt is not None else ""
            values = f"{target.kind}|{target.role}|{target.email}|{target.e164}|{target.opening_hours}|{legevakt}"
        elif self.action in (CREATE_ARRANGEMENT, CREATE_LEGEVAKT, ADD_MEMBERSHIP):
            values = f"{self.new}"
        else:
            values = f"{self.old}|{self.new}"
        return f"{self.row}|{self.action}|{ident}|{self.column}|{self.field}|{values}"

    def describe(self):
        return ACTION_LABELS[self.action]


ACTION_LABELS = {
    CREATE_PHYSICIAN: gettext_lazy("Register the physician"),
    CHANGE_PHYSICIAN: gettext_lazy("Change the physician"),
    APPOINT: gettext_lazy("Appoint"),
    CHANGE_APPOINTMENT: gettext_lazy("Change the appointment"),
    END_APPOINTMENT: gettext_lazy("End the appointment"),
    ADD_PHONE: gettext_lazy("Add a number"),
    CHANGE_PHONE: gettext_lazy("Change a number's note"),
    ADD_FUNCTION_CONTACT: gettext_lazy("Add a function contact"),
    CHANGE_FUNCTION_CONTACT: gettext_lazy("Change a function contact"),
    CREATE_ARRANGEMENT: gettext_lazy("Register the intermunicipal arrangement"),
    CHANGE_ARRANGEMENT: gettext_lazy("Change the intermunicipal arrangement"),
    ADD_MEMBERSHIP: gettext_lazy("Add the municipality to the arrangement"),
    CREATE_LEGEVAKT: gettext_lazy("Register the legevakt"),
    CHANGE_LEGEVAKT: gettext_lazy("Change the legevakt"),
}


@dataclass
class Problem:
    column: str  # a layout key
    message: str


@dataclass
class RowPlan:
    number: int
    cells: list
    municipality: object = None
    operations: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # what was inferred, and what is kept by another office
    problems: list = field(default_factory=list)
    reason: str = ""  # why a row changes nothing (a vacancy, a repeated row)
    repeated: bool = False

    @property
    def kind(self):
        if self.problems:
            return "error"
        if any(op.action in CREATING for op in self.operations):
            return "new"
        if self.operations:
            return "updated"
        if self.reason:
            return "skipped"
        return "unchanged"


@dataclass
class Plan:
    rows: list = field(default_factory=list)  # [RowPlan], in sheet order
    skipped: list = field(default_factory=list)  # [(row number, reason)] rows that are not data (a repeated header)
    missing: list = field(default_factory=list)  # [AppointmentRecord] open, in the sheet's scope, not named
    unresolved: bool = False  # some row's municipality could not be read: nothing may be ended

    @property
    def operations(self):
        return [op for row in self.rows if not row.problems for op in row.operations]

    @property
    def has_errors(self):
        return any(row.problems for row in self.rows)

    def digest(self):
        """A fingerprint of what the plan does and of the registry it was made against (old values
        included): confirming applies a plan only if it is the one that was previewed."""
        lines = [op.key() for row in self.rows for op in row.operations]
        lines += [f"error|{row.number}" for row in self.rows if row.problems]
        lines += [f"missing|{record.pk}" for record in self.missing]
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()


# The registry as the import sees it.


def _e164(queryset):
    # The stored E.164 text: reading PhoneNumber objects would parse every number again.
    return queryset.annotate(e164=Cast("number", output_field=CharField()))


class Snapshot:
    """The registry as one import sees it: loaded once, in a fixed number of queries, then only read and
    extended in memory by the plan. `scope` (from accounts.access, see imports.services) says which
    municipalities the importer may write to and which physicians they may change."""

    def __init__(self, *, today, scope):
        self.today = today
        self.scope = scope
        self.municipalities = list(Municipality.objects.with_office().prefetch_related("successors").order_by("number"))
        self.index = MunicipalityIndex(self.municipalities, FormerNumber.objects.all(), today=today)
        municipality_by_id = {m.pk: m for m in self.municipalities}
        changeable = scope.changeable_physicians
        keepers = scope.keepers_of_others
        self.physicians = {
            pk: PhysicianRecord(
                pk,
                name,
                email,
                hpr,
                changeable=changeable is None or pk in changeable,
                keepers=keepers.get(pk, ""),
            )
            for pk, name, email, hpr in Physician.objects.values_list("pk", "name", "email", "hpr_number")
        }
        self.by_hpr = {}
        self.by_email = defaultdict(list)
        self.by_name_phone = defaultdict(list)
        self.phones = defaultdict(dict)  # physician record → {e164: PhoneRecord}
        for physician in self.physicians.values():
            self._index(physician)
        own_phones = _e164(Phone.objects.filter(physician__isnull=False))
        for pk, physician_id, e164, note in own_phones.values_list("pk", "physician_id", "e164", "note"):
            physician = self.physicians[physician_id]
            self.phones[physician][e164] = PhoneRecord(pk, e164, note, physician=physician)
            self.by_name_phone[(name_key(physician.name), e164)].append(physician)
        self._load_organisation(municipality_by_id)
        self.current = defaultdict(list)  # (place key, role) → [AppointmentRecord]
        self.registered = defaultdict(list)  # the same, only those in the registry (not planned by this sheet)
        self.holding = {}  # (place key, role, physician record) → AppointmentRecord
        self.in_place = defaultdict(list)  # place key → [AppointmentRecord]
        # Roles a municipality holds through an arrangement on the day: (municipality id, role) →
        # [(physician record, ArrangementRecord)]. A row for the municipality itself that names that person
        # changes nothing; one naming someone else is refused (Planner._check_places).
        self.through = defaultdict(list)
        current = Appointment.objects.on(today).order_by("start_date", "pk")
        for (
            pk,
            physician_id,
            municipality_id,
            district_id,
            arrangement_id,
            role,
            start,
            end,
            note,
        ) in current.values_list(
            "pk",
            "physician_id",
            "municipality_id",
            "district_id",
            "arrangement_id",
            "role",
            "start_date",
            "end_date",
            "note",
        ):
            record = AppointmentRecord(
                pk,
                self.physicians[physician_id],
                municipality_by_id.get(municipality_id),
                role,
                start,
                end,
                note,
                district=self.district_by_pk.get(district_id),
                arrangement=self.arrangements.get(arrangement_id),
            )
            self.add_appointment(record)
        self.appointment_phones = defaultdict(dict)  # appointment pk → {e164: PhoneRecord}
        for pk, appointment_id, e164, note in _e164(Phone.objects.filter(appointment__in=current)).values_list(
            "pk", "appointment_id", "e164", "note"
        ):
            self.appointment_phones[appointment_id][e164] = PhoneRecord(pk, e164, note)

    def _load_organisation(self, municipality_by_id):
        """Arrangements and their members, districts, legevakter and every owner's function contacts."""
        today = self.today
        self.arrangements = {}  # pk → ArrangementRecord
        self.arrangements_by_name = defaultdict(list)  # name_key → [ArrangementRecord]
        for pk, name, kind, roles in Arrangement.objects.values_list("pk", "name", "kind", "roles"):
            record = ArrangementRecord(pk, name, kind, Arrangement.roles_of(roles))
            self.arrangements[pk] = record
            self.arrangements_by_name[name_key(name)].append(record)
        self.member_of = defaultdict(list)  # municipality id → [ArrangementRecord] it is a member of on the day
        for arrangement_id, municipality_id, valid_from in (
            Membership.objects.open_on(today)
            .order_by("valid_from")
            .values_list("arrangement_id", "municipality_id", "valid_from")
        ):
            record = self.arrangements[arrangement_id]
            if valid_from <= today:
                record.members[municipality_id] = None
                self.member_of[municipality_id].append(record)
            else:
                record.members.setdefault(municipality_id, valid_from)
        self.districts = defaultdict(list)  # municipality id → [DistrictRecord]
        self.district_by_pk = {}
        for pk, number, name, municipality_id in District.objects.order_by("number").values_list(
            "pk", "number", "name", "municipality_id"
        ):
            record = DistrictRecord(pk, number, name, municipality_by_id[municipality_id])
            self.districts[municipality_id].append(record)
            self.district_by_pk[pk] = record
        self.mailboxes = defaultdict(lambda: defaultdict(list))  # place key → {role: [FunctionContactRecord]}
        self.function_numbers = defaultdict(dict)  # place key → {e164: FunctionContactRecord}
        served = defaultdict(set)  # legevakt id → {place key}
        contacts = _e164(FunctionContact.objects.all()).values_list(
            "pk",
            "municipality_id",
            "district_id",
            "arrangement_id",
            "legevakt_id",
            "kind",
            "role",
            "email",
            "e164",
            "opening_hours",
        )
        for pk, municipality_id, district_id, arrangement_id, legevakt_id, kind, role, email, e164, hours in contacts:
            district = self.district_by_pk.get(district_id)
            place = place_key(municipality_by_id.get(municipality_id), district, self.arrangements.get(arrangement_id))
            if kind == ContactKind.LEGEVAKT:
                served[legevakt_id].add(place)
                continue
            record = FunctionContactRecord(pk, None, kind, role, email=email, e164=e164 or "", opening_hours=hours)
            if kind == ContactKind.ROLE_MAILBOX:
                self.mailboxes[place][role].append(record)
            else:
                self.function_numbers[place][e164] = record
        self.legevakter = {}  # name_key → LegevaktRecord
        changeable = self.scope.changeable_legevakter
        for pk, name, e164, hours in _e164(Legevakt.objects.all()).values_list("pk", "name", "e164", "opening_hours"):
            keepers = self.scope.legevakt_keepers.get(pk, "")
            record = LegevaktRecord(
                pk,
                name,
                e164,
                parse_phone(e164),
                hours,
                changeable=changeable is None or pk in changeable,
                keepers=keepers,
            )
            record.served = served[pk]
            self.legevakter[name_key(name)] = record

    def _index(self, physician):
        if physician.hpr_number:
            self.by_hpr[physician.hpr_number] = physician
        if physician.email:
            bucket = self.by_email[physician.email.casefold()]
            if physician not in bucket:
                bucket.append(physician)

    def add_appointment(self, appointment):
        place = appointment.place
        if appointment.pk is not None:
            self.registered[(place, appointment.role)].append(appointment)
        self.current[(place, appointment.role)].append(appointment)
        self.holding[(place, appointment.role, appointment.physician)] = appointment
        self.in_place[place].append(appointment)
        arrangement = appointment.arrangement
        if arrangement is not None:
            for municipality_id, joins in arrangement.members.items():
                if joins is None:
                    self.through[(municipality_id, appointment.role)].append((appointment.physician, arrangement))

    def add_member(self, arrangement, municipality):
        """`municipality` is a member of `arrangement` from the day: its holders hold their roles there."""
        arrangement.members[municipality.pk] = None
        self.member_of[municipality.pk].append(arrangement)
        for appointment in self.in_place.get(("a", arrangement), []):
            self.through[(municipality.pk, appointment.role)].append((appointment.physician, arrangement))

    def may_write_to(self, municipality):
        return self.scope.municipality_ids is None or municipality.pk in self.scope.municipality_ids


# Reading the rows: cells → clean values, or errors per cell.

READERS = {
    ARRANGEMENT: normalise.read_arrangement,
    DISTRICT: normalise.cell_text,
    LEGEVAKT_NAME: normalise.read_legevakt_name,
    LEGEVAKT_PHONE: normalise.split_phones,
    MUNICIPALITY_NUMBER: normalise.clean_municipality_number,
    MUNICIPALITY_NAME: normalise.cell_text,
    ROLE: normalise.clean_role,
    NOTE: normalise.clean_note,
    FUNCTION_PHONE: normalise.split_phones,
    FUNCTION_EMAIL: normalise.read_mailboxes,
    "name": normalise.clean_name,
    "phone": normalise.split_phones,
    "email": normalise.clean_email,
    "hpr": normalise.clean_hpr,
}


def reader(key):
    slot, _sep, part = key.partition("_")
    return READERS[part] if slot in PERSON_ROLES and part in PERSON_FIELDS else READERS[key]


@dataclass
class SheetRow:
    number: int
    cells: list
    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)  # layout key → message
    vacancy: bool = False  # the chief physician's name cell says the post is vacant


def _refused_in(raw):
    """The message for a control character or direction override in a cell (or a phone column's cells)."""
    if raw is None or (type(raw) is str and REFUSED_IN_TEXT.search(raw) is None):
        return None  # the common case, asked without building a list
    cells = [cell for cell, _kind in raw] if isinstance(raw, list) else [raw]
    for cell in cells:
        error = refused_character(cell, multiline=True)
        if error is not None:
            return error.messages[0]
    return None


def read_rows(sheet, layout):
    """Return ([SheetRow], [(row number, reason)] of rows that are not data): every cell read, or its error."""
    rows, skipped = [], []
    readers = [(key, reader(key)) for key in layout.columns]
    for number, cells in sheet.rows:
        if number <= layout.header_row:
            continue
        if layout.is_header_again(cells):
            skipped.append((number, _("Repeats the header row.")))
            continue
        row = SheetRow(number=number, cells=cells)
        for key, read in readers:
            raw = layout.values(cells, key)
            refused = _refused_in(raw)
            if refused is not None:
                # The same rule as the admin and the model (registry.validators): asked, never stripped.
                row.errors[key] = refused
                continue
            try:
                row.values[key] = read(raw)
            except (CellError, ValueError) as error:
                row.errors[key] = str(error)
        chief_name = layout.values(cells, person_column("chief", "name"))
        row.vacancy = normalise.is_vacancy_word(normalise.cell_text(chief_name))
        rows.append(row)
    return rows, skipped


# Planning.


@dataclass
class Person:
    """One physician as a row gives them. `slot` names the columns they came from, `role` what they are."""

    slot: str
    role: str
    name: str = ""
    phones: list = field(default_factory=list)
    email: str = ""
    hpr: str = ""
    physician: object = None  # the matched or planned PhysicianRecord
    same_as: object = None  # a Person earlier on the same row with this name and no contact of their own
    matched_by: str = ""  # "hpr", "email", "phone" or "here": how an existing physician was found
    place: object = None  # the Place of their appointment (Planner._check_places)

    def column(self, part):
        return person_column(self.slot, part)

    @property
    def has_contact(self):
        return bool(self.phones or self.email)


MATCH_REASONS = {
    "hpr": lambda p: later(gettext_noop("found by HPR number %(hpr)s"), {"hpr": p.hpr}),
    "email": lambda p: later(gettext_noop("found by e-mail %(email)s and name"), {"email": p.email}),
    "phone": lambda p: later(gettext_noop("found by name and phone number")),
    "here": lambda p: later(gettext_noop("found by name among those serving this municipality")),
}


class Planner:
    def __init__(self, snapshot):
        self.state = snapshot
        self.today = snapshot.today
        # What the sheet named: (municipality id, role) → {physician record: first row}.
        self.named = defaultdict(dict)
        self.valid_municipalities = {}
        self.rejected_municipalities = set()
        self.unresolved = False
        self.resolutions = {}  # (number cell, name cell) → Resolution
        self.sheet_kinds = {}  # arrangement name key → (first row, kind) that the sheet gives it
        self.named_arrangements = []  # [ArrangementRecord] valid rows place people in
        self.districts_named = False  # the sheet has a district column: districts' appointments may be missing
        self.converted = set()  # ids of own appointments this plan ends because they are now held through one
        self.seen_mailboxes = defaultdict(set)  # (place key, role) → ids of the mailboxes the sheet named

    # Matching: read only.

    def match(self, person, municipality):
        """Return the physician `person` is, or None when they are new to the registry; sets `matched_by`.

        By HPR number; else by e-mail (case-insensitive) with the same name, since offices share
        mailboxes; else by name and one phone number. A name alone matches a physician of the same
        name who already serves this municipality.
        """
        state = self.state
        key = name_key(person.name)
        if person.hpr:
            found = state.by_hpr.get(person.hpr)
            if found is not None:
                person.matched_by = "hpr"
                return found

        def compatible(physician):
            return not person.hpr or not physician.hpr_number or physician.hpr_number == person.hpr

        if person.email:
            for physician in state.by_email.get(person.email.casefold(), []):
                if compatible(physician) and name_key(physician.name) == key:
                    person.matched_by = "email"
                    return physician
        for entry in person.phones:
            for physician in state.by_name_phone.get((key, entry.e164), []):
                if compatible(physician):
                    person.matched_by = "phone"
                    return physician
        if not person.has_contact and not person.hpr:
            places = [("m", municipality.pk), *[("d", d.pk) for d in state.districts.get(municipality.pk, [])]]
            places += [("a", arrangement) for arrangement in state.member_of.get(municipality.pk, [])]
            for appointment in (a for place in places for a in state.in_place.get(place, [])):
                if name_key(appointment.physician.name) == key:
                    person.matched_by = "here"
                    return appointment.physician
            for physician, _arrangement in state.through.get((municipality.pk, person.role), []):
                if name_key(physician.name) == key:
                    person.matched_by = "here"
                    return physician
        return None

    # One row.

    def plan_row(self, row, layout):
        plan = RowPlan(number=row.number, cells=row.cells)
        for key, message in row.errors.items():
            plan.problems.append(Problem(key, message))
        municipality = self._municipality(row, plan)
        place = self._place(row, plan, municipality) if municipality is not None else None
        legevakt = self._read_legevakt(row, plan)
        people = self._people(row, plan, municipality)
        if place is not None:
            self._check_places(plan, place, people)
        if plan.problems:
            if municipality is not None:
                self.rejected_municipalities.add(municipality.pk)
            return plan
        # Nothing above changed the snapshot: a rejected row leaves no trace for the rows after it.
        plan.municipality = municipality
        self.valid_municipalities[municipality.pk] = municipality
        self._join(plan, place)
        self._function_contacts(row, plan, place, layout)
        if legevakt is not None:
            self._legevakt(plan, place, *legevakt)
        if not people:
            if row.vacancy:
                plan.reason = _("The sheet says the post is vacant: no physician to import.")
            elif not plan.operations:
                plan.reason = _("No physician on this row (a vacancy): nothing to import.")
            return plan
        self._apply_people(plan, people, row.values.get(NOTE, ""))
        return plan

    # Where the row's people and contacts go.

    def _place(self, row, plan, municipality):
        """Return the row's Place (the municipality, a district of it, or an arrangement), or None after a problem."""
        cell = row.values.get(ARRANGEMENT)
        district = row.values.get(DISTRICT, "")
        if cell and district:
            plan.problems.append(
                Problem(
                    DISTRICT,
                    _(
                        "A row is about a district or about an intermunicipal arrangement, not both: «%(district)s» "
                        "and «%(arrangement)s». Put the district's people on a row of their own."
                    )
                    % {"district": district, "arrangement": cell.name},
                )
            )
            return None
        if district:
            found = self._find_district(district, municipality, plan)
            return Place(municipality, district=found) if found is not None else None
        if cell:
            return self._find_arrangement(cell, municipality, plan)
        return Place(municipality)

    def _find_district(self, text, municipality, plan):
        districts = self.state.districts.get(municipality.pk, [])
        compact = text.replace(" ", "")
        if compact.isdigit():
            number = compact if len(compact) == 6 else municipality.number + compact.zfill(2)
            found = [d for d in districts if d.number == number]
        else:
            keys = _district_keys(text)
            found = [d for d in districts if d.keys & keys]
        if len(found) == 1:
            if text != found[0].name:
                plan.notes.append(
                    _("«%(text)s» read as the district %(district)s (%(number)s) of %(municipality)s.")
                    % {
                        "text": text,
                        "district": found[0].name,
                        "number": found[0].number,
                        "municipality": municipality.name,
                    }
                )
            return found[0]
        if not districts:
            message = _(
                "%(municipality)s has no districts in the registry. Leave «Bydel» empty, or ask a national "
                "administrator to add the district."
            ) % {"municipality": municipality.name}
        else:
            message = _("%(municipality)s has no district «%(text)s». Its districts are: %(districts)s.") % {
                "municipality": municipality.name,
                "text": text,
                "districts": ", ".join(f"{d.name} ({d.number})" for d in districts),
            }
        plan.problems.append(Problem(DISTRICT, message))
        return None

    def _find_arrangement(self, cell, municipality, plan):
        key = name_key(cell.name)
        first = self.sheet_kinds.get(key)
        if cell.kind and first is not None and first[1] != cell.kind:
            plan.problems.append(
                Problem(
                    ARRANGEMENT,
                    _(
                        "Row %(row)s gives %(arrangement)s the kind «%(kind)s», this row «%(other)s». Write the same "
                        "kind on every row, or none."
                    )
                    % {
                        "row": first[0],
                        "arrangement": cell.name,
                        "kind": ArrangementKind(first[1]).label,
                        "other": ArrangementKind(cell.kind).label,
                    },
                )
            )
            return None
        found = self.state.arrangements_by_name.get(key, [])
        if len(found) > 1:
            plan.problems.append(
                Problem(
                    ARRANGEMENT,
                    _("«%(name)s» is the name of more than one arrangement: %(candidates)s. Write its exact name.")
                    % {"name": cell.name, "candidates": _(" or ").join(f"«{a.name}»" for a in found)},
                )
            )
            return None
        if not found:
            return Place(municipality, pending=cell)
        arrangement = found[0]
        joins = arrangement.members.get(municipality.pk)
        if joins is not None:
            plan.problems.append(
                Problem(
                    ARRANGEMENT,
                    _(
                        "%(municipality)s joins %(arrangement)s on %(date)s. Until then the import cannot place people "
                        "there: enter them in the admin, or import the row from that day."
                    )
                    % {
                        "municipality": municipality.name,
                        "arrangement": arrangement.name,
                        "date": joins.strftime("%d.%m.%Y"),
                    },
                )
            )
            return None
        return Place(municipality, arrangement=arrangement)

    def _check_places(self, plan, place, people):
        """Give each person the place of their appointment, and refuse what would contradict an arrangement.

        An arrangement holds only the roles it covers: a person in another role on its row is appointed in the
        municipality itself (a note says so). A municipality that holds a role through one arrangement cannot
        take it through another, nor give it to someone else itself: the import never guesses which ended.
        """
        state = self.state
        municipality = place.municipality
        arrangement = place.arrangement
        for person in people:
            person.place = place
            if arrangement is not None and not arrangement.covers(person.role):
                person.place = Place(municipality)
                plan.notes.append(
                    _(
                        "%(arrangement)s holds only %(roles)s for its members: %(name)s is appointed as %(role)s of "
                        "%(municipality)s itself."
                    )
                    % {
                        "arrangement": arrangement.name,
                        "roles": ", ".join(str(Role(role).label) for role in arrangement.roles),
                        "name": person.name,
                        "role": Role(person.role).label,
                        "municipality": municipality.name,
                    }
                )
            if person.place.district is not None:
                continue
            through = state.through.get((municipality.pk, person.role), [])
            into_arrangement = person.place.arrangement is not None or person.place.pending is not None
            others = [(holder, a) for holder, a in through if not into_arrangement or a is not person.place.arrangement]
            if not others:
                continue
            values = {
                "role": Role(person.role).label,
                "municipality": municipality.name,
                "arrangement": ", ".join(sorted({a.name for _holder, a in others})),
                "name": person.name,
                "holders": ", ".join(sorted({holder.name for holder, _a in others})),
            }
            if into_arrangement:
                values["other"] = (
                    person.place.arrangement.name if person.place.arrangement else person.place.pending.name
                )
                plan.problems.append(
                    Problem(
                        ARRANGEMENT,
                        _(
                            "%(municipality)s has its %(role)s through %(arrangement)s (%(holders)s), not through "
                            "%(other)s. End its membership of %(arrangement)s in the admin first, or write "
                            "%(arrangement)s here."
                        )
                        % values,
                    )
                )
                continue
            physician = person.same_as.physician if person.same_as is not None else person.physician
            if physician is None or not any(holder is physician for holder, _a in others):
                plan.problems.append(
                    Problem(
                        person.column("name"),
                        _(
                            "%(municipality)s has its %(role)s through %(arrangement)s (%(holders)s), not "
                            "«%(name)s». Change the arrangement's appointment in the admin, or write %(holders)s here."
                        )
                        % values,
                    )
                )

    def _join(self, plan, place):
        """The arrangement of a row, registered if the sheet names it first, and the row's municipality a member."""
        if place.arrangement is None and place.pending is None:
            return
        state = self.state
        municipality = place.municipality
        cell = place.pending
        key = name_key(place.arrangement.name if cell is None else cell.name)
        wanted = self.sheet_kinds.get(key, (None, ""))[1]
        arrangement = place.arrangement
        if arrangement is None:
            arrangement = ArrangementRecord(None, cell.name, wanted or ArrangementKind.OTHER.value, list(Role.values))
            state.arrangements_by_name[key].append(arrangement)
            more = []
            if not wanted:
                more.append(
                    later(
                        gettext_noop(
                            "its kind is not in the sheet, so it is registered as «%(kind)s»: write the kind in "
                            "brackets after the name, or change it in the admin"
                        ),
                        {"kind": ArrangementKind.OTHER.label},
                    )
                )
            more.append(later(gettext_noop("it holds every role for its members; change that in the admin")))
            reason = later(gettext_noop("no arrangement in the registry has this name"), None, *more)
            plan.operations.append(
                Operation(
                    CREATE_ARRANGEMENT, plan.number, arrangement, ARRANGEMENT, "name", "", arrangement.label(), reason
                )
            )
            place.arrangement, place.pending = arrangement, None
        elif wanted and wanted != arrangement.kind:
            plan.operations.append(
                Operation(
                    CHANGE_ARRANGEMENT,
                    plan.number,
                    arrangement,
                    ARRANGEMENT,
                    "kind",
                    ArrangementKind(arrangement.kind).label,
                    ArrangementKind(wanted).label,
                    later(gettext_noop("the kind in brackets after the arrangement's name")),
                )
            )
            arrangement.kind = wanted
        if arrangement not in self.named_arrangements:
            self.named_arrangements.append(arrangement)
        if municipality.pk not in arrangement.members:
            state.add_member(arrangement, municipality)
            plan.operations.append(
                Operation(
                    ADD_MEMBERSHIP,
                    plan.number,
                    MembershipRecord(arrangement, municipality, self.today),
                    ARRANGEMENT,
                    "valid_from",
                    "",
                    _("%(municipality)s, member from %(date)s")
                    % {"municipality": municipality.name, "date": self.today.strftime("%d.%m.%Y")},
                    later(
                        gettext_noop("%(municipality)s is not a member of %(arrangement)s today"),
                        {"municipality": municipality.name, "arrangement": arrangement.name},
                    ),
                )
            )

    def _read_legevakt(self, row, plan):
        """Return (name, PhoneEntry or None, LegevaktRecord or None) of the row's legevakt columns, or None."""
        name = row.values.get(LEGEVAKT_NAME, "")
        phones = row.values.get(LEGEVAKT_PHONE, [])
        if LEGEVAKT_NAME in row.errors or LEGEVAKT_PHONE in row.errors or not (name or phones):
            return None
        if not name:
            plan.problems.append(
                Problem(
                    LEGEVAKT_NAME,
                    _(
                        "There is a legevakt number but no legevakt. Write the legevakt's name in the «Legevakt» "
                        "column."
                    ),
                )
            )
            return None
        if len(phones) > 1:
            plan.problems.append(
                Problem(
                    LEGEVAKT_PHONE,
                    _(
                        "A legevakt has one direct number in the registry, and this cell has %(count)s. Write the one "
                        "the authorities should call."
                    )
                    % {"count": len(phones)},
                )
            )
            return None
        entry = phones[0] if phones else None
        record = self.state.legevakter.get(name_key(name))
        if record is None and entry is None:
            plan.problems.append(
                Problem(
                    LEGEVAKT_PHONE,
                    _(
                        "%(name)s is not in the registry. Write its direct number in «Legevakt telefon» to register "
                        "it, or check the name against the registry's legevakter."
                    )
                    % {"name": name},
                )
            )
            return None
        if record is not None and entry is not None and record.set_on_row is not None and entry.e164 != record.e164:
            plan.problems.append(
                Problem(
                    LEGEVAKT_PHONE,
                    _(
                        "Row %(row)s gives %(name)s the number %(number)s. A legevakt has one direct number: write the "
                        "same on every row."
                    )
                    % {"row": record.set_on_row, "name": record.name, "number": phone_text(record.number, "")},
                )
            )
            return None
        return name, entry, record

    def _legevakt(self, plan, place, name, entry, record):
        """The legevakt that serves the row's municipality (or district): registered, changed, and linked."""
        state = self.state
        if record is None:
            record = state.legevakter.get(name_key(name))  # registered by an earlier row of this sheet
        if record is None:
            record = LegevaktRecord(None, name, entry.e164, entry.number, entry.note)
            record.set_on_row = plan.number
            state.legevakter[name_key(name)] = record
            plan.operations.append(
                Operation(
                    CREATE_LEGEVAKT,
                    plan.number,
                    record,
                    LEGEVAKT_NAME,
                    "name",
                    "",
                    f"{name}: {phone_text(entry.number, entry.note)}",
                    later(
                        gettext_noop(
                            "no legevakt in the registry has this name; its direct number is for the authorities only "
                            "until an office makes it public"
                        )
                    ),
                )
            )
        elif entry is not None:
            changes = []
            if entry.e164 != record.e164:
                changes.append(("number", phone_text(record.number, ""), entry))
            if entry.note and entry.note != record.opening_hours:
                changes.append(("opening_hours", record.opening_hours, entry.note))
            if changes and not record.changeable:
                plan.notes.append(
                    _("Not changed: %(name)s's number %(number)s: the legevakt is kept by %(offices)s.")
                    % {"name": record.name, "number": phone_text(entry.number, entry.note), "offices": record.keepers}
                )
            elif changes:
                record.set_on_row = plan.number
                for field_name, old, new in changes:
                    shown = phone_text(new.number, "") if field_name == "number" else new
                    plan.operations.append(
                        Operation(
                            CHANGE_LEGEVAKT,
                            plan.number,
                            record,
                            LEGEVAKT_PHONE,
                            field_name,
                            old,
                            shown,
                            later(gettext_noop("the legevakt's direct number and opening hours in the sheet")),
                        )
                    )
                if entry.e164 != record.e164:
                    record.e164, record.number = entry.e164, entry.number
                if entry.note:
                    record.opening_hours = entry.note
            else:
                record.set_on_row = plan.number
        # The legevakt serves the municipality (or the district), whatever arrangement the row names.
        served = Place(place.municipality, district=place.district)
        if served.key in record.served:
            return
        record.served.add(served.key)
        contact = FunctionContactRecord(None, served, ContactKind.LEGEVAKT, "", legevakt=record)
        plan.operations.append(
            Operation(
                ADD_FUNCTION_CONTACT,
                plan.number,
                contact,
                LEGEVAKT_NAME,
                "legevakt",
                "",
                record.name,
                later(gettext_noop("the legevakt that serves %(place)s"), {"place": str(served)}),
            )
        )

    def _municipality(self, row, plan):
        if MUNICIPALITY_NUMBER in row.errors:
            self.unresolved = True
            return None
        cells = (row.values.get(MUNICIPALITY_NUMBER, ""), row.values.get(MUNICIPALITY_NAME, ""))
        resolution = self.resolutions.get(cells)
        if resolution is None:
            # Read once per number and name: a sheet has some 30 rows per municipality.
            resolution = self.resolutions[cells] = self.state.index.resolve(
                number=cells[0], name=cells[1], prefer=self.state.scope.municipality_ids or ()
            )
        if resolution.error:
            plan.problems.append(Problem(resolution.column, resolution.error))
            self.unresolved = True
            return None
        municipality = resolution.municipality
        if not self.state.may_write_to(municipality):
            column = MUNICIPALITY_NUMBER if row.values.get(MUNICIPALITY_NUMBER) else MUNICIPALITY_NAME
            plan.problems.append(
                Problem(
                    column,
                    _(
                        "%(municipality)s is outside your region: you can import only for the municipalities "
                        "your office keeps. Remove the row, or ask that office to import it."
                    )
                    % {"municipality": normalise.describe(municipality)},
                )
            )
            return None
        plan.notes += resolution.notes
        return municipality

    def _people(self, row, plan, municipality):
        people = []
        for slot, role in ROLE_SLOTS.items():
            if any(person_column(slot, part) in row.errors for part in PERSON_FIELDS):
                continue
            values = row.values
            person = Person(
                slot=slot,
                role=(values.get(ROLE) or role) if slot == "chief" else role,
                name=values.get(person_column(slot, "name"), ""),
                phones=values.get(person_column(slot, "phone"), []),
                email=values.get(person_column(slot, "email"), ""),
                hpr=values.get(person_column(slot, "hpr"), ""),
            )
            if slot == "chief" and row.vacancy:
                continue  # its numbers and address are the function's: see _function_contacts
            if not (person.name or person.phones or person.email or person.hpr):
                continue
            if not person.name:
                plan.problems.append(
                    Problem(
                        person.column("name"),
                        _(
                            "There is a phone number, e-mail or HPR number here but no name. Add the physician's "
                            "name, or write VAKANT if the post is vacant."
                        ),
                    )
                )
                continue
            twin = next((p for p in people if name_key(p.name) == name_key(person.name)), None)
            if twin is not None and not (person.has_contact or person.hpr):
                # "Smittevernoverlege: Kari Nordmann" on Kari's own row: the same person.
                person.same_as = twin
            elif municipality is not None:
                person.physician = self.match(person, municipality)
                if person.physician is None and not person.has_contact:
                    plan.problems.append(
                        Problem(
                            person.column("phone"),
                            _(
                                "%(name)s has no phone number or e-mail. Add at least one, so that the physician "
                                "can be reached."
                            )
                            % {"name": person.name},
                        )
                    )
                    continue
                if person.physician is not None and not person.physician.changeable and person.matched_by != "hpr":
                    plan.problems.append(
                        Problem(
                            person.column("name"),
                            _(
                                "%(name)s is registered, kept by %(offices)s (%(how)s). To appoint them here, write "
                                "their HPR number in the row: another office's physician is appointed only by "
                                "their exact HPR number."
                            )
                            % {
                                "name": person.physician.name,
                                "offices": person.physician.keepers,
                                "how": MATCH_REASONS[person.matched_by](person),
                            },
                        )
                    )
                    continue
            people.append(person)
        return people

    def _function_contacts(self, row, plan, place, layout):
        """The function contacts on the row, of its place (the municipality, the district or the arrangement):
        the function columns, and a vacant post's numbers and address."""
        phones = list(row.values.get(FUNCTION_PHONE, []))
        mailboxes = list(row.values.get(FUNCTION_EMAIL, []))
        if row.vacancy:
            phones += [
                normalise.PhoneEntry(entry.number, entry.note, entry.column_kind or PhoneKind.SWITCHBOARD)
                for entry in row.values.get(person_column("chief", "phone"), [])
            ]
            email = row.values.get(person_column("chief", "email"), "")
            if email:
                mailboxes.append(normalise.MailboxEntry(email))
            if phones or mailboxes:
                plan.notes.append(
                    _(
                        "The name cell says the post is vacant: the numbers and the address on this row are "
                        "written as the function contacts of %(place)s."
                    )
                    % {"place": place}
                )
        before = len(plan.operations)
        state = self.state
        key = place.key
        for mailbox in mailboxes:
            known = state.mailboxes[key][mailbox.role]
            seen = self.seen_mailboxes[(key, mailbox.role)]
            current = next((r for r in known if r.email.casefold() == mailbox.email.casefold()), None)
            reason = later(gettext_noop("a role mailbox of %(place)s"), {"place": str(place)})
            if current is None and not seen and len(known) == 1 and known[0].pk is not None:
                # One mailbox for the role, and the sheet gives another address: the address changed.
                current = known[0]
                plan.operations.append(
                    Operation(
                        CHANGE_FUNCTION_CONTACT,
                        row.number,
                        current,
                        FUNCTION_EMAIL,
                        "email",
                        current.email,
                        mailbox.email,
                        reason,
                    )
                )
                current.email = mailbox.email
            if current is None:
                current = FunctionContactRecord(
                    None, place, ContactKind.ROLE_MAILBOX, mailbox.role, email=mailbox.email, opening_hours=mailbox.note
                )
                known.append(current)
                plan.operations.append(
                    Operation(
                        ADD_FUNCTION_CONTACT, row.number, current, FUNCTION_EMAIL, "email", "", mailbox.email, reason
                    )
                )
            elif mailbox.note and mailbox.note != current.opening_hours:
                self._change_hours(plan, current, mailbox.note, FUNCTION_EMAIL)
            seen.add(id(current))
        known = state.function_numbers[key]
        for entry in phones:
            current = known.get(entry.e164)
            if current is not None:
                if entry.note and entry.note != current.opening_hours:
                    self._change_hours(plan, current, entry.note, FUNCTION_PHONE)
                continue
            kind = ContactKind.EMERGENCY if entry.kind == PhoneKind.ON_CALL else ContactKind.SWITCHBOARD
            known[entry.e164] = FunctionContactRecord(
                None, place, kind, "", e164=entry.e164, number=entry.number, opening_hours=entry.note
            )
            plan.operations.append(
                Operation(
                    ADD_FUNCTION_CONTACT,
                    row.number,
                    known[entry.e164],
                    column=FUNCTION_PHONE,
                    field="number",
                    new=phone_text(entry.number, entry.note),
                    reason=later(
                        gettext_noop("a number of the function of %(place)s (%(kind)s), not of a person"),
                        {"place": str(place), "kind": ContactKind(kind).label},
                    ),
                )
            )
        if place.arrangement is not None and len(plan.operations) > before:
            # Said where it changes something: an unchanged row (the export read back) needs no reminder.
            plan.notes.append(
                _(
                    "The row names %(arrangement)s: its function contacts are the arrangement's. Write "
                    "%(municipality)s's own on a row without the arrangement."
                )
                % {"arrangement": place.arrangement.name, "municipality": place.municipality.name}
            )

    def _change_hours(self, plan, contact, hours, column):
        if contact.pk is None:
            contact.opening_hours = hours  # added by an earlier row of this sheet: added with these hours
            return
        plan.operations.append(
            Operation(
                CHANGE_FUNCTION_CONTACT,
                plan.number,
                contact,
                column,
                "opening_hours",
                contact.opening_hours,
                hours,
                later(gettext_noop("the note in brackets after the number or address: its opening hours")),
            )
        )
        contact.opening_hours = hours

    def _apply_people(self, plan, people, note):
        repeats = []
        for index, person in enumerate(people):
            if person.same_as is not None:
                person.physician = person.same_as.physician
                person.matched_by = person.same_as.matched_by
            physician = person.physician
            if physician is None:
                physician = PhysicianRecord(None, person.name, person.email, person.hpr)
                self.state._index(physician)
                person.physician = physician
                plan.operations.append(
                    Operation(
                        CREATE_PHYSICIAN,
                        plan.number,
                        physician,
                        column=person.column("name"),
                        field="name",
                        new=physician.name,
                        reason=later(
                            gettext_noop(
                                "no physician in the registry has this HPR number, e-mail and name, or name and number"
                            )
                        ),
                    )
                )
            elif person.same_as is None:
                self._update_physician(plan, physician, person)
            self._appoint(plan, person.place, person, physician, note if index == 0 else "")
            first_row = self.named[(person.place.key, person.role)].setdefault(physician, plan.number)
            if first_row != plan.number:
                repeats.append(first_row)
        if not plan.operations and repeats and len(repeats) == len(people):
            plan.reason = _("Repeats row %(row)s.") % {"row": min(repeats)}

    def _update_physician(self, plan, physician, person):
        how = MATCH_REASONS[person.matched_by](person)
        wanted = []
        if person.matched_by == "hpr" and person.name and name_key(person.name) != name_key(physician.name):
            wanted.append(("name", "name", physician.name, person.name))
        if person.email and physician.email.casefold() != person.email.casefold():
            wanted.append(("email", "email", physician.email, person.email))
        if person.hpr and not physician.hpr_number:
            wanted.append(("hpr", "hpr_number", "", person.hpr))
        if not physician.changeable:
            new_phones = [e for e in person.phones if e.e164 not in self.state.phones[physician]]
            for part, _field, old, new in wanted:
                plan.notes.append(
                    _(
                        "Not changed: %(column)s «%(new)s» (the registry has «%(old)s»): "
                        "%(name)s is kept by %(offices)s."
                    )
                    % {
                        "column": part,
                        "new": new,
                        "old": old or "–",
                        "name": physician.name,
                        "offices": physician.keepers,
                    }
                )
            for entry in new_phones:
                plan.notes.append(
                    _("Not changed: number %(number)s is not added: %(name)s is kept by %(offices)s.")
                    % {
                        "number": phone_text(entry.number, entry.note),
                        "name": physician.name,
                        "offices": physician.keepers,
                    }
                )
            return
        for part, field_name, old, new in wanted:
            plan.operations.append(
                Operation(CHANGE_PHYSICIAN, plan.number, physician, person.column(part), field_name, old, new, how)
            )
            setattr(physician, field_name, new)
            self.state._index(physician)
        self._add_phones(plan, physician, person)

    def _appoint(self, plan, place, person, physician, note):
        state = self.state
        key = place.key
        appointment = state.holding.get((key, person.role, physician))
        if appointment is not None:
            if note and note != appointment.note:
                plan.operations.append(
                    Operation(
                        CHANGE_APPOINTMENT,
                        plan.number,
                        appointment,
                        NOTE,
                        "note",
                        appointment.note,
                        note,
                        later(gettext_noop("the note of %(name)s's appointment"), {"name": physician.name}),
                    )
                )
                appointment.note = note
            if physician.pk is None or physician.changeable:
                self._add_phones(plan, physician, person, appointment=appointment)
            self._end_own(plan, place, person, physician)
            return
        if key[0] == "m" and self._held_through(plan, place.municipality, person, physician):
            return
        # Who holds the post in the registry today (not others this sheet adds), for "old → new".
        previous = ", ".join(a.physician.name for a in state.registered.get((key, person.role), ()))
        appointment = AppointmentRecord(
            None,
            physician,
            None if place.arrangement is not None else place.municipality,
            person.role,
            self.today,
            None,
            note,
            district=place.district,
            arrangement=place.arrangement,
        )
        if physician.pk is not None and not physician.changeable:
            appointment.hpr_confirmation = person.hpr
        state.add_appointment(appointment)
        more = []
        if physician.pk is not None:
            more.append(MATCH_REASONS[person.matched_by](person))
        if physician.pk is not None and not physician.changeable:
            more.append(later(gettext_noop("kept by %(offices)s, who keep the person"), {"offices": physician.keepers}))
        if place.arrangement is not None:
            reason = later(
                gettext_noop(
                    "not in the registry as %(role)s of %(arrangement)s, which holds the role for %(members)s"
                ),
                {
                    "role": Role(person.role).label,
                    "arrangement": place.arrangement.name,
                    "members": place.municipality.name,
                },
                *more,
            )
        else:
            reason = later(
                gettext_noop("not in the registry as %(role)s of %(municipality)s"),
                {"role": Role(person.role).label, "municipality": str(place)},
                *more,
            )
        plan.operations.append(
            Operation(
                APPOINT, plan.number, appointment, person.column("name"), "physician", previous, physician.name, reason
            )
        )
        if note:
            plan.operations.append(Operation(CHANGE_APPOINTMENT, plan.number, appointment, NOTE, "note", "", note))
        if physician.pk is None or physician.changeable:
            self._add_phones(plan, physician, person, appointment=appointment)
        self._end_own(plan, place, person, physician)

    def _end_own(self, plan, place, person, physician):
        """A person the row places in an arrangement no longer holds the role in the municipality itself: their own
        appointment there ends the day before, so that who held the role when stays answerable (as
        registry.services.form_arrangement does)."""
        if place.arrangement is None:
            return
        own = self.state.holding.get((("m", place.municipality.pk), person.role, physician))
        if own is None or own.pk is None or id(own) in self.converted:
            return
        if own.end_date is not None and own.end_date < self.today:
            return
        self.converted.add(id(own))
        own.end_date = handover_end(own.start_date, self.today)
        plan.operations.append(
            Operation(
                END_APPOINTMENT,
                plan.number,
                own,
                person.column("name"),
                "end_date",
                "",
                own.end_date,
                later(
                    gettext_noop("%(name)s now holds the role through %(arrangement)s"),
                    {"name": physician.name, "arrangement": place.arrangement.name},
                ),
            )
        )

    def _held_through(self, plan, municipality, person, physician):
        """True when `municipality` holds `person.role` through an arrangement and the row names its holder (on the
        municipality's own row): nothing to appoint, and a note says so. Naming someone else there was refused
        before (_check_places)."""
        through = self.state.through.get((municipality.pk, person.role), [])
        holders = [(holder, a) for holder, a in through if holder is physician]
        if not holders:
            return False
        plan.notes.append(
            _(
                "%(name)s is %(role)s of %(municipality)s through %(arrangement)s: the appointment is the "
                "arrangement's, and this row changes nothing about it."
            )
            % {
                "role": Role(person.role).label,
                "municipality": municipality.name,
                "arrangement": ", ".join(sorted({a.name for _holder, a in holders})),
                "name": physician.name,
            }
        )
        if physician.changeable:
            self._add_phones(plan, physician, person)  # the person's own numbers, not the appointment's
        return True

    def _add_phones(self, plan, physician, person, appointment=None):
        own = self.state.phones[physician]
        on_appointment = (
            self.state.appointment_phones.get(appointment.pk, {}) if appointment is not None and appointment.pk else {}
        )
        for entry in person.phones:
            phone = own.get(entry.e164) or on_appointment.get(entry.e164)
            if phone is None:
                phone = PhoneRecord(
                    None, entry.e164, entry.note, physician=physician, number=entry.number, kind=entry.kind
                )
                own[entry.e164] = phone
                self.state.by_name_phone[(name_key(physician.name), entry.e164)].append(physician)
                plan.operations.append(
                    Operation(
                        ADD_PHONE,
                        plan.number,
                        phone,
                        person.column("phone"),
                        "number",
                        "",
                        phone_text(entry.number, entry.note),
                        later(
                            gettext_noop("a new number of %(name)s (%(kind)s)"),
                            {"name": physician.name, "kind": PhoneKind(entry.kind).label},
                        ),
                    )
                )
            elif entry.note and entry.note != phone.note:
                plan.operations.append(
                    Operation(
                        CHANGE_PHONE,
                        plan.number,
                        phone,
                        person.column("phone"),
                        "note",
                        phone_text(entry.number, phone.note),
                        phone_text(entry.number, entry.note),
                        later(gettext_noop("the note in brackets after the number")),
                    )
                )
                phone.note = entry.note

    # The whole sheet.

    def missing(self, roles):
        """The open appointments, in the offices and roles the sheet speaks about, that it did not name: in the
        municipalities themselves, in their districts when the sheet has a district column, and in the
        arrangements its rows name."""
        offices = {m.county.county_governor_id for m in self.valid_municipalities.values()}
        scope = [
            m
            for m in self.state.municipalities
            if m.county.county_governor_id in offices
            and m.is_active(on=self.today)
            and self.state.may_write_to(m)
            and m.pk not in self.rejected_municipalities
        ]
        places = [("m", m.pk) for m in scope]
        if self.districts_named:
            places += [("d", d.pk) for m in scope for d in self.state.districts.get(m.pk, [])]
        places += [("a", arrangement) for arrangement in self.named_arrangements]
        out = []
        for place in places:
            for role in roles:
                named = self.named.get((place, role), {})
                for appointment in self.state.current.get((place, role), []):
                    if appointment.pk is None or appointment.physician in named:
                        continue
                    if appointment.end_date is None or appointment.end_date > self.today:
                        out.append(appointment)
        return out


def make_plan(rows, *, layout, snapshot, skipped=()):
    """Return the Plan for the normalised `rows` (read_rows) against `snapshot`. Reads no database."""
    planner = Planner(snapshot)
    planner.districts_named = DISTRICT in layout.columns
    for row in rows:
        # The kind an arrangement's rows give it: the first, which every later row must agree with.
        cell = row.values.get(ARRANGEMENT)
        if cell is not None and cell.kind:
            planner.sheet_kinds.setdefault(name_key(cell.name), (row.number, cell.kind))
    plan = Plan(skipped=list(skipped))
    for row in rows:
        plan.rows.append(planner.plan_row(row, layout))
    plan.missing = planner.missing(sorted(layout.roles))
    plan.unresolved = planner.unresolved
    return plan


def end_operations(plan, today):
    """The operations that end the plan's missing appointments `today`, for an import that asks for it. An
    END_APPOINTMENT's `new` is the last day of the appointment."""
    return [
        Operation(
            END_APPOINTMENT,
            None,
            record,
            field="end_date",
            new=today,
            reason=later(gettext_noop("in the registry but not in the sheet, and you asked to end such appointments")),
        )
        for record in plan.missing
    ]


def describe_appointment(appointment):
    """Return an appointment record as a line in a report: place, role, physician and start."""
    return _("%(municipality)s, %(role)s: %(physician)s (since %(start)s)") % {
        "municipality": appointment.place_name(),
        "role": Role(appointment.role).label,
        "physician": appointment.physician.name,
        "start": appointment.start_date.strftime("%d.%m.%Y"),
    }


def phone_cell(phones):
    """Return the numbers of one person as one cell: "918 44 552 (kun dagtid) / 73 19 90 00"."""
    return " / ".join(format_phone_entry(phone.number, phone.note) for phone in phones)
