"""The one write path: every change to registry data goes through these functions, whoever asks.

The admin (saves, deletes, inlines, bulk actions), an import, `sync_municipalities`, `restore`, the demo
data and whatever comes later call them. Each takes many rows at once, checks what the caller may do
(the access rule, through registry.access), writes in one transaction, and owns every consequence:

- derived fields (`derive()` on the model, called here for bulk writes as save() calls it);
- history: who (`by`) and why (`reason`) on every history row;
- the data version the caches key on (`note_data_changed`, called only from here);
- the office grants: there are none to keep, since an office's region is read from its counties.

Writes outside this module are refused while the registry runs (see `guard_write_path`), so a side
door fails loudly in the tests instead of quietly skipping a derived field.
"""

import contextlib
import contextvars
import datetime
import decimal
import functools
import json
import secrets
import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from registry import access
from registry.models import (
    Appointment,
    Arrangement,
    ConfirmationLink,
    ConfirmationRequest,
    ContactKind,
    County,
    CountyGovernor,
    District,
    ErrorReport,
    FormerNumber,
    FunctionContact,
    Legevakt,
    LinkOutcome,
    Membership,
    Municipality,
    Phone,
    Physician,
    Proposal,
    QueueStatus,
    TrackedModel,
    handover_end,
)
from registry.reference import municipality_fields
from registry.validators import validate_line, validate_municipality_number, validate_text
from registry.versioning import keep_counter_at_least, note_data_changed, read_counter

BATCH_SIZE = 500
# simple-history's change reason column holds 100 characters.
REASON_LENGTH = 100


class System:
    """The registry itself, as the author of a change: migrations' reference data, the SSB sync, a restore,
    the demo data. Not a user: it keeps every region, and history records no user for it."""

    pk = None
    is_authenticated = False

    def __str__(self):
        return "system"


SYSTEM = System()

# Municipality fields that come from SSB's lists: only national administrators (and the SSB sync) change them.
REFERENCE_FIELDS = ("number", "name", "parallel_names", "county", "valid_from", "valid_to")

# Set while a service writes; the guard refuses registry writes made without it.
_in_write_path = contextvars.ContextVar("registry_write_path", default=False)


@contextlib.contextmanager
def write_path():
    """Mark the writes inside as made by the write path (one transaction)."""
    token = _in_write_path.set(True)
    try:
        with transaction.atomic():
            yield
    finally:
        _in_write_path.reset(token)


GUARDED = (
    CountyGovernor,
    County,
    Municipality,
    FormerNumber,
    District,
    Arrangement,
    Membership,
    Physician,
    Appointment,
    Phone,
    FunctionContact,
    Legevakt,
)
# Many-to-many tables the guard watches too.
GUARDED_LINKS = (Municipality.successors.through,)


def guard_write_path(sender, raw=False, **kwargs):
    """Refuse a save or delete of a registry row made outside this module (connected by RegistryConfig.ready).

    loaddata's raw saves are a restore's, which goes through `restore_backup` here anyway.
    """
    if raw or _in_write_path.get():
        return
    raise RuntimeError(
        f"{sender.__name__} was written outside registry.services: every change to registry data goes "
        "through the one write path, which keeps its derived fields, history and data version."
    )


def _user(by):
    return None if by is SYSTEM or by is None else by


def _reason(reason):
    return str(reason)[:REASON_LENGTH]


def _check(check, by, *args):
    if by is not SYSTEM:
        check(by, *args)


def _history(obj, *, by, reason, now):
    """What the history row of `obj`'s next write says: who, why and when."""
    obj._history_user = _user(by)
    obj._change_reason = _reason(reason)
    obj._history_date = now


def _mark(obj, *, by, reason, now):
    """Prepare `obj` for its save: derived fields, who changed it, and what its history row says."""
    if hasattr(obj, "derive"):
        obj.derive()
    if isinstance(obj, TrackedModel):
        obj.updated_by = _user(by)
    _history(obj, by=by, reason=reason, now=now)


def registering_office(by):
    """The office that registers a new physician made by `by`: theirs when they edit for exactly one.

    National administrators and the system register for nobody (the physician is then theirs until
    appointed); an editor of several offices registers for the first of them, by id.
    """
    if by is SYSTEM or access.is_national_admin(by):
        return None
    offices = sorted(access.office_ids_for(by))
    return offices[0] if offices else None


def _attname(model, name):
    return model._meta.get_field(name).attname


def _changed_reference_fields(municipality):
    """The reference fields (REFERENCE_FIELDS) whose value `municipality` changes; all of them for a new one."""
    names = [_attname(Municipality, name) for name in REFERENCE_FIELDS]
    stored = Municipality.objects.filter(pk=municipality.pk).values(*names).first() if municipality.pk else None
    if stored is None:
        return list(REFERENCE_FIELDS)
    return [
        name
        for name, attname in zip(REFERENCE_FIELDS, names, strict=True)
        if stored[attname] != getattr(municipality, attname)
    ]


