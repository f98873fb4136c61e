"""The office's queue in the admin: proposals and error reports go to the responsible office, are decided there,
applied through the write path, and the sender is told."""

import pytest
from django.core import mail
from django.urls import reverse

from registry import services
from registry.models import (
    Appointment,
    ConfirmableKind,
    ConfirmationLink,
    ErrorReport,
    Phone,
    Physician,
    QueueStatus,
    Visibility,
)
from registry.phones import parse_phone
from registry.upkeep import ENTRY_KINDS, Plan
from tests.accounts.conftest import login
from tests.browser_forms import form_data
from tests.factories import AppointmentFactory, PhoneFactory, PhysicianFactory, municipality

pytestmark = pytest.mark.django_db
KIND = ENTRY_KINDS[ConfirmableKind.APPOINTMENT]


def proposal_for(appointment, **changes):
    """A proposal filed through a confirmation link, as the physician's form would file it."""
    (request,) = services.request_confirmations(
        [Plan(appointment.physician.email, [(KIND, appointment)])], cycle="2026-11"
    )
    link = ConfirmationLink.objects.get(request=request)
    full = {
        "email": appointment.physician.email,
        "phones": {},
        "new_phone": None,
        "end_date": None,
        "successor": None,
        "comment": "",
    }
    return services.propose_through_link(link, changes={**full, **changes})


@pytest.fixture
def trondheim():
    physician = PhysicianFactory(name="Lege Trondheim", email="lege@example.no")
    PhoneFactory(physician=physician, number=parse_phone("41234567"), visibility=Visibility.AUTHORITIES)
    return AppointmentFactory(physician=physician, municipality=municipality("5001"))


def decide_url(obj):
    return reverse(f"admin:registry_{obj._meta.model_name}_change", args=[obj.pk])


def test_a_proposal_goes_to_the_queue_of_the_office_that_keeps_the_entry(trondheim, editor_trondelag, editor_vestland):
    proposal = proposal_for(trondheim, email="ny@example.no")
    own = login(editor_trondelag).get(reverse("admin:registry_proposal_changelist"))
    assert own.status_code == 200 and "Lege Trondheim" in own.content.decode()
    other = login(editor_vestland)
    assert "Lege Trondheim" not in other.get(reverse("admin:registry_proposal_changelist")).content.decode()
    assert other.get(decide_url(proposal)).status_code == 403
    assert other.post(decide_url(proposal), {"decision": "reject", "reason": "nei"}).status_code == 403
    assert Physician.objects.get(pk=trondheim.physician_id).email == "lege@example.no"


def test_the_decision_page_shows_the_proposal_against_the_current_values(trondheim, editor_trondelag):
    proposal = proposal_for(trondheim, email="ny@example.no", end_date="2026-12-31")
    page = login(editor_trondelag).get(decide_url(proposal)).content.decode()
    assert "lege@example.no" in page and "<strong>ny@example.no</strong>" in page
    assert "31. desember 2026" in page or "31 December 2026" in page


