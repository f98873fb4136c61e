"""What an import would change, worked out in memory; and writing it, in bulk, with the audit trail.

`RegistryState` loads the registry once (a fixed number of queries, however long the sheet) into
light records, then each valid row is matched and applied to them, so that later rows see earlier
ones (one physician on several rows is one person). Nothing touches the database until `write()`.
Records rather than model instances: a preview of 10,000 rows would otherwise build and throw
away tens of thousands of model objects.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import CharField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from imports.normalise import format_phone_entry, name_key, person_column
from registry.models import Appointment, Municipality, Phone, Physician, Role, Visibility
from registry.versioning import note_data_changed

BATCH_SIZE = 500
HISTORY_FIELDS = ("history_date", "history_change_reason", "history_type", "history_user")
# The change reason on every history entry an import writes.
HISTORY_REASON = "import"

ROLE_SLOTS = {"chief": Role.CHIEF_PHYSICIAN, "deputy": Role.DEPUTY, "infection": Role.INFECTION_CONTROL_PHYSICIAN}

# A phone number as the preview shows it, formatted only if it is shown.
phone_text = lazy(format_phone_entry, str)


class PhysicianRecord:
    __slots__ = ("pk", "name", "email", "hpr_number")

    def __init__(self, pk, name, email, hpr_number):
        self.pk, self.name, self.email, self.hpr_number = pk, name, email or "", hpr_number or None


class AppointmentRecord:
    __slots__ = ("pk", "physician", "municipality", "role", "start_date", "end_date", "note")

    def __init__(self, pk, physician, municipality, role, start_date, end_date, note):
        self.pk, self.physician, self.municipality, self.role = pk, physician, municipality, role
        self.start_date, self.end_date, self.note = start_date, end_date, note


class PhoneRecord:
    __slots__ = ("pk", "physician", "e164", "number", "note", "kind")

    def __init__(self, pk, physician, e164, note, number=None, kind=""):
        self.pk, self.physician, self.e164, self.note, self.number, self.kind = pk, physician, e164, note, number, kind


@dataclass
class Person:
    """One physician as a row gives them. `slot` names the columns they came from, `role` what they are."""

    slot: str
    role: str
    name: str = ""
    phones: list = field(default_factory=list)
    email: str = ""
    hpr: str = ""
    physician: object = None  # the matched or planned PhysicianRecord, set by matching
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
    old: object  # text, or a lazy phone number text
    new: object


@dataclass
class Outcome:
    kind: str = "unchanged"  # new | updated | unchanged | skipped
    changes: list = field(default_factory=list)
    reason: str = ""


def insert_with_history(model, rows, *, constants, user, when):
    """Insert `rows` of `model` and record each in the audit trail as created by `user` at `when`.

    `rows` are dicts of the values that differ per row, ready for the database (text, numbers, ids);
    `constants` holds values shared by all rows, and every other column gets the field's default.
    Returns the new primary keys, in the order of `rows`.

    Plain multi-row INSERT … RETURNING, then one INSERT … SELECT per batch copying the new rows into
    simple-history's table (its own `tracked_fields`, with history date, user, type "+" and reason):
    the rows bulk_create_with_history writes, without building two model objects per row, which
    took three quarters of a 10,000-row import.
    """
    if not rows:
        return []
    quote = connection.ops.quote_name
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    varying = [field for field in fields if field.attname in rows[0]]
    fixed = [field for field in fields if field.attname not in rows[0]]
    fixed_values = [
        field.get_db_prep_save(
            constants[field.attname] if field.attname in constants else field.get_default(), connection
        )
        for field in fixed
    ]
    columns = ", ".join(quote(field.column) for field in varying + fixed)
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    history = model.history.model
    tracked = [quote(field.column) for field in history.tracked_fields]
    extra = [quote(history._meta.get_field(name).column) for name in HISTORY_FIELDS]
    copy = (
        f"INSERT INTO {quote(history._meta.db_table)} ({', '.join(tracked + extra)}) "
        f"SELECT {', '.join(tracked)}, %s, %s, %s, %s FROM {table} WHERE {pk} "
    )
    history_values = [
        history._meta.get_field("history_date").get_db_prep_value(when, connection),
        HISTORY_REASON,
        "+",
        user.pk if user is not None else None,
    ]
    postgres = connection.vendor == "postgresql"
    if postgres:
        # One array per column (unnest), as Django's own bulk_create does on PostgreSQL: a handful of
        # parameters per statement however many rows, instead of thousands for psycopg to merge.
        per_batch = BATCH_SIZE * 4
        arrays = ", ".join(f"%s::{field.cast_db_type(connection)}[]" for field in varying)
        constants_sql = "".join(f", %s::{field.cast_db_type(connection)}" for field in fixed)
        insert = (
            f"INSERT INTO {table} ({columns}) SELECT rows.*{constants_sql} FROM unnest({arrays}) AS rows RETURNING {pk}"
        )
        history_casts = [history._meta.get_field(name).cast_db_type(connection) for name in HISTORY_FIELDS]
        copy = copy.replace("%s, %s, %s, %s", ", ".join(f"%s::{cast}" for cast in history_casts))
    else:
        limit = connection.features.max_query_params or 999
        per_batch = max(1, min(BATCH_SIZE, limit // (len(varying) + len(fixed))))
        placeholders = "(" + ", ".join(["%s"] * (len(varying) + len(fixed))) + ")"
    ids = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_batch):
            batch = rows[start : start + per_batch]
            if postgres:
                params = fixed_values + [[row[field.attname] for row in batch] for field in varying]
                cursor.execute(insert, params)
            else:
                params = []
                for row in batch:
                    params += [row[field.attname] for field in varying]
                    params += fixed_values
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) VALUES "
                    + ", ".join([placeholders] * len(batch))
                    + f" RETURNING {pk}",
                    params,
                )
            new_ids = [row[0] for row in cursor.fetchall()]
            if postgres:
                cursor.execute(copy + "= ANY(%s)", [*history_values, new_ids])
            else:
                cursor.execute(copy + f"IN ({', '.join(['%s'] * len(new_ids))})", [*history_values, *new_ids])
            ids += new_ids
    return ids


def _e164(queryset):
    # The stored E.164 text: reading PhoneNumber objects would parse every number again.
    return queryset.annotate(e164=Cast("number", output_field=CharField()))


class RegistryState:
    """The registry as the import sees it, loaded in a fixed number of queries."""

    def __init__(self, *, today, allowed_ids):
        self.today = today
        self.allowed_ids = allowed_ids  # None: every municipality
        self.municipalities = list(
            Municipality.objects.select_related("county").prefetch_related("successors").order_by("number")
        )
        municipality_by_id = {m.pk: m for m in self.municipalities}
        self.physicians = {
            pk: PhysicianRecord(pk, name, email, hpr)
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
            self.phones[physician][e164] = PhoneRecord(pk, physician, e164, note)
            self.by_name_phone[(name_key(physician.name), e164)].append(physician)
        self.current = defaultdict(list)  # (municipality id, role) → [AppointmentRecord]
        self.holding = {}  # (municipality id, role, physician record) → AppointmentRecord
        self.in_municipality = defaultdict(list)  # municipality id → [AppointmentRecord]
        current = Appointment.objects.on(today).order_by("start_date", "pk")
        for pk, physician_id, municipality_id, role, start, end, note in current.values_list(
            "pk", "physician_id", "municipality_id", "role", "start_date", "end_date", "note"
        ):
            record = AppointmentRecord(
                pk, self.physicians[physician_id], municipality_by_id[municipality_id], role, start, end, note
            )
            self._add_appointment(record)
        self.appointment_phones = defaultdict(dict)  # appointment pk → {e164: PhoneRecord}
        for pk, appointment_id, e164, note in _e164(Phone.objects.filter(appointment__in=current)).values_list(
            "pk", "appointment_id", "e164", "note"
        ):
            self.appointment_phones[appointment_id][e164] = PhoneRecord(pk, None, e164, note)
        # What the sheet named: (municipality id, role) → {physician record: first row}.
        self.named = defaultdict(dict)
        self.new_physicians, self.new_appointments, self.new_phones = [], [], []
        self.changed_physicians, self.changed_appointments, self.changed_phones = {}, {}, {}
        self.ended = []

    def _index(self, physician):
        if physician.hpr_number:
            self.by_hpr[physician.hpr_number] = physician
        if physician.email:
            bucket = self.by_email[physician.email.casefold()]
            if physician not in bucket:
                bucket.append(physician)

    def _add_appointment(self, appointment):
        self.current[(appointment.municipality.pk, appointment.role)].append(appointment)
        self.holding[(appointment.municipality.pk, appointment.role, appointment.physician)] = appointment
        self.in_municipality[appointment.municipality.pk].append(appointment)

    def may_edit(self, municipality):
        return self.allowed_ids is None or municipality.pk in self.allowed_ids

    # Matching: read only.

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
            for physician in self.by_email.get(person.email.casefold(), []):
                if compatible(physician) and name_key(physician.name) == key:
                    return physician
        for entry in person.phones:
            for physician in self.by_name_phone.get((key, entry.e164), []):
                if compatible(physician):
                    return physician
        if not person.has_contact and not person.hpr:
            for appointment in self.in_municipality.get(municipality.pk, []):
                if name_key(appointment.physician.name) == key:
                    return appointment.physician
        return None

    def contacts_after(self, person, physician):
        """A physician new to the registry needs a phone number or an e-mail; one already in it keeps theirs."""
        return person.has_contact or physician is not None

    # Applying one valid row to the in-memory state.

    def apply(self, *, row_number, municipality, people, note):
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
                physician = self._new_physician(person)
                person.physician = physician
                created = True
                announce = False
                outcome.changes.append(Change(person.column("name"), "", physician.name))
            else:
                outcome.changes += self._update_physician(physician, person)
            appointment, is_new, changes = self._appointment(
                municipality, person, physician, note if index == 0 else "", announce=announce
            )
            outcome.changes += changes
            created = created or is_new
            outcome.changes += self._add_phones(physician, appointment, person)
            first_row = self.named[(municipality.pk, person.role)].setdefault(physician, row_number)
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

    def _new_physician(self, person):
        physician = PhysicianRecord(None, person.name, person.email, person.hpr)
        self.new_physicians.append(physician)
        self._index(physician)
        return physician

    @staticmethod
    def _changed(registry, record):
        if record.pk is not None:
            registry[record.pk] = record

    def _update_physician(self, physician, person):
        changes = []
        if person.matched_by_hpr and person.name and name_key(person.name) != name_key(physician.name):
            changes.append(Change(person.column("name"), physician.name, person.name))
            physician.name = person.name
        if person.email and physician.email.casefold() != person.email.casefold():
            changes.append(Change(person.column("email"), physician.email, person.email))
            physician.email = person.email
            self._index(physician)
        if person.hpr and not physician.hpr_number:
            changes.append(Change(person.column("hpr"), "", person.hpr))
            physician.hpr_number = person.hpr
            self._index(physician)
        if changes:
            self._changed(self.changed_physicians, physician)
        return changes

    def _appointment(self, municipality, person, physician, note, *, announce):
        appointment = self.holding.get((municipality.pk, person.role, physician))
        if appointment is not None:
            if note and note != appointment.note:
                change = Change("note", appointment.note, note)
                appointment.note = note
                self._changed(self.changed_appointments, appointment)
                return appointment, False, [change]
            return appointment, False, []
        holders = self.current[(municipality.pk, person.role)]
        # Who holds the post in the registry today (not others this sheet adds), for "old → new".
        previous = ", ".join(a.physician.name for a in holders if a.pk is not None) if announce else ""
        appointment = AppointmentRecord(None, physician, municipality, person.role, self.today, None, note)
        self.new_appointments.append(appointment)
        self._add_appointment(appointment)
        changes = [Change(person.column("name"), previous, physician.name)] if announce else []
        if note:
            changes.append(Change("note", "", note))
        return appointment, True, changes

    def _add_phones(self, physician, appointment, person):
        changes = []
        own = self.phones[physician]
        on_appointment = self.appointment_phones.get(appointment.pk, {}) if appointment.pk else {}
        for entry in person.phones:
            phone = own.get(entry.e164) or on_appointment.get(entry.e164)
            if phone is None:
                phone = PhoneRecord(None, physician, entry.e164, entry.note, number=entry.number, kind=entry.kind)
                own[entry.e164] = phone
                self.by_name_phone[(name_key(physician.name), entry.e164)].append(physician)
                self.new_phones.append(phone)
                changes.append(Change(person.column("phone"), "", phone_text(entry.number, entry.note)))
            elif entry.note and entry.note != phone.note:
                changes.append(
                    Change(
                        person.column("phone"),
                        phone_text(entry.number, phone.note),
                        phone_text(entry.number, entry.note),
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
                    if appointment.pk is None or appointment.physician in named:
                        continue
                    if appointment.end_date is None or appointment.end_date > self.today:
                        out.append(appointment)
        return out

    def end(self, appointments):
        for appointment in appointments:
            appointment.end_date = self.today
            self._changed(self.changed_appointments, appointment)
            self.ended.append(appointment)

    # Writing.

    def write(self, user):
        """Save every planned change in bulk, each with a history entry naming `user`.

        A fixed number of queries per batch of objects. Runs inside the import's transaction.
        """
        now = timezone.now()
        # Bulk writes send no signals: the list's caches learn of the change when the import commits.
        note_data_changed()
        history = {"default_user": user, "default_change_reason": HISTORY_REASON, "batch_size": BATCH_SIZE}
        user_id = user.pk if user is not None else None
        tracked = {"updated_at": now, "updated_by_id": user_id}
        new_ids = insert_with_history(
            Physician,
            [{"name": r.name, "email": r.email, "hpr_number": r.hpr_number} for r in self.new_physicians],
            constants=tracked,
            user=user,
            when=now,
        )
        for record, pk in zip(self.new_physicians, new_ids, strict=True):
            record.pk = pk
        if self.changed_physicians:
            physicians = Physician.objects.in_bulk(list(self.changed_physicians))
            for pk, record in self.changed_physicians.items():
                physician = physicians[pk]
                physician.name, physician.email, physician.hpr_number = record.name, record.email, record.hpr_number
                physician.updated_by_id, physician.updated_at = user_id, now
            bulk_update_with_history(
                list(physicians.values()),
                Physician,
                ["name", "email", "hpr_number", "updated_at", "updated_by"],
                **history,
            )
        insert_with_history(
            Appointment,
            [
                {
                    "physician_id": r.physician.pk,
                    "municipality_id": r.municipality.pk,
                    "role": r.role,
                    "start_date": connection.ops.adapt_datefield_value(r.start_date),
                    "note": r.note,
                }
                for r in self.new_appointments
            ],
            constants=tracked,
            user=user,
            when=now,
        )
        if self.changed_appointments:
            appointments = Appointment.objects.in_bulk(list(self.changed_appointments))
            for pk, record in self.changed_appointments.items():
                appointment = appointments[pk]
                appointment.note, appointment.end_date = record.note, record.end_date
                appointment.updated_by_id, appointment.updated_at = user_id, now
            bulk_update_with_history(
                list(appointments.values()), Appointment, ["note", "end_date", "updated_at", "updated_by"], **history
            )
        insert_with_history(
            Phone,
            [
                {"physician_id": r.physician.pk, "number": r.number.as_e164, "note": r.note, "kind": r.kind}
                for r in self.new_phones
            ],
            constants={"visibility": Visibility.PUBLIC},
            user=user,
            when=now,
        )
        if self.changed_phones:
            phones = Phone.objects.in_bulk(list(self.changed_phones))
            for pk, record in self.changed_phones.items():
                phones[pk].note = record.note
            bulk_update_with_history(list(phones.values()), Phone, ["note"], **history)


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
