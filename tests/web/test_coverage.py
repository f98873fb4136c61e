"""The coverage page shows Helsedirektoratet, per office, where the list is incomplete."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from registry.coverage import coverage_by_office
from registry.models import Appointment, Municipality, Role
from registry.services import SYSTEM, confirm_entries
from tests.conftest import days_before_today
from tests.factories import AppointmentFactory

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
        now=days_before_today(200),
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


def _trondelag():
    return next(row for row in coverage_by_office()[0] if row.office.code == "trondelag")


def _confirm_by_link(appointments):
    from registry import services
    from registry.models import ConfirmationLink
    from registry.upkeep import ENTRY_KINDS, Plan

    plan = Plan("x@example.no", [(ENTRY_KINDS["appointment"], a) for a in appointments])
    (request,) = services.request_confirmations([plan], cycle="x")
    for link in ConfirmationLink.objects.filter(request=request):
        services.confirm_through_link(link)


def _untouched_in_trondelag():
    """A municipality of Trøndelag the demo left alone: no appointment, no contacts, never confirmed."""
    return (
        Municipality.objects.active()
        .filter(county__number="50", verified_at__isnull=True, appointments__isnull=True, memberships__isnull=True)
        .exclude(function_contacts__isnull=False)
        .order_by("number")
        .first()
    )


def test_coverage_tells_confirmations_by_the_physician_from_the_office(client, demo):
    """Confirmed through the link counts as the physician's; the office's own confirmation as the office's."""
    place = _untouched_in_trondelag()
    appointment = AppointmentFactory(municipality=place)
    before = _trondelag()
    _confirm_by_link([appointment])
    after = _trondelag()
    assert (after.confirmed - before.confirmed, after.confirmed_through_link - before.confirmed_through_link) == (1, 1)
    assert after.confirmed_by_office == before.confirmed_by_office
    assert after.confirmed_share == round(100 * after.confirmed / after.total)
    assert coverage_by_office()[1].confirmed_through_link == after.confirmed_through_link
    page = client.get(reverse("registry:coverage")).content.decode()
    assert "Confirmed through the link" in page


def test_an_entry_counts_as_the_offices_when_its_oldest_confirmation_was_the_offices(demo):
    place = _untouched_in_trondelag()
    appointment = AppointmentFactory(municipality=place)
    # The office confirmed the municipality's own row (a vacancy's way of being confirmed) before the link.
    confirm_entries(entries=[place], by=SYSTEM, now=timezone.now() - datetime.timedelta(days=1))
    before = _trondelag()
    _confirm_by_link([appointment])
    after = _trondelag()
    assert (after.confirmed - before.confirmed, after.confirmed_through_link - before.confirmed_through_link) == (1, 0)


def test_an_arrangements_physician_confirming_by_link_counts_for_every_member(demo):
    """Two municipalities whose only part is an arrangement's kommuneoverlege: that physician's confirmation
    by link is their entries' (AppointmentQuerySet.serving, the rule the list uses too)."""
    from registry.models import Arrangement, ArrangementKind, Membership
    from tests.factories import write

    untouched = list(
        Municipality.objects.active()
        .filter(county__number="50", verified_at__isnull=True, appointments__isnull=True, memberships__isnull=True)
        .exclude(function_contacts__isnull=False)
        .order_by("number")[:2]
    )
    (arrangement,) = write(Arrangement(name="Testsamarbeidet", kind=ArrangementKind.INTERMUNICIPAL))
    start = timezone.localdate() - datetime.timedelta(days=10)
    write(*[Membership(arrangement=arrangement, municipality=m, valid_from=start) for m in untouched])
    appointment = AppointmentFactory(municipality=None, arrangement=arrangement, start_date=start)
    before = _trondelag()
    _confirm_by_link([appointment])
    after = _trondelag()
    assert len(untouched) == 2
    assert (after.confirmed - before.confirmed, after.confirmed_through_link - before.confirmed_through_link) == (2, 2)
