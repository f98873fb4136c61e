"""The coverage page shows Helsedirektoratet, per office, where the list is incomplete."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from registry.coverage import coverage_by_office
from registry.models import Appointment, Municipality, Role
from registry.services import SYSTEM, confirm_entries

pytestmark = pytest.mark.django_db


def test_coverage_counts_chief_physicians_deputies_and_confirmations_per_office(demo):
    offices, national = coverage_by_office()
    trondelag = next(row for row in offices if row.office.code == "trondelag")
    in_trondelag = Municipality.objects.active().filter(county__number="50")
    # The same rules as the list: whoever holds the role, on their own or through an arrangement.
    with_chief = in_trondelag.with_current(Role.CHIEF_PHYSICIAN).count()
    with_deputy = in_trondelag.with_current(Role.DEPUTY).count()
    assert (trondelag.total, trondelag.with_chief_physician, trondelag.with_deputy) == (
        in_trondelag.count(),
        with_chief,
        with_deputy,
    )
    # Grong, Lierne, Namsskogan and Røyrvik through Indre Namdal legetjeneste, Trondheim on its own, and
    # the invented ones.
    assert (
        with_chief >= 5
        and in_trondelag.filter(number__in=["5042", "5043", "5044", "5045"]).with_current(Role.CHIEF_PHYSICIAN).count()
        == 4
    )
    assert trondelag.confirmed == in_trondelag.count() - in_trondelag.not_confirmed_lately().count()
    assert national.total == 357 and sum(row.total for row in offices) == 357 and len(offices) == 10


def test_an_old_confirmation_counts_as_not_confirmed(demo):
    before = next(row for row in coverage_by_office()[0] if row.office.code == "trondelag").confirmed
    confirm_entries(
        entries=list(Appointment.objects.filter(municipality__number="5001")),
        by=SYSTEM,
        now=timezone.now() - datetime.timedelta(days=200),
    )
    trondelag = next(row for row in coverage_by_office()[0] if row.office.code == "trondelag")
    assert trondelag.confirmed == before - 1


def test_coverage_page_links_each_gap_to_the_municipalities(client, demo, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        response = client.get(reverse("registry:coverage"))
    content = response.content.decode()
    assert response.status_code == 200 and "Statsforvalteren i Trøndelag" in content
    assert 'href="/?office=trondelag&amp;missing=chief_physician"' in content
    assert 'href="/?office=trondelag&amp;missing=deputy"' in content
    assert 'href="/?office=trondelag&amp;stale=on"' in content
    assert 'href="/?missing=chief_physician"' in content  # the whole country


def test_following_a_gap_link_lists_exactly_those_municipalities(client, demo):
    offices, _ = coverage_by_office()
    trondelag = next(row for row in offices if row.office.code == "trondelag")
    api = client.get(
        reverse("registry:api:municipality-list"), {"office": "trondelag", "missing": "deputy", "page_size": 400}
    ).json()
    assert api["count"] == trondelag.without_deputy
