"""Two editors on the same entry: the second save is refused with what changed, never silently lost."""

import pytest
from django.urls import reverse

from registry.models import Appointment, Municipality, Phone, Physician
from tests.browser_forms import form_data
from tests.factories import AppointmentFactory, PhysicianFactory, UserFactory, municipality, remove

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(client):
    """A national administrator who opens an entry first."""
    client.force_login(UserFactory(username="alice", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def bob(db):
    """A second national administrator, in another browser, who opens the same entry."""
    from django.test import Client

    other = Client()
    other.force_login(UserFactory(username="bob", is_staff=True, is_superuser=True))
    return other


def change_url(obj):
    return reverse(f"admin:registry_{obj._meta.model_name}_change", args=[obj.pk])


def open_form(client, obj):
    response = client.get(change_url(obj))
    assert response.status_code == 200
    return form_data(response, f"{obj._meta.model_name}_form")


def errors_of(response):
    form = response.context["adminform"].form
    return " ".join(form.non_field_errors())


def test_second_save_of_a_municipality_is_refused_and_names_the_change(alice, bob):
    grong = municipality("5045")
    form_a, form_b = open_form(alice, grong), open_form(bob, grong)

    form_a["parallel_names"] = "Gråante"
    assert alice.post(change_url(grong), form_a).status_code == 302
    form_b["name"] = "Grong kommune"
    response = bob.post(change_url(grong), form_b)

    assert response.status_code == 200
    message = errors_of(response)
    assert "alice" in message and "Parallelle navn" in message
    assert "Gråante" in message
    grong.refresh_from_db()
    assert grong.name == "Grong" and grong.parallel_names == "Gråante"


def test_saving_the_refused_form_again_is_a_deliberate_overwrite(alice, bob):
    grong = municipality("5045")
    form_a, form_b = open_form(alice, grong), open_form(bob, grong)
    form_a["parallel_names"] = "Gråante"
    alice.post(change_url(grong), form_a)
    form_b["name"] = "Grong kommune"
    refused = bob.post(change_url(grong), form_b)

    again = bob.post(change_url(grong), form_data(refused, "municipality_form"))

    assert again.status_code == 302
    grong.refresh_from_db()
    assert grong.name == "Grong kommune"


def test_one_editor_saving_twice_in_a_row_is_not_a_conflict(alice):
    physician = PhysicianFactory()
    for email in ("first@example.no", "second@example.no"):
        data = open_form(alice, physician)
        data["email"] = email
        assert alice.post(change_url(physician), data).status_code == 302
    physician.refresh_from_db()
    assert physician.email == "second@example.no"


def test_second_save_of_a_physician_is_refused_and_nothing_of_it_is_written(alice, bob):
    physician = PhysicianFactory(name="Kari Lege")
    form_a, form_b = open_form(alice, physician), open_form(bob, physician)
    form_a["name"] = "Kari Nordmann"
    assert alice.post(change_url(physician), form_a).status_code == 302
    # Bob also adds a phone number in the inline: refused together with the rest.
    form_b.update({"email": "bob-endret@example.no", "phones-0-number": "912 34 567"})

    response = bob.post(change_url(physician), form_b)

    assert response.status_code == 200
    assert "Kari Nordmann" in errors_of(response) and "Kari Lege" in errors_of(response)
    physician.refresh_from_db()
    assert physician.name == "Kari Nordmann" and physician.email != "bob-endret@example.no"
    assert not Phone.objects.filter(physician=physician).exists()


def test_second_save_of_an_appointment_is_refused_and_shows_the_end_date(alice, bob):
    appointment = AppointmentFactory(municipality=municipality("5042"))
    form_a, form_b = open_form(alice, appointment), open_form(bob, appointment)
    form_a["end_date"] = "31.12.2025"
    assert alice.post(change_url(appointment), form_a).status_code == 302
    form_b["note"] = "Bob's note"

    response = bob.post(change_url(appointment), form_b)

    assert response.status_code == 200
    assert "31. desember 2025" in errors_of(response)
    appointment.refresh_from_db()
    assert appointment.note == "" and str(appointment.end_date) == "2025-12-31"


def test_an_appointment_changed_on_its_own_page_is_protected_in_the_municipality_inline(alice, bob):
    appointment = AppointmentFactory(municipality=municipality("5043"), note="")
    rorvik = appointment.municipality
    inline_form = open_form(bob, rorvik)
    own_page = open_form(alice, appointment)
    own_page["note"] = "Alice's note"
    assert alice.post(change_url(appointment), own_page).status_code == 302
    inline_form["appointments-0-note"] = "Bob's note"

    response = bob.post(change_url(rorvik), inline_form)

    assert response.status_code == 200
    inline_errors = [
        " ".join(form.non_field_errors())
        for formset in response.context["inline_admin_formsets"]
        for form in formset.formset
    ]
    assert any("Alice's note" in errors for errors in inline_errors)
    assert Appointment.objects.get(pk=appointment.pk).note == "Alice's note"


def test_an_entry_deleted_meanwhile_is_reported_not_recreated(alice, bob):
    physician = PhysicianFactory()
    form_b = open_form(bob, physician)
    remove(Physician.objects.get(pk=physician.pk))

    response = bob.post(change_url(physician), form_b)

    # The admin itself notices first that the entry is gone and says so.
    assert response.status_code == 302 and not Physician.objects.filter(pk=physician.pk).exists()


def test_change_page_carries_the_version_and_the_values_it_showed(alice):
    grong = municipality("5045")
    data = open_form(alice, grong)
    assert data["loaded_version"] == grong.updated_at.isoformat()
    assert data["initial-name"] == "Grong"


def test_municipality_model_has_no_version_column():
    # The version is updated_at: no extra field, no migration.
    assert "version" not in {field.name for field in Municipality._meta.get_fields()}
