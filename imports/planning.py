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
    FUNCTION_EMAIL,
    FUNCTION_PHONE,
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
    ContactKind,
    FormerNumber,
    FunctionContact,
    Membership,
    Municipality,
    Phone,
    PhoneKind,
    Physician,
    Role,
)
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


class AppointmentRecord:
    __slots__ = ("pk", "physician", "municipality", "role", "start_date", "end_date", "note", "hpr_confirmation")

    def __init__(self, pk, physician, municipality, role, start_date, end_date, note):
        self.pk, self.physician, self.municipality, self.role = pk, physician, municipality, role
        self.start_date, self.end_date, self.note = start_date, end_date, note
        self.hpr_confirmation = None


class FunctionContactRecord:
    __slots__ = ("pk", "municipality", "kind", "role", "email", "e164", "number", "opening_hours")

    def __init__(self, pk, municipality, kind, role, *, email="", e164="", number=None, opening_hours=""):
        self.pk, self.municipality, self.kind, self.role = pk, municipality, kind, role
        self.email, self.e164, self.number, self.opening_hours = email, e164, number, opening_hours


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
        new = self.action in (CREATE_PHYSICIAN, APPOINT, ADD_PHONE, ADD_FUNCTION_CONTACT)
        ident = "new" if new or getattr(target, "pk", None) is None else target.pk
        if self.action in (ADD_PHONE, CHANGE_PHONE):
            values = f"{target.e164}|{target.note}"
        elif self.action == ADD_FUNCTION_CONTACT:
            values = f"{target.kind}|{target.role}|{target.email}|{target.e164}|{target.opening_hours}"
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
    ADD_FUNCTION_CONTACT: gettext_lazy("Add a function contact to the municipality"),
    CHANGE_FUNCTION_CONTACT: gettext_lazy("Change the municipality's role mailbox"),
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
        if any(op.action in (CREATE_PHYSICIAN, APPOINT) for op in self.operations):
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
        self.mailboxes = defaultdict(dict)  # municipality id → {role: FunctionContactRecord}
        self.function_numbers = defaultdict(set)  # municipality id → {e164}
        contacts = _e164(FunctionContact.objects.filter(municipality__isnull=False))
        for pk, municipality_id, kind, role, email, e164 in contacts.values_list(
            "pk", "municipality_id", "kind", "role", "email", "e164"
        ):
            if kind == ContactKind.ROLE_MAILBOX:
                record = FunctionContactRecord(pk, municipality_by_id[municipality_id], kind, role, email=email)
                self.mailboxes[municipality_id].setdefault(role, record)
            else:
                self.function_numbers[municipality_id].add(e164)
        self.current = defaultdict(list)  # (municipality id, role) → [AppointmentRecord]
        self.registered = defaultdict(list)  # the same, only those in the registry (not planned by this sheet)
        self.holding = {}  # (municipality id, role, physician record) → AppointmentRecord
        self.in_municipality = defaultdict(list)  # municipality id → [AppointmentRecord]
        # The sheet speaks of a municipality's own appointments only: a district's (a bydelsoverlege) and an
        # arrangement's are kept in the admin, and the import neither changes nor ends them.
        current = (
            Appointment.objects.on(today)
            .filter(district__isnull=True, arrangement__isnull=True)
            .order_by("start_date", "pk")
        )
        # Roles a municipality holds through an arrangement on the day: (municipality id, role) →
        # [(physician record, arrangement name)]. A row naming that person there changes nothing; a row naming
        # someone else is refused (see Planner._held_through).
        self.through = defaultdict(list)
        members = defaultdict(list)
        for arrangement_id, municipality_id in Membership.objects.on(today).values_list(
            "arrangement_id", "municipality_id"
        ):
            members[arrangement_id].append(municipality_id)
        through = Appointment.objects.on(today).filter(arrangement__isnull=False).order_by("start_date", "pk")
        for physician_id, arrangement_id, arrangement_name, role in through.values_list(
            "physician_id", "arrangement_id", "arrangement__name", "role"
        ):
            for municipality_id in members[arrangement_id]:
                self.through[(municipality_id, role)].append((self.physicians[physician_id], arrangement_name))
        for pk, physician_id, municipality_id, role, start, end, note in current.values_list(
            "pk", "physician_id", "municipality_id", "role", "start_date", "end_date", "note"
        ):
            record = AppointmentRecord(
                pk, self.physicians[physician_id], municipality_by_id[municipality_id], role, start, end, note
            )
            self.add_appointment(record)
        self.appointment_phones = defaultdict(dict)  # appointment pk → {e164: PhoneRecord}
        for pk, appointment_id, e164, note in _e164(Phone.objects.filter(appointment__in=current)).values_list(
            "pk", "appointment_id", "e164", "note"
        ):
            self.appointment_phones[appointment_id][e164] = PhoneRecord(pk, e164, note)

    def _index(self, physician):
        if physician.hpr_number:
            self.by_hpr[physician.hpr_number] = physician
        if physician.email:
            bucket = self.by_email[physician.email.casefold()]
            if physician not in bucket:
                bucket.append(physician)

    def add_appointment(self, appointment):
        if appointment.pk is not None:
            self.registered[(appointment.municipality.pk, appointment.role)].append(appointment)
        self.current[(appointment.municipality.pk, appointment.role)].append(appointment)
        self.holding[(appointment.municipality.pk, appointment.role, appointment.physician)] = appointment
        self.in_municipality[appointment.municipality.pk].append(appointment)

    def may_write_to(self, municipality):
        return self.scope.municipality_ids is None or municipality.pk in self.scope.municipality_ids


