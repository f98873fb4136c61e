"""Hostile input in the admin: no query string gives a 500, and markup in names and notes comes out escaped."""

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from registry.models import Appointment, County, CountyGovernor, Municipality, Phone, Physician
from tests.factories import AppointmentFactory, PhoneFactory, PhysicianFactory, municipality, write

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('xss')</script>"
# Parameters the changelists understand, and some they should refuse politely.
KNOWN_PARAMETERS = [
    "q", "o", "p", "all", "e", "_popup", "_to_field", "_changelist_filters",
    "status", "active", "chief", "role", "kind", "visibility",
    "county__id__exact", "county__county_governor__id__exact",
    "municipality__county__id__exact", "municipality__county__county_governor__id__exact",
    "start_date__year", "start_date__month", "start_date__day",
    "name__startswith", "password__startswith", "id__in", "pk__gt", "number__regex",
]  # fmt: skip
NASTY_VALUES = ["", "0", "-1", "1e999", "99999999999999999999", "'", '"', "%", "\\", "../", "\x00", "é", "1,2,x"]

parameter_names = st.one_of(st.sampled_from(KNOWN_PARAMETERS), st.text(min_size=1, max_size=20))
parameter_values = st.one_of(st.sampled_from(NASTY_VALUES), st.text(max_size=40), st.integers().map(str))
query_strings = st.dictionaries(parameter_names, parameter_values, max_size=4)
changelists = st.sampled_from([CountyGovernor, County, Municipality, Physician, Appointment, Phone])


@pytest.fixture
def entries():
    AppointmentFactory(municipality=municipality("5045"))
    PhoneFactory()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(model=changelists, query=query_strings)
@example(model=Physician, query={"q": "\x00"})
@example(model=Municipality, query={"county__id__exact": "\x00"})
@example(model=Appointment, query={"start_date__year": "99999999999999999999", "start_date__month": "13"})
@example(model=Appointment, query={"start_date__year": "1e999"})
@example(model=Phone, query={"o": "-1.99.x"})
@example(model=Physician, query={"password__startswith": "pbkdf2"})
@example(model=Municipality, query={"p": "-1", "all": ""})
@example(model=Municipality, query={"number__regex": "\\"})
@example(model=Phone, query={"number__iregex": "("})
def test_no_query_string_gives_a_changelist_500(admin_client, entries, model, query):
    url = reverse(f"admin:registry_{model._meta.model_name}_changelist")
    response = admin_client.get(url, query)
    assert response.status_code < 500, (url, query)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(term=st.text(max_size=60))
@example(term="\x00")
def test_no_autocomplete_search_gives_a_500(admin_client, entries, term):
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"term": term, "app_label": "registry", "model_name": "appointment", "field_name": "physician"},
    )
    assert response.status_code < 500


@pytest.fixture
def hostile_entries():
    physician = PhysicianFactory(name=f"Dr. {SCRIPT}", email="x@example.no")
    appointment = AppointmentFactory(physician=physician, municipality=municipality("5045"), note=f"Merknad {SCRIPT}")
    PhoneFactory(physician=physician, note=f"<img src=x onerror=alert(1)> {SCRIPT}")
    grong = appointment.municipality
    grong.parallel_names = f"{SCRIPT}|Grong"
    write(grong)
    return physician, appointment, grong


def pages(physician, appointment, grong):
    for obj in (physician, appointment, grong):
        name = obj._meta.model_name
        yield reverse(f"admin:registry_{name}_changelist")
        yield reverse(f"admin:registry_{name}_change", args=[obj.pk])
        yield reverse(f"admin:registry_{name}_history", args=[obj.pk])
    yield reverse("admin:registry_phone_changelist")
    yield reverse("admin:registry_physician_changelist") + "?q=Dr."


def test_markup_in_names_and_notes_is_escaped_on_every_admin_page(admin_client, hostile_entries):
    for url in pages(*hostile_entries):
        body = admin_client.get(url).content.decode()
        assert "<script>alert" not in body and "<img src=x" not in body, url
    changelist = admin_client.get(reverse("admin:registry_appointment_changelist")).content.decode()
    assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in changelist


@pytest.mark.parametrize(
    "url",
    [
        "/admin/registry/municipality/?number__regex=%5C",
        "/admin/registry/county/?name__iregex=(",
        "/admin/auth/user/?username__regex=%5C",
        "/admin/axes/accessattempt/?username__regex=*",
    ],
)
def test_a_regular_expression_lookup_in_an_admin_address_gets_the_400_page(admin_client, url):
    # The admin would run it in the database: PostgreSQL refuses an invalid one, which was a 500.
    response = admin_client.get(url, headers={"Accept-Language": "nb"})
    assert response.status_code == 400 and "Forespørselen kunne ikke forstås" in response.content.decode()
