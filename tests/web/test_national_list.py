"""The national list and municipality pages: everyone listed, vacancies shown, who to call, nothing restricted."""

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse

from registry.models import Appointment, Municipality, Phone, Physician, Role, Visibility
from registry.phones import parse_phone
from registry.services import SYSTEM, confirm_entries
from registry.versioning import forget_data_state
from tests.conftest import days_before_today
from tests.factories import (
    AppointmentFactory,
    FunctionContactFactory,
    clear_caches,
    municipality,
    succeed,
    write,
)
from tests.web.conftest import PUBLIC_NUMBER, RESTRICTED_NUMBER, restricted_forms

pytestmark = pytest.mark.django_db

LIST = reverse("registry:list")


def rows(response):
    return re.findall(r'<tr(?: class="vacant")?>\s*<th scope="row"', response.content.decode())


def test_every_active_municipality_is_listed_also_without_a_chief_physician(client, demo):
    response = client.get(LIST)
    assert response.status_code == 200
    assert len(rows(response)) == Municipality.objects.active().count() == 357
    content = response.content.decode()
    bodo = content.split('href="/kommune/1804/"')[1].split("</tr>")[0]
    assert "No chief physician registered" in bodo


def test_list_shows_who_to_call_with_tel_and_mailto_links(client, demo):
    content = client.get(LIST, {"q": "5043"}).content.decode()
    assert "Demo Kari Fiktivsen" in content and "Demo Nils Oppdiktet" in content
    assert f'<a href="tel:+4740000101">{PUBLIC_NUMBER}</a>' in content and PUBLIC_NUMBER == "40 00 01 01"
    assert 'href="mailto:kari.fiktivsen@example.no"' in content
    # A Swedish mobile is shown in international format.
    assert '<a href="tel:+46701740610">+46 70 174 06 10</a>' in content
    # The function's contacts, here Indre Namdal legetjeneste's: its role mailbox; its 24/7 number is for
    # the authorities only.
    assert 'href="mailto:kommuneoverlege@indrenamdal.example.no"' in content
    assert "74 00 09 99" not in content and "+4774000999" not in content
    assert "Statsforvalteren i Trøndelag" in content


def test_shared_arrangement_is_visible(client, demo):
    content = client.get(LIST, {"q": "royrvik"}).content.decode()
    through = content.split('<span class="through">')[1].split("</span>")[0]
    assert through == (
        "Through Demo Indre Namdal legetjeneste (municipal task community): Grong, Lierne, Namsskogan, Røyrvik"
    )


def test_infection_control_physician_has_a_column(client, demo):
    content = client.get(LIST, {"q": "4601"}).content.decode()
    assert "Demo Per Smittesen" in content and "Infection control physician" in content


@pytest.mark.parametrize(
    "url",
    [
        reverse("registry:list"),
        reverse("registry:results") + "?q=namsskogan",
        reverse("registry:municipality-detail", args=["5043"]),
        reverse("registry:municipality-detail", args=["0301"]),
        reverse("registry:export-csv"),
        reverse("registry:api:municipality-list") + "?page_size=400",
        reverse("registry:api:municipality-detail", args=["5043"]),
        reverse("registry:api:municipality-detail", args=["0301"]),
    ],
)
def test_anonymous_visitor_never_sees_a_restricted_number(client, demo, url):
    content = client.get(url).content.decode()
    assert "Demo" in content
    for number in restricted_forms():
        assert number not in content


@pytest.mark.parametrize("url", [LIST + "?q=royrvik", reverse("registry:municipality-detail", args=["5043"])])
def test_a_logged_in_user_without_the_permission_does_not_see_restricted_numbers(plain_user_client, demo, url):
    content = plain_user_client.get(url).content.decode()
    assert PUBLIC_NUMBER in content and RESTRICTED_NUMBER not in content


@pytest.mark.parametrize("url", [LIST + "?q=royrvik", reverse("registry:municipality-detail", args=["5043"])])
def test_a_national_reader_sees_restricted_numbers_marked_as_such(reader_client, demo, url):
    content = reader_client.get(url).content.decode()
    assert RESTRICTED_NUMBER in content and "authorities only" in content


def test_restricted_function_number_of_a_municipality_is_hidden_too(client, reader_client, demo):
    FunctionContactFactory(
        municipality=municipality("5043"), number=parse_phone("74 00 08 88"), visibility=Visibility.AUTHORITIES
    )
    url = reverse("registry:municipality-detail", args=["5043"])
    assert "tel:+4774000888" in reader_client.get(url).content.decode()
    reader_client.logout()
    assert "+4774000888" not in client.get(url).content.decode()