def test_approving_applies_the_proposal_as_corrected_through_the_write_path(trondheim, editor_trondelag):
    phone = Phone.objects.get(physician=trondheim.physician)
    proposal = proposal_for(
        trondheim,
        email="ny@example.no",
        phones={str(phone.pk): {"number": "+4799887766", "visibility": "public"}},
        end_date="2026-12-31",
        successor={"name": "Ny Overlege", "email": "ny.overlege@example.no", "phone": "+4790011223", "hpr_number": ""},
    )
    client = login(editor_trondelag)
    data = form_data(client.get(decide_url(proposal)))
    data["change-email"] = "rettet@example.no"  # the editor corrects the proposal before approving
    data.update(decision="approve", reason="")
    response = client.post(decide_url(proposal), data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    physician = Physician.objects.get(pk=trondheim.physician_id)
    assert physician.email == "rettet@example.no"
    phone = Phone.objects.get(pk=phone.pk)
    assert (phone.number.as_e164, phone.visibility) == ("+4799887766", "public")
    appointment = Appointment.objects.get(pk=trondheim.pk)
    assert str(appointment.end_date) == "2026-12-31"
    successor = Appointment.objects.get(municipality=trondheim.municipality, physician__name="Ny Overlege")
    assert str(successor.start_date) == "2027-01-01" and successor.role == trondheim.role
    latest = physician.history.latest()
    assert latest.history_user == editor_trondelag
    assert latest.history_change_reason == f"forslag {proposal.pk} fra legen, godkjent"
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == (QueueStatus.APPROVED, editor_trondelag)
    assert proposal.applied["email"] == "rettet@example.no" and proposal.changes["email"] == "ny@example.no"
    (message,) = mail.outbox
    assert message.to == ["lege@example.no"] and "har godkjent" in message.body


def test_an_invalid_correction_shows_the_form_again_and_applies_nothing(trondheim, editor_trondelag):
    proposal = proposal_for(trondheim, email="ny@example.no")
    client = login(editor_trondelag)
    data = {**form_data(client.get(decide_url(proposal))), "change-new_phone": "123", "decision": "approve"}
    response = client.post(decide_url(proposal), data)
    assert response.status_code == 200 and "123 er ikke et gyldig telefonnummer" in response.content.decode()
    assert Physician.objects.get(pk=trondheim.physician_id).email == "lege@example.no"
    proposal.refresh_from_db()
    assert proposal.status == QueueStatus.OPEN


def test_rejecting_needs_a_reason_and_tells_the_physician(trondheim, editor_trondelag):
    proposal = proposal_for(trondheim, email="ny@example.no")
    client = login(editor_trondelag)
    response = client.post(decide_url(proposal), {"decision": "reject", "reason": ""})
    assert response.status_code == 200 and "Skriv hvorfor du avviser" in response.content.decode()
    response = client.post(decide_url(proposal), {"decision": "reject", "reason": "Adressen er feil."})
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decision_note) == (QueueStatus.REJECTED, "Adressen er feil.")
    assert Physician.objects.get(pk=trondheim.physician_id).email == "lege@example.no"
    assert "Adressen er feil." in mail.outbox[0].body
    # A decided proposal is not decided again.
    client.post(decide_url(proposal), {"decision": "approve"})
    proposal.refresh_from_db()
    assert proposal.status == QueueStatus.REJECTED


def test_the_write_path_refuses_a_decision_from_another_region(trondheim, editor_vestland):
    from django.core.exceptions import PermissionDenied

    proposal = proposal_for(trondheim, email="ny@example.no")
    with pytest.raises(PermissionDenied):
        services.approve_proposal(proposal, changes=proposal.changes, by=editor_vestland)
    with pytest.raises(PermissionDenied):
        services.reject_proposal(proposal, reason="nei", by=editor_vestland)


def test_an_error_report_goes_to_the_office_and_the_reporter_hears_the_outcome(editor_trondelag, editor_vestland):
    report = services.report_error(
        subject=municipality("5001"), message="Nummeret svarer ikke.", reporter_email="meg@example.no"
    )
    other = login(editor_vestland)
    assert "Nummeret svarer ikke" not in other.get(reverse("admin:registry_errorreport_changelist")).content.decode()
    assert other.get(decide_url(report)).status_code == 403
    client = login(editor_trondelag)
    page = client.get(decide_url(report)).content.decode()
    assert "Nummeret svarer ikke." in page and "meg@example.no" in page
    assert client.post(decide_url(report), {"decision": "approve"}).status_code == 302
    report.refresh_from_db()
    assert (report.status, report.decided_by) == (QueueStatus.APPROVED, editor_trondelag)
    (message,) = mail.outbox
    assert message.to == ["meg@example.no"] and "har rettet oppføringen" in message.body


def test_a_reporter_without_an_address_is_not_written_to(editor_trondelag):
    report = services.report_error(subject=municipality("5001"), message="Feil navn.")
    client = login(editor_trondelag)
    client.post(decide_url(report), {"decision": "reject", "reason": "Navnet er riktig."})
    assert ErrorReport.objects.get(pk=report.pk).status == QueueStatus.REJECTED and mail.outbox == []
