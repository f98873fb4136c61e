"""Offices own their entries: who keeps a physician, and every path by which another office might take one over.

The Trøndelag editor is the one trying; "Lege Vestlending" is a physician Vestland keeps (appointed in Bergen).
"""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.access import editable, keepers_of
from registry import services
from registry.models import Appointment, CountyGovernor, Phone, Physician, Visibility
from tests.accounts.conftest import BERGEN, TRONDHEIM, appointment_form
from tests.factories import AppointmentFactory, PhoneFactory, PhysicianFactory, municipality, write

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"admin:registry_{name}", args=args)


def office(code):
    return CountyGovernor.objects.get(code=code)


# The rule.


def test_a_physician_belongs_to_the_offices_of_their_current_and_future_appointments(today):
    physician = PhysicianFactory()
    AppointmentFactory(physician=physician, municipality=municipality(TRONDHEIM))
    AppointmentFactory(
        physician=physician, municipality=municipality(BERGEN), start_date=today + datetime.timedelta(days=30)
    )
    assert {o.code for o in keepers_of([physician.pk])[physician.pk]} == {"trondelag", "vestland"}


def test_an_ended_appointment_gives_no_rights(today):
    physician = PhysicianFactory(registered_by=office("vestland"))
    AppointmentFactory(
        physician=physician, municipality=municipality(TRONDHEIM), end_date=today - datetime.timedelta(days=1)
    )
    # With no open appointment, the registering office keeps them; Trøndelag's ended one counts for nothing.
    assert [o.code for o in keepers_of([physician.pk])[physician.pk]] == ["vestland"]


def test_a_physician_nobody_keeps_belongs_to_the_national_administrators(editor_trondelag, national_admin):
    physician = PhysicianFactory()
    assert keepers_of([physician.pk])[physician.pk] == []
    assert not editable(Physician, editor_trondelag).filter(pk=physician.pk).exists()
    assert editable(Physician, national_admin).filter(pk=physician.pk).exists()


def test_the_office_that_registers_a_physician_is_recorded(editor_trondelag):
    (physician,) = services.save_entries([Physician(name="Ny Lege")], by=editor_trondelag, reason="test")
    assert physician.registered_by == office("trondelag")
    assert editable(Physician, editor_trondelag).filter(pk=physician.pk).exists()


# The write path refuses, whoever calls it.


def test_the_write_path_refuses_another_offices_physician(editor_trondelag, foreign):
    physician = foreign["physician"]
    physician.email = "kapret@example.no"
    with pytest.raises(PermissionDenied) as refused:
        services.save_entries([physician], by=editor_trondelag, reason="test")
    assert "Statsforvaltaren i Vestland" in str(refused.value)
    assert Physician.objects.get(pk=physician.pk).email != "kapret@example.no"


def test_the_write_path_appoints_another_offices_physician_only_with_their_hpr_number(editor_trondelag, foreign):
    physician = foreign["physician"]
    without = Appointment(physician=physician, municipality=municipality(TRONDHEIM), role="deputy")
    with pytest.raises(PermissionDenied):
        services.save_entries([without], by=editor_trondelag, reason="test")
    wrong = Appointment(physician=physician, municipality=municipality(TRONDHEIM), role="deputy")
    wrong.hpr_confirmation = "1"
    with pytest.raises(PermissionDenied):
        services.save_entries([wrong], by=editor_trondelag, reason="test")
    right = Appointment(physician=physician, municipality=municipality(TRONDHEIM), role="deputy")
    right.hpr_confirmation = physician.hpr_number
    services.save_entries([right], by=editor_trondelag, reason="test")
    assert Appointment.objects.filter(physician=physician, municipality__number=TRONDHEIM).exists()


def test_a_back_dated_ended_appointment_gives_no_rights_over_the_person(editor_trondelag, foreign, today):
    """The takeover the first version allowed: an ended helper appointment made the office a co-editor."""
    physician = foreign["physician"]
    helper = Appointment(
        physician=physician,
        municipality=municipality(TRONDHEIM),
        start_date=datetime.date(2020, 1, 1),
        end_date=datetime.date(2020, 12, 31),
    )
    helper.hpr_confirmation = physician.hpr_number
    services.save_entries([helper], by=editor_trondelag, reason="test")
    physician.email = "kapret@example.no"
    with pytest.raises(PermissionDenied):
        services.save_entries([physician], by=editor_trondelag, reason="test")
    phone = foreign["physician_phone"]
    phone.visibility = Visibility.AUTHORITIES
    with pytest.raises(PermissionDenied):
        services.save_entries([phone], by=editor_trondelag, reason="test")


# The admin: form field, inline, crafted POST, bulk action.