def test_municipality_page_shows_its_people_period_and_confirmation(client, demo):
    response = client.get(reverse("registry:municipality-detail", args=["5043"]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Raarvihke" in content and "Demo Kari Fiktivsen" in content
    assert "until further notice" in content
    # The arrangement the roles are held through, with its members and a page of its own.
    assert "Demo Indre Namdal legetjeneste" in content and "Grong, Lierne, Namsskogan, Røyrvik" in content
    assert 'href="/ordning/' in content


def test_municipality_page_of_a_vacancy_says_so_and_names_the_office(client, demo):
    content = client.get(reverse("registry:municipality-detail", args=["1804"])).content.decode()
    assert "No chief physician registered" in content and "Statsforvalteren i Nordland" in content
    assert "Demo Tidligere Lege" not in content


def test_municipality_page_accepts_a_number_without_its_leading_zero(client, db):
    response = client.get("/kommune/301/")
    assert response.status_code == 301 and response["Location"] == "/kommune/0301/"


def test_unknown_municipality_number_is_not_found(client, db):
    assert client.get("/kommune/9999/").status_code == 404


def test_ceased_municipality_keeps_its_page_and_names_its_successor(client, db, today):
    old = municipality("5043")
    old.valid_to = datetime.date(2025, 12, 31)
    write(old)
    succeed(old, municipality("5045"))
    content = client.get(reverse("registry:municipality-detail", args=["5043"])).content.decode()
    assert "ceased on" in content and 'href="/kommune/5045/"' in content


def numbers_listed(client, **params):
    content = client.get(LIST, params).content.decode()
    return re.findall(r'<th scope="row"[^>]*>\s*<a href="/kommune/(\d{4})/">', content)


def test_filter_by_office_and_county(client, demo):
    finnmark = numbers_listed(client, county="56")
    assert "5612" in finnmark and "5501" not in finnmark
    troms_og_finnmark = numbers_listed(client, office="troms-og-finnmark")
    assert "5612" in troms_og_finnmark and "5501" in troms_og_finnmark and "5043" not in troms_og_finnmark


def test_filter_by_role_and_by_missing_chief_physician(client, demo):
    with_infection_control = set(numbers_listed(client, role=Role.INFECTION_CONTROL_PHYSICIAN))
    # Bergen's own, and Bømlo, Stord and Fitjar's through the arrangement they share for that role.
    assert with_infection_control == {"4601", "4613", "4614", "4615"}
    vacant = numbers_listed(client, missing=Role.CHIEF_PHYSICIAN, office="trondelag")
    assert "5043" not in vacant and "5001" not in vacant and "5006" in vacant


def test_filter_not_confirmed_lately(client, demo, today):
    long_ago = days_before_today(400)
    confirm_entries(entries=list(Appointment.objects.filter(municipality__number="5612")), by=SYSTEM, now=long_ago)
    stale = set(numbers_listed(client, stale="on"))
    assert "5612" in stale
    # 5501 was confirmed just now; 5636 has nobody and was never confirmed: a gap to chase.
    assert "5501" not in stale and "5636" in stale


def test_old_confirmation_is_flagged_in_the_list(client, demo):
    long_ago = days_before_today(400)
    confirm_entries(entries=list(Appointment.objects.filter(municipality__number="5612")), by=SYSTEM, now=long_ago)
    content = client.get(LIST, {"q": "5612"}).content.decode()
    assert "not confirmed lately" in content


def test_an_unknown_filter_value_is_a_clear_error_not_a_crash(client, db):
    response = client.get(LIST, {"office": "atlantis"})
    assert response.status_code == 400
    content = response.content.decode()
    assert "The search could not be run" in content and "Office" in content


def test_search_form_works_without_javascript_and_keeps_the_query(client, demo):
    content = client.get(LIST, {"q": "raarvihke"}).content.decode()
    assert '<form class="search-form" method="get" action="/"' in content
    assert 'value="raarvihke"' in content
    assert "1 municipality" in content


def test_results_fragment_is_what_the_script_fetches(client, demo):
    response = client.get(reverse("registry:results"), {"q": "raarvihke"})
    content = response.content.decode()
    assert response.status_code == 200 and "<html" not in content
    assert "Demo Kari Fiktivsen" in content and "/eksport.csv?q=raarvihke" in content


def test_pages_have_a_skip_link_language_and_no_inline_script_or_style(client, demo):
    for url in [LIST, reverse("registry:municipality-detail", args=["5043"]), reverse("registry:coverage")]:
        content = client.get(url).content.decode()
        assert 'href="#main"' in content and '<main id="main"' in content
        assert re.search(r'<html lang="(nb|en)">', content)
        assert "<style" not in content and " style=" not in content
        assert not re.search(r"<script(?![^>]*\bsrc=)", content), "no inline script: the CSP forbids it"


def build_large_registry(count_per_municipality):
    """Give every municipality chief, deputy and infection control physicians, each with two phones."""
    active = list(Municipality.objects.active())
    roles = [Role.CHIEF_PHYSICIAN, Role.DEPUTY, Role.INFECTION_CONTROL_PHYSICIAN]
    physicians = Physician.objects.bulk_create(
        Physician(name=f"Lege {i}", search_text=f" lege {i}") for i in range(len(active) * count_per_municipality)
    )
    appointments = Appointment.objects.bulk_create(
        Appointment(
            physician=physicians[i * count_per_municipality + j],
            municipality=m,
            role=roles[j % 3],
            start_date=datetime.date(2024, 1, 1),
        )
        for i, m in enumerate(active)
        for j in range(count_per_municipality)
    )
    Phone.objects.bulk_create(
        [Phone(physician=p, number=parse_phone(f"4{p.pk % 10_000_000:07d}")) for p in physicians]
        + [
            Phone(appointment=a, number=parse_phone(f"9{a.pk % 10_000_000:07d}"), visibility=Visibility.AUTHORITIES)
            for a in appointments
        ]
    )
    return len(appointments)


@pytest.mark.parametrize("user", ["anonymous", "reader"])
def test_full_list_takes_a_constant_number_of_queries(client, reader, today, django_assert_max_num_queries, user):
    if user == "reader":
        client.force_login(reader)
    assert build_large_registry(3) == 1071
    with django_assert_max_num_queries(10):
        response = client.get(LIST)
    assert len(rows(response)) == 357
    assert response.content.decode().count("Lege ") >= 1071


def test_query_count_does_not_grow_with_the_data(client, today, django_assert_num_queries):
    AppointmentFactory(municipality=municipality("0301"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get(LIST, {"q": "lege"})
    build_large_registry(3)
    # bulk_create writes no history row, so the cached results would still be served: render afresh.
    clear_caches()
    forget_data_state()
    with CaptureQueriesContext(connection) as large:
        response = client.get(LIST, {"q": "lege"})
    assert len(rows(response)) == 357
    # One query fewer for many municipalities (registry.directory.FEW), never one more.
    assert len(large) <= len(small)


def test_list_requires_login_when_the_deployment_says_so(client, reader, demo, settings):
    settings.REGISTRY_LIST_REQUIRES_LOGIN = True
    for url in [
        LIST,
        reverse("registry:results"),
        reverse("registry:municipality-detail", args=["5043"]),
        reverse("registry:export-csv"),
        reverse("registry:export-xlsx"),
        reverse("registry:coverage"),
    ]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/logg-inn/?next="), url
    for url in [reverse("registry:api:municipality-list"), reverse("registry:api:municipality-detail", args=["5043"])]:
        assert client.get(url).status_code == 403
    client.force_login(reader)
    assert client.get(LIST).status_code == 200
    assert client.get(reverse("registry:api:municipality-list")).status_code == 200


def test_login_page_lets_a_reader_in(client, reader):
    response = client.post("/logg-inn/", {"username": "fhi-reader", "password": "correct horse battery staple"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_page_speaks_norwegian_by_default_and_english_through_the_language_switch(demo):
    browser = Client()
    content = browser.get(LIST, {"q": "5043"}).content.decode()
    assert "Kommuneoverlege" in content and "Stedfortreder" in content and "Chief physician" not in content
    response = browser.post(reverse("set_language"), {"language": "en", "next": "/?q=5043"})
    assert response.status_code == 302 and response["Location"] == "/?q=5043"
    assert "Chief physician" in browser.get(LIST, {"q": "5043"}).content.decode()


def test_rendered_results_come_from_the_cache_until_the_data_changes(client, today, django_assert_max_num_queries):
    appointment = AppointmentFactory(municipality=municipality("5045"))
    first = client.get(LIST, {"q": "grong"}).content.decode()
    assert appointment.physician.name in first
    # A second reader gets the cached results: no query for appointments, physicians or phones.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        again = client.get(LIST, {"q": "grong"}).content.decode()
    assert appointment.physician.name in again
    assert not any("registry_appointment" in query["sql"] for query in queries.captured_queries)
    # A change writes a history row, which changes the key: the next reader sees it at once.
    appointment.physician.name = "Omdøpt Lege"
    write(appointment.physician)
    assert "Omdøpt Lege" in client.get(LIST, {"q": "grong"}).content.decode()


def test_the_list_has_a_favicon_and_a_description(client, demo):
    content = client.get(LIST).content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in content
    assert '<meta name="description" content="Who to call in each municipality' in content
    norwegian = Client(headers={"Accept-Language": "nb"}).get(LIST).content.decode()
    assert '<meta name="description" content="Hvem du skal ringe i hver kommune:' in norwegian
