"""What an import would change, worked out in memory; and writing it, in bulk, with the audit trail.

`RegistryState` loads the registry once (a fixed number of queries, however long the sheet), then
each valid row is matched and applied to the in-memory state, so that later rows see earlier ones
(one physician on several rows is one person). Nothing touches the database until `write()`.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from imports.normalise import format_phone_entry, name_key, person_column
from registry.models import Appointment, Municipality, Phone, Physician, Role, Visibility

BATCH_SIZE = 500
# The change reason on every history entry an import writes.
HISTORY_REASON = "import"

ROLE_SLOTS = {"chief": Role.CHIEF_PHYSICIAN, "deputy": Role.DEPUTY, "infection": Role.INFECTION_CONTROL_PHYSICIAN}


@dataclass
class Person:
    """One physician as a row gives them. `slot` names the columns they came from, `role` what they are."""

    slot: str
    role: str
    name: str = ""
    phones: list = field(default_factory=list)
    email: str = ""
    hpr: str = ""
    physician: object = None  # the matched or planned Physician, set by matching
    same_as: object = None  # a Person earlier on the same row with this name and no contact of their own
    matched_by_hpr: bool = False

    def column(self, part):
        return person_column(self.slot, part)

    @property
    def has_contact(self):
        return bool(self.phones or self.email)


@dataclass
class Change:
    column: str  # a layout column key; the report shows its header
    old: str
    new: str


@dataclass
class Outcome:
    kind: str = "unchanged"  # new | updated | unchanged | skipped
    changes: list = field(default_factory=list)
    reason: str = ""


def _key(obj):
    # Planned physicians have no primary key yet (and Django refuses to hash them): use identity.
    return id(obj)


class RegistryState:
    """The registry as the import sees it, loaded in a fixed number of queries."""

    def __init__(self, *, today, allowed_ids):
        self.today = today
        self.allowed_ids = allowed_ids  # None: every municipality
        self.municipalities = list(
            Municipality.objects.select_related("county").prefetch_related("successors").order_by("number")
        )
        municipality_by_id = {m.pk: m for m in self.municipalities}
        self.physicians = {p.pk: p for p in Physician.objects.all()}
        self.by_hpr = {}
        self.by_email = defaultdict(list)
        self.by_name_phone = defaultdict(list)
        self.phones = defaultdict(dict)  # physician key → {e164: Phone}
        for physician in self.physicians.values():
            self._index(physician)
        for phone in Phone.objects.filter(physician__isnull=False).only(
            "pk", "number", "note", "kind", "visibility", "physician_id"
        ):
            physician = self.physicians[phone.physician_id]
            self.phones[_key(physician)][phone.number.as_e164] = phone
            self.by_name_phone[(name_key(physician.name), phone.number.as_e164)].append(physician)
        self.current = defaultdict(list)  # (municipality id, role) → [Appointment]
        self.in_municipality = defaultdict(list)  # municipality id → [Appointment]
        for appointment in Appointment.objects.on(today).order_by("start_date", "pk"):
            appointment.physician = self.physicians[appointment.physician_id]
            appointment.municipality = municipality_by_id[appointment.municipality_id]
            self._add_appointment(appointment)
        self.appointment_phones = defaultdict(dict)
        for phone in Phone.objects.filter(appointment__in=Appointment.objects.on(today)).only(
            "pk", "number", "note", "appointment_id"
        ):
            self.appointment_phones[phone.appointment_id][phone.number.as_e164] = phone
        # What the sheet named: (municipality id, role) → {physician key: first row}.
        self.named = defaultdict(dict)
        self.new_physicians, self.new_appointments, self.new_phones = [], [], []
        self.changed_physicians, self.changed_appointments, self.changed_phones = {}, {}, {}
        self.ended = []

    def _index(self, physician):
        if physician.hpr_number:
            self.by_hpr[physician.hpr_number] = physician
        if physician.email:
            bucket = self.by_email[physician.email.casefold()]
            if not any(p is physician for p in bucket):
                bucket.append(physician)

    def _add_appointment(self, appointment):
        self.current[(appointment.municipality_id, appointment.role)].append(appointment)
        self.in_municipality[appointment.municipality_id].append(appointment)

    def may_edit(self, municipality):
        return self.allowed_ids is None or municipality.pk in self.allowed_ids

    # Matching: read only. Returns the physician or None (a new one), or raises a MatchError.

    def match(self, person, municipality):
        """Return the physician `person` is, or None when they are new to the registry.

        By HPR number; else by e-mail (case-insensitive) with the same name, since offices share
        mailboxes; else by name and one phone number. A name alone matches a physician of the same
        name who already serves this municipality.
        """
        key = name_key(person.name)
        if person.hpr:
            found = self.by_hpr.get(person.hpr)
            if found is not None:
                person.matched_by_hpr = True
                return found

        def compatible(physician):
            return not person.hpr or not physician.hpr_number or physician.hpr_number == person.hpr

        if person.email:
            same = [
                p for p in self.by_email.get(person.email.casefold(), []) if compatible(p) and name_key(p.name) == key
            ]
            if same:
                return same[0]
        for entry in person.phones:
            same = [p for p in self.by_name_phone.get((key, entry.e164), []) if compatible(p)]
            if same:
                return same[0]
        if not person.has_contact and not person.hpr:
            for appointment in self.in_municipality.get(municipality.pk, []):
                if name_key(appointment.physician.name) == key:
                    return appointment.physician
        return None

    def contacts_after(self, person, physician):
        """A physician new to the registry needs a phone number or an e-mail; one already in it keeps theirs."""
        return person.has_contact or physician is not None

    # Applying one valid row to the in-memory state.

    def apply(self, *, row_number, municipality, people, note, user):
        """Plan the changes of one valid row; return its Outcome."""
        outcome = Outcome()
        if not people:
            outcome.kind = "skipped"
            outcome.reason = _("No physician on this row (a vacancy): nothing to import.")
            return outcome
        created = False
        repeats = []
        for index, person in enumerate(people):
            if person.same_as is not None:
                person.physician = person.same_as.physician
            physician = person.physician
            announce = True
            if physician is None:
                physician = self._new_physician(person, user)
                person.physician = physician
                created = True
                announce = False
                outcome.changes.append(Change(person.column("name"), "", physician.name))
            else:
                outcome.changes += self._update_physician(physician, person, user)
            appointment_note = note if index == 0 else ""
            appointment, is_new, changes = self._appointment(
                municipality, person, physician, appointment_note, user, announce=announce
            )
            outcome.changes += changes
            created = created or is_new
            outcome.changes += self._add_phones(physician, appointment, person)
            first_row = self.named[(municipality.pk, person.role)].setdefault(_key(physician), row_number)
            if first_row != row_number:
                repeats.append(first_row)
        if created:
            outcome.kind = "new"
        elif outcome.changes:
            outcome.kind = "updated"
        elif len(repeats) == len(people):
            outcome.kind = "skipped"
            outcome.reason = _("Repeats row %(row)s.") % {"row": min(repeats)}
        return outcome

    def _new_physician(self, person, user):
        physician = Physician(name=person.name, email=person.email, hpr_number=person.hpr or None, updated_by=user)
        self.new_physicians.append(physician)
        self._index(physician)
        return physician

    def _changed(self, registry, obj):
        if obj.pk is not None:
            registry[obj.pk] = obj

    def _update_physician(self, physician, person, user):
        changes = []
        if person.matched_by_hpr and person.name and name_key(person.name) != name_key(physician.name):
            changes.append(Change(person.column("name"), physician.name, person.name))
            physician.name = person.name
        if person.email and (physician.email or "").casefold() != person.email.casefold():
            changes.append(Change(person.column("email"), physician.email, person.email))
            physician.email = person.email
            self._index(physician)
        if person.hpr and not physician.hpr_number:
            changes.append(Change(person.column("hpr"), "", person.hpr))
            physician.hpr_number = person.hpr
            self._index(physician)
        if changes:
            physician.updated_by = user
            self._changed(self.changed_physicians, physician)
        return changes

    def _appointment(self, municipality, person, physician, note, user, *, announce):
        holders = self.current[(municipality.pk, person.role)]
        for appointment in holders:
            if appointment.physician is physician:
                if note and note != appointment.note:
                    change = Change("note", appointment.note, note)
                    appointment.note = note
                    appointment.updated_by = user
                    self._changed(self.changed_appointments, appointment)
                    return appointment, False, [change]
                return appointment, False, []
        previous = ", ".join(a.physician.name for a in holders)
        appointment = Appointment(
            physician=physician,
            municipality=municipality,
            role=person.role,
            start_date=self.today,
            note=note,
            updated_by=user,
        )
        self.new_appointments.append(appointment)
        self._add_appointment(appointment)
        changes = [Change(person.column("name"), previous, physician.name)] if announce else []
        if note:
            changes.append(Change("note", "", note))
        return appointment, True, changes

    def _add_phones(self, physician, appointment, person):
        changes = []
        own = self.phones[_key(physician)]
        on_appointment = self.appointment_phones.get(appointment.pk, {}) if appointment.pk else {}
        for entry in person.phones:
            phone = own.get(entry.e164) or on_appointment.get(entry.e164)
            if phone is None:
                phone = Phone(
                    physician=physician,
                    number=entry.number,
                    note=entry.note,
                    kind=entry.kind,
                    visibility=Visibility.PUBLIC,
                )
                own[entry.e164] = phone
                self.by_name_phone[(name_key(physician.name), entry.e164)].append(physician)
                self.new_phones.append(phone)
                changes.append(Change(person.column("phone"), "", format_phone_entry(entry.number, entry.note)))
            elif entry.note and entry.note != phone.note:
                changes.append(
                    Change(
                        person.column("phone"),
                        format_phone_entry(phone.number, phone.note),
                        format_phone_entry(entry.number, entry.note),
                    )
                )
                phone.note = entry.note
                self._changed(self.changed_phones, phone)
        return changes

    # Absences.

    def missing(self, *, municipalities, roles):
        """Return the open appointments in `municipalities` and `roles` that the sheet did not name."""
        out = []
        for municipality in municipalities:
            for role in roles:
                named = self.named.get((municipality.pk, role), {})
                for appointment in self.current.get((municipality.pk, role), []):
                    if appointment.pk is None or _key(appointment.physician) in named:
                        continue
                    if appointment.end_date is None or appointment.end_date > self.today:
                        out.append(appointment)
        return out

    def end(self, appointments, user):
        for appointment in appointments:
            appointment.end_date = self.today
            appointment.updated_by = user
            self._changed(self.changed_appointments, appointment)
            self.ended.append(appointment)

    # Writing.

    def write(self, user):
        """Save every planned change in bulk, each with a history entry naming `user`.

        A fixed number of queries per 500 objects. Runs inside the import's transaction.
        """
        now = timezone.now()
        history = {"default_user": user, "default_change_reason": HISTORY_REASON, "batch_size": BATCH_SIZE}
        if self.new_physicians:
            bulk_create_with_history(self.new_physicians, Physician, **history)
        if self.changed_physicians:
            for physician in self.changed_physicians.values():
                physician.updated_at = now
            bulk_update_with_history(
                list(self.changed_physicians.values()),
                Physician,
                ["name", "email", "hpr_number", "updated_at", "updated_by"],
                **history,
            )
        if self.new_appointments:
            for appointment in self.new_appointments:
                appointment.physician_id = appointment.physician.pk
            bulk_create_with_history(self.new_appointments, Appointment, **history)
        if self.changed_appointments:
            for appointment in self.changed_appointments.values():
                appointment.updated_at = now
            bulk_update_with_history(
                list(self.changed_appointments.values()),
                Appointment,
                ["note", "end_date", "updated_at", "updated_by"],
                **history,
            )
        if self.new_phones:
            for phone in self.new_phones:
                phone.physician_id = phone.physician.pk
            bulk_create_with_history(self.new_phones, Phone, **history)
        if self.changed_phones:
            bulk_update_with_history(list(self.changed_phones.values()), Phone, ["note"], **history)


def describe_appointment(appointment):
    """Return an appointment as a line in a report: municipality, role, physician and start."""
    return _("%(municipality)s, %(role)s: %(physician)s (since %(start)s)") % {
        "municipality": f"{appointment.municipality.number} {appointment.municipality.name}",
        "role": appointment.get_role_display(),
        "physician": appointment.physician.name,
        "start": appointment.start_date.strftime("%d.%m.%Y"),
    }


def phone_cell(phones):
    """Return the numbers of one person as one cell: "918 44 552 (kun dagtid) / 73 19 90 00"."""
    return " / ".join(format_phone_entry(phone.number, phone.note) for phone in phones)