def _check_entries(objects, *, by):
    """Apply the access rule to rows about to be saved through `save_entries`."""
    if by is SYSTEM:
        return
    for obj in objects:
        if isinstance(obj, (County, CountyGovernor, FormerNumber)):
            access.check_national(by, _("counties, offices and former numbers"))
        if isinstance(obj, Municipality) and _changed_reference_fields(obj):
            access.check_national(by, _("a municipality's reference data (number, name, county, validity)"))
    appointments = [obj for obj in objects if isinstance(obj, Appointment)]
    if appointments:
        access.check_may_appoint(by, appointments)
    others = [obj for obj in objects if not isinstance(obj, (Appointment, County, CountyGovernor, FormerNumber))]
    if others:
        access.check_may_change(by, others)


def _check_consistency(objects):
    """What the database cannot check across tables: a district's appointment is in its municipality, and an
    arrangement's appointment is in a role the arrangement covers. Raises ValidationError saying what to do."""
    for obj in objects:
        if isinstance(obj, (Appointment, FunctionContact)) and obj.district_id:
            district = District.objects.filter(pk=obj.district_id).values_list("municipality_id", flat=True).first()
            if obj.municipality_id is None:
                obj.municipality_id = district
            elif district != obj.municipality_id:
                raise ValidationError({"district": _("The district must be one of the municipality's own.")})
            if isinstance(obj, FunctionContact):
                obj.municipality_id = None  # a district's contact belongs to the district alone
        if isinstance(obj, Appointment) and obj.arrangement_id:
            arrangement = Arrangement.objects.get(pk=obj.arrangement_id)
            if not arrangement.covers(obj.role):
                raise ValidationError(
                    {
                        "role": _("%(arrangement)s does not hold the role %(role)s for its members.")
                        % {"arrangement": arrangement.name, "role": obj.get_role_display()}
                    }
                )


@functools.cache
def _typed_text_fields(model):
    """(attribute, validator) of `model`'s fields that hold text a person types (registry.validators)."""
    return [
        (field.attname, validator)
        for field in model._meta.concrete_fields
        for validator in field.validators
        if validator in (validate_line, validate_text)
    ]


def _check_text(objects, fields=None):
    """Refuse control characters and direction overrides in typed text, whoever writes it (the admin's forms,
    the import and the public forms check first, with the same validators; this is the last door)."""
    for obj in objects:
        for name, validate in _typed_text_fields(type(obj)):
            if fields is None or name in fields:
                try:
                    validate(getattr(obj, name))
                except ValidationError as error:
                    raise ValidationError({name: error.error_list}) from None


def save_entries(objects, *, by, reason, confirm=False):
    """Save `objects` (registry rows, new or changed, of any kind) as `by`; return them.

    What the admin's forms and inlines save, one entry and its inline rows at a time. Checks the access
    rule for every row, derives, records who and why in the history, and notes the data change.
    `confirm` also marks the rows as confirmed correct by `by` ("Save and confirm").
    """
    objects = list(objects)
    if not objects:
        return objects
    with write_path():
        _check_text(objects)
        _check_consistency(objects)
        _check_entries(objects, by=by)
        now = timezone.now()
        office = None
        for obj in objects:
            _mark(obj, by=by, reason=reason, now=now)
            if isinstance(obj, Physician) and obj.pk is None and obj.registered_by_id is None:
                office = office if office is not None else registering_office(by)
                obj.registered_by_id = office
            if confirm and isinstance(obj, TrackedModel):
                obj.verified_at, obj.verified_by = now, _user(by)
            obj.save()
        note_data_changed(objects)
    return objects


def delete_entries(objects, *, by, reason):
    """Delete `objects` as `by`; the history keeps each one with who and why. Returns how many."""
    objects = list(objects)
    if not objects:
        return 0
    with write_path():
        if any(isinstance(obj, (Municipality, County, CountyGovernor, FormerNumber, District)) for obj in objects):
            _check(access.check_national, by, _("reference data"))
        _check(access.check_may_change, by, objects)
        # Before the rows go: they still lead to the entries they were part of.
        note_data_changed(objects)
        now = timezone.now()
        for obj in objects:
            _mark(obj, by=by, reason=reason, now=now)
            obj.delete()
    return len(objects)


def set_served(legevakt, municipalities, *, by, reason):
    """Set which municipalities the out-of-hours clinic `legevakt` serves: a function contact of kind
    "legevakt" in each. An office adds or removes only its own municipalities; a clinic another office's
    municipality shares keeps that municipality."""
    municipalities = list(municipalities)
    with write_path():
        links = {link.municipality_id: link for link in legevakt.links.filter(municipality__isnull=False)}
        wanted = {m.pk for m in municipalities}
        added = [
            FunctionContact(kind=ContactKind.LEGEVAKT, legevakt=legevakt, municipality_id=pk)
            for pk in sorted(wanted - set(links))
        ]
        removed = [link for pk, link in links.items() if pk not in wanted]
        _check(access.check_may_change, by, added)
        delete_entries(removed, by=by, reason=reason)
        save_entries(added, by=by, reason=reason)


