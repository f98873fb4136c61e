"""Entries on both sides of an office boundary, and clients logged in as the people in tests/conftest.py."""

import pytest
from django.test import Client

from tests.factories import AppointmentFactory, FunctionContactFactory, PhoneFactory, PhysicianFactory, municipality

TRONDHEIM, BERGEN = "5001", "4601"


def login(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def trondelag_client(editor_trondelag):
    """Logged in as the Trøndelag editor."""
    return login(editor_trondelag)


@pytest.fixture
def vestland_client(editor_vestland):
    """Logged in as the Vestland editor."""
    return login(editor_vestland)


@pytest.fixture
def reader_client(reader):
    """Logged in as a national reader: no admin at all."""
    return login(reader)


@pytest.fixture
def national_client(national_admin):
    """Logged in as a national administrator: every region, users, restore."""
    return login(national_admin)


@pytest.fixture
def own(db):
    """An appointment in Trondheim (Trøndelag), its physician, and numbers of each kind of owner."""
    appointment = AppointmentFactory(
        municipality=municipality(TRONDHEIM), physician=PhysicianFactory(name="Lege Trøndersk")
    )
    return {
        "appointment": appointment,
        "physician": appointment.physician,
        "municipality": appointment.municipality,
        "physician_phone": PhoneFactory(physician=appointment.physician),
        "appointment_phone": PhoneFactory(physician=None, appointment=appointment),
        "municipality_contact": FunctionContactFactory(municipality=appointment.municipality),
    }


@pytest.fixture
def foreign(db):
    """The same in Bergen (Vestland): out of bounds for the Trøndelag editor."""
    appointment = AppointmentFactory(
        municipality=municipality(BERGEN), physician=PhysicianFactory(name="Lege Vestlending")
    )
    return {
        "appointment": appointment,
        "physician": appointment.physician,
        "municipality": appointment.municipality,
        "physician_phone": PhoneFactory(physician=appointment.physician),
        "appointment_phone": PhoneFactory(physician=None, appointment=appointment),
        "municipality_contact": FunctionContactFactory(municipality=appointment.municipality),
    }


def appointment_form(appointment=None, **changes):
    """POST data for the appointment admin form, from `appointment` with `changes`."""
    data = {
        "municipality": appointment.municipality_id if appointment else "",
        "role": appointment.role if appointment else "chief_physician",
        "physician": appointment.physician_id if appointment else "",
        "start_date": str(appointment.start_date) if appointment else "2025-01-01",
        "end_date": str(appointment.end_date or "") if appointment else "",
        "note": appointment.note if appointment else "",
        "phones-TOTAL_FORMS": "0",
        "phones-INITIAL_FORMS": "0",
    }
    data.update({key: str(value) for key, value in changes.items()})
    return data
