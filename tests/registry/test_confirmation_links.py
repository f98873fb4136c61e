"""Confirmation by link: who is asked, the e-mail, and the page that confirms or proposes (registry.upkeep)."""

import datetime
import io
import re
import time

import pytest
from django.core import mail, signing
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone, translation

from registry import services
from registry.models import (
    Appointment,
    ConfirmationLink,
    ConfirmationRequest,
    LinkOutcome,
    Phone,
    PhoneKind,
    Physician,
    Proposal,
    Visibility,
)
from registry.phones import parse_phone
from registry.upkeep import LINK_SALT, plan_requests
from tests.factories import AppointmentFactory, PhoneFactory, PhysicianFactory, municipality, write

pytestmark = pytest.mark.django_db

SITE = "https://registeret.example.no"


@pytest.fixture(autouse=True)
def site(settings):
    settings.REGISTRY_SITE_URL = SITE


@pytest.fixture
def client():
    """A physician's browser, in Norwegian as the e-mail's reader."""
    return Client(headers={"Accept-Language": "nb"})


def confirmed(entry, days_ago):
    """Confirm `entry` as if `days_ago` days ago (by the office)."""
    services.confirm_entries(
        entries=[entry], by=services.SYSTEM, now=timezone.now() - datetime.timedelta(days=days_ago)
    )
    return type(entry).objects.get(pk=entry.pk)


@pytest.fixture
def kari():
    """Kari serves Grong and Lierne (one address, two entries), with a public and an authorities-only mobile."""
    physician = PhysicianFactory(name="Kari Lenke", email="kari@example.no")
    PhoneFactory(physician=physician, number=parse_phone("412 34 567"))
    PhoneFactory(physician=physician, number=parse_phone("934 56 789"), visibility=Visibility.AUTHORITIES)
    return {
        "physician": physician,
        "grong": AppointmentFactory(physician=physician, municipality=municipality("5045")),
        "lierne": AppointmentFactory(physician=physician, municipality=municipality("5042")),
    }


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        call_command("send_confirmation_requests", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def links_in(message):
    return re.findall(re.escape(SITE) + r"(/bekreft/[^/\s]+/)", message.body)


def link_for(message, title):
    """The address (path) of the link under the line that names `title` in the e-mail."""
    lines = message.body.splitlines()
    line = next(i for i, text in enumerate(lines) if title in text)
    return lines[line + 1].removeprefix(SITE)


# Who is asked.


def test_entries_not_confirmed_lately_or_falling_due_within_a_month_are_asked(settings):
    settings.REGISTRY_STALE_AFTER_DAYS = 182
    never = AppointmentFactory(physician=PhysicianFactory(email="never@example.no"))
    soon = confirmed(AppointmentFactory(physician=PhysicianFactory(email="soon@example.no")), days_ago=170)
    fresh = confirmed(AppointmentFactory(physician=PhysicianFactory(email="fresh@example.no")), days_ago=100)
    no_address = AppointmentFactory(physician=PhysicianFactory(email=""))
    ended = AppointmentFactory(physician=PhysicianFactory(email="ended@example.no"), end_date=datetime.date(2024, 6, 1))
    planned = {plan.recipient: [entry for _kind, entry in plan.entries] for plan in plan_requests()}
    assert planned == {"never@example.no": [never], "soon@example.no": [soon]}
    assert fresh and no_address and ended


def test_one_address_gets_one_email_with_a_link_for_each_entry(kari):
    out, _err = run()
    (message,) = mail.outbox
    assert message.to == ["kari@example.no"] and len(links_in(message)) == 2
    assert "5045 Grong" in message.body and "5042 Lierne" in message.body
    assert "1 e-mail(s) sent" in out
    assert ConfirmationRequest.objects.get().sent_at is not None


def test_the_email_is_in_norwegian_whatever_the_shell_speaks(kari):
    run()
    assert "Er oppføringen din riktig?" in mail.outbox[0].subject
    # The entries' titles too, not only the template's text.
    assert "Kommuneoverlege i 5045 Grong:" in mail.outbox[0].body


def test_an_address_is_asked_at_most_once_a_cycle(kari, monkeypatch):
    run()
    run()
    assert len(mail.outbox) == 1, "the second run in the same month sends nothing"
    next_month = timezone.localdate() + datetime.timedelta(days=32)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: next_month)
    run()
    assert len(mail.outbox) == 2, "a new cycle asks again what is still not confirmed"


