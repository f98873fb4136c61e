"""End to end through a real SMTP server: the confirmation e-mail leaves through Django's SMTP backend, as in
production, arrives at a server started here on a free loopback port, and its link confirms the entry."""

import email
import io
import re
import socket
import threading

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.test import Client

from registry.models import Appointment
from tests.factories import AppointmentFactory, PhysicianFactory, municipality

pytestmark = pytest.mark.django_db


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages = []
        self.received = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content)))
        self.received.set()
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.REGISTRY_SITE_URL = "https://registeret.example.no"
    try:
        yield inbox
    finally:
        controller.stop()


def test_the_confirmation_email_goes_through_smtp_and_its_link_confirms_the_entry(smtp_server):
    physician = PhysicianFactory(name="Siri Smtp", email="siri@example.no")
    appointment = AppointmentFactory(physician=physician, municipality=municipality("5001"))
    call_command("send_confirmation_requests")
    assert smtp_server.received.wait(10), "the SMTP server received nothing"
    ((recipients, message),) = smtp_server.messages
    assert recipients == ["siri@example.no"]
    assert "Er oppføringen din riktig?" in str(email.header.make_header(email.header.decode_header(message["Subject"])))
    body = message.get_payload(decode=True).decode(message.get_content_charset())
    (path,) = re.findall(r"https://registeret\.example\.no(/bekreft/\S+/)", body)
    browser = Client(headers={"Accept-Language": "nb"})
    page = browser.get(path)
    assert page.status_code == 200 and "Siri Smtp" in page.content.decode()
    assert browser.post(path).status_code == 200
    confirmed = Appointment.objects.get(pk=appointment.pk)
    assert confirmed.verified_at is not None
    assert confirmed.history.latest().history_change_reason == "bekreftet av legen gjennom bekreftelseslenken"


def test_an_smtp_server_that_is_down_leaves_the_request_to_be_sent_again(settings):
    from registry.models import ConfirmationRequest

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 5
    settings.REGISTRY_SITE_URL = "https://registeret.example.no"
    AppointmentFactory(physician=PhysicianFactory(email="nede@example.no"), municipality=municipality("5001"))
    call_command("send_confirmation_requests", stdout=io.StringIO(), stderr=io.StringIO())
    request = ConfirmationRequest.objects.get()
    assert request.sent_at is None and request.error
