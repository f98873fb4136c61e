"""What browsers and proxies may keep: public and compressed for anonymous visitors, private for everyone else."""

import gzip

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.web.conftest import RESTRICTED_NUMBER

pytestmark = pytest.mark.django_db

LIST = reverse("registry:list")
KARI = reverse("registry:municipality-detail", args=["5043"])
API_LIST = reverse("registry:api:municipality-list")
API_KARI = reverse("registry:api:municipality-detail", args=["5043"])
PUBLIC = [
    LIST,
    LIST + "?q=royrvik",
    reverse("registry:results") + "?q=grong",
    KARI,
    reverse("registry:coverage"),
    reverse("registry:api-docs"),
    reverse("registry:export-csv"),
    reverse("registry:export-xlsx") + "?county=50",
    API_LIST + "?q=grong",
    API_KARI,
    reverse("registry:api:changes") + "?since=0",
    reverse("registry:api:dump"),
]
PUBLIC_CACHE_CONTROL = "public, max-age=30, stale-while-revalidate=30"


def anonymous(**headers):
    return Client(headers={"Accept-Language": "en", **headers})


@pytest.fixture(autouse=True)
def short_lifetimes(settings):
    settings.REGISTRY_PUBLIC_MAX_AGE = 30
    settings.REGISTRY_STALE_WHILE_REVALIDATE = 30


@pytest.fixture
def trusted_version(monkeypatch):
    """A data version trusted for a minute, so that a slow test run cannot make it ask the database again."""
    from registry import versioning

    monkeypatch.setattr(versioning, "VERSION_SECONDS", 60)


def directives(response):
    return {part.strip() for part in response["Cache-Control"].split(",")}


@pytest.mark.parametrize("url", PUBLIC)
def test_anonymous_answers_are_public_for_a_short_while_also_from_the_cache(demo, url):
    first = anonymous().get(url)
    kept = anonymous().get(url)
    assert first.status_code == kept.status_code == 200
    assert first["Cache-Control"] == kept["Cache-Control"] == PUBLIC_CACHE_CONTROL


def test_the_lifetimes_come_from_the_settings(demo, settings):
    settings.REGISTRY_PUBLIC_MAX_AGE = 5
    settings.REGISTRY_STALE_WHILE_REVALIDATE = 0
    assert directives(anonymous().get(KARI)) == {"public", "max-age=5", "stale-while-revalidate=0"}


def test_a_not_modified_answer_says_the_same(demo):
    etag = anonymous().get(KARI)["ETag"]
    response = anonymous().get(KARI, headers={"If-None-Match": etag})
    assert response.status_code == 304 and response["Cache-Control"] == PUBLIC_CACHE_CONTROL


@pytest.mark.parametrize("url", PUBLIC)
def test_a_readers_answers_are_private_and_not_stored(reader_client, demo, url):
    for _ in range(2):
        response = reader_client.get(url)
        assert response.status_code == 200
        assert response["Cache-Control"] == "private, no-store"


