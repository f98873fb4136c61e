"""The change feed and the dump: a copy kept by following `/api/changes/` is always the API's list.

Writes here run their commit hooks (`committed`), as a real commit would: the data version's bump is what
stamps the feed's changes with their sequence (registry.versioning._bump).
"""

import datetime
import json

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from imports.services import run_import
from registry import services, versioning
from registry.models import (
    Appointment,
    Arrangement,
    Change,
    ContactKind,
    FunctionContact,
    Membership,
    Municipality,
    Phone,
    Physician,
    Role,
    Visibility,
)
from registry.phones import parse_phone
from tests.conftest import TODAY

pytestmark = pytest.mark.django_db

LIST = reverse("registry:api:municipality-list")
FEED = reverse("registry:api:changes")
DUMP = reverse("registry:api:dump")
SYSTEM = services.SYSTEM


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run `write()` and then its commit hooks, as the commit of its transaction would."""

    def run(write, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return write(*args, **kwargs)

    return run


@pytest.fixture
def registry(demo):
    """The demo, committed: its changes stamped as its load's commit would have stamped them."""
    versioning._bump()


def api_list(client):
    """The API's list, whole, as {number: entry}."""
    results = client.get(LIST, {"page_size": 400}).json()["results"]
    return {entry["number"]: entry for entry in results}


def follow(client, copy, cursor=None, limit=None):
    """Apply the feed to `copy` from `cursor` until it has no more; return the last cursor and the pages read."""
    pages = 0
    while True:
        query = {"since": cursor} if cursor is not None else {}
        if limit:
            query["limit"] = limit
        response = client.get(FEED, query)
        assert response.status_code == 200, response.content
        page = response.json()
        pages += 1
        for change in page["changes"]:
            if change["removed"]:
                copy.pop(change["number"], None)
            else:
                copy[change["number"]] = change["entry"]
        cursor = page["cursor"]
        assert page["next"].endswith(f"?since={cursor}")
        if not page["more"]:
            return cursor, pages


def test_following_the_feed_from_the_beginning_rebuilds_the_list(client, registry):
    copy = {}
    follow(client, copy)
    assert copy == api_list(client)
    assert len(copy) == 357


def test_the_dump_is_the_list_one_entry_per_line_with_the_cursor_the_feed_continues_from(client, registry, committed):
    response = client.get(DUMP)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/x-ndjson")

    lines = response.content.decode().splitlines()
    copy = {entry["number"]: entry for entry in map(json.loads, lines)}
    assert copy == api_list(client) and len(lines) == 357
    cursor = response["Registry-Cursor"]
    assert response["Link"] == f'<{FEED}?since={cursor}>; rel="next"'
    # Nothing changed since: the feed from the dump's cursor has nothing.
    assert client.get(FEED, {"since": cursor}).json()["changes"] == []
    # A change after the dump reaches the copy through the feed.
    new = committed(services.save_entries, [Physician(name="Demo Ny Fiktivsen")], by=SYSTEM, reason="test")[0]
    committed(
        services.appoint,
        [Appointment(physician=new, municipality=Municipality.objects.get(number="5006"), role=Role.CHIEF_PHYSICIAN,
                     start_date=TODAY)],
        by=SYSTEM,
        reason="test",
    )  # fmt: skip
    page = client.get(FEED, {"since": cursor}).json()
    assert [change["number"] for change in page["changes"]] == ["5006"]
    follow(client, copy, cursor)
    assert copy == api_list(client)


def test_an_ended_appointment_and_a_ceased_municipality(client, registry, committed):
    copy = {}
    cursor, _pages = follow(client, copy)
    appointment = Appointment.objects.filter(municipality__number="5001", end_date__isnull=True).first()
    number = appointment.municipality.number
    committed(services.end_appointments, [appointment], on=TODAY - datetime.timedelta(days=1), by=SYSTEM, reason="test")
    page = client.get(FEED, {"since": cursor}).json()
    assert number in [change["number"] for change in page["changes"]]
    cursor, _pages = follow(client, copy, cursor)
    assert copy == api_list(client)
    # Ceased in a reform, with a successor: a tombstone that names it.
    hitra, frøya = Municipality.objects.get(number="5056"), Municipality.objects.get(number="5014")
    hitra.valid_to = TODAY - datetime.timedelta(days=1)
    committed(services.change_municipalities, [hitra], ["valid_to"], by=SYSTEM, reason="test")
    committed(services.set_successors, hitra, [frøya], by=SYSTEM, reason="test")
    page = client.get(FEED, {"since": cursor}).json()
    (tombstone,) = [change for change in page["changes"] if change["number"] == "5056"]
    assert tombstone["removed"] and tombstone["entry"] is None and tombstone["successors"] == ["5014"]
    # Frøya's entry names its new predecessor.
    (froya,) = [change for change in page["changes"] if change["number"] == "5014"]
    assert "5056" in [p["number"] for p in froya["entry"]["predecessors"]]
    follow(client, copy, cursor)
    assert "5056" not in copy and copy == api_list(client)