def form_arrangement(appointments, *, arrangement, on, by, reason):
    """Turn appointments that one person holds in several municipalities into one arrangement, in one step.

    `arrangement` is a new, unsaved Arrangement. Its members are the appointments' municipalities from `on`;
    each person gets one appointment to the arrangement in their role from `on`, and their appointments in
    the municipalities end the day before, so that who held the role when stays answerable. Returns the
    arrangement.
    """
    appointments = [a for a in appointments if a.municipality_id and not a.district_id]
    if not appointments:
        raise ValidationError(_("Choose appointments in municipalities to make an arrangement of."))
    with write_path():
        _check(access.check_may_change, by, appointments)
        save_entries([arrangement], by=by, reason=reason)
        municipalities = sorted({a.municipality_id for a in appointments})
        save_entries(
            [Membership(arrangement=arrangement, municipality_id=pk, valid_from=on) for pk in municipalities],
            by=by,
            reason=reason,
        )
        holders = sorted({(a.physician_id, a.role) for a in appointments})
        new = []
        for physician_id, role in holders:
            # The person already serves these municipalities in this role, so the office keeps them.
            new.append(Appointment(arrangement=arrangement, physician_id=physician_id, role=role, start_date=on))
        save_entries(new, by=by, reason=reason)
        ending = [a for a in appointments if a.end_date is None or a.end_date >= on]
        for appointment in ending:
            appointment.end_date = handover_end(appointment.start_date, on)
        save_entries(ending, by=by, reason=reason)
    return arrangement


def set_successors(municipality, successors, *, by, reason):
    """Set which municipalities took over after `municipality` (a reform): national administrators only."""
    with write_path():
        _check(access.check_national, by, _("reforms"))
        # Each entry names its successors and its predecessors: the old successors' entries change too.
        successors = list(successors)
        note_data_changed([municipality, *municipality.successors.all(), *successors])
        municipality.successors.set(successors)


def confirm_entries(*, entries, by, now=None, reason=None):
    """Mark `entries` (rows of one TrackedModel) as confirmed correct by `by`; return how many.

    Confirming is not a change of content, so "last changed" stays; the history records who
    confirmed, when and how (`reason`, default "Confirmed as correct"). One bulk update and one bulk
    insert into the history, whatever the number.
    """
    entries = list(entries)
    if not entries:
        return 0
    with write_path():
        _check(access.check_may_change, by, entries)
        moment = now or timezone.now()
        reason = reason or _("Confirmed as correct")
        for entry in entries:
            entry.verified_at, entry.verified_by = moment, _user(by)
            # simple-history prefers an instance's own history user, reason and date to the defaults.
            _history(entry, by=by, reason=reason, now=moment)
        bulk_update_with_history(
            entries,
            type(entries[0]),
            ["verified_at", "verified_by"],
            default_user=_user(by),
            default_change_reason=_reason(reason),
            default_date=moment,
        )
        note_data_changed(entries)  # the list shows when each entry was confirmed
    return len(entries)


# Bulk writes: what an import applies. Each is one batch of one kind of row.


def create_physicians(physicians, *, by, reason, now=None):
    """Insert new `physicians` (unsaved instances); set their ids and return them."""
    physicians = list(physicians)
    if not physicians:
        return physicians
    with write_path():
        office = registering_office(by)
        for physician in physicians:
            physician.derive()
            if physician.registered_by_id is None:
                physician.registered_by_id = office
        _insert(Physician, physicians, by=by, reason=reason, now=now)
        note_data_changed(physicians)
    return physicians


def change_physicians(physicians, fields, *, by, reason, now=None):
    """Save `fields` of `physicians` (instances loaded from the database and changed); derived fields follow."""
    _update(Physician, physicians, fields, by=by, reason=reason, now=now, check=access.check_may_change)


def appoint(appointments, *, by, reason, now=None):
    """Insert new `appointments` (unsaved instances); set their ids and return them.

    An appointment of a physician another office keeps needs `hpr_confirmation` (see access.check_may_appoint).
    """
    appointments = list(appointments)
    if not appointments:
        return appointments
    with write_path():
        _check(access.check_may_appoint, by, appointments)
        _insert(Appointment, appointments, by=by, reason=reason, now=now)
        note_data_changed(appointments)
    return appointments


def change_appointments(appointments, fields, *, by, reason, now=None):
    """Save `fields` of `appointments` (loaded and changed: an end date, a note)."""
    _update(Appointment, appointments, fields, by=by, reason=reason, now=now, check=access.check_may_appoint)


def end_appointments(appointments, *, on, by, reason, now=None):
    """End `appointments` on the day `on` (they are in force that day and no longer after it)."""
    appointments = list(appointments)
    for appointment in appointments:
        appointment.end_date = on
    change_appointments(appointments, ["end_date"], by=by, reason=reason, now=now)


