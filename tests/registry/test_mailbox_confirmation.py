"""Role mailboxes are confirmed by link too: whoever reads kommuneoverlege@… confirms the address, proposes a new
one, or says it is no longer in use; the office that keeps it decides, through the write path."""

import datetime
import io
import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from registry import services
from registry.coverage import coverage_by_office
from registry.models import (
    Arrangement,
    ArrangementKind,
    ConfirmationLink,
    ContactKind,
    FunctionContact,
    LinkOutcome,
    Membership,
    Proposal,
    QueueStatus,
    Role,
    Visibility,
)
from registry.upkeep import plan_requests
from tests.accounts.conftest import login
from tests.factories import FunctionContactFactory, municipality, write

pytestmark = pytest.mark.django_db
SITE = "https://registeret.example.no"
TITLE = "Rollepostkassen for kommuneoverlege i 5001 Trondheim"


@pytest.fixture(autouse=True)
def site(settings):
    settings.REGISTRY_SITE_URL = SITE


@pytest.fixture
def client():
    return Client(headers={"Accept-Language": "nb"})


def mailbox(address="kommuneoverlege@trondheim.kommune.no", **fields):
    fields.setdefault("municipality", municipality("5001"))
    fields.setdefault("role", Role.CHIEF_PHYSICIAN)
    return FunctionContactFactory(kind=ContactKind.ROLE_MAILBOX, email=address, number=None, **fields)


def send():
    with translation.override("en"):
        call_command("send_confirmation_requests", stdout=io.StringIO(), stderr=io.StringIO())


def link_in(message):
    """The path of the (first) link in `message`."""
    return re.search(re.escape(SITE) + r"(/bekreft/[^/\s]+/)", message.body).group(1)


def test_a_role_mailbox_not_confirmed_lately_is_asked_and_numbers_without_an_address_are_not():
    asked = mailbox()
    FunctionContactFactory(kind=ContactKind.EMERGENCY)  # a number: nobody to e-mail
    fresh = mailbox("smittevern@trondheim.kommune.no", role=Role.INFECTION_CONTROL_PHYSICIAN)
    services.confirm_entries(entries=[fresh], by=services.SYSTEM)
    planned = {plan.recipient: [entry for _kind, entry in plan.entries] for plan in plan_requests()}
    assert planned == {"kommuneoverlege@trondheim.kommune.no": [asked]}


def test_the_mailbox_gets_a_link_to_a_page_showing_what_the_registry_holds(client):
    mailbox(visibility=Visibility.AUTHORITIES, opening_hours="hverdager 08–15.30")
    send()
    (message,) = mail.outbox
    assert message.to == ["kommuneoverlege@trondheim.kommune.no"] and f"{TITLE}:" in message.body
    page = client.get(link_in(message)).content.decode()
    assert "kommuneoverlege@trondheim.kommune.no" in page and "hverdager 08–15.30" in page
    assert "kun for myndigheter" in page, "the page says who sees the address"
    assert "Statsforvalteren i Trøndelag" in page


def test_this_is_correct_confirms_the_mailbox_and_history_says_the_mailbox_did(client):
    contact = mailbox()
    send()
    assert client.post(link_in(mail.outbox[0])).status_code == 200
    contact.refresh_from_db()
    assert contact.verified_at is not None and contact.verified_by is None
    assert contact.history.latest().history_change_reason == "bekreftet av rollepostkassen gjennom bekreftelseslenken"
    link = ConfirmationLink.objects.get(function_contact=contact)
    assert (link.used_at, link.outcome) == (contact.verified_at, LinkOutcome.CONFIRMED)


def test_a_mailbox_confirmed_through_its_link_counts_as_confirmed_by_link_on_the_coverage_page(client):
    mailbox()  # Trondheim's entry is its mailbox alone: as fresh as its confirmation
    before = {row.office.code: row for row in coverage_by_office()[0]}["trondelag"].confirmed_through_link
    send()
    client.post(link_in(mail.outbox[0]))
    after = {row.office.code: row for row in coverage_by_office()[0]}["trondelag"].confirmed_through_link
    assert after - before == 1


