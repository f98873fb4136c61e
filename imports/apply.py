"""Applying a plan: exactly its operations, through registry.services, in one transaction.

Each kind of operation is one batch call of the write path (a fixed number of queries however long
the sheet), in the order their ids need: physicians, then appointments, then numbers.
"""

from django.db import transaction
from django.utils import timezone

from imports.planning import (
    ADD_FUNCTION_CONTACT,
    ADD_PHONE,
    APPOINT,
    CHANGE_APPOINTMENT,
    CHANGE_FUNCTION_CONTACT,
    CHANGE_PHONE,
    CHANGE_PHYSICIAN,
    CREATE_PHYSICIAN,
    END_APPOINTMENT,
)
from registry import services
from registry.models import Appointment, FunctionContact, Phone, Physician, Visibility, default_visibility


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

        new = grouped.get(APPOINT, [])
        appointments = []
        for op in new:
            record = op.target
            appointments.append(
                services.build(
                    Appointment,
                    physician_id=record.physician.pk,
                    municipality_id=record.municipality.pk,
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
        ending = grouped.get(END_APPOINTMENT, [])
        if ending:
            rows = list(Appointment.objects.in_bulk([op.target.pk for op in ending]).values())
            services.end_appointments(rows, on=timezone.localdate(), **write)

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
                municipality_id=op.target.municipality.pk,
                kind=op.target.kind,
                role=op.target.role,
                email=op.target.email,
                number=op.target.number,
                opening_hours=op.target.opening_hours,
                visibility=default_visibility(op.target.kind),
            )
            for op in grouped.get(ADD_FUNCTION_CONTACT, [])
        ]
        services.add_function_contacts(contacts, **write)
        changed_contacts = [op for op in grouped.get(CHANGE_FUNCTION_CONTACT, []) if op.target.pk is not None]
        if changed_contacts:
            rows, fields = _changed(FunctionContact, changed_contacts)
            services.change_function_contacts(rows, fields, **write)
