import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from registry.models import (
    Appointment,
    ArrangementKind,
    District,
    Legevakt,
    Municipality,
    Phone,
    Physician,
    Role,
    Visibility,
)
from tests.factories import PhysicianFactory

pytestmark = pytest.mark.django_db


def load(*args):
    out = io.StringIO()
    with translation.override("en"):
        call_command("load_demo_data", *args, stdout=out)
    return out.getvalue()


def test_demo_data_covers_the_cases_the_registry_exists_for(today):
    output = load()
    shared = Physician.objects.get(email="kari.fiktivsen@example.no")
    # Indre Namdal legetjeneste: one appointment, to the arrangement, holds the role in all four.
    (namdal,) = shared.appointments.current()
    assert namdal.arrangement.kind == ArrangementKind.TASK_COMMUNITY
    assert sorted(namdal.arrangement.memberships.values_list("municipality__number", flat=True)) == [
        "5042",
        "5043",
        "5044",
        "5045",
    ]
    four = Municipality.objects.filter(number__in=["5042", "5043", "5044", "5045"])
    assert four.with_current(Role.CHIEF_PHYSICIAN).count() == 4
    # Before 2026 the same physician was appointed in each: who held the role then still has an answer.
    assert shared.appointments.filter(end_date=datetime.date(2025, 12, 31)).count() == 4
    # Oslo's districts, an intermunicipal legevakt, and entries in every office's region.
    assert District.objects.filter(appointments__isnull=False).count() >= 10
    assert Legevakt.objects.get(name="Demo Namdal interkommunale legevakt").municipalities.count() == 6
    offices = set(
        Appointment.objects.current()
        .exclude(municipality=None)
        .values_list("municipality__county__county_governor__code", flat=True)
    )
    assert len(offices) == 10
    assert Municipality.objects.active().not_confirmed_lately().filter(appointments__isnull=False).exists()
    assert all(name.startswith("Demo ") for name in Physician.objects.values_list("name", flat=True))
    assert Appointment.objects.current().filter(role=Role.DEPUTY).exists()
    assert Appointment.objects.current().filter(role=Role.INFECTION_CONTROL_PHYSICIAN).exists()
    assert Phone.objects.filter(number__startswith="+46").exists()
    assert Phone.objects.filter(visibility=Visibility.AUTHORITIES).exists()
    # Bodø's chief physician left: a vacancy.
    assert not Appointment.objects.current().filter(municipality__number="1804", role=Role.CHIEF_PHYSICIAN).exists()
    assert Appointment.objects.filter(municipality__number="1804").exists()
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser and "Demo administrator: username 'admin'" in output


def test_demo_data_is_idempotent():
    load()
    counts = (Physician.objects.count(), Appointment.objects.count(), Phone.objects.count())
    load()
    assert (Physician.objects.count(), Appointment.objects.count(), Phone.objects.count()) == counts


def test_demo_admin_password_that_is_printed_works(client):
    output = load()
    password = output.split("password ")[1].strip().strip("'")
    assert client.login(username="admin", password=password)


def test_refuses_a_database_with_real_entries_unless_forced():
    PhysicianFactory(email="ekte.lege@kommune.no")
    with pytest.raises(CommandError, match="not demo data"):
        load()
    with pytest.raises(CommandError, match="ikke er demodata"), translation.override("nb"):
        call_command("load_demo_data")
    assert not Physician.objects.filter(email__endswith="@example.no").exists()
    load("--force")
    assert Physician.objects.filter(email__endswith="@example.no").exists()


def test_the_demo_has_an_entry_due_for_confirmation_by_link(settings):
    """A fresh clone's `send_confirmation_requests` has a link to send: Stavanger's entry falls due within a month."""
    from registry.demo import load_demo_data
    from registry.models import Appointment
    from registry.upkeep import due_cutoff, plan_requests

    settings.REGISTRY_STALE_AFTER_DAYS = 182
    load_demo_data()
    plans = plan_requests()
    planned = {plan.recipient: [str(entry) for _kind, entry in plan.entries] for plan in plans}
    assert planned["liv.oppspinn@example.no"] == ["Demo Liv Oppspinn – kommuneoverlege, 1103 Stavanger"]
    # … and Bergen's role mailbox, which confirms itself by link.
    assert planned["kommuneoverlege@bergen.example.no"] == [
        "funksjonsadresse (e-post): kommuneoverlege@bergen.example.no"
    ]
    # Only entries due: confirmed before the cut-off (Stavanger, and the demo's entries meant to look stale).
    cutoff = due_cutoff(timezone.localdate())
    entries = [entry for plan in plans for _kind, entry in plan.entries]
    assert all(entry.verified_at < cutoff for entry in entries)
    fresh = Appointment.objects.filter(verified_at__gte=cutoff, physician__email__endswith="@example.no")
    appointments = {entry.pk for entry in entries if isinstance(entry, Appointment)}
    assert fresh.exists() and not appointments & set(fresh.values_list("pk", flat=True))
