import pytest
from django.urls import reverse

from registry.demo import load_demo_data
from registry.models import Appointment, County, CountyGovernor, Municipality, Phone, Physician, Role
from tests.factories import AppointmentFactory, municipality

pytestmark = pytest.mark.django_db

MODELS = [CountyGovernor, County, Municipality, Physician, Appointment, Phone]


@pytest.fixture
def demo():
    load_demo_data()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_renders_for_superuser(admin_client, demo, model):
    url = reverse(f"admin:registry_{model._meta.model_name}_changelist")
    response = admin_client.get(url)
    assert response.status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_change_and_add_pages_render(admin_client, demo, model):
    obj = model.objects.first()
    change = reverse(f"admin:registry_{model._meta.model_name}_change", args=[obj.pk])
    add = reverse(f"admin:registry_{model._meta.model_name}_add")
    assert admin_client.get(change).status_code == 200
    # Offices come from the reference data, each with its editors group: renamed here, never added.
    assert admin_client.get(add).status_code == (403 if model is CountyGovernor else 200)


def test_municipality_changelist_lists_all_357(admin_client):
    response = admin_client.get(reverse("admin:registry_municipality_changelist") + "?all=")
    assert response.context["cl"].result_count == Municipality.objects.count() == 357 + 1  # 1507, ceased


def test_labels_are_in_norwegian_by_default(admin_client):
    response = admin_client.get(reverse("admin:registry_municipality_changelist"))
    assert "Kommuner" in response.content.decode()


def test_vacancy_filter_lists_municipalities_without_chief_physician(admin_client, demo, today):
    response = admin_client.get(reverse("admin:registry_municipality_changelist") + "?chief=none")
    numbers = {m.number for m in response.context["cl"].result_list}
    assert "1804" in numbers and "0301" not in numbers
    assert response.context["cl"].result_count == Municipality.objects.without_current(Role.CHIEF_PHYSICIAN).count()


def test_invalid_phone_in_inline_is_refused_with_the_number(admin_client):
    physician_url = reverse("admin:registry_physician_add")
    data = {
        "name": "Ny Lege",
        "email": "ny@example.no",
        "hpr_number": "",
        "phones-TOTAL_FORMS": "1",
        "phones-INITIAL_FORMS": "0",
        "phones-0-number": "12 34",
        "phones-0-kind": "mobile",
        "phones-0-visibility": "public",
        "phones-0-note": "",
        "appointments-TOTAL_FORMS": "0",
        "appointments-INITIAL_FORMS": "0",
    }
    response = admin_client.post(physician_url, data)
    assert response.status_code == 200
    assert "12 34" in response.content.decode()
    assert not Physician.objects.filter(name="Ny Lege").exists()


def test_saving_records_who_changed_the_entry(admin_client, superuser):
    appointment = AppointmentFactory(municipality=municipality("5045"))
    url = reverse("admin:registry_appointment_change", args=[appointment.pk])
    data = {
        "municipality": appointment.municipality.pk,
        "role": "chief_physician",
        "physician": appointment.physician.pk,
        "start_date": "2024-01-01",
        "end_date": "2025-01-01",
        "note": "",
        "phones-TOTAL_FORMS": "0",
        "phones-INITIAL_FORMS": "0",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    appointment.refresh_from_db()
    assert appointment.updated_by == superuser and str(appointment.end_date) == "2025-01-01"