def test_a_posted_id_of_another_offices_physician_is_not_a_valid_choice(trondelag_client, foreign):
    data = appointment_form(municipality=municipality(TRONDHEIM).pk, physician=foreign["physician"].pk)
    response = trondelag_client.post(url("appointment_add"), data)
    assert response.status_code == 200 and "physician" in response.context["adminform"].form.errors
    assert not Appointment.objects.filter(municipality__number=TRONDHEIM).exists()


def test_the_form_appoints_another_offices_physician_by_their_exact_hpr_number(trondelag_client, foreign):
    physician = foreign["physician"]
    data = appointment_form(municipality=municipality(TRONDHEIM).pk, physician="", physician_hpr=physician.hpr_number)
    response = trondelag_client.post(url("appointment_add"), data)
    assert response.status_code == 302
    appointment = Appointment.objects.get(municipality__number=TRONDHEIM)
    assert appointment.physician == physician
    # Nothing about the person changed.
    assert Physician.objects.get(pk=physician.pk).email == physician.email


def test_an_unknown_hpr_number_is_an_error_that_says_what_to_do(trondelag_client, foreign):
    data = appointment_form(municipality=municipality(TRONDHEIM).pk, physician="", physician_hpr="9999999")
    response = trondelag_client.post(url("appointment_add"), data, headers={"accept-language": "en"})
    errors = response.context["adminform"].form.errors["physician_hpr"]
    assert "No physician in the registry has the HPR number 9999999" in errors[0]


def test_the_inline_refuses_another_offices_physician_by_id(trondelag_client, own, foreign):
    trondheim = own["municipality"]
    data = {
        "function_contacts-TOTAL_FORMS": "0",
        "function_contacts-INITIAL_FORMS": "0",
        "appointments-TOTAL_FORMS": "1",
        "appointments-INITIAL_FORMS": "0",
        "appointments-0-physician": str(foreign["physician"].pk),
        "appointments-0-municipality": str(trondheim.pk),
        "appointments-0-role": "deputy",
        "appointments-0-start_date": "2020-01-01",
        "appointments-0-end_date": "2020-12-31",
        "appointments-0-note": "",
    }
    response = trondelag_client.post(url("municipality_change", trondheim.pk), data)
    assert response.status_code == 200
    assert not Appointment.objects.filter(physician=foreign["physician"], municipality=trondheim).exists()


def test_a_crafted_post_to_another_offices_physician_changes_nothing(trondelag_client, foreign):
    physician = foreign["physician"]
    data = {
        "name": physician.name,
        "email": "kapret@example.no",
        "hpr_number": physician.hpr_number,
        "phones-TOTAL_FORMS": "0",
        "phones-INITIAL_FORMS": "0",
        "appointments-TOTAL_FORMS": "0",
        "appointments-INITIAL_FORMS": "0",
    }
    response = trondelag_client.post(url("physician_change", physician.pk), data)
    assert response.status_code == 302 and response.url == reverse("admin:index")
    assert Physician.objects.get(pk=physician.pk).email != "kapret@example.no"


def test_a_crafted_post_cannot_make_another_offices_number_public(trondelag_client, foreign):
    phone = PhoneFactory(physician=foreign["physician"], visibility=Visibility.AUTHORITIES)
    data = {"number": str(phone.number), "kind": phone.kind, "visibility": "public", "note": "", "physician": ""}
    trondelag_client.post(url("phone_change", phone.pk), data)
    assert Phone.objects.get(pk=phone.pk).visibility == Visibility.AUTHORITIES


def test_a_shared_physician_appointed_by_hpr_number_is_then_kept_by_both(trondelag_client, foreign):
    physician = foreign["physician"]
    data = appointment_form(municipality=municipality(TRONDHEIM).pk, physician="", physician_hpr=physician.hpr_number)
    trondelag_client.post(url("appointment_add"), data)
    assert trondelag_client.get(url("physician_change", physician.pk)).status_code == 200


def test_the_bulk_confirm_of_physicians_leaves_another_offices_physician_alone(trondelag_client, own, foreign):
    ids = [own["physician"].pk, foreign["physician"].pk]
    trondelag_client.post(url("physician_changelist"), {"action": "confirm_selected", "_selected_action": ids})
    assert Physician.objects.get(pk=own["physician"].pk).verified_at is not None
    assert Physician.objects.get(pk=foreign["physician"].pk).verified_at is None


def test_the_physician_list_names_who_keeps_each(national_client, own, foreign):
    orphan = PhysicianFactory(name="Uten Kontor")
    write(orphan)
    html = national_client.get(url("physician_changelist")).content.decode()
    assert "Statsforvaltaren i Vestland" in html and "Statsforvalteren i Trøndelag" in html
    assert "nasjonale administratorene" in html or "national administrators" in html