def test_dry_run_lists_what_it_would_send_and_stores_nothing(kari):
    out, _err = run("--dry-run")
    assert "Would send to kari@example.no" in out and "5042 Lierne" in out
    assert mail.outbox == [] and not ConfirmationRequest.objects.exists()


def test_the_command_needs_the_sites_address(settings, kari):
    settings.REGISTRY_SITE_URL = ""
    with pytest.raises(CommandError, match="REGISTRY_SITE_URL"):
        run()


def test_an_email_that_cannot_be_sent_is_kept_and_sent_again_on_the_next_run(kari, monkeypatch):
    from django.core.mail import EmailMessage

    real_send = EmailMessage.send

    def refuse(self, *args, **kwargs):
        raise ConnectionRefusedError("Connection refused")

    monkeypatch.setattr(EmailMessage, "send", refuse)
    out, err = run()
    request = ConfirmationRequest.objects.get()
    assert request.sent_at is None and "Connection refused" in request.error
    assert ConfirmationRequest.objects.failed().count() == 1 and "Could not send to kari@example.no" in err
    monkeypatch.setattr(EmailMessage, "send", real_send)
    run()
    (message,) = mail.outbox
    assert len(links_in(message)) == 2 and ConfirmationRequest.objects.count() == 1
    assert not ConfirmationRequest.objects.failed().exists()


# The link's page.


def grong_link():
    """Send the requests; the link for Kari's entry in Grong, as the e-mail has it."""
    run()
    return link_for(mail.outbox[0], "5045 Grong")


def test_the_page_shows_what_the_public_sees_and_what_only_authorities_see(client, kari):
    link = grong_link()
    response = client.get(link)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Kari Lenke" in page and "kari@example.no" in page
    assert "41 23 45 67" in page and "93 45 67 89" in page, "the physician sees every number the registry holds"
    assert "kun for myndigheter" in page and "alle (den offentlige listen)" in page
    assert "no-store" in response["Cache-Control"] and "public" not in response["Cache-Control"]


def test_this_is_correct_confirms_the_entry_and_history_says_the_physician_did(client, kari):
    url = grong_link()
    link = ConfirmationLink.objects.get(appointment=kari["grong"])
    response = client.post(url)
    assert response.status_code == 200 and "bekreftet" in response.content.decode()
    appointment = Appointment.objects.get(pk=kari["grong"].pk)
    assert appointment.verified_at is not None and appointment.verified_by is None
    latest = appointment.history.latest()
    assert latest.history_change_reason == "bekreftet av legen gjennom bekreftelseslenken"
    physician = Physician.objects.get(pk=kari["physician"].pk)
    assert physician.verified_at == appointment.verified_at
    link.refresh_from_db()
    assert (link.used_at, link.outcome) == (appointment.verified_at, LinkOutcome.CONFIRMED)
    assert Appointment.objects.get(pk=kari["lierne"].pk).verified_at is None, "a link names one entry"


def test_a_used_link_shows_a_clear_page_and_changes_nothing(client, kari):
    url = grong_link()
    client.post(url)
    before = Appointment.objects.get(pk=kari["grong"].pk).verified_at
    for response in (client.get(url), client.post(url), client.get(url + "endre/")):
        assert response.status_code == 410 and "allerede brukt" in response.content.decode()
    assert Appointment.objects.get(pk=kari["grong"].pk).verified_at == before


def test_a_tampered_link_shows_a_clear_page_and_changes_nothing(client, kari):
    url = grong_link()
    token = url.split("/")[2]
    forged = signing.dumps(ConfirmationLink.objects.get(appointment=kari["grong"]).nonce, salt="another-purpose")
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "nonsense", forged):
        response = client.post(f"/bekreft/{bad}/")
        assert response.status_code == 400 and "ikke fullstendig" in response.content.decode()
    assert not Appointment.objects.filter(verified_at__isnull=False).exists()


def test_an_expired_link_shows_a_clear_page_and_changes_nothing(client, kari, monkeypatch, settings):
    settings.REGISTRY_CONFIRMATION_LINK_DAYS = 30
    url = grong_link()
    later = time.time() + 31 * 24 * 3600
    monkeypatch.setattr(signing.time, "time", lambda: later)
    response = client.post(url)
    assert response.status_code == 410 and "30 dager" in response.content.decode()
    assert not Appointment.objects.filter(verified_at__isnull=False).exists()


