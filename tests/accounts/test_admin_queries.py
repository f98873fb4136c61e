"""An editor's lists cost the same number of queries with 10 or 1,000 municipalities' worth of entries."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registry.models import Appointment, County, Municipality, Phone, Physician, Role
from tests.accounts.conftest import login

pytestmark = pytest.mark.django_db

# The most queries any of these pages may run: session, user, groups, scoping, counts, filters, rows.
BOUND = 20
PAGES = [
    "admin:registry_appointment_changelist",
    "admin:registry_municipality_changelist",
    "admin:registry_physician_changelist",
    "admin:registry_phone_changelist",
    "admin:registry_freshness",
]


def fill_region(size, offset=0):
    """`size` new Trøndelag municipalities, each with a physician as chief and deputy, and a phone number."""
    county = County.objects.get(number="50")
    numbers = range(offset, offset + size)
    municipalities = Municipality.objects.bulk_create(
        Municipality(number=str(6000 + i), name=f"Testkommune {i}", county=county) for i in numbers
    )
    physicians = Physician.objects.bulk_create(
        Physician(name=f"Test Lege {i}", email=f"lege{i}@example.no") for i in numbers
    )
    start = datetime.date(2024, 1, 1)
    Appointment.objects.bulk_create(
        [
            Appointment(physician=p, municipality=m, role=role, start_date=start)
            for m, p in zip(municipalities, physicians, strict=True)
            for role in (Role.CHIEF_PHYSICIAN, Role.DEPUTY)
        ]
    )
    Phone.objects.bulk_create(
        Phone(physician=p, number=f"+47400{i:05d}") for i, p in zip(numbers, physicians, strict=True)
    )


@pytest.mark.parametrize("size", [10, 1000])
@pytest.mark.parametrize("page", PAGES)
def test_editor_pages_run_a_fixed_number_of_queries(editor_trondelag, django_assert_max_num_queries, size, page):
    fill_region(size)
    client = login(editor_trondelag)
    with django_assert_max_num_queries(BOUND):
        response = client.get(reverse(page))
    assert response.status_code == 200


@pytest.mark.parametrize("page", PAGES)
def test_the_query_count_does_not_grow_with_the_region(editor_trondelag, page):
    client = login(editor_trondelag)
    counts = []
    for size, offset in ((10, 0), (990, 10)):
        fill_region(size, offset)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(page)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
