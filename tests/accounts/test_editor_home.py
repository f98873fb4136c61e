"""The editor's home: the admin's first page shows the region's work, each count linking to its list."""

import pytest
from django.urls import reverse

from registry import services
from registry.models import Municipality
from tests.accounts.conftest import login
from tests.factories import AppointmentFactory, PhysicianFactory, municipality

pytestmark = pytest.mark.django_db


def home(client):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return response


def row_of(response, code):
    rows, _total = response.context["work"], response.context["work_total"]
    return next(row for row in rows if row.office.code == code)


def test_the_admin_is_named_for_the_registry(editor_trondelag):
    page = home(login(editor_trondelag)).content.decode()
    assert "<title>Arbeidet i regionen din | Kommuneoverlegeregisteret</title>" in page
    assert 'id="site-name"><a href="/admin/">Kommuneoverlegeregisteret</a>' in page
    assert "Django-administrasjon" not in page and "Django administration" not in page


def test_an_editor_who_logs_in_lands_on_their_regions_counts(client, editor_trondelag):
    editor_trondelag.set_password("correct horse battery staple 1")
    editor_trondelag.save()
    response = client.post(
        reverse("admin:login") + "?next=/admin/",
        {"username": editor_trondelag.username, "password": "correct horse battery staple 1"},
        follow=True,
    )
    assert [row.office.code for row in response.context["work"]] == ["trondelag"]
    assert response.context["work_total"] is None


def test_each_count_is_the_number_of_rows_its_link_lists(editor_trondelag):
    AppointmentFactory(municipality=municipality("5001"))  # not confirmed
    physician = PhysicianFactory(email="lege@example.no")
    confirmed = AppointmentFactory(municipality=municipality("5006"), physician=physician)
    services.confirm_entries(entries=[confirmed], by=services.SYSTEM)
    services.report_error(subject=municipality("5001"), message="Feil.")
    services.report_error(subject=municipality("4601"), message="Feil i Bergen.")
    client = login(editor_trondelag)
    row = row_of(home(client), "trondelag")
    in_trondelag = Municipality.objects.active().filter(county__number="50").count()
    assert row.coverage.without_chief_physician == in_trondelag - 2
    assert (row.coverage.confirmed, row.coverage.not_confirmed) == (1, in_trondelag - 1)
    assert (row.reports, row.proposals, row.not_sent) == (1, 0, 0)
    for name, count in [
        ("vacancies", row.coverage.without_chief_physician),
        ("not_confirmed", row.coverage.not_confirmed),
        ("reports", row.reports),
    ]:
        listed = client.get(row.links[name])
        assert listed.status_code == 200 and listed.context["cl"].result_count == count, name
    page = home(client).content.decode()
    assert f'href="{row.links["reports"].replace("&", "&amp;")}">1</a>' in page


def test_a_national_administrator_sees_every_office_and_the_country(national_admin):
    response = home(login(national_admin))
    assert len(response.context["work"]) == 10 and response.context["work_total"].coverage.total == 357
    assert "Hele landet" in response.content.decode()


@pytest.mark.parametrize("who", ["editor_trondelag", "national_admin"])
def test_the_home_takes_a_fixed_number_of_queries(who, request, django_assert_max_num_queries):
    client = login(request.getfixturevalue(who))
    home(client)
    for number in ("5001", "5006", "4601", "0301"):
        AppointmentFactory(municipality=municipality(number))
        services.report_error(subject=municipality(number), message="Feil.")
    # Open work is counted per office by the ownership rule itself: one query each for proposals, reports
    # and unsent e-mails, whatever the number of offices.
    with django_assert_max_num_queries(11):
        home(client)


def test_open_proposals_and_unsent_emails_are_counted_and_listed(editor_trondelag, editor_vestland):
    from registry.models import ConfirmableKind, ConfirmationLink
    from registry.upkeep import ENTRY_KINDS, Plan

    kind = ENTRY_KINDS[ConfirmableKind.APPOINTMENT]
    trondheim = AppointmentFactory(municipality=municipality("5001"))
    bergen = AppointmentFactory(municipality=municipality("4601"))
    requests = services.request_confirmations(
        [Plan("a@example.no", [(kind, trondheim)]), Plan("b@example.no", [(kind, bergen)])], cycle="2026-11"
    )
    for request in requests:
        services.note_request_sent(request, error="SMTP 550: mailbox unavailable")
    link = ConfirmationLink.objects.get(appointment=trondheim)
    services.propose_through_link(link, changes={"email": "ny@example.no", "phones": {}})
    client = login(editor_trondelag)
    row = row_of(home(client), "trondelag")
    assert (row.proposals, row.not_sent) == (1, 1)
    proposals = client.get(row.links["proposals"])
    assert proposals.context["cl"].result_count == 1
    unsent = client.get(row.links["not_sent"])
    assert unsent.context["cl"].result_count == 1 and "a@example.no" in unsent.content.decode()
    assert "b@example.no" not in unsent.content.decode(), "another region's e-mail is not listed"
    assert row_of(home(login(editor_vestland)), "vestland").proposals == 0