def add_phones(phones, *, by, reason, now=None):
    """Insert new `phones` (unsaved instances, each with its one owner); set their ids and return them."""
    phones = list(phones)
    if not phones:
        return phones
    with write_path():
        _check(access.check_may_change, by, phones)
        _insert(Phone, phones, by=by, reason=reason, now=now)
        note_data_changed(phones)
    return phones


def change_phones(phones, fields, *, by, reason, now=None):
    """Save `fields` of `phones` (a note, a kind, a visibility)."""
    _update(Phone, phones, fields, by=by, reason=reason, now=now, check=access.check_may_change)


def add_function_contacts(contacts, *, by, reason, now=None):
    """Insert new function contacts (unsaved instances, each with its one owner); set their ids and return them."""
    contacts = list(contacts)
    if not contacts:
        return contacts
    with write_path():
        _check(access.check_may_change, by, contacts)
        _insert(FunctionContact, contacts, by=by, reason=reason, now=now)
        note_data_changed(contacts)
    return contacts


def change_function_contacts(contacts, fields, *, by, reason, now=None):
    """Save `fields` of function contacts (a mailbox's address)."""
    _update(FunctionContact, contacts, fields, by=by, reason=reason, now=now, check=access.check_may_change)


def change_municipalities(municipalities, fields, *, by, reason, now=None):
    """Save `fields` of `municipalities` (function contacts; reference fields for national administrators only)."""
    municipalities = list(municipalities)
    if set(fields) & set(REFERENCE_FIELDS):
        _check(access.check_national, by, _("a municipality's reference data (number, name, county, validity)"))
    _update(Municipality, municipalities, fields, by=by, reason=reason, now=now, check=access.check_may_change)


def _derived_fields(model, fields):
    """`fields` plus the derived fields computed from any of them (Model.DERIVED_FIELDS)."""
    derived = getattr(model, "DERIVED_FIELDS", {})
    return [*fields, *[name for name, sources in derived.items() if sources & set(fields) and name not in fields]]


def _update(model, objects, fields, *, by, reason, now, check):
    objects = list(objects)
    if not objects:
        return
    with write_path():
        _check_text(objects, fields)
        _check(check, by, objects)
        moment = now or timezone.now()
        fields = _derived_fields(model, fields)
        if issubclass(model, TrackedModel):
            fields = [*fields, *[name for name in ("updated_at", "updated_by") if name not in fields]]
        for obj in objects:
            if hasattr(obj, "derive"):
                obj.derive()
            if issubclass(model, TrackedModel):
                obj.updated_at, obj.updated_by = moment, _user(by)
            _history(obj, by=by, reason=reason, now=moment)
        bulk_update_with_history(
            objects,
            model,
            fields,
            batch_size=BATCH_SIZE,
            default_user=_user(by),
            default_change_reason=_reason(reason),
            default_date=moment,
        )
        note_data_changed(objects)


HISTORY_FIELDS = ("history_date", "history_change_reason", "history_type", "history_user")
# Field types whose database value is the Python value itself when that is a plain str, int or bool.
AS_THEY_ARE = {"CharField", "TextField", "SlugField", "EmailField", "IntegerField", "BigIntegerField", "ForeignKey"}
PLAIN = {str, int, bool, type(None)}


def build(model, **values):
    """A new, unsaved `model` instance for a bulk write: the given values, the fields' defaults for the rest.

    Model(**values) checks every keyword against every field; positional values in field order take
    Django's fast path, which halves the cost of the 60,000 instances a big import writes.
    """
    args = [
        values.pop(attname) if attname in values else (field.get_default() if field is not None else default)
        for attname, field, default in _defaults(model)
    ]
    obj = model(*args)
    for name, value in values.items():  # attributes that are not fields, such as hpr_confirmation
        setattr(obj, name, value)
    return obj


@functools.cache
def _defaults(model):
    """(attname, field, None) of `model`'s concrete fields whose default is asked each time (a default or a
    database default of its own), (attname, None, default) of the others: their default is always None or
    "" (Field.get_default), and asking 60,000 times cost a tenth of an import's writes."""
    out = []
    for f in model._meta.concrete_fields:
        if f.has_default() or f.has_db_default():
            out.append((f.attname, f, None))
        else:
            out.append((f.attname, None, f.get_default()))
    return out


def _json_value(value):
    """A database value that JSON has no type for, as PostgreSQL reads it back from text (see `_insert`)."""
    if isinstance(value, (datetime.date, datetime.time, decimal.Decimal, uuid.UUID)):
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    raise TypeError(f"{type(value).__name__} cannot be written through JSON; teach _json_value to write it.")


