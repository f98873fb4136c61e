"""Applying a plan: exactly its operations, through registry.services, in one transaction.

Each kind of operation is one batch call of the write path (a fixed number of queries however long
the sheet), in the order their ids need: physicians, arrangements and their members, legevakter, then
appointments, then numbers and function contacts.
"""

from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from imports.planning import (
    ADD_FUNCTION_CONTACT,
    ADD_MEMBERSHIP,
    ADD_PHONE,
    APPOINT,
    CHANGE_APPOINTMENT,
    CHANGE_ARRANGEMENT,
    CHANGE_FUNCTION_CONTACT,
    CHANGE_LEGEVAKT,
    CHANGE_PHONE,
    CHANGE_PHYSICIAN,
    CREATE_ARRANGEMENT,
    CREATE_LEGEVAKT,
    CREATE_PHYSICIAN,
    END_APPOINTMENT,
)
from registry import services
from registry.models import (
    Appointment,
    Arrangement,
    FunctionContact,
    Legevakt,
    Membership,
    Phone,
    Physician,
    Visibility,
    default_visibility,
)


def _by_action(operations):
    grouped = {}
    for op in operations:
        grouped.setdefault(op.action, []).append(op)
    return grouped


def _changed(model, operations):
    """Load the rows the operations change and set the new values; return (rows, fields)."""
    rows = model.objects.in_bulk({op.target.pk for op in operations if op.target.pk is not None})
    fields = []
    for op in operations:
        # The record holds the value after every row that changed it.
        setattr(rows[op.target.pk], op.field, getattr(op.target, op.field))
        if op.field not in fields:
            fields.append(op.field)
    return list(rows.values()), fields


def _save_records(operations, build, write):
    """Save a model instance built from each operation's record (few per sheet), and give the record its id."""
    objects = [build(op.target) for op in operations]
    services.save_entries(objects, by=write["by"], reason=write["reason"])
    for op, obj in zip(operations, objects, strict=True):
        op.target.pk = obj.pk


def _save_changes(model, operations, write):
    operations = [op for op in operations if op.target.pk is not None]
    if operations:
        rows, _fields = _changed(model, operations)
        services.save_entries(rows, by=write["by"], reason=write["reason"])


def apply_plan(operations, *, by, reason):
    """Apply `operations` (from imports.planning) as `by` (a user, or services.SYSTEM); one transaction."""
    grouped = _by_action(operations)
    now = timezone.now()
    write = {"by": by, "reason": reason, "now": now}
    with transaction.atomic():
        created = grouped.get(CREATE_PHYSICIAN, [])
        physicians = [
            services.build(Physician, name=op.target.name, email=op.target.email, hpr_number=op.target.hpr_number)
            for op in created
        ]
        services.create_physicians(physicians, **write)
        for op, physician in zip(created, physicians, strict=True):
            op.target.pk = physician.pk

        changed = [op for op in grouped.get(CHANGE_PHYSICIAN, []) if op.target.pk is not None]
        if changed:
            rows, fields = _changed(Physician, changed)
            services.change_physicians(rows, fields, **write)

        # Arrangements, their new members and legevakter: a few per sheet, saved as the admin saves them.
        _save_records(grouped.get(CREATE_ARRANGEMENT, []), lambda r: Arrangement(name=r.name, kind=r.kind), write)
        _save_changes(Arrangement, grouped.get(CHANGE_ARRANGEMENT, []), write)
        _save_records(
            grouped.get(ADD_MEMBERSHIP, []),
            lambda r: Membership(
                arrangement_id=r.arrangement.pk, municipality_id=r.municipality.pk, valid_from=r.valid_from
            ),
            write,
        )
        _save_records(
            grouped.get(CREATE_LEGEVAKT, []),
            lambda r: Legevakt(name=r.name, number=r.number, opening_hours=r.opening_hours),
            write,
        )
        _save_changes(Legevakt, grouped.get(CHANGE_LEGEVAKT, []), write)

        new = grouped.get(APPOINT, [])
        appointments = []
        for op in new:
            record = op.target
            appointments.append(
                services.build(
                    Appointment,
                    physician_id=record.physician.pk,
                    municipality_id=record.municipality.pk if record.municipality is not None else None,
                    district_id=record.district.pk if record.district is not None else None,
                    arrangement_id=record.arrangement.pk if record.arrangement is not None else None,
                    role=record.role,
                    start_date=record.start_date,
                    note=record.note,
                    hpr_confirmation=record.hpr_confirmation,
                )
            )
        services.appoint(appointments, **write)
        for op, appointment in zip(new, appointments, strict=True):
            op.target.pk = appointment.pk

        # A note on an appointment this import creates was written with it.
        created_now = {id(op.target) for op in new}
        notes = [op for op in grouped.get(CHANGE_APPOINTMENT, []) if id(op.target) not in created_now]
        if notes:
            rows, fields = _changed(Appointment, notes)
            services.change_appointments(rows, fields, **write)
        # Missing appointments end today, one now held through an arrangement the day before: the day the plan says.
        ending = defaultdict(list)
        for op in grouped.get(END_APPOINTMENT, []):
            ending[op.new].append(op.target.pk)
        for day, pks in ending.items():
            rows = list(Appointment.objects.in_bulk(pks).values())
            services.end_appointments(rows, on=day, **write)

        phones = [
            services.build(
                Phone,
                physician_id=op.target.physician.pk,
                number=op.target.number,
                note=op.target.note,
                kind=op.target.kind,
                visibility=Visibility.PUBLIC,
            )
            for op in grouped.get(ADD_PHONE, [])
        ]
        services.add_phones(phones, **write)
        phone_notes = [op for op in grouped.get(CHANGE_PHONE, []) if op.target.pk is not None]
        if phone_notes:
            rows, fields = _changed(Phone, phone_notes)
            services.change_phones(rows, fields, **write)

        contacts = [
            services.build(
                FunctionContact,
                **op.target.place.owner_ids(),
                kind=op.target.kind,
                role=op.target.role,
                email=op.target.email,
                number=op.target.number,
                opening_hours=op.target.opening_hours,
                legevakt_id=op.target.legevakt.pk if op.target.legevakt is not None else None,
                visibility=default_visibility(op.target.kind),
            )
            for op in grouped.get(ADD_FUNCTION_CONTACT, [])
        ]
        services.add_function_contacts(contacts, **write)
        changed_contacts = [op for op in grouped.get(CHANGE_FUNCTION_CONTACT, []) if op.target.pk is not None]
        if changed_contacts:
            rows, fields = _changed(FunctionContact, changed_contacts)
            services.change_function_contacts(rows, fields, **write)
