"""Any organisation model: intermunicipal arrangements, districts, the function's own contacts, dates."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from accounts.access import editable
from registry import services
from registry.coverage import coverage_by_office, districts_without_chief_physician
from registry.directory import build_entries
from registry.models import (
    Appointment,
    Arrangement,
    ArrangementKind,
    ContactKind,
    District,
    FunctionContact,
    Legevakt,
    Membership,
    Municipality,
    Role,
    Visibility,
)
from registry.phones import parse_phone
from tests.factories import AppointmentFactory, FunctionContactFactory, PhysicianFactory, municipality, write

pytestmark = pytest.mark.django_db

NAMDAL = ["5045", "5042", "5044", "5043"]
JOINED = datetime.date(2026, 1, 1)


def arrangement(name="Indre Namdal legetjeneste", members=NAMDAL, since=JOINED, **fields):
    (made,) = write(Arrangement(name=name, kind=fields.pop("kind", ArrangementKind.TASK_COMMUNITY), **fields))
    write(*[Membership(arrangement=made, municipality=municipality(n), valid_from=since) for n in members])
    return made


def entry(number, day=None):
    (found,) = build_entries(
        Municipality.objects.for_directory(on=day).filter(number=number), include_restricted=True, today=day
    )
    return found


# Arrangements.


def test_an_appointment_to_an_arrangement_gives_the_role_in_every_member(today):
    namdal = arrangement()
    kari = PhysicianFactory(name="Kari Felles")
    AppointmentFactory(physician=kari, municipality=None, arrangement=namdal, start_date=JOINED)

    for number in NAMDAL:
        with translation.override("nb"):
            contacts = entry(number).chief_physicians
            through = str(contacts[0].through)
        assert [c.name for c in contacts] == ["Kari Felles"]
        assert through == "Indre Namdal legetjeneste (kommunalt oppgavefellesskap): Grong, Lierne, Namsskogan, Røyrvik"
    assert not Municipality.objects.filter(number__in=NAMDAL).without_current(Role.CHIEF_PHYSICIAN).exists()
    assert Municipality.objects.filter(number="5046").without_current(Role.CHIEF_PHYSICIAN).exists()


def test_the_role_holds_only_during_the_membership(today):
    namdal = arrangement(members=["5045"])
    write(
        Membership(
            arrangement=namdal,
            municipality=municipality("5042"),
            valid_from=datetime.date(2025, 1, 1),
            valid_to=datetime.date(2025, 12, 31),
        )
    )
    AppointmentFactory(municipality=None, arrangement=namdal, start_date=datetime.date(2025, 1, 1))

    assert entry("5042").chief_physicians == []  # left the arrangement at the end of 2025
    assert len(entry("5042", day=datetime.date(2025, 6, 1)).chief_physicians) == 1
    assert entry("5045", day=datetime.date(2025, 6, 1)).chief_physicians == []  # joined in 2026


def test_who_held_the_role_in_grong_on_a_past_day(today):
    kari, ola = PhysicianFactory(name="Kari Før"), PhysicianFactory(name="Ola Nå")
    AppointmentFactory(
        physician=kari,
        municipality=municipality("5045"),
        start_date=datetime.date(2024, 1, 1),
        end_date=JOINED - datetime.timedelta(days=1),
    )
    AppointmentFactory(physician=ola, municipality=None, arrangement=arrangement(), start_date=JOINED)

    assert [c.name for c in entry("5045", day=datetime.date(2025, 6, 1)).chief_physicians] == ["Kari Før"]
    assert [c.name for c in entry("5045").chief_physicians] == ["Ola Nå"]


def test_an_arrangement_for_one_role_leaves_the_others_to_each_member(today):
    shared = arrangement(
        name="Smittevern Sunnhordland",
        members=["4613", "4614"],
        since=datetime.date(2024, 1, 1),
        kind=ArrangementKind.HOST_MUNICIPALITY,
        roles=Role.INFECTION_CONTROL_PHYSICIAN,
    )
    AppointmentFactory(municipality=None, arrangement=shared, role=Role.INFECTION_CONTROL_PHYSICIAN)
    with pytest.raises(ValidationError):
        write(Appointment(physician=PhysicianFactory(), arrangement=shared, role=Role.CHIEF_PHYSICIAN))
    assert len(entry("4613").infection_control_physicians) == 1
    assert entry("4613").chief_physicians == [] and not entry("4613").has_chief_physician


def test_coverage_counts_a_role_held_through_an_arrangement(today):
    before = coverage_by_office()[1].with_chief_physician
    AppointmentFactory(municipality=None, arrangement=arrangement(), start_date=JOINED)
    assert coverage_by_office()[1].with_chief_physician == before + 4


def test_an_arrangement_across_two_offices_is_kept_by_both(editor_trondelag, editor_vestland, today):
    both = arrangement(name="Over grensen", members=["5045", "4601"])
    assert editable(Arrangement, editor_trondelag).filter(pk=both.pk).exists()
    assert editable(Arrangement, editor_vestland).filter(pk=both.pk).exists()
    inside = arrangement(name="Bare Trøndelag", members=["5045"])
    assert not editable(Arrangement, editor_vestland).filter(pk=inside.pk).exists()
    inside.note = "kapret"
    with pytest.raises(PermissionDenied):
        services.save_entries([inside], by=editor_vestland, reason="test")


def test_an_office_adds_only_its_own_municipalities_to_an_arrangement(editor_trondelag, today):
    namdal = arrangement()
    with pytest.raises(PermissionDenied):
        services.save_entries(
            [Membership(arrangement=namdal, municipality=municipality("4601"), valid_from=JOINED)],
            by=editor_trondelag,
            reason="test",
        )
    services.save_entries(
        [Membership(arrangement=namdal, municipality=municipality("5046"), valid_from=JOINED)],
        by=editor_trondelag,
        reason="test",
    )
    assert namdal.memberships.count() == 5


def test_shared_appointments_become_one_arrangement_in_one_step_with_history(editor_trondelag, today):
    kari = PhysicianFactory(name="Kari Delt")
    old = [AppointmentFactory(physician=kari, municipality=municipality(n)) for n in NAMDAL]
    made = services.form_arrangement(
        old,
        arrangement=Arrangement(name="Indre Namdal", kind=ArrangementKind.TASK_COMMUNITY),
        on=today,
        by=editor_trondelag,
        reason="samlet",
    )
    assert sorted(made.memberships.values_list("municipality__number", flat=True)) == sorted(NAMDAL)
    (new,) = Appointment.objects.filter(arrangement=made)
    assert (new.physician, new.role, new.start_date) == (kari, Role.CHIEF_PHYSICIAN, today)
    for appointment in Appointment.objects.filter(pk__in=[a.pk for a in old]):
        assert appointment.end_date == today - datetime.timedelta(days=1)
        assert appointment.history.latest().history_change_reason == "samlet"
    assert all(len(entry(n).chief_physicians) == 1 for n in NAMDAL)


def test_the_admin_action_makes_an_arrangement(client, national_admin, today):
    client.force_login(national_admin)
    kari = PhysicianFactory(name="Kari Delt")
    old = [AppointmentFactory(physician=kari, municipality=municipality(n)) for n in NAMDAL]
    data = {
        "action": "form_arrangement",
        "_selected_action": [a.pk for a in old],
        "apply": "1",
        "name": "Indre Namdal legetjeneste",
        "kind": ArrangementKind.TASK_COMMUNITY,
        "on": today.isoformat(),
    }
    client.post("/admin/registry/appointment/", data)
    assert Arrangement.objects.get().memberships.count() == 4


# Districts.


def test_ssbs_districts_are_loaded_and_oslos_run_health_services():
    assert District.objects.count() == 38
    oslo = set(District.objects.with_health_services().values_list("name", flat=True))
    assert len(oslo) == 15 and "Grünerløkka" in oslo and "Sentrum" not in oslo and "Marka" not in oslo
    assert " grunerlokka" in District.objects.get(name="Grünerløkka").search_text


def test_a_district_holds_its_own_chief_physician_without_filling_the_municipalitys(today):
    grunerlokka = District.objects.get(name="Grünerløkka")
    (appointment,) = write(Appointment(physician=PhysicianFactory(), district=grunerlokka, start_date=today))
    assert appointment.municipality.number == "0301"
    assert not entry("0301").has_chief_physician
    missing = {d.name for d in districts_without_chief_physician()}
    assert "Grünerløkka" not in missing and "Østensjø" in missing and "Sentrum" not in missing


def test_a_districts_appointment_must_be_in_its_municipality(today):
    with pytest.raises(ValidationError):
        write(
            Appointment(
                physician=PhysicianFactory(),
                municipality=municipality("4601"),
                district=District.objects.get(name="Grünerløkka"),
            )
        )


# Function contacts.


def test_a_new_emergency_number_is_for_authorities_only_unless_the_office_says_otherwise():
    from registry.models import default_visibility

    assert default_visibility(ContactKind.EMERGENCY) == Visibility.AUTHORITIES
    assert default_visibility(ContactKind.SWITCHBOARD) == Visibility.PUBLIC


def test_function_contacts_count_in_the_entrys_confirmation(today):
    appointment = AppointmentFactory(municipality=municipality("5045"))
    services.confirm_entries(entries=[appointment], by=services.SYSTEM)
    assert Municipality.objects.for_directory().get(number="5045").confirmed_lately
    FunctionContactFactory(municipality=municipality("5045"))
    assert not Municipality.objects.for_directory().get(number="5045").confirmed_lately
    services.confirm_entries(entries=list(FunctionContact.objects.all()), by=services.SYSTEM)
    assert Municipality.objects.for_directory().get(number="5045").confirmed_lately


def test_a_mailbox_is_an_address_and_a_number_a_number():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        write(
            FunctionContact(
                municipality=municipality("5045"), kind=ContactKind.ROLE_MAILBOX, number=parse_phone("74000000")
            )
        )


def test_the_arrangements_24_7_number_counts_for_its_members(today):
    namdal = arrangement()
    assert Municipality.objects.for_directory().get(number="5043").has_emergency_number is False
    FunctionContactFactory(municipality=None, arrangement=namdal)
    found = Municipality.objects.for_directory().get(number="5043")
    assert found.has_emergency_number and len(entry("5043").emergency_numbers) == 1
    assert not Municipality.objects.without_contact(ContactKind.EMERGENCY).filter(number="5043").exists()


# Out-of-hours clinics.


def test_an_intermunicipal_legevakt_serves_several_and_is_kept_by_their_offices(editor_trondelag, editor_vestland):
    (clinic,) = write(Legevakt(name="Namdal legevakt", number=parse_phone("74000116")))
    services.set_served(clinic, [municipality(n) for n in NAMDAL], by=services.SYSTEM, reason="test")
    assert clinic.visibility == Visibility.AUTHORITIES
    assert [c.name for c in entry("5043").legevakter] == ["Namdal legevakt"]
    assert editable(Legevakt, editor_trondelag).filter(pk=clinic.pk).exists()
    assert not editable(Legevakt, editor_vestland).filter(pk=clinic.pk).exists()
    with pytest.raises(PermissionDenied):
        services.set_served(clinic, [municipality("4601")], by=editor_vestland, reason="test")
    with pytest.raises(PermissionDenied):
        services.set_served(
            clinic, [*clinic.municipalities.all(), municipality("4601")], by=editor_trondelag, reason="t"
        )


# Budgets.


def test_the_full_list_stays_within_ten_queries_whatever_the_organisation(client, django_assert_max_num_queries, today):
    from registry.demo import load_demo_data

    load_demo_data()
    for index in range(5):
        extra = arrangement(name=f"Ordning {index}", members=[["5020", "5021", "5022", "5031", "5032"][index], "5034"])
        AppointmentFactory(municipality=None, arrangement=extra)
        FunctionContactFactory(municipality=None, arrangement=extra)
    with django_assert_max_num_queries(10):
        response = client.get("/")
    assert response.status_code == 200 and "Ordning 4" in response.content.decode()