def _insert(model, objects, *, by, reason, now):
    """Insert `objects` of `model` and record each in the audit trail as created by `by` because of `reason`.

    Plain multi-row INSERT … RETURNING, then one INSERT … SELECT per batch copying the new rows into
    simple-history's table (its own `tracked_fields`, with history date, user, type "+" and reason; on
    PostgreSQL both in one statement):
    the rows bulk_create_with_history writes, without building a second model object per row, which
    took three quarters of a 10,000-row import. Sets each object's id.
    """
    _check_text(objects)
    moment = now or timezone.now()
    tracked = issubclass(model, TrackedModel)
    for obj in objects:
        if tracked:
            obj.updated_at, obj.updated_by = moment, _user(by)
    quote = connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(quote(f.column) for f in fields)
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    history = model.history.model
    history_tracked = [quote(f.column) for f in history.tracked_fields]
    extra = [quote(history._meta.get_field(name).column) for name in HISTORY_FIELDS]
    copy = (
        f"INSERT INTO {quote(history._meta.db_table)} ({', '.join(history_tracked + extra)}) "
        f"SELECT {', '.join(history_tracked)}, %s, %s, %s, %s FROM {table} WHERE {pk} "
    )
    history_values = [
        history._meta.get_field("history_date").get_db_prep_value(moment, connection),
        _reason(reason),
        "+",
        by.pk if _user(by) is not None else None,
    ]

    def rows_of(batch):
        """The batch's rows of database values. A column whose value is the same object on every row (a
        default, the moment of the write, the user) is prepared once, not once per row."""
        columns = []
        for f in fields:
            raw = [getattr(obj, f.attname) for obj in batch]
            first = raw[0]
            if all(value is first for value in raw):
                columns.append([f.get_db_prep_save(first, connection)] * len(batch))
            elif f.get_internal_type() in AS_THEY_ARE:
                # Text, whole numbers and ids go to the driver as they are: what get_db_prep_save returns for them.
                columns.append([v if type(v) in PLAIN else f.get_db_prep_save(v, connection) for v in raw])
            else:
                columns.append([f.get_db_prep_save(value, connection) for value in raw])
        return columns

    postgres = connection.vendor == "postgresql"
    if postgres:
        # The batch as one JSON parameter that PostgreSQL unpacks row by row, in order: psycopg quoted an
        # array per column (unnest) value by value in Python, a sixth of a 10,000-row import's time.
        per_batch = BATCH_SIZE * 4
        # The history rows are copied from the inserted ones in the same statement (a data-modifying WITH),
        # not read back by id afterwards: half the round trips, and no second look-up of each new row.
        casts = ", ".join(f"(row.value->>{i})::{f.cast_db_type(connection)}" for i, f in enumerate(fields))
        history_casts = ", ".join(
            f"%s::{history._meta.get_field(name).cast_db_type(connection)}" for name in HISTORY_FIELDS
        )
        insert = (
            f"WITH new AS (INSERT INTO {table} ({columns}) SELECT {casts} "
            f"FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS row(value, position) "
            f"ORDER BY row.position RETURNING *), "
            f"copied AS (INSERT INTO {quote(history._meta.db_table)} ({', '.join(history_tracked + extra)}) "
            f"SELECT {', '.join(history_tracked)}, {history_casts} FROM new) "
            f"SELECT {pk} FROM new"
        )
    else:
        limit = connection.features.max_query_params or 999
        per_batch = max(1, min(BATCH_SIZE, limit // len(fields)))
        placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(objects), per_batch):
            batch = objects[start : start + per_batch]
            values = rows_of(batch)
            if postgres:
                rows = json.dumps(list(zip(*values, strict=True)), default=_json_value)
                cursor.execute(insert, [rows, *history_values])
            else:
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) VALUES "
                    + ", ".join([placeholders] * len(batch))
                    + f" RETURNING {pk}",
                    [value for row in zip(*values, strict=True) for value in row],
                )
            new_ids = [row[0] for row in cursor.fetchall()]
            if not postgres:
                cursor.execute(copy + f"IN ({', '.join(['%s'] * len(new_ids))})", [*history_values, *new_ids])
            for obj, pk_value in zip(batch, new_ids, strict=True):
                obj.pk = pk_value
                obj._state.adding = False


# The SSB municipality list.

REQUIRED_COLUMNS = ("kommunenummer", "navn", "fylkesnummer")
# Optional column naming the numbers a new municipality replaces ("1507" or "1507 1508").
PREDECESSOR_COLUMN = "tidligere_kommunenummer"


@dataclass
class SyncReport:
    created: list = field(default_factory=list)
    renamed: list = field(default_factory=list)
    renumbered: list = field(default_factory=list)
    moved: list = field(default_factory=list)
    ceased: list = field(default_factory=list)
    reactivated: list = field(default_factory=list)
    linked: list = field(default_factory=list)
    # Appointments still open in a municipality that ceased: someone must move or end them.
    open_appointments: list = field(default_factory=list)

    @property
    def changed(self):
        return any(
            [self.created, self.renamed, self.renumbered, self.moved, self.ceased, self.reactivated, self.linked]
        )

    def lines(self):
        out = []
        out += [_("New: %(m)s") % {"m": m} for m in self.created]
        out += [_("Renamed: %(old)s → %(new)s") % {"old": old, "new": new} for old, new in self.renamed]
        out += [
            _("Renumbered: %(old)s → %(new)s (the same municipality: its appointments, contacts and history stay)")
            % {"old": old, "new": new}
            for old, new in self.renumbered
        ]
        out += [
            _("Moved: %(m)s from county %(old)s to %(new)s") % {"m": m, "old": o, "new": n} for m, o, n in self.moved
        ]
        out += [_("Ceased: %(m)s (kept with its history)") % {"m": m} for m in self.ceased]
        out += [_("Active again: %(m)s") % {"m": m} for m in self.reactivated]
        out += [_("Succession: %(old)s → %(new)s") % {"old": old, "new": new} for old, new in self.linked]
        out += [
            _("Check: %(a)s is still open in ceased %(m)s; move or end it.") % {"a": a, "m": a.municipality}
            for a in self.open_appointments
        ]
        return out