def test_a_reader_sees_restricted_numbers_in_answers_marked_private(reader_client, demo):
    response = reader_client.get(KARI)
    assert RESTRICTED_NUMBER in response.content.decode() and response["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("url", [LIST, KARI, API_KARI, reverse("registry:export-csv")])
def test_a_logged_in_user_without_the_permission_gets_private_answers_too(plain_user_client, demo, url):
    assert plain_user_client.get(url)["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    "url", ["/admin/", "/admin/registry/municipality/", "/admin/registry/physician/", reverse("login")]
)
def test_the_admin_and_login_pages_are_private(admin_client, url):
    assert admin_client.get(url)["Cache-Control"] == "private, no-store"


def test_the_login_form_is_private_for_an_anonymous_visitor(db):
    response = anonymous().get(reverse("login"))
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"


def test_a_visitor_with_a_cookie_of_their_own_gets_a_private_answer(demo):
    visitor = anonymous()
    visitor.cookies["sessionid"] = "not-a-session"
    assert visitor.get(LIST)["Cache-Control"] == "private, no-store"


def test_an_error_is_not_public(demo):
    response = anonymous().get(LIST + "?office=nowhere")
    assert response.status_code == 400 and "public" not in response.get("Cache-Control", "")
    assert anonymous().get("/kommune/9999/").get("Cache-Control") is None


# Compression


@pytest.mark.parametrize("url", [LIST, KARI, reverse("registry:export-csv"), API_LIST, API_KARI])
def test_anonymous_answers_are_compressed_for_clients_that_accept_gzip(demo, url):
    plain = anonymous().get(url)
    compressed = anonymous(**{"Accept-Encoding": "gzip, deflate, br"}).get(url)
    assert "Content-Encoding" not in plain and compressed["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed.content) == plain.content
    assert int(compressed["Content-Length"]) == len(compressed.content) < len(plain.content)
    for response in (plain, compressed):
        assert "Accept-Encoding" in response["Vary"]
    assert compressed["ETag"] == "W/" + plain["ETag"]


def test_the_page_cache_keeps_the_compressed_bytes_and_compresses_once(demo, trusted_version, monkeypatch):
    from registry import page_cache

    calls = []
    real = gzip.compress
    monkeypatch.setattr(page_cache.gzip, "compress", lambda data, **kw: calls.append(1) or real(data, **kw))
    first = anonymous(**{"Accept-Encoding": "gzip"}).get(LIST)
    with CaptureQueriesContext(connection) as queries:
        again = anonymous(**{"Accept-Encoding": "gzip"}).get(LIST)
    assert len(queries) == 0 and len(calls) == 1
    assert again.content == first.content and again["Content-Encoding"] == "gzip"
    assert len(first.content) < 40_000


def test_clients_that_do_not_accept_gzip_get_the_plain_bytes_from_their_own_key(demo):
    anonymous(**{"Accept-Encoding": "gzip"}).get(KARI)
    for header in ["identity", "gzip;q=0", "br", ""]:
        response = anonymous(**{"Accept-Encoding": header}).get(KARI)
        assert "Content-Encoding" not in response and b"Demo Kari Fiktivsen" in response.content, header


def test_the_xlsx_export_is_not_compressed_again(demo):
    response = anonymous(**{"Accept-Encoding": "gzip"}).get(reverse("registry:export-xlsx"))
    assert response.status_code == 200 and "Content-Encoding" not in response


@pytest.mark.parametrize("url", [LIST + "?q=royrvik", KARI, API_KARI])
def test_a_readers_answers_are_never_compressed(reader_client, demo, url):
    """They hold restricted numbers and a CSRF token beside a reflected search: BREACH could read them."""
    response = reader_client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and "Content-Encoding" not in response


def test_the_login_form_is_not_compressed(db):
    response = anonymous(**{"Accept-Encoding": "gzip"}).get(reverse("login"))
    assert "csrfmiddlewaretoken" in response.content.decode() and "Content-Encoding" not in response


# Canonical addresses


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (LIST + "?utm_source=newsletter", LIST),
        (LIST + "?q=grong&fbclid=abc&county=50", LIST + "?q=grong&county=50"),
        (reverse("registry:results") + "?q=grong&_=1700000000", reverse("registry:results") + "?q=grong"),
        (KARI + "?q=grong", KARI),
        (reverse("registry:coverage") + "?x=1", reverse("registry:coverage")),
        (reverse("registry:export-csv") + "?Q=grong", reverse("registry:export-csv")),
        (API_LIST + "?page=2&page_size=10&junk=1", API_LIST + "?page=2&page_size=10"),
        (API_KARI + "?format=json&x=y", API_KARI + "?format=json"),
        (reverse("registry:api:changes") + "?since=3&utm=x", reverse("registry:api:changes") + "?since=3"),
    ],
)
def test_unknown_parameters_redirect_to_the_canonical_address(demo, url, canonical):
    response = anonymous().get(url)
    assert response.status_code == 301 and response["Location"] == canonical
    assert response["Cache-Control"] == PUBLIC_CACHE_CONTROL


def test_the_canonical_redirect_is_private_for_a_logged_in_reader(reader_client, demo):
    response = reader_client.get(LIST + "?utm_source=x")
    assert response.status_code == 301 and response["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    "url",
    [
        LIST + "?q=grong&office=&county=50&role=&missing=&stale=on",
        LIST + "?q=grong&q=oslo",
        API_LIST + "?q=grong&page=1&page_size=400&format=json",
    ],
)
def test_known_parameters_are_not_redirected(demo, url):
    assert anonymous().get(url).status_code == 200


def test_made_up_parameters_never_reach_the_cache(demo):
    from django.conf import settings
    from django.core.cache import caches

    for number in range(20):
        assert anonymous().get(f"{LIST}?made-up={number}").status_code == 301
    assert all(not getattr(caches[alias], "_cache", {}) for alias in settings.CACHES)


def test_four_hundred_made_up_searches_do_not_push_the_list_out_of_the_cache(demo, trusted_version, monkeypatch):
    from registry import page_cache

    # About eviction, not expiry: on a slow machine the 400 searches may take longer than a page is kept.
    monkeypatch.setattr(page_cache, "CACHE_SECONDS", 3600)
    anonymous().get(LIST)
    anonymous().get(KARI)
    for number in range(400):
        assert anonymous().get(LIST, {"q": f"made-up-{number}"}).status_code == 200
    for url in (LIST, KARI):
        with CaptureQueriesContext(connection) as queries:
            assert anonymous().get(url).status_code == 200
        assert len(queries) == 0, url
