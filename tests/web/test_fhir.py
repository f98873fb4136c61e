"""FHIR R4 under /fhir/: every resource the server emits parses with fhir.resources, with no-basis identifiers."""

import datetime

import pytest
from django.test import Client
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole

from registry import fhir
from registry.models import Appointment, Arrangement, CountyGovernor, Physician
from tests.factories import write
from tests.web.conftest import restricted_forms

pytestmark = pytest.mark.django_db

MODELS = {
    "Organization": Organization,
    "Practitioner": Practitioner,
    "PractitionerRole": PractitionerRole,
    "Location": Location,
}


def get(client, path, **params):
    response = client.get(f"/fhir/{path}", params)
    assert response["Content-Type"] == "application/fhir+json", response.content[:300]
    return response


def every_resource(client, kind):
    """Follow the searchset's `next` links through every page; parse each Bundle and each resource."""
    resources, url = [], f"/fhir/{kind}?_count=200"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        bundle = Bundle.model_validate_json(response.content)
        assert bundle.type == "searchset"
        for entry in bundle.entry or []:
            resources.append(MODELS[kind].model_validate(entry.resource.model_dump(by_alias=True, exclude_none=True)))
        nxt = [link.url for link in bundle.link if link.relation == "next"]
        url = nxt[0].removeprefix("http://testserver") if nxt else None
    assert len(resources) == bundle.total
    return resources


def identifiers(resource):
    return {(i.system, i.value) for i in resource.identifier or []}


def test_metadata_is_a_capability_statement(client, demo):
    statement = CapabilityStatement.model_validate_json(get(client, "metadata").content)
    assert statement.fhirVersion == "4.0.1"
    assert {r.type for r in statement.rest[0].resource} == set(MODELS)


def test_every_organization_parses_with_the_no_basis_identifiers(client, demo):
    arrangement = Arrangement.objects.order_by("pk").first()
    arrangement.organisation_number = "123456785"  # made up, with a valid mod-11 check digit
    write(arrangement)
    organizations = {o.id: o for o in every_resource(client, "Organization")}
    grong = organizations["kommune-5045"]
    assert identifiers(grong) == {(fhir.KOMMUNENUMMER, "5045")} and grong.name == "Grong"
    grunerlokka = organizations["bydel-030102"]
    assert (fhir.BYDELSNUMMER, "030102") in identifiers(grunerlokka)
    assert grunerlokka.partOf.reference == "Organization/kommune-0301"
    office = CountyGovernor.objects.get(code="trondelag")
    assert (fhir.ORGANISASJONSNUMMER, office.organisation_number) in identifiers(
        organizations["statsforvalter-trondelag"]
    )
    assert (fhir.ORGANISASJONSNUMMER, "123456785") in identifiers(organizations[f"ordning-{arrangement.pk}"])
    assert sum(1 for key in organizations if key.startswith("kommune-")) >= 357


def test_practitioners_and_their_roles_parse_and_point_at_each_other(client, demo):
    practitioners = {p.id: p for p in every_resource(client, "Practitioner")}
    roles = every_resource(client, "PractitionerRole")
    organizations = {o.id for o in every_resource(client, "Organization")}
    assert roles and practitioners
    for role in roles:
        assert role.practitioner.reference.removeprefix("Practitioner/") in practitioners
        assert role.organization.reference.removeprefix("Organization/") in organizations
        assert role.code[0].coding[0].code in {"chief_physician", "deputy", "infection_control_physician"}
    with_hpr = Physician.objects.filter(hpr_number__isnull=False, appointments__isnull=False).first()
    assert with_hpr is not None
    assert (fhir.HPR_NUMMER, with_hpr.hpr_number) in identifiers(practitioners[f"lege-{with_hpr.pk}"])
    # Nobody without a published appointment is published.
    assert (
        len(practitioners)
        == Physician.objects.filter(pk__in=Appointment.objects.published().values("physician")).count()
    )


def test_legevakt_is_a_location(client, demo):
    locations = every_resource(client, "Location")
    assert locations and all(location.id.startswith("legevakt-") for location in locations)


def test_search_by_identifier_organization_and_last_updated(client, demo):
    bundle = get(client, "Organization", identifier=f"{fhir.KOMMUNENUMMER}|5045").json()
    assert [e["resource"]["id"] for e in bundle["entry"]] == ["kommune-5045"]
    assert get(client, "Organization", identifier="urn:oid:9.9|5045").json()["total"] == 0
    roles = get(client, "PractitionerRole", organization="Organization/kommune-5001").json()
    assert roles["total"] >= 1
    assert all(e["resource"]["organization"]["reference"] == "Organization/kommune-5001" for e in roles["entry"])
    tomorrow = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
    assert get(client, "PractitionerRole", _lastUpdated=f"gt{tomorrow}").json()["total"] == 0
    everything = get(client, "PractitionerRole").json()["total"]
    assert get(client, "PractitionerRole", _lastUpdated="ge2000-01-01").json()["total"] == everything


def test_paging_links_walk_the_whole_result(client, demo):
    first = get(client, "Organization", _count=100).json()
    relations = {link["relation"] for link in first["link"]}
    assert relations == {"self", "next"} and len(first["entry"]) == 100
    seen = {entry["resource"]["id"] for entry in first["entry"]}
    nxt = next(link["url"] for link in first["link"] if link["relation"] == "next").removeprefix("http://testserver")
    second = client.get(nxt).json()
    assert not seen & {entry["resource"]["id"] for entry in second["entry"]}


def test_numbers_for_authorities_only_only_for_readers_who_may_see_them(demo, reader):
    anonymous, authorities = Client(), Client()
    authorities.force_login(reader)
    forms = restricted_forms()
    paths = ["Organization?_count=500", "Practitioner?_count=500", "PractitionerRole?_count=500", "Location"]
    public = "".join(anonymous.get(f"/fhir/{path}").content.decode() for path in paths)
    restricted = "".join(authorities.get(f"/fhir/{path}").content.decode() for path in paths)
    assert not any(form in public for form in forms)
    assert any(form in restricted for form in forms)
    assert authorities.get("/fhir/Organization")["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    "path, status",
    [
        ("Patient", 404),
        ("Organization/kommune-9999", 404),
        ("Organization?_count=abc", 400),
        ("Organization?_count=100000", 400),
        ("Organization?name=Grong", 400),
        ("PractitionerRole?_lastUpdated=yesterday", 400),
    ],
)
def test_errors_are_operation_outcomes(client, demo, path, status):
    response = client.get(f"/fhir/{path}")
    assert response.status_code == status
    outcome = OperationOutcome.model_validate_json(response.content)
    assert outcome.issue[0].diagnostics


def test_read_one_resource(client, demo):
    resource = Organization.model_validate_json(get(client, "Organization/kommune-5045").content)
    assert resource.id == "kommune-5045"


def test_a_search_costs_a_fixed_number_of_queries(client, demo, django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        assert get(client, "Organization", _count=500).status_code == 200
    with django_assert_max_num_queries(12):
        assert get(client, "PractitionerRole", _count=500).status_code == 200