def test_a_renumbered_municipality_leaves_its_old_number_and_arrives_at_its_new_one(client, registry, committed):
    copy = {}
    cursor, _pages = follow(client, copy)
    rows = [
        {"kommunenummer": m.number, "navn": m.name, "fylkesnummer": m.county.number}
        for m in Municipality.objects.active().select_related("county")
        if m.number != "5045"
    ]
    rows.append({"kommunenummer": "5099", "navn": "Grong", "fylkesnummer": "50", "tidligere_kommunenummer": "5045"})
    committed(services.sync_municipalities, rows=rows, on=TODAY)
    page = client.get(FEED, {"since": cursor}).json()
    changes = {change["number"]: change for change in page["changes"]}
    assert changes["5045"]["removed"] and changes["5045"]["successors"] == ["5099"]
    assert not changes["5099"]["removed"] and changes["5099"]["entry"]["name"] == "Grong"
    follow(client, copy, cursor)
    assert copy == api_list(client) and "5045" not in copy


def test_numbers_for_authorities_only_reach_only_readers_who_may_see_them(reader, registry, committed):
    client, reader_client = Client(), Client()
    reader_client.force_login(reader)
    physician = Appointment.objects.filter(municipality__number="5001").first().physician
    cursor = client.get(DUMP)["Registry-Cursor"]
    committed(
        services.add_phones,
        [Phone(physician=physician, number=parse_phone("+4791999888"), visibility=Visibility.AUTHORITIES)],
        by=SYSTEM,
        reason="test",
    )
    anonymous = client.get(FEED, {"since": cursor}).content.decode()
    authorities = reader_client.get(FEED, {"since": cursor}).content.decode()
    assert "5001" in anonymous and "+4791999888" not in anonymous
    assert "+4791999888" in authorities


def test_pages_neither_split_nor_skip_a_sequence(client, registry):
    """The migration's first changes share one sequence: small pages must walk through it with no gap."""
    whole, paged = {}, {}
    follow(client, whole)
    _cursor, pages = follow(client, paged, limit=40)
    assert paged == whole and pages >= 9


def test_a_page_costs_a_fixed_number_of_queries(client, registry, django_assert_max_num_queries):
    with django_assert_max_num_queries(16):
        page = client.get(FEED, {"limit": 500}).json()
    # Every municipality: the 357 of today with their entries, and the one that ceased in the demo as a tombstone.
    entries = [change for change in page["changes"] if not change["removed"]]
    assert len(entries) == 357 and len(page["changes"]) == Municipality.objects.count()


def test_a_write_that_is_rolled_back_leaves_nothing_in_the_feed(client, registry):
    before = Change.objects.count()
    with pytest.raises(RuntimeError), services.write_path():
        services.save_entries([Physician(name="Demo Angret")], by=SYSTEM, reason="test")
        services.add_function_contacts(
            [FunctionContact(municipality=Municipality.objects.get(number="5001"), kind=ContactKind.SWITCHBOARD,
                             number=parse_phone("73000000"))],
            by=SYSTEM, reason="test",
        )  # fmt: skip
        raise RuntimeError("rolled back")
    assert Change.objects.count() == before


@pytest.mark.parametrize(
    "query, message",
    [
        ({"since": "abc"}, "is not a cursor of this feed"),
        ({"since": "1.x"}, "is not a cursor of this feed"),
        ({"since": "999999"}, "past the end of the feed"),
        ({"limit": "0"}, "limit must be a whole number"),
        ({"limit": "501"}, "limit must be a whole number"),
    ],
)
def test_a_cursor_or_limit_the_feed_did_not_give_out_is_a_clear_error(client, registry, query, message):
    response = client.get(FEED, query, headers={"accept-language": "en"})
    assert response.status_code == 400 and message in response.json()["detail"]


def test_the_feed_and_the_dump_are_in_the_schema(client, registry):
    import yaml

    schema = yaml.safe_load(client.get(reverse("registry:api:schema")).content)
    assert "/api/changes/" in schema["paths"] and "/api/municipalities.ndjson" in schema["paths"]
    parameters = {p["name"] for p in schema["paths"]["/api/changes/"]["get"]["parameters"]}
    assert {"since", "limit"} <= parameters


# The proof: random sequences of edits, imports and endings; after each, the copy kept by the feed is the list.


def _appoint(seed):
    municipalities = list(Municipality.objects.active().order_by("number"))
    place = municipalities[seed % len(municipalities)]
    (physician,) = services.save_entries([Physician(name=f"Demo Prøve {seed}")], by=SYSTEM, reason="test")
    role = list(Role)[seed % 3]
    services.appoint([Appointment(physician=physician, municipality=place, role=role, start_date=TODAY)],
                     by=SYSTEM, reason="test")  # fmt: skip


