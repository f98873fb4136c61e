"""The data state that caches and ETags follow: it moves with every committed change, once, in commit order."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from registry.models import County, DataVersion, Physician
from registry.versioning import read_data_state
from tests.factories import AppointmentFactory, PhysicianFactory, municipality, write

pytestmark = pytest.mark.django_db


def counter():
    return DataVersion.objects.get(pk=1).counter


def test_the_migration_creates_the_row():
    assert DataVersion.objects.filter(pk=1).exists()


def test_a_committed_change_bumps_the_counter(django_capture_on_commit_callbacks):
    before = counter()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        PhysicianFactory()
    assert counter() == before  # not before the commit
    for callback in callbacks:
        callback()
    assert counter() > before and read_data_state().counter == counter()


def test_a_rolled_back_change_bumps_nothing(django_capture_on_commit_callbacks):
    before = read_data_state()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            PhysicianFactory()
            transaction.set_rollback(True)
    assert callbacks == [] and counter() == before.counter


def test_a_change_with_an_old_history_date_still_moves_the_state(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        PhysicianFactory(name="Først")
    before = read_data_state()
    physician = Physician.objects.get(name="Først")
    physician.name = "Senere"
    physician._history_date = timezone.now() - datetime.timedelta(days=3650)
    with django_capture_on_commit_callbacks(execute=True):
        write(physician)
    after = read_data_state()
    assert after.key != before.key and after.changed_at >= before.changed_at


def test_a_county_without_history_moves_the_state(django_capture_on_commit_callbacks):
    before = read_data_state().key
    county = County.objects.get(number="50")
    county.name = "Trøndelag endret"
    with django_capture_on_commit_callbacks(execute=True):
        write(county)
    assert read_data_state().key != before


def test_a_bulk_write_notes_its_change_once(django_capture_on_commit_callbacks, national_admin):
    from registry.services import confirm_entries

    appointments = [AppointmentFactory(municipality=municipality(n)) for n in ("5045", "5042", "5043")]
    before = counter()
    with django_capture_on_commit_callbacks(execute=True):
        confirm_entries(entries=appointments, by=national_admin)
    assert counter() == before + 1