def test_a_new_address_is_proposed_checked_by_the_office_and_applied(client, editor_trondelag, editor_vestland):
    contact = mailbox()
    send()
    url = link_in(mail.outbox[0])
    unchanged = client.post(url + "endre/", {"email": contact.email, "comment": ""})
    assert unchanged.status_code == 400 and "ikke endret noe" in unchanged.content.decode()
    bad = client.post(url + "endre/", {"email": "ikke en adresse", "comment": ""})
    assert bad.status_code == 400 and not Proposal.objects.exists()
    filed = client.post(url + "endre/", {"email": "overlege@trondheim.kommune.no", "comment": "Ny adresse."})
    assert filed.status_code == 200
    proposal = Proposal.objects.get()
    decide = reverse("admin:registry_proposal_change", args=[proposal.pk])
    assert login(editor_vestland).get(decide).status_code == 403
    page = login(editor_trondelag).get(decide).content.decode()
    assert "overlege@trondheim.kommune.no" in page and "kommuneoverlege@trondheim.kommune.no" in page
    mail.outbox.clear()
    response = login(editor_trondelag).post(
        decide, {"decision": "approve", "change-email": "overlege@trondheim.kommune.no", "change-comment": ""}
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.email == "overlege@trondheim.kommune.no"
    assert contact.history.latest().history_change_reason == f"forslag {proposal.pk} fra rollepostkassen, godkjent"
    assert Proposal.objects.get().status == QueueStatus.APPROVED
    (told,) = mail.outbox
    assert told.to == ["kommuneoverlege@trondheim.kommune.no"] and "Statsforvalteren i Trøndelag" in told.body


def test_a_mailbox_no_longer_in_use_is_removed_on_approval_and_the_proposal_stays(
    client, editor_trondelag, national_admin
):
    contact = mailbox()
    send()
    client.post(link_in(mail.outbox[0]) + "endre/", {"email": contact.email, "gone": "on", "comment": "Nedlagt."})
    proposal = Proposal.objects.get()
    decide = reverse("admin:registry_proposal_change", args=[proposal.pk])
    mail.outbox.clear()
    response = login(editor_trondelag).post(
        decide, {"decision": "approve", "change-email": contact.email, "change-gone": "on", "change-comment": ""}
    )
    assert response.status_code == 302
    assert not FunctionContact.objects.filter(pk=contact.pk).exists()
    proposal = Proposal.objects.get()
    assert proposal.status == QueueStatus.APPROVED and proposal.link.function_contact is None
    (told,) = mail.outbox
    assert "Statsforvalteren i Trøndelag" in told.body and TITLE.lower() in told.body.lower()
    # The decided proposal's page says what happened instead of failing.
    follow = login(national_admin).get(decide)
    assert follow.status_code == 302 and follow["Location"] == reverse("admin:registry_proposal_changelist")


def test_the_mailbox_of_an_arrangement_across_a_border_goes_to_both_offices(client, editor_trondelag, editor_vestland):
    (arrangement,) = write(Arrangement(name="Grensesamarbeidet", kind=ArrangementKind.INTERMUNICIPAL))
    since = timezone.localdate() - datetime.timedelta(days=30)
    write(
        *[Membership(arrangement=arrangement, municipality=municipality(n), valid_from=since) for n in ("5045", "4601")]
    )
    mailbox("post@grensesamarbeidet.no", municipality=None, arrangement=arrangement)
    send()
    client.post(link_in(mail.outbox[0]) + "endre/", {"email": "ny@grensesamarbeidet.no", "comment": ""})
    changelist = reverse("admin:registry_proposal_changelist")
    for editor in (editor_trondelag, editor_vestland):
        assert "post@grensesamarbeidet.no" in login(editor).get(changelist).content.decode()


def test_a_used_mailbox_link_changes_nothing(client):
    contact = mailbox()
    send()
    url = link_in(mail.outbox[0])
    client.post(url)
    response = client.post(url + "endre/", {"email": "annen@example.no", "comment": ""})
    assert response.status_code == 410 and not Proposal.objects.exists()
    assert FunctionContact.objects.get(pk=contact.pk).email == "kommuneoverlege@trondheim.kommune.no"