def _end(seed):
    current = list(Appointment.objects.on(TODAY).filter(start_date__lt=TODAY).order_by("pk"))
    if current:
        services.end_appointments(
            [current[seed % len(current)]], on=TODAY - datetime.timedelta(days=1), by=SYSTEM, reason="test"
        )


def _phone(seed):
    physicians = list(Physician.objects.order_by("pk"))
    visibility = Visibility.AUTHORITIES if seed % 2 else Visibility.PUBLIC
    number = parse_phone(f"+47{41000000 + seed:08d}")
    services.add_phones([Phone(physician=physicians[seed % len(physicians)], number=number, visibility=visibility)],
                        by=SYSTEM, reason="test")  # fmt: skip


def _visibility(seed):
    phones = list(Phone.objects.order_by("pk"))
    phone = phones[seed % len(phones)]
    phone.visibility = Visibility.PUBLIC if phone.visibility == Visibility.AUTHORITIES else Visibility.AUTHORITIES
    services.change_phones([phone], ["visibility"], by=SYSTEM, reason="test")


def _delete_phone(seed):
    phones = list(Phone.objects.order_by("pk"))
    services.delete_entries([phones[seed % len(phones)]], by=SYSTEM, reason="test")


def _rename(seed):
    physicians = list(Physician.objects.order_by("pk"))
    physician = physicians[seed % len(physicians)]
    physician.name = f"Demo Omdøpt {seed}"
    services.change_physicians([physician], ["name"], by=SYSTEM, reason="test")


def _join(seed):
    arrangement = Arrangement.objects.order_by("pk").first()
    outside = list(Municipality.objects.active().exclude(memberships__arrangement=arrangement).order_by("number"))
    services.save_entries([Membership(arrangement=arrangement, municipality=outside[seed % len(outside)],
                                      valid_from=TODAY)], by=SYSTEM, reason="test")  # fmt: skip


def _leave(seed):
    memberships = list(Membership.objects.on(TODAY).filter(valid_from__lt=TODAY).order_by("pk"))
    if memberships:
        membership = memberships[seed % len(memberships)]
        membership.valid_to = TODAY - datetime.timedelta(days=1)
        services.save_entries([membership], by=SYSTEM, reason="test")


def _cease(seed):
    municipalities = list(Municipality.objects.active().order_by("number"))
    municipality = municipalities[seed % len(municipalities)]
    municipality.valid_to = TODAY - datetime.timedelta(days=1)
    services.change_municipalities([municipality], ["valid_to"], by=SYSTEM, reason="test")


def _confirm(seed):
    entries = list(Appointment.objects.on(TODAY).order_by("pk")[seed % 7 :: 7])
    services.confirm_entries(entries=entries, by=SYSTEM)


def _mailbox(seed):
    municipalities = list(Municipality.objects.active().order_by("number"))
    place = municipalities[seed % len(municipalities)]
    services.add_function_contacts(
        [FunctionContact(municipality=place, kind=ContactKind.ROLE_MAILBOX, role=Role.CHIEF_PHYSICIAN,
                         email=f"postkasse{seed}@example.no")],
        by=SYSTEM, reason="test",
    )  # fmt: skip


def _import(seed):
    municipalities = list(Municipality.objects.active().order_by("number"))
    place = municipalities[seed % len(municipalities)]
    header = "Kommunenummer;Kommune;Kommuneoverlege;Telefon\n"
    sheet = header + f"{place.number};{place.name};Demo Importert {seed};9{seed:07d}\n"
    run_import(data=sheet.encode(), file_name="ark.csv", user=None, dry_run=False)


EDITS = [_appoint, _end, _phone, _visibility, _delete_phone, _rename, _join, _leave, _cease, _confirm, _mailbox,
         _import]  # fmt: skip


# No shrinking: a failing sequence is short already, and shrinking one through the database takes minutes.
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(steps=st.lists(st.tuples(st.sampled_from(EDITS), st.integers(0, 10_000)), min_size=1, max_size=6))
def test_a_copy_that_follows_the_feed_is_always_the_list(reader, registry, committed, steps):
    """Hypothesis runs its examples one after another in the test's database: each starts from an empty copy."""
    client, reader_client = Client(), Client()
    reader_client.force_login(reader)
    copies = {"anonymous": ({}, client), "authorities": ({}, reader_client)}
    cursors = {}
    for name, (copy, reader) in copies.items():
        cursors[name], _pages = follow(reader, copy)
        assert copy == api_list(reader)
    for edit, seed in steps:
        committed(edit, seed)
        for name, (copy, reader) in copies.items():
            cursors[name], _pages = follow(reader, copy, cursors[name])
            assert copy == api_list(reader), (edit.__name__, seed)