def _validate_rows(rows):
    """Return the rows keyed by number, or raise ValidationError listing every bad row."""
    errors = []
    if rows and any(column not in rows[0] for column in REQUIRED_COLUMNS):
        raise ValidationError(
            _("The file must have the columns %(columns)s, as in SSB's municipality list.")
            % {"columns": ", ".join(REQUIRED_COLUMNS)}
        )
    if not rows:
        raise ValidationError(_("The file has no municipalities. Give the full SSB list, not only the changes."))
    counties = set(County.objects.values_list("number", flat=True))
    by_number = {}
    for line, row in enumerate(rows, start=2):
        number = row["kommunenummer"].zfill(4)
        try:
            validate_municipality_number(number)
        except ValidationError:
            errors.append(_("Line %(line)s: %(value)r is not a municipality number.") % {"line": line, "value": number})
            continue
        if row["fylkesnummer"].zfill(2) not in counties:
            errors.append(
                _("Line %(line)s: county %(county)s does not exist in the registry.")
                % {"line": line, "county": row["fylkesnummer"]}
            )
        if not row["navn"]:
            errors.append(_("Line %(line)s: municipality %(number)s has no name.") % {"line": line, "number": number})
        if number in by_number:
            errors.append(_("Line %(line)s: %(number)s appears twice.") % {"line": line, "number": number})
        by_number[number] = row
    if errors:
        raise ValidationError(errors)
    return by_number


def _predecessors(row):
    return [number.zfill(4) for number in row.get(PREDECESSOR_COLUMN, "").replace(",", " ").split()]


def _renumberings(by_number, existing):
    """{new number: old number} for municipalities that only changed their number.

    A new number whose row names exactly one predecessor, which no other row names and which the list
    no longer has, is the same municipality under a new number (as 113 were in 2024). A merger (several
    predecessors) or a split (one predecessor named by several rows) is a reform: new municipalities.
    """
    named = {}
    for number, row in by_number.items():
        for old in _predecessors(row):
            named.setdefault(old, []).append(number)
    found = {}
    for number, row in by_number.items():
        old_numbers = _predecessors(row)
        if number in existing or len(old_numbers) != 1:
            continue
        old = old_numbers[0]
        if old in existing and old not in by_number and named[old] == [number] and existing[old].valid_to is None:
            found[number] = old
    return found