def test_a_link_whose_entry_has_ended_confirms_nothing(client, kari):
    url = grong_link()
    services.end_appointments([kari["grong"]], on=datetime.date(2024, 6, 1), by=services.SYSTEM, reason="test")
    response = client.post(url)
    assert response.status_code == 410
    assert Appointment.objects.get(pk=kari["grong"].pk).verified_at is None


def test_a_link_for_an_unknown_entry_is_refused_without_a_server_error(client):
    token = signing.dumps("no-such-nonce", salt=LINK_SALT)
    assert client.get(f"/bekreft/{token}/").status_code == 410
    assert client.get(f"/bekreft/{signing.dumps(['a list'], salt=LINK_SALT)}/").status_code == 400


# "Something is wrong": the proposal form.


def proposal_data(kari, **changes):
    phones = {phone.number.as_e164: phone for phone in Phone.objects.filter(physician=kari["physician"])}
    public, restricted = phones["+4741234567"], phones["+4793456789"]
    data = {
        "email": "kari@example.no",
        f"phone_{public.pk}": "41 23 45 67",
        f"visibility_{public.pk}": "public",
        f"phone_{restricted.pk}": "93 45 67 89",
        f"visibility_{restricted.pk}": "authorities",
        "new_phone": "",
        "new_phone_kind": "mobile",
        "new_phone_visibility": "public",
        "end_date": "",
        "successor_name": "",
        "successor_email": "",
        "successor_phone": "",
        "successor_hpr": "",
        "comment": "",
    }
    data.update(changes)
    return data, public, restricted


def test_a_proposal_with_an_invalid_number_shows_the_form_again_with_the_error(client, kari):
    url = grong_link() + "endre/"
    data, public, _restricted = proposal_data(kari, new_phone="12 34")
    response = client.post(url, data)
    page = response.content.decode()
    assert response.status_code == 400 and "12 34 er ikke et gyldig telefonnummer" in page
    assert 'value="12 34"' in page, "what was typed is kept"
    assert not Proposal.objects.exists() and ConfirmationLink.objects.filter(used_at__isnull=True).count() == 2


def test_a_proposal_that_changes_nothing_is_refused_with_a_hint(client, kari):
    url = grong_link() + "endre/"
    data, _public, _restricted = proposal_data(kari)
    response = client.post(url, data)
    assert response.status_code == 400 and "Du har ikke endret noe" in response.content.decode()


def test_an_end_date_before_the_post_began_is_refused(client, kari):
    url = grong_link() + "endre/"
    data, _public, _restricted = proposal_data(kari, end_date="2020-01-01")
    assert client.post(url, data).status_code == 400 and not Proposal.objects.exists()


def test_a_valid_proposal_is_filed_for_the_office_and_uses_the_link(client, kari):
    url = grong_link() + "endre/"
    data, public, restricted = proposal_data(kari)
    data.update(
        {
            "email": "kari.ny@example.no",
            f"phone_{restricted.pk}": "",
            "new_phone": "+46 70 123 45 67",
            "end_date": "2026-12-31",
            "successor_name": "Ola Etterfølger",
            "successor_phone": "98765432",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 200 and "forslaget er sendt" in response.content.decode()
    proposal = Proposal.objects.get()
    assert proposal.changes["email"] == "kari.ny@example.no"
    assert proposal.changes["phones"] == {str(restricted.pk): {"number": "", "visibility": "authorities"}}
    assert proposal.changes["new_phone"] == {"number": "+46701234567", "kind": "mobile", "visibility": "public"}
    assert proposal.changes["end_date"] == "2026-12-31"
    assert proposal.changes["successor"]["phone"] == "+4798765432"
    assert proposal.link.outcome == LinkOutcome.PROPOSED
    # A proposal changes nothing by itself.
    assert Physician.objects.get(pk=kari["physician"].pk).email == "kari@example.no"
    assert Phone.objects.filter(pk=restricted.pk).exists() and public.pk
    assert client.post(url, data).status_code == 410, "the link is used up"


def test_the_proposal_form_is_not_shared_or_cached(client, kari):
    response = client.get(grong_link() + "endre/")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert "csrfmiddlewaretoken" in response.content.decode()


def test_a_number_of_the_post_itself_is_shown_with_the_entry(client, kari):
    post_phone = Phone(appointment=kari["grong"], number=parse_phone("73 00 00 01"), kind=PhoneKind.OFFICE)
    write(post_phone)
    page = client.get(grong_link()).content.decode()
    assert "73 00 00 01" in page
