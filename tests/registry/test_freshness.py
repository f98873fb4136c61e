import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from registry.freshness import freshness_report
from registry.models import Municipality, Role
from registry.services import confirm_entries
from tests.factories import AppointmentFactory, PhysicianFactory, municipality, write

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime.datetime(2026, 11, 23, 12, 0))


def office(report, code):
    return next(part for part in report.offices if part.office.code == code)


def ago(days):
    return NOW - datetime.timedelta(days=days)


def test_entries_not_confirmed_within_the_period_are_listed_per_office(today):
    stale = AppointmentFactory(municipality=municipality("5001"), verified_at=ago(200))
    fresh = AppointmentFactory(municipality=municipality("5045"), verified_at=ago(10))
    never = AppointmentFactory(municipality=municipality("4601"))
    report = freshness_report(now=NOW)
    assert office(report, "trondelag").appointments == [stale]
    assert fresh not in office(report, "trondelag").appointments
    assert office(report, "vestland").appointments == [never]


def test_ended_appointments_and_ceased_municipalities_are_not_listed(today):
    AppointmentFactory(municipality=municipality("5001"), end_date=datetime.date(2025, 1, 1))
    ceased = municipality("5045")
    ceased.valid_to = datetime.date(2025, 12, 31)
    write(ceased)
    part = office(freshness_report(now=NOW), "trondelag")
    assert part.appointments == [] and ceased not in part.without_chief and ceased not in part.municipalities


def test_municipalities_without_a_current_chief_or_deputy_are_listed(today):
    AppointmentFactory(municipality=municipality("5001"), role=Role.CHIEF_PHYSICIAN)
    AppointmentFactory(municipality=municipality("5045"), role=Role.DEPUTY)
    part = office(freshness_report(now=NOW), "trondelag")
    assert municipality("5001") not in part.without_chief and municipality("5001") in part.without_deputy
    assert municipality("5045") in part.without_chief and municipality("5045") not in part.without_deputy
    assert len(part.without_chief) == 37


def test_a_shared_physician_is_listed_once_per_office(today):
    shared = PhysicianFactory(verified_at=ago(400))
    for number in ("5042", "5043", "4601"):
        AppointmentFactory(physician=shared, municipality=municipality(number))
    report = freshness_report(now=NOW)
    assert office(report, "trondelag").physicians == [shared]
    assert office(report, "vestland").physicians == [shared]


def test_the_report_can_be_limited_to_some_municipalities(today):
    report = freshness_report(municipalities=Municipality.objects.filter(county__number="50"), now=NOW)
    assert [part.office.code for part in report.offices] == ["trondelag"]


def test_the_period_comes_from_the_setting(settings, today):
    settings.REGISTRY_STALE_AFTER_DAYS = 30
    AppointmentFactory(municipality=municipality("5001"), verified_at=ago(40))
    report = freshness_report()
    assert report.days == 30 and len(office(report, "trondelag").appointments) == 1


def test_the_report_runs_a_fixed_number_of_queries(today, django_assert_num_queries):
    from registry import services

    for number in ("5001", "5045", "4601", "0301"):
        AppointmentFactory(municipality=municipality(number))
        services.report_error(subject=municipality(number), message="Feil.")
    # Six for the freshness, five for the weekly digest: open proposals, open reports and who keeps them (the
    # ownership rule: two), what falls due next. Whatever the number of reports.
    with django_assert_num_queries(11):
        freshness_report(now=NOW)


def test_the_text_of_an_office_names_what_to_do(today):
    AppointmentFactory(municipality=municipality("5001"), physician=PhysicianFactory(name="Demo Gammel"))
    report = freshness_report(now=NOW)
    text = "\n".join(report.lines(office(report, "trondelag")))
    assert "Statsforvalteren i Trøndelag" in text and "Demo Gammel" in text and "5045 Grong" in text


def test_confirming_records_who_and_when_in_the_history(today, editor_trondelag):
    user = editor_trondelag
    appointments = [AppointmentFactory(municipality=municipality(n)) for n in ("5001", "5045")]
    count = confirm_entries(entries=appointments, by=user, now=NOW)
    assert count == 2
    for appointment in appointments:
        appointment.refresh_from_db()
        assert appointment.verified_at == NOW and appointment.verified_by == user
        confirmation = appointment.history.get(history_type="~")
        assert confirmation.history_user == user and confirmation.verified_at == NOW
    assert confirm_entries(entries=[], by=user) == 0


def test_confirmed_entries_leave_the_report(today, editor_trondelag):
    appointment = AppointmentFactory(municipality=municipality("5001"))
    confirm_entries(entries=[appointment], by=editor_trondelag, now=NOW)
    assert office(freshness_report(now=NOW), "trondelag").appointments == []


def test_nobody_confirms_another_offices_entries(today, editor_vestland):
    appointment = AppointmentFactory(municipality=municipality("5001"))
    with pytest.raises(PermissionDenied):
        confirm_entries(entries=[appointment], by=editor_vestland, now=NOW)
    appointment.refresh_from_db()
    assert appointment.verified_at is None
