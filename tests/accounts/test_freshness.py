"""The freshness page in the admin and the stale_report command: each office sees and gets its own part."""

import io

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from tests.accounts.conftest import login
from tests.conftest import days_before_today
from tests.factories import AppointmentFactory, PhysicianFactory, municipality

pytestmark = pytest.mark.django_db


@pytest.fixture
def stale(today):
    """One unconfirmed appointment in Trøndelag and one in Vestland."""
    return {
        "trondelag": AppointmentFactory(
            municipality=municipality("5001"), physician=PhysicianFactory(name="Lege Nord")
        ),
        "vestland": AppointmentFactory(municipality=municipality("4601"), physician=PhysicianFactory(name="Lege Vest")),
    }


def test_editor_sees_only_their_own_office_on_the_freshness_page(editor_trondelag, stale):
    response = login(editor_trondelag).get(reverse("admin:registry_freshness"))
    assert response.status_code == 200
    assert [part.office.code for part in response.context["report"].offices] == ["trondelag"]
    page = response.content.decode()
    assert "Lege Nord" in page and "Lege Vest" not in page and "4601 Bergen" not in page


def test_national_admin_sees_every_office_on_the_freshness_page(national_admin, stale):
    response = login(national_admin).get(reverse("admin:registry_freshness"))
    assert len(response.context["report"].offices) == 10
    assert "Lege Vest" in response.content.decode() and "Lege Nord" in response.content.decode()


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        call_command("stale_report", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_stale_report_prints_each_office(stale):
    out, _err = run()
    assert "Statsforvalteren i Trøndelag" in out and "Statsforvaltaren i Vestland" in out
    assert "Lege Nord" in out and "No current chief physician" in out


def test_stale_report_for_one_office(stale):
    out, _err = run("--office", "trondelag")
    assert "Lege Nord" in out and "Lege Vest" not in out
    with pytest.raises(CommandError) as error:
        run("--office", "nowhere")
    assert "trondelag" in str(error.value)


def test_stale_report_has_no_period_of_its_own():
    # One threshold, REGISTRY_STALE_AFTER_DAYS, for the report, the admin and the public list.
    with pytest.raises(CommandError):
        run("--days", "30")


def test_stale_report_emails_each_office_its_own_part(stale, editor_trondelag, editor_vestland):
    editor_trondelag.email, editor_vestland.email = "nord@example.no", "vest@example.no"
    editor_trondelag.save()
    editor_vestland.save()
    out, err = run("--email")
    by_recipient = {tuple(message.to): message for message in mail.outbox}
    assert set(by_recipient) >= {("nord@example.no",), ("vest@example.no",)}
    assert "Lege Nord" in by_recipient[("nord@example.no",)].body
    assert "Lege Vest" not in by_recipient[("nord@example.no",)].body
    assert "Lege Vest" in by_recipient[("vest@example.no",)].body
    # The e-mail is in Norwegian even when the command runs in another language.
    assert "oppføringer som må bekreftes" in by_recipient[("nord@example.no",)].subject
    # Offices with no editor on file are named, so that someone can add one.
    assert "Statsforvalteren i Nordland has no editor with an e-mail address" in err


def test_stale_report_email_goes_to_no_inactive_editor(stale, editor_trondelag):
    editor_trondelag.email, editor_trondelag.is_active = "nord@example.no", False
    editor_trondelag.save()
    run("--email")
    assert not any("nord@example.no" in message.to for message in mail.outbox)


def test_the_weekly_digest_lists_the_queue_and_what_falls_out_of_date_next(stale, editor_trondelag):

    from registry import services

    editor_trondelag.email = "nord@example.no"
    editor_trondelag.save()
    services.report_error(subject=municipality("5001"), message="Feil nummer.")
    # Trondheim's entry was confirmed 170 days ago: still confirmed, but not a month from now (182 days).
    services.confirm_entries(entries=[stale["trondelag"]], by=services.SYSTEM, now=days_before_today(170))
    out, _err = run("--email", "--office", "trondelag")
    assert "Error reports waiting for a decision (1)" in out and "Report" in out and "(new)" in out
    assert "Falls out of date within 30 days" in out and "5001 Trondheim" in out
    (message,) = [m for m in mail.outbox if m.to == ["nord@example.no"]]
    assert "Feilmeldinger som venter på avgjørelse (1)" in message.body
    assert "Blir utdatert innen 30 dager" in message.body
