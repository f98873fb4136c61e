"""The coverage page shows Helsedirektoratet, per office, where the list is incomplete."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from registry.coverage import coverage_by_office
from registry.models import Appointment, Municipality

pytestmark = pytest.mark.django_db


def test_coverage_counts_chief_physicians_deputies_and_confirmations_per_office(demo):
    offices, national = coverage_by_office()
    trondelag = next(row for row in offices if row.office.code == "trondelag")
    in_trondelag = Municipality.objects.active().filter(county__number="50").count()
    # Demo: Grong, Lierne, Namsskogan, Røyrvik and Trondheim have a chief physician and a deputy.
    assert (trondelag.total, trondelag.with_chief_physician, trondelag.with_deputy) == (in_trondelag, 5, 5)
    assert trondelag.confirmed == 5 and trondelag.without_chief_physician == in_trondelag - 5
    assert national.total == 357 and national.with_chief_physician == 10
    assert sum(row.total for row in offices) == 357 and len(offices) == 10


def test_an_old_confirmation_counts_as_not_confirmed(demo):
    Appointment.objects.filter(municipality__number="5043").update(
        verified_at=timezone.now() - datetime.timedelta(days=200)
    )
    trondelag = next(row for row in coverage_by_office()[0] if row.office.code == "trondelag")
    assert trondelag.confirmed == 4


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


def test_coverage_tells_confirmations_by_the_physician_from_the_office(client, demo, settings):
    """Confirmed through the link counts as the physician's; the office's own confirmation as the office's."""
    from registry import services
    from registry.models import ConfirmationLink
    from registry.upkeep import ENTRY_KINDS, Plan

    kind = ENTRY_KINDS["appointment"]
    # Lierne (5042), whose own contacts nobody confirmed: its physicians confirm both appointments by link.
    appointments = list(Appointment.objects.published().filter(municipality__number="5042"))
    (request,) = services.request_confirmations([Plan("x@example.no", [(kind, a) for a in appointments])], cycle="x")
    for link in ConfirmationLink.objects.filter(request=request):
        services.confirm_through_link(link)
    offices, national = coverage_by_office()
    trondelag = next(row for row in offices if row.office.code == "trondelag")
    assert (trondelag.confirmed, trondelag.confirmed_through_link, trondelag.confirmed_by_office) == (5, 1, 4)
    assert national.confirmed_through_link == 1
    assert trondelag.confirmed_share == round(100 * 5 / trondelag.total)
    page = client.get(reverse("registry:coverage")).content.decode()
    assert "Confirmed by the physician" in page


def test_an_entry_counts_as_the_offices_when_its_oldest_confirmation_was_the_offices(demo):
    from registry import services
    from registry.models import ConfirmationLink
    from registry.upkeep import ENTRY_KINDS, Plan

    # Røyrvik's own contacts were confirmed by the office before its physicians confirmed by link.
    appointments = list(Appointment.objects.published().filter(municipality__number="5043"))
    plan = Plan("x@example.no", [(ENTRY_KINDS["appointment"], a) for a in appointments])
    (request,) = services.request_confirmations([plan], cycle="x")
    for link in ConfirmationLink.objects.filter(request=request):
        services.confirm_through_link(link)
    trondelag = next(row for row in coverage_by_office()[0] if row.office.code == "trondelag")
    assert (trondelag.confirmed, trondelag.confirmed_through_link) == (5, 0)
