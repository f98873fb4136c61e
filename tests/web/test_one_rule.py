"""Each rule once: "not confirmed lately" and "vacancy" mean the same on every page, filter, export and report."""

import datetime

import pytest
from django.utils import timezone

from registry.coverage import coverage_by_office
from registry.freshness import freshness_report
from registry.models import Municipality, Role
from registry.services import SYSTEM, confirm_entries
from tests.factories import AppointmentFactory, municipality

pytestmark = pytest.mark.django_db


def confirmed_days_ago(days, number="5045"):
    appointment = AppointmentFactory(municipality=municipality(number))
    moment = timezone.now() - datetime.timedelta(days=days)
    confirm_entries(entries=[appointment], by=SYSTEM, now=moment)
    confirm_entries(entries=[municipality(number)], by=SYSTEM, now=moment)
    return appointment


def everywhere_stale(client, number="5045"):
    """Whether each place that shows freshness calls the entry not confirmed lately."""
    page = client.get(f"/kommune/{number}/", headers={"accept-language": "en"}).content.decode()
    listed = client.get("/resultater/", {"stale": "on", "q": number}).content.decode()
    api = client.get(f"/api/municipalities/?stale=1&q={number}").json()["count"] == 1
    offices, _national = coverage_by_office()
    trondelag = next(row for row in offices if row.office.code == "trondelag")
    report = freshness_report()
    part = next(p for p in report.offices if p.office.code == "trondelag")
    return {
        "page": "not confirmed lately" in page,
        "filter": f"/kommune/{number}/" in listed,
        "api": api,
        "coverage": trondelag.confirmed < trondelag.total and Municipality.objects.not_confirmed_lately().filter(
            number=number
        ).exists(),
        "report": any(a.municipality.number == number for a in part.appointments),
    }


@pytest.mark.parametrize("days, stale", [(40, True), (20, False)])
def test_one_threshold_for_the_page_the_filter_the_api_the_coverage_and_the_report(client, settings, days, stale):
    settings.REGISTRY_STALE_AFTER_DAYS = 30
    confirmed_days_ago(days)
    assert everywhere_stale(client) == dict.fromkeys(["page", "filter", "api", "coverage", "report"], stale)


def test_one_vacancy_rule_for_the_list_the_coverage_the_admin_filter_and_the_report(client, admin_client, today):
    # An appointment that ended yesterday leaves Grong vacant everywhere at once.
    AppointmentFactory(municipality=municipality("5045"), end_date=today - datetime.timedelta(days=1))
    vacant = set(Municipality.objects.active().without_current(Role.CHIEF_PHYSICIAN).values_list("number", flat=True))
    assert "5045" in vacant
    listed = client.get("/resultater/", {"missing": Role.CHIEF_PHYSICIAN}).content.decode()
    assert "/kommune/5045/" in listed
    admin = admin_client.get("/admin/registry/municipality/?chief=none&active=yes&all=")
    assert set(admin.context["cl"].queryset.values_list("number", flat=True)) == vacant
    _offices, national = coverage_by_office()
    assert national.without_chief_physician == len(vacant)
    report = freshness_report()
    assert sum(len(part.without_chief) for part in report.offices) == len(vacant)