# Reading the rows: cells → clean values, or errors per cell.

READERS = {
    **dict.fromkeys(normalise.ORGANISATION_KEYS, normalise.cell_text),
    MUNICIPALITY_NUMBER: normalise.clean_municipality_number,
    MUNICIPALITY_NAME: normalise.cell_text,
    ROLE: normalise.clean_role,
    NOTE: normalise.clean_note,
    FUNCTION_PHONE: normalise.split_phones,
    FUNCTION_EMAIL: normalise.clean_email,
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
            for appointment in state.in_municipality.get(municipality.pk, []):
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
        for key in normalise.ORGANISATION_KEYS:
            if row.values.get(key):
                # Written to the municipality instead, the row's people would be in the wrong place.
                plan.problems.append(
                    Problem(
                        key,
                        _(
                            "«%(value)s»: the import does not yet place people in a district, an intermunicipal "
                            "arrangement or a legevakt. Enter them in the admin, and empty this cell."
                        )
                        % {"value": row.values[key]},
                    )
                )
        municipality = self._municipality(row, plan)
        people = self._people(row, plan, municipality)
        if plan.problems:
            if municipality is not None:
                self.rejected_municipalities.add(municipality.pk)
            return plan
        plan.municipality = municipality
        self.valid_municipalities[municipality.pk] = municipality
        self._function_contacts(row, plan, municipality, layout)
        if not people:
            if row.vacancy:
                plan.reason = _("The sheet says the post is vacant: no physician to import.")
            elif not plan.operations:
                plan.reason = _("No physician on this row (a vacancy): nothing to import.")
            return plan
        self._apply_people(plan, municipality, people, row.values.get(NOTE, ""))
        return plan

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

    def _function_contacts(self, row, plan, municipality, layout):
        """The municipality's own contacts on the row: function columns, and a vacant post's numbers and address."""
        phones = list(row.values.get(FUNCTION_PHONE, []))
        email_column = layout.first_column(FUNCTION_EMAIL)
        mailboxes = [(row.values.get(FUNCTION_EMAIL, ""), email_column.role if email_column else "")]
        if row.vacancy:
            phones += [
                normalise.PhoneEntry(entry.number, entry.note, entry.column_kind or PhoneKind.SWITCHBOARD)
                for entry in row.values.get(person_column("chief", "phone"), [])
            ]
            mailboxes.append((row.values.get(person_column("chief", "email"), ""), ""))
            if phones or any(email for email, _role in mailboxes):
                plan.notes.append(
                    _(
                        "The name cell says the post is vacant: the numbers and the address on this row are "
                        "written as the municipality's function contacts."
                    )
                )
        state = self.state
        for email, role in mailboxes:
            if not email:
                continue
            current = state.mailboxes[municipality.pk].get(role)
            if current is not None and current.email.casefold() == email.casefold():
                continue
            reason = later(gettext_noop("the municipality's role mailbox"))
            if current is None:
                record = FunctionContactRecord(None, municipality, ContactKind.ROLE_MAILBOX, role, email=email)
                state.mailboxes[municipality.pk][role] = record
                plan.operations.append(
                    Operation(ADD_FUNCTION_CONTACT, row.number, record, FUNCTION_EMAIL, "email", "", email, reason)
                )
            else:
                plan.operations.append(
                    Operation(
                        CHANGE_FUNCTION_CONTACT,
                        row.number,
                        current,
                        FUNCTION_EMAIL,
                        "email",
                        current.email,
                        email,
                        reason,
                    )
                )
                current.email = email
        known = state.function_numbers[municipality.pk]
        for entry in phones:
            if entry.e164 in known:
                continue
            kind = ContactKind.EMERGENCY if entry.kind == PhoneKind.ON_CALL else ContactKind.SWITCHBOARD
            record = FunctionContactRecord(
                None, municipality, kind, "", e164=entry.e164, number=entry.number, opening_hours=entry.note
            )
            known.add(entry.e164)
            plan.operations.append(
                Operation(
                    ADD_FUNCTION_CONTACT,
                    row.number,
                    record,
                    column=FUNCTION_PHONE,
                    field="number",
                    new=phone_text(entry.number, entry.note),
                    reason=later(
                        gettext_noop("a number of the municipality's function (%(kind)s), not of a person"),
                        {"kind": ContactKind(kind).label},
                    ),
                )
            )

    def _apply_people(self, plan, municipality, people, note):
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
            self._appoint(plan, municipality, person, physician, note if index == 0 else "")
            first_row = self.named[(municipality.pk, person.role)].setdefault(physician, plan.number)
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

    def _appoint(self, plan, municipality, person, physician, note):
        state = self.state
        appointment = state.holding.get((municipality.pk, person.role, physician))
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
            return
        if self._held_through(plan, municipality, person, physician):
            return
        # Who holds the post in the registry today (not others this sheet adds), for "old → new".
        previous = ", ".join(a.physician.name for a in state.registered.get((municipality.pk, person.role), ()))
        appointment = AppointmentRecord(None, physician, municipality, person.role, self.today, None, note)
        if physician.pk is not None and not physician.changeable:
            appointment.hpr_confirmation = person.hpr
        state.add_appointment(appointment)
        more = []
        if physician.pk is not None:
            more.append(MATCH_REASONS[person.matched_by](person))
        if physician.pk is not None and not physician.changeable:
            more.append(later(gettext_noop("kept by %(offices)s, who keep the person"), {"offices": physician.keepers}))
        reason = later(
            gettext_noop("not in the registry as %(role)s of %(municipality)s"),
            {"role": Role(person.role).label, "municipality": municipality.name},
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

    def _held_through(self, plan, municipality, person, physician):
        """True when `municipality` holds `person.role` through an arrangement: the row names that person
        (nothing to appoint; a note says so), or someone else (refused: the import never guesses whether
        the arrangement ended). False when the municipality holds the role on its own."""
        through = self.state.through.get((municipality.pk, person.role), [])
        if not through:
            return False
        arrangements = sorted({name for _physician, name in through})
        values = {
            "role": Role(person.role).label,
            "municipality": municipality.name,
            "arrangement": ", ".join(arrangements),
            "name": physician.name,
            "holders": ", ".join(sorted({holder.name for holder, _name in through})),
        }
        if any(holder is physician for holder, _name in through):
            plan.notes.append(
                _(
                    "%(name)s is %(role)s of %(municipality)s through %(arrangement)s: the appointment is the "
                    "arrangement's, and this row changes nothing about it."
                )
                % values
            )
            if physician.changeable:
                self._add_phones(plan, physician, person)  # the person's own numbers, not the appointment's
            return True
        plan.problems.append(
            Problem(
                person.column("name"),
                _(
                    "%(municipality)s has its %(role)s through %(arrangement)s (%(holders)s), not «%(name)s». "
                    "Change the arrangement's appointment in the admin, or write %(holders)s here."
                )
                % values,
            )
        )
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
        """The open appointments, in the offices and roles the sheet speaks about, that it did not name."""
        offices = {m.county.county_governor_id for m in self.valid_municipalities.values()}
        scope = [
            m
            for m in self.state.municipalities
            if m.county.county_governor_id in offices
            and m.is_active(on=self.today)
            and self.state.may_write_to(m)
            and m.pk not in self.rejected_municipalities
        ]
        out = []
        for municipality in scope:
            for role in roles:
                named = self.named.get((municipality.pk, role), {})
                for appointment in self.state.current.get((municipality.pk, role), []):
                    if appointment.pk is None or appointment.physician in named:
                        continue
                    if appointment.end_date is None or appointment.end_date > self.today:
                        out.append(appointment)
        return out


def make_plan(rows, *, layout, snapshot, skipped=()):
    """Return the Plan for the normalised `rows` (read_rows) against `snapshot`. Reads no database."""
    planner = Planner(snapshot)
    plan = Plan(skipped=list(skipped))
    for row in rows:
        plan.rows.append(planner.plan_row(row, layout))
    plan.missing = planner.missing(sorted(layout.roles))
    plan.unresolved = planner.unresolved
    return plan


def end_operations(plan):
    """The operations that end the plan's missing appointments today, for an import that asks for it."""
    return [
        Operation(
            END_APPOINTMENT,
            None,
            record,
            field="end_date",
            new=record.municipality,
            reason=later(gettext_noop("in the registry but not in the sheet, and you asked to end such appointments")),
        )
        for record in plan.missing
    ]


def describe_appointment(appointment):
    """Return an appointment record as a line in a report: municipality, role, physician and start."""
    return _("%(municipality)s, %(role)s: %(physician)s (since %(start)s)") % {
        "municipality": f"{appointment.municipality.number} {appointment.municipality.name}",
        "role": Role(appointment.role).label,
        "physician": appointment.physician.name,
        "start": appointment.start_date.strftime("%d.%m.%Y"),
    }


def phone_cell(phones):
    """Return the numbers of one person as one cell: "918 44 552 (kun dagtid) / 73 19 90 00"."""
    return " / ".join(format_phone_entry(phone.number, phone.note) for phone in phones)
