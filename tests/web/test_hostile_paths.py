"""Hostile values in a URL's path: every pattern of the project answers 400 or 404, never 500.

The walk reads the URL patterns themselves (django.urls.get_resolver, the admin's included), so a
new view is covered the day it is added.
"""

import re
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import AppointmentFactory, PhoneFactory

pytestmark = pytest.mark.django_db

# Already percent-encoded, as they travel in a request line.
HOSTILE = {
    "nul": "%00",
    "nul-after-digits": "1%00",
    "letters": "abc",
    "negative": "-1",
    "long-digits": "9" * 40,
    "dot-dot": "..%2F",
    "unicode": quote("ø€😀\u202e"),
}
# Stands in for the other parameters of a pattern while one of them is hostile.
PLAIN = "1"

_CONVERTER = re.compile(r"<(?:[^>:]+:)?([^>]+)>")


def _slot(number):
    return "{" + str(number) + "}"


def _regex_to_path(regex):
    """Return a path template from a pattern's regex: each group becomes a {slot}; anchors and escapes go."""
    out, slots, i = [], [], 0
    regex = regex.removeprefix("^").removesuffix("$")
    while i < len(regex):
        char = regex[i]
        if char == "\\" and i + 1 < len(regex):
            out.append(regex[i + 1])
            i += 2
        elif char == "(":
            depth, j = 1, i + 1
            while depth:
                depth += {"(": 1, ")": -1}.get(regex[j], 0)
                j += 1
            slots.append(len(slots))
            out.append(_slot(slots[-1]))
            i = j
        elif char == "?" and out and out[-1] == "/":
            i += 1  # "/?": the slash is written
        else:
            out.append(char)
            i += 1
    return "".join(out), len(slots)


def _template(pattern):
    """Return (template with {0}, {1}… for the path parameters, parameter count) of one pattern part."""
    text = str(pattern)
    if getattr(pattern, "_route", None) is not None:  # path(): <converter:name>
        count = len(_CONVERTER.findall(text))
        index = iter(range(count))
        return _CONVERTER.sub(lambda _m: _slot(next(index)), text), count
    return _regex_to_path(text)


def url_templates(patterns=None, prefix="", offset=0):
    """Yield (template, parameter count, view name) for every URL pattern, resolvers followed recursively."""
    patterns = get_resolver().url_patterns if patterns is None else patterns
    for pattern in patterns:
        template, count = _template(pattern.pattern)
        template = template.format(*[_slot(offset + n) for n in range(count)])
        if isinstance(pattern, URLResolver):
            yield from url_templates(pattern.url_patterns, prefix + template, offset + count)
        elif isinstance(pattern, URLPattern):
            yield "/" + prefix + template, offset + count, pattern.name or pattern.lookup_str


def hostile_urls():
    """Every pattern with path parameters, once per hostile value in each parameter (the others plain)."""
    urls = set()
    for template, count, _name in url_templates():
        for position in range(count):
            for value in HOSTILE.values():
                values = [PLAIN] * count
                values[position] = value
                urls.add(template.format(*values))
    return sorted(urls)


def test_the_walk_covers_the_patterns_with_path_parameters():
    templates = {template for template, count, _name in url_templates() if count}
    # A few of each kind: the site, the API, the admin's own and ours, and a regex of simple-history.
    for expected in (
        "/kommune/{0}/",
        "/api/municipalities/{0}/",
        "/admin/registry/physician/{0}/history/",
        "/admin/registry/physician/{0}/history/{1}/",
        "/admin/imports/importlog/pending/{0}/confirm/",
        "/admin/auth/user/{0}/password/",
        "/admin/r/{0}/{1}/",
    ):
        assert expected in templates
    assert len(hostile_urls()) > 400


@pytest.fixture
def entries():
    """A few rows, so that plain ids in the other parameters point at something."""
    return PhoneFactory(physician=None, appointment=AppointmentFactory())


@pytest.fixture(params=[None, "superuser", "editor_trondelag"], ids=["anonymous", "superuser", "editor"])
def visitor(request, entries):
    """A visitor who is not logged in, the superuser (every admin page), or an editor (scoped admin pages)."""
    client = Client(raise_request_exception=False)
    if request.param:
        client.force_login(request.getfixturevalue(request.param))
    return client


def is_api(url):
    return url.startswith("/api/") and url != "/api/"


def test_no_hostile_path_value_gives_a_500(visitor):
    failures = []
    for url in hostile_urls():
        response = visitor.get(url)
        if response.status_code >= 500:
            failures.append((url, response.status_code))
        elif is_api(url) and response.status_code >= 400 and response["Content-Type"] != "application/json":
            failures.append((url, f"{response.status_code} {response['Content-Type']}"))
    assert not failures, "\n".join(f"{status} {url}" for url, status in failures)


def test_an_api_address_nobody_serves_gets_a_json_404(client):
    for url in ("/api/municipalities/5045/extra/", "/api/nothing-here/", "/api/municipalities/..%2F/"):
        response = client.get(url)
        assert response.status_code == 404 and response["Content-Type"] == "application/json", url
        assert response.json()["detail"]


@pytest.mark.parametrize("url", ["/api/municipalities/%00/", "/api/municipalities/ab%00c/"])
def test_a_nul_in_an_api_path_gets_a_json_400(client, url):
    response = client.get(url)
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert "NUL" in response.json()["detail"]


@pytest.mark.parametrize("url", ["/api/municipalities/abc/", "/api/municipalities/" + "9" * 40 + "/"])
def test_a_malformed_municipality_number_in_the_api_gets_a_json_404(client, url):
    response = client.get(url)
    assert response.status_code == 404 and response["Content-Type"] == "application/json"


def test_a_nul_in_a_page_path_gets_the_norwegian_400():
    response = Client().get("/kommune/%00/")
    assert response.status_code == 400 and "Forespørselen kunne ikke forstås" in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/registry/physician/abc/history/",
        "/admin/registry/physician/abc/history/1/",
        "/admin/registry/physician/{physician}/history/abc/",
        "/admin/registry/appointment/" + "9" * 40 + "/history/",
    ],
)
def test_a_malformed_id_on_an_admin_history_page_gets_the_norwegian_404(editor_trondelag, entries, url):
    client = Client()
    client.force_login(editor_trondelag)
    response = client.get(url.format(physician=entries.appointment.physician_id))
    assert response.status_code == 404 and "Siden ble ikke funnet" in response.content.decode()