def sync_municipalities(*, rows, on=None, dry_run=False, by=SYSTEM):
    """Apply a complete SSB municipality list valid from `on` (default today); return a SyncReport.

    Renames and county moves update the municipality in place. A municipality that only changed its
    number is renumbered in place: the same row, so its open appointments, function contacts, history
    and office stay with it, and its old number becomes a FormerNumber that old sheets and links still
    find. A number missing from the list ceases on the day before `on`: it is never deleted, so its
    appointments and history remain. New numbers start on `on`; the optional `tidligere_kommunenummer`
    column links them to the municipalities they replace (mergers, splits). Running the same list twice
    changes nothing. County moves move the office's edit rights with them: rights are read from the counties.
    """
    day = on or timezone.localdate()
    last_day = day - datetime.timedelta(days=1)
    reason = _reason(_("SSB municipality list of %(date)s") % {"date": day.isoformat()})
    with write_path():
        _check(access.check_national, by, _("the list of municipalities"))
        by_number = _validate_rows(rows)
        counties = {county.number: county for county in County.objects.all()}
        existing = {m.number: m for m in Municipality.objects.select_related("county")}
        report = SyncReport()
        now = timezone.now()
        touched = []  # the municipalities whose entries change, for the change feed

        def save(municipality, fields):
            _mark(municipality, by=by, reason=reason, now=now)
            municipality.save(update_fields=[*fields, "search_text", "updated_at", "updated_by"])
            touched.append(municipality)

        renumbered = _renumberings(by_number, existing)
        for new, old in renumbered.items():
            municipality = existing.pop(old)
            report.renumbered.append((str(municipality), f"{new} {municipality_fields(by_number[new])['name']}"))
            FormerNumber.objects.get_or_create(number=old, municipality=municipality, defaults={"valid_to": last_day})
            # The feed's change under the old number: a copy keyed by number removes it (registry.feed).
            note_data_changed([municipality])
            municipality.number = new
            save(municipality, ["number"])
            existing[new] = municipality

        for number, row in by_number.items():
            fields = municipality_fields(row)
            county = counties[row["fylkesnummer"].zfill(2)]
            municipality = existing.get(number)
            if municipality is None:
                municipality = Municipality(number=number, county=county, valid_from=day, **fields)
                _mark(municipality, by=by, reason=reason, now=now)
                municipality.save()
                touched.append(municipality)
                existing[number] = municipality
                report.created.append(municipality)
                continue
            changed = []
            if (municipality.name, municipality.parallel_names) != (fields["name"], fields["parallel_names"]):
                report.renamed.append((str(municipality), f"{number} {fields['name']}"))
                municipality.name, municipality.parallel_names = fields["name"], fields["parallel_names"]
                changed += ["name", "parallel_names"]
            if municipality.county_id != county.pk:
                report.moved.append((municipality, municipality.county.number, county.number))
                municipality.county = county
                changed.append("county")
            if municipality.valid_to is not None:
                municipality.valid_to = None
                report.reactivated.append(municipality)
                changed.append("valid_to")
            if changed:
                save(municipality, changed)

        for number, municipality in existing.items():
            if number in by_number or municipality.valid_to is not None:
                continue
            municipality.valid_to = max(last_day, municipality.valid_from or last_day)
            save(municipality, ["valid_to"])
            report.ceased.append(municipality)
            report.open_appointments += list(
                municipality.appointments.filter(end_date__isnull=True).select_related("physician", "municipality")
            )

        for number, row in by_number.items():
            successor = existing[number]
            for old_number in _predecessors(row):
                predecessor = existing.get(old_number)
                if predecessor is None or predecessor == successor or number in renumbered:
                    continue
                if not predecessor.successors.filter(pk=successor.pk).exists():
                    predecessor.successors.add(successor)
                    touched += [predecessor, successor]
                    report.linked.append((predecessor, successor))

        # A dry run rolls back, and with it this note.
        note_data_changed(touched)
        if dry_run:
            transaction.set_rollback(True)
    return report


def load_reference(*, by=SYSTEM):
    """Load (or refresh) the offices, counties, municipalities, former numbers and districts of registry/data; return
    the counts.

    What the data migrations load into a new database, for a database whose tables were emptied (the
    browser tests' live server). Idempotent.
    """
    from registry import reference

    with write_path():
        _check(access.check_national, by, _("the reference data"))
        counts = reference.load_reference_data(CountyGovernor, County, Municipality)
        counts["former_numbers"] = reference.load_former_numbers(FormerNumber, Municipality, County)
        counts["districts"] = reference.load_districts(District, Municipality)
        note_data_changed(Municipality.objects.all())
    return counts


def restore_backup(path, *, force=False, by=SYSTEM):
    """Replace the registry by the backup at `path` (registry.backup checks and loads it); return the rows restored.

    loaddata writes the rows as they were backed up (derived fields and history included), in one
    transaction; the caches learn of the restore here.
    """
    from registry import backup

    with write_path():
        _check(access.check_national, by, _("the whole registry"))
        before = read_counter()
        rows = backup.restore_backup(path, force=force)
        # The backup's counter is older than the cursors readers of the feed hold: continue from ours, and
        # give every entry a change, so that whoever follows the feed gets the registry as restored.
        keep_counter_at_least(before)
        note_data_changed(Municipality.objects.all())
    return rows


# Keeping the registry current: confirmation requests, proposals and reports (registry.upkeep).
#
# A confirmation link is the physician's authority over their one entry: it is signed, names one entry and
# is used once, and it can only confirm the entry or file a proposal. So these write as the registry
# (`SYSTEM`), with history saying it was the physician, through the link. What an office decides is written
# as its editor, under the access rule, like any change in the admin; an approved proposal is applied
# through the functions above, with a reason that names the proposal.

GUARDED = (*GUARDED, ConfirmationRequest, ConfirmationLink, Proposal, ErrorReport)


class LinkAlreadyUsed(Exception):
    """The link was used already (perhaps a moment ago, in another request)."""


class AlreadyDecided(Exception):
    """The proposal or report was decided already (perhaps a moment ago, by another editor)."""


def request_confirmations(plans, *, cycle, now=None):
    """Store, for each plan (registry.upkeep.Plan), a ConfirmationRequest with a ConfirmationLink per entry.

    Returns the requests stored. An address already asked in `cycle` (by a run that got there first) is
    skipped: the database allows one request per address and cycle.
    """
    made = []
    with write_path():
        moment = now or timezone.now()
        for plan in plans:
            try:
                with transaction.atomic():
                    request = ConfirmationRequest(recipient=plan.recipient, cycle=cycle, created_at=moment)
                    request.save()
                    ConfirmationLink.objects.bulk_create(
                        ConfirmationLink(
                            request=request, kind=kind.kind, nonce=secrets.token_urlsafe(24), **{kind.field: entry}
                        )
                        for kind, entry in plan.entries
                    )
            except IntegrityError:
                continue
            made.append(request)
    return made


