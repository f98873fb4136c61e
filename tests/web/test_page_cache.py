"""Whole pages for anonymous visitors from the shared cache: fast, current at once, and never personal."""

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from registry.models import Phone, Physician, Visibility
from registry.phones import parse_phone
from tests.factories import FunctionContactFactory, municipality, remove, write
from tests.web.conftest import PUBLIC_NUMBER, RESTRICTED_NUMBER

pytestmark = pytest.mark.django_db

LIST = reverse("registry:list")
RESULTS = reverse("registry:results")
KARI = "/kommune/5043/"
SHARED = [
    LIST,
    LIST + "?q=royrvik",
    reverse("registry:results") + "?q=grong",
    KARI,
    reverse("registry:coverage"),
    reverse("registry:export-csv") + "?q=grong",
    reverse("registry:api-docs"),
]


def anonymous(language="en"):
    return Client(headers={"Accept-Language": language})


@pytest.fixture
def trusted_version(monkeypatch):
    """A data version trusted for a minute, so that a slow test run cannot make it ask the database again."""
    from registry import versioning

    monkeypatch.setattr(versioning, "VERSION_SECONDS", 60)


@pytest.mark.parametrize("url", SHARED)
def test_second_anonymous_visitor_gets_the_page_from_the_cache_without_a_query(
    demo, url, trusted_version, django_assert_num_queries
):
    first = anonymous().get(url)
    assert first.status_code == 200
    # No view, session or template runs, and the data version read for the first visitor still holds.
    with django_assert_num_queries(0):
        again = anonymous().get(url)
    assert again.status_code == 200 and again.content == first.content
    assert again["Content-Type"] == first["Content-Type"] and again.get("ETag") == first.get("ETag")


def test_an_edit_is_visible_to_the_very_next_visitor(demo):
    assert "Demo Kari Fiktivsen" in anonymous().get(KARI).content.decode()
    kari = Physician.objects.get(name="Demo Kari Fiktivsen")
    kari.name = "Demo Kari Omdøpt"
    write(kari)
    content = anonymous().get(KARI).content.decode()
    assert "Demo Kari Omdøpt" in content and "Demo Kari Fiktivsen" not in content


def test_a_deleted_number_disappears_for_the_very_next_visitor(demo):
    assert PUBLIC_NUMBER in anonymous().get(KARI).content.decode()
    for phone in Phone.objects.filter(physician__name="Demo Kari Fiktivsen"):
        remove(phone)
    assert PUBLIC_NUMBER not in anonymous().get(KARI).content.decode()


@pytest.mark.parametrize("url", [LIST + "?q=royrvik", KARI])
def test_a_readers_page_is_never_served_to_an_anonymous_visitor(reader_client, demo, url):
    assert RESTRICTED_NUMBER in reader_client.get(url).content.decode()
    assert RESTRICTED_NUMBER in reader_client.get(url).content.decode()
    content = anonymous().get(url).content.decode()
    assert PUBLIC_NUMBER in content and RESTRICTED_NUMBER not in content


@pytest.mark.parametrize("url", [LIST + "?q=royrvik", KARI])
def test_a_reader_never_gets_the_anonymous_page(reader_client, demo, url):
    anonymous().get(url)
    anonymous().get(url)
    content = reader_client.get(url).content.decode()
    assert RESTRICTED_NUMBER in content and "fhi-reader" in content


def test_languages_are_kept_apart(demo):
    assert "Chief physician" in anonymous("en").get(KARI).content.decode()
    norwegian = anonymous("nb").get(KARI).content.decode()
    assert "Kommuneoverlege" in norwegian and "Chief physician" not in norwegian
    chosen = Client()
    chosen.cookies["django_language"] = "en"
    assert "Chief physician" in chosen.get(KARI, headers={"Accept-Language": "nb"}).content.decode()


def test_anonymous_page_has_no_csrf_token_and_sets_no_cookie(demo):
    response = anonymous().get(LIST)
    assert "csrfmiddlewaretoken" not in response.content.decode()
    assert not response.cookies


def test_language_switch_works_without_a_token(demo):
    browser = Client(enforce_csrf_checks=True)
    browser.get(LIST)
    response = browser.post(reverse("set_language"), {"language": "en", "next": KARI})
    assert response.status_code == 302 and response["Location"] == KARI
    assert "Chief physician" in browser.get(KARI).content.decode()


def test_a_kept_page_answers_a_conditional_request_with_304(demo, trusted_version, django_assert_num_queries):
    etag = anonymous().get(LIST)["ETag"]
    with django_assert_num_queries(0):
        response = anonymous().get(LIST, headers={"If-None-Match": etag})
    assert response.status_code == 304 and response["ETag"] == etag


