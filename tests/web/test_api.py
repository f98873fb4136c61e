"""The JSON API: the same search, filters and visibility as the list, documented by an OpenAPI schema."""

import pytest
import yaml
from django.urls import reverse

from registry.models import Role
from tests.web.conftest import restricted_forms

pytestmark = pytest.mark.django_db

LIST = reverse("registry:api:municipality-list")


def detail(number):
    return reverse("registry:api:municipality-detail", args=[number])


def test_municipality_has_the_documented_fields(client, demo):
    data = client.get(detail("5043")).json()
    assert data["number"] == "5043" and data["name"] == "Røyrvik" and data["parallel_names"] == ["Raarvihke"]
    assert data["county"] == {"number": "50", "name": "Trøndelag"}
    assert data["county_governor"] == {"code": "trondelag", "name": "Statsforvalteren i Trøndelag"}
    (arrangement,) = data["arrangements"]
    assert (arrangement["name"], arrangement["kind"], arrangement["members"]) == (
        "Demo Indre Namdal legetjeneste",
        "oppgavefellesskap",
        ["5045", "5042", "5044", "5043"],
    )
    # The arrangement's mailbox; its 24/7 number and the legevakt's are for the authorities only.
    assert [(c["kind"], c["email"], c["arrangement"]) for c in data["function_contacts"]] == [
        ("role_mailbox", "kommuneoverlege@indrenamdal.example.no", arrangement["id"])
    ]
    assert data["legevakter"] == []
    assert (data["valid_from"], data["valid_to"], data["successors"]) == ("2024-01-01", None, [])
    chief, deputy = data["contacts"]
    assert chief["role"] == Role.CHIEF_PHYSICIAN and deputy["role"] == Role.DEPUTY
    assert chief["name"] == "Demo Kari Fiktivsen" and chief["email"] == "kari.fiktivsen@example.no"
    assert chief["phones"] == [{"number": "+4740000101", "kind": "mobile", "note": ""}]
    assert chief["valid_from"] == "2026-01-01" and chief["valid_to"] is None and chief["verified_at"]
    assert chief["arrangement"] == arrangement["id"] and chief["shared_with"] == ["5045", "5042", "5044"]
    assert deputy["phones"][0]["number"] == "+46701740610"


def test_list_is_paginated_and_searchable(client, demo):
    data = client.get(LIST).json()
    assert data["count"] == 357 and len(data["results"]) == 50 and data["next"]
    found = client.get(LIST, {"q": "raarvihke"}).json()
    assert [m["number"] for m in found["results"]] == ["5043"]
    assert client.get(LIST, {"page_size": 400}).json()["next"] is None


def test_list_filters_like_the_page(client, demo):
    vacant = client.get(LIST, {"office": "trondelag", "missing": "chief_physician", "page_size": 400}).json()
    numbers = [m["number"] for m in vacant["results"]]
    assert "5043" not in numbers and "5006" in numbers
    assert all(not m["has_chief_physician"] for m in vacant["results"])
    assert (
        client.get(LIST, {"stale": "false", "county": "56"}).json()["count"]
        == client.get(LIST, {"county": "56"}).json()["count"]
    )


def test_vacant_municipality_is_listed_with_no_contacts(client, demo):
    data = client.get(detail("1804")).json()
    assert data["contacts"] == [] and data["has_chief_physician"] is False


def test_invalid_filter_is_a_400_naming_the_parameter(client, db):
    response = client.get(LIST, {"office": "atlantis"})
    assert response.status_code == 400 and "office" in response.json()


def test_unknown_number_is_404(client, db):
    assert client.get(detail("9999")).status_code == 404


def test_anonymous_api_never_returns_restricted_numbers_and_a_reader_gets_them(client, reader, demo):
    text = client.get(LIST, {"page_size": 400}).content.decode()
    for number in restricted_forms():
        assert number not in text
    client.force_login(reader)
    assert "+4740000102" in client.get(detail("5043")).content.decode()


def test_api_answers_conditional_requests(client, demo):
    response = client.get(detail("5043"))
    assert response["ETag"] and response["Last-Modified"]
    assert client.get(detail("5043"), headers={"If-None-Match": response["ETag"]}).status_code == 304


def test_openapi_schema_describes_the_endpoints(client, db):
    response = client.get(reverse("registry:api:schema"))
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert "/api/municipalities/" in schema["paths"] and "/api/municipalities/{number}/" in schema["paths"]
    parameters = {p["name"] for p in schema["paths"]["/api/municipalities/"]["get"]["parameters"]}
    assert {"q", "office", "county", "role", "missing", "stale", "page"} <= parameters
    contact = schema["components"]["schemas"]["Contact"]["properties"]
    assert {"role", "name", "email", "phones", "valid_from", "valid_to", "verified_at"} <= set(contact)


def test_api_documentation_page(client, db):
    content = client.get(reverse("registry:api-docs")).content.decode()
    assert "/api/municipalities/" in content and "/api/schema/" in content


def test_an_entry_names_its_predecessors_and_successors(client, db):
    drammen = client.get(detail("3301")).json()
    assert drammen["predecessors"] == [{"number": "3005", "name": "Drammen"}]
    alesund = client.get(detail("1507")).json()
    assert alesund["valid_to"] == "2023-12-31"
    assert alesund["successors"] == [{"number": "1508", "name": "Ålesund"}, {"number": "1580", "name": "Haram"}]
    assert client.get(detail("1508")).json()["predecessors"] == [{"number": "1507", "name": "Ålesund"}]


def test_the_api_answers_for_a_past_day(client, demo):
    # Before Indre Namdal legetjeneste began on 1 January 2026, Kari held the role in Røyrvik on her own.
    then = client.get(detail("5043"), {"on": "2025-06-01"}).json()
    chief = next(c for c in then["contacts"] if c["role"] == Role.CHIEF_PHYSICIAN)
    assert chief["name"] == "Demo Kari Fiktivsen" and chief["arrangement"] is None and then["arrangements"] == []
    listed = client.get(LIST, {"q": "5043", "on": "2025-06-01"}).json()["results"]
    assert listed[0]["contacts"][0]["arrangement"] is None
    assert client.get(detail("5043"), {"on": "not-a-day"}).status_code == 400


@pytest.mark.parametrize("day", ["0001-01-01", "0001-03-01", "9999-12-31"])
def test_the_first_and_last_days_of_the_calendar_are_answered(client, demo, day):
    """Found by schemathesis: ?on=0001-01-01 had no day REGISTRY_STALE_AFTER_DAYS earlier to count from (500)."""
    assert client.get(LIST, {"on": day}).status_code == 200
    assert client.get(detail("5045"), {"on": day}).status_code == 200
    assert client.get(reverse("registry:list"), {"on": day}).status_code == 200
