"""Hostile input on the public side: no query string gives a 500, and markup in entries comes out escaped."""

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.factories import AppointmentFactory, PhoneFactory, PhysicianFactory, municipality

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('xss')</script>"
PATHS = ["/", "/resultater/", "/eksport.csv", "/eksport.xlsx", "/dekning/", "/api/municipalities/"]
PARAMETERS = ["q", "office", "county", "role", "missing", "stale", "page", "page_size", "format", "o"]
NASTY = ["", "0", "-1", "99999999999999999999", "1e999", "'", '"', "%", "\\", "../", "é", "1,2,x", SCRIPT, "true"]

names = st.one_of(st.sampled_from(PARAMETERS), st.text(min_size=1, max_size=15))
values = st.one_of(st.sampled_from(NASTY), st.text(max_size=40), st.integers().map(str))


@pytest.fixture
def entries(today):
    physician = PhysicianFactory(name="Lege " + SCRIPT)
    appointment = AppointmentFactory(physician=physician, municipality=municipality("5045"), note=SCRIPT)
    PhoneFactory(physician=physician, note=SCRIPT)
    return appointment


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(PATHS), query=st.dictionaries(names, values, max_size=4))
@example(path="/", query={"q": "\x00"})
@example(path="/api/municipalities/", query={"page": "99999999999999999999"})
@example(path="/api/municipalities/", query={"page_size": "-1"})
@example(path="/eksport.csv", query={"office": SCRIPT})
def test_no_query_string_gives_a_500(client, entries, path, query):
    response = client.get(path, query)
    assert response.status_code < 500, (path, query)


@pytest.mark.parametrize("path", ["/", "/kommune/5045/", "/resultater/?q=grong"])
def test_markup_in_names_notes_and_phone_notes_comes_out_escaped(client, entries, path):
    page = client.get(path).content.decode()
    assert "Lege &lt;script&gt;" in page
    assert SCRIPT not in page


def test_markup_in_a_search_is_escaped(client, entries):
    page = client.get("/", {"q": SCRIPT}).content.decode()
    assert SCRIPT not in page


def test_a_nul_character_in_an_api_query_gets_a_json_400(client):
    response = client.get("/api/municipalities/", {"q": "a\x00b"})
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert "NUL" in response.json()["detail"]