def test_a_kept_page_carries_the_security_headers(demo):
    anonymous().get(LIST)
    kept = anonymous().get(LIST)
    assert "default-src" in kept["Content-Security-Policy"]
    assert kept["X-Frame-Options"] == "DENY" and kept["X-Content-Type-Options"] == "nosniff"
    assert "Cookie" in kept["Vary"] and "Accept-Language" in kept["Vary"]


def queries_for(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, len(queries.captured_queries)


def test_an_error_is_not_kept(demo, trusted_version):
    url = LIST + "?office=nowhere"
    assert anonymous().get(url).status_code == 400
    response, queries = queries_for(anonymous(), url)  # a kept page would take none
    assert response.status_code == 400 and queries > 0


@pytest.mark.parametrize("cookie", ["sessionid", "messages", "something-else"])
def test_a_visitor_with_another_cookie_gets_a_page_of_their_own(demo, cookie, trusted_version):
    anonymous().get(LIST)
    visitor = anonymous()
    visitor.cookies[cookie] = "x"
    response, queries = queries_for(visitor, LIST)  # the kept page would take none
    assert response.status_code == 200 and queries > 0


def test_a_host_that_is_not_allowed_is_refused_not_served_from_the_cache(demo):
    anonymous().get(LIST)
    assert anonymous().get(LIST, headers={"Host": "evil.example"}).status_code == 400


API = reverse("registry:api:municipality-list") + "?q=grong"


def test_the_api_is_kept_too(demo, trusted_version, django_assert_num_queries):
    first = anonymous().get(API)
    assert first.status_code == 200
    with django_assert_num_queries(0):
        again = anonymous().get(API)
    assert again.status_code == 200 and again.json() == first.json()


def test_the_api_is_kept_apart_by_accept_header(demo):
    assert anonymous().get(API).status_code == 200
    refused = anonymous().get(API, headers={"Accept": "text/html"})
    assert refused.status_code == 406
    assert anonymous().get(API, headers={"Accept": "application/json"}).status_code == 200


def test_a_readers_api_answer_is_never_served_to_an_anonymous_client(reader_client, demo):
    url = reverse("registry:api:municipality-detail", args=["5043"])
    assert "+4740000102" in reader_client.get(url).content.decode()
    assert "+4740000102" not in anonymous().get(url).content.decode()
    assert "+4740000102" not in anonymous().get(url).content.decode()


def test_the_list_turns_login_only_even_after_it_was_kept(demo, settings):
    assert anonymous().get(LIST).status_code == 200
    settings.REGISTRY_LIST_REQUIRES_LOGIN = True
    response = anonymous().get(LIST)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_restricted_number_added_later_is_not_shown_from_a_kept_page(demo):
    anonymous().get(KARI)
    FunctionContactFactory(
        municipality=municipality("5043"), number=parse_phone("74 00 08 88"), visibility=Visibility.AUTHORITIES
    )
    FunctionContactFactory(municipality=municipality("5043"), number=parse_phone("74 00 08 99"))
    content = anonymous().get(KARI).content.decode()
    assert "+4774000899" in content and "+4774000888" not in content


def test_a_page_too_large_is_served_but_not_kept(demo, monkeypatch):
    from registry import page_cache

    monkeypatch.setattr(page_cache, "MAX_BYTES", 100)
    assert anonymous().get(KARI).status_code == 200
    response, queries = queries_for(anonymous(), KARI)
    assert response.status_code == 200 and queries > 1
    for alias in (page_cache.PAGES_CACHE, page_cache.SEARCHES_CACHE):
        assert not any(key.startswith(":1:" + page_cache.KEY_PREFIX) for key in caches[alias]._cache), alias


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    from registry import versioning

    fake = Clock()
    monkeypatch.setattr(versioning.time, "monotonic", fake)
    return fake


def test_the_data_version_is_read_from_the_database_at_most_once_a_second(demo, clock, django_assert_num_queries):
    anonymous().get(KARI)
    clock.now += 0.5
    with django_assert_num_queries(0):
        anonymous().get(KARI)
    clock.now += 0.6
    with django_assert_num_queries(1):  # only the data version: the page is still the kept one
        anonymous().get(KARI)


def test_a_write_that_sends_no_signal_here_shows_within_a_second(demo, clock):
    """Like an edit on another app server: history rows are written, but this process hears nothing."""
    from simple_history.utils import bulk_update_with_history

    assert "Demo Kari Fiktivsen" in anonymous().get(KARI).content.decode()
    kari = Physician.objects.get(name="Demo Kari Fiktivsen")
    kari.name = "Demo Kari Annenstad"
    bulk_update_with_history([kari], Physician, ["name"])
    clock.now += 0.5
    assert "Demo Kari Fiktivsen" in anonymous().get(KARI).content.decode()
    clock.now += 0.6
    content = anonymous().get(KARI).content.decode()
    assert "Demo Kari Annenstad" in content and "Demo Kari Fiktivsen" not in content


def test_a_bulk_confirmation_in_this_process_shows_at_once(demo, clock, superuser):
    from registry.models import Appointment
    from registry.services import confirm_entries

    anonymous().get(KARI)
    appointments = Appointment.objects.filter(municipality__number="5043")
    Appointment.objects.filter(pk__in=appointments).update(verified_at=None)
    # update() sends no signal: the page still shows what it showed.
    assert "Never" not in anonymous().get(KARI).content.decode()
    confirm_entries(entries=appointments, by=superuser)
    content = anonymous().get(KARI).content.decode()
    assert "Never" not in content and "Confirmed:" in content


def test_a_change_dated_before_the_last_one_still_reaches_the_cached_page(
    demo, clock, django_capture_on_commit_callbacks
):
    """An import that commits after an edit it started before: its history rows are the older ones."""
    import datetime

    from django.utils import timezone

    assert "Demo Kari Fiktivsen" in anonymous().get(KARI).content.decode()
    kari = Physician.objects.get(name="Demo Kari Fiktivsen")
    kari.name = "Demo Kari Sentgjort"
    kari._history_date = timezone.now() - datetime.timedelta(days=3650)
    with django_capture_on_commit_callbacks(execute=True):
        write(kari)
    content = anonymous().get(KARI).content.decode()
    assert "Demo Kari Sentgjort" in content and "Demo Kari Fiktivsen" not in content


def test_a_renamed_county_reaches_the_cached_page(demo, clock, django_capture_on_commit_callbacks):
    from registry.models import County

    assert "Trøndelag" in anonymous().get(KARI).content.decode()
    county = County.objects.get(number="50")
    county.name = "Trøndelag Omdøpt"
    with django_capture_on_commit_callbacks(execute=True):
        write(county)
    assert "Trøndelag Omdøpt" in anonymous().get(KARI).content.decode()


def test_a_large_answer_to_a_made_up_query_string_is_not_kept(demo, monkeypatch):
    """Anyone can make up query strings: copies of the whole list under each must not fill the cache."""
    from registry import page_cache

    monkeypatch.setattr(page_cache, "MAX_BYTES_WITH_QUERY", 20_000)
    for url in [LIST + "?q=", LIST + "?q=&county="]:  # the whole list, under other addresses
        assert anonymous().get(url).status_code == 200
        response, queries = queries_for(anonymous(), url)
        assert response.status_code == 200 and queries > 1
    # The whole list at its own address is kept.
    anonymous().get(LIST)
    response, queries = queries_for(anonymous(), LIST)
    assert queries <= 1


@pytest.mark.parametrize("logged_in", [False, True])
@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("county=50%26q%3Dgrong", "q=grong&county=50"),  # an invalid filter, then the search it spells out
        ("q=grong%26role%3Ddeputy", "q=grong&role=deputy"),
        ("q=oslo&q=grong", "q=grong&q=oslo"),  # the last value counts
    ],
)
def test_no_query_string_gets_the_results_of_another(demo, reader, first, then, logged_in):
    from tests.factories import clear_caches

    browser = anonymous()
    if logged_in:
        browser.force_login(reader)
    expected = browser.get(f"{RESULTS}?{then}")  # rendered afresh: nothing cached yet
    clear_caches()
    browser.get(f"{RESULTS}?{first}")
    response = browser.get(f"{RESULTS}?{then}")
    assert response.status_code == expected.status_code == 200
    assert response.content == expected.content


@pytest.mark.parametrize(
    ("header", "value"),
    [("Cache-Control", "private"), ("Cache-Control", "max-age=60, no-store"), ("Vary", "Cookie, Authorization")],
)
def test_an_answer_marked_private_or_varying_on_an_unkeyed_header_is_not_kept(rf, header, value):
    from django.http import HttpResponse

    from registry.page_cache import keep

    request = rf.get("/")
    response = HttpResponse("x")
    response.registry_shareable = True
    assert keep(request, response) is not None
    response[header] = value
    assert keep(request, response) is None