def note_request_sent(request, *, error="", now=None):
    """Record that `request`'s e-mail was sent, or why it could not be (`error`)."""
    with write_path():
        request.sent_at = None if error else (now or timezone.now())
        request.error = error
        request.save(update_fields=["sent_at", "error"])


def _use_link(link, outcome, moment):
    """Mark `link` used for `outcome`, or raise LinkAlreadyUsed. Locks the row: two requests cannot both use it."""
    stored = ConfirmationLink.objects.select_for_update().get(pk=link.pk)
    if stored.used_at is not None:
        raise LinkAlreadyUsed
    link.used_at, link.outcome = moment, outcome
    link.save(update_fields=["used_at", "outcome"])


def confirm_through_link(link, *, now=None):
    """Confirm the entry `link` names as correct, for its recipient; use up the link. Returns the entry.

    The history of each confirmed row says "confirmed by the physician (the role mailbox) through the
    confirmation link", and
    the link records the moment, which is how the coverage page tells these confirmations from the office's.
    """
    from registry.upkeep import ENTRY_KINDS

    with write_path():
        moment = now or timezone.now()
        _use_link(link, LinkOutcome.CONFIRMED, moment)
        kind = ENTRY_KINDS[link.kind]
        reason = _("confirmed by %(sender)s through the confirmation link") % {"sender": kind.sender}
        for rows in kind.rows_to_confirm(link.entry):
            confirm_entries(entries=rows, by=SYSTEM, now=moment, reason=reason)
    return link.entry


def propose_through_link(link, *, changes, now=None):
    """File `changes` (the kind's proposal form, as JSON values) for the office; use up the link. Returns it."""
    with write_path():
        moment = now or timezone.now()
        _use_link(link, LinkOutcome.PROPOSED, moment)
        proposal = Proposal(link=link, changes=changes, created_at=moment)
        proposal.save()
    return proposal


def report_error(*, subject, message, reporter_email="", now=None):
    """File an error report from anyone about `subject`: a Municipality, a District or an Arrangement.
    Returns the ErrorReport."""
    about = {"municipality": None, "district": None, "arrangement": None}
    if isinstance(subject, District):
        about.update(municipality=subject.municipality, district=subject)
    elif isinstance(subject, Municipality):
        about["municipality"] = subject
    elif isinstance(subject, Arrangement):
        about["arrangement"] = subject
    else:
        raise TypeError(f"An error report is about a municipality, a district or an arrangement, not {subject!r}.")
    with write_path():
        report = ErrorReport(**about, message=message, reporter_email=reporter_email, created_at=now or timezone.now())
        _check_text([report])
        report.save()
    return report


def _lock_open(item):
    """Lock the open proposal or report `item`, or raise AlreadyDecided."""
    if type(item).objects.select_for_update().get(pk=item.pk).status != QueueStatus.OPEN:
        raise AlreadyDecided


def _decide(item, *, status, by, note, moment):
    item.status, item.decided_at, item.decided_by, item.decision_note = status, moment, _user(by), note
    _check_text([item], ["decision_note"])
    item.save()


def approve_proposal(proposal, *, changes, by, now=None):
    """Apply `changes` (the proposal as `by` approved it, corrected or not) and close the proposal; return it.

    Applied through the functions above as `by`, under the access rule: every history row names the
    proposal. The entry is confirmed as correct by `by` too.
    """
    from registry.upkeep import ENTRY_KINDS

    kind, entry = ENTRY_KINDS[proposal.link.kind], proposal.link.entry
    with write_path():
        _check(access.check_may_change, by, [entry])
        _lock_open(proposal)
        moment = now or timezone.now()
        reason = _("proposal %(number)s from %(sender)s, approved") % {"number": proposal.pk, "sender": kind.sender}
        # Confirmed first: ending the appointment may end the office's hold on the person.
        for rows in kind.rows_to_confirm(entry):
            confirm_entries(entries=rows, by=by, now=moment, reason=reason)
        kind.apply(entry, changes, by=by, reason=reason)
        proposal.applied = changes
        _decide(proposal, status=QueueStatus.APPROVED, by=by, note="", moment=moment)
    return proposal


def reject_proposal(proposal, *, reason, by, now=None):
    """Close `proposal` without changing the entry; `reason` is told to the physician. Returns it."""
    with write_path():
        _check(access.check_may_change, by, [proposal.link.entry])
        _lock_open(proposal)
        _decide(proposal, status=QueueStatus.REJECTED, by=by, note=reason, moment=now or timezone.now())
    return proposal


def decide_report(report, *, corrected, note, by, now=None):
    """Close `report`: `corrected` (the office changed the entry, in the admin) or rejected with `note`. Returns it."""
    with write_path():
        _check(access.check_may_change, by, [report.keeper_row])
        _lock_open(report)
        status = QueueStatus.APPROVED if corrected else QueueStatus.REJECTED
        _decide(report, status=status, by=by, note=note, moment=now or timezone.now())
    return report
