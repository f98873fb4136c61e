"""The list's rows, rendered once per data change and put together from the cache for every search."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from registry.models import Physician
from tests.factories import write
from tests.web.conftest import PUBLIC_NUMBER, RESTRICTED_NUMBER

pytestmark = pytest.mark.django_db

LIST = reverse("registry:list")
RESULTS = reverse("registry:results")


def get_with_queries(client, url, data=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, data)
    assert response.status_code == 200
    return response.content.decode(), [query["sql"] for query in queries.captured_queries]


def test_a_search_after_the_list_reads_no_contacts_or_numbers(client, demo):
    client.get(LIST)  # renders every municipality's row once
    content, queries = get_with_queries(client, RESULTS, {"q": "namsskogan"})
    assert "Demo Kari Fiktivsen" in content and PUBLIC_NUMBER in content
    assert not any("registry_phone" in sql or 'registry_appointment"."note' in sql for sql in queries)


def test_a_row_is_rendered_again_after_an_edit(client, demo):
    client.get(LIST)
    kari = Physician.objects.get(name="Demo Kari Fiktivsen")
    kari.name = "Demo Kari Omdøpt"
    write(kari)
    content, queries = get_with_queries(client, RESULTS, {"q": "namsskogan"})
    assert "Demo Kari Omdøpt" in content and "Demo Kari Fiktivsen" not in content
    assert any("registry_phone" in sql for sql in queries)


def test_a_readers_rows_are_never_shown_to_an_anonymous_visitor(client, reader, demo):
    from django.test import Client

    reader_browser = Client(headers={"Accept-Language": "en"})
    reader_browser.force_login(reader)
    assert RESTRICTED_NUMBER in reader_browser.get(LIST).content.decode()
    content = client.get(RESULTS, {"q": "namsskogan"}).content.decode()
    assert PUBLIC_NUMBER in content and RESTRICTED_NUMBER not in content


def test_an_anonymous_visitors_rows_are_not_what_a_reader_gets(client, reader, demo):
    from django.test import Client

    client.get(LIST)
    reader_browser = Client(headers={"Accept-Language": "en"})
    reader_browser.force_login(reader)
    assert RESTRICTED_NUMBER in reader_browser.get(RESULTS, {"q": "namsskogan"}).content.decode()


def test_rows_are_kept_apart_by_language(client, demo):
    from django.test import Client

    assert "No deputy registered" in client.get(LIST).content.decode()
    norwegian = Client(headers={"Accept-Language": "nb"}).get(RESULTS, {"q": "5636"}).content.decode()
    assert "Ingen stedfortreder registrert" in norwegian
    assert "No deputy registered" not in norwegian


def test_a_row_turns_stale_when_the_day_moves_on(client, demo, monkeypatch):
    assert "not confirmed lately" not in client.get(RESULTS, {"q": "5501"}).content.decode()
    client.get(LIST)
    # 200 days after the demo was confirmed (by the wall clock; "today" itself is pinned by the demo).
    later = timezone.now().date() + datetime.timedelta(days=200)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: later)
    assert "not confirmed lately" in client.get(RESULTS, {"q": "5501"}).content.decode()


def test_counts_and_vacancies_come_right_from_cached_rows(client, demo):
    client.get(LIST)
    first = client.get(RESULTS, {"county": "50"}).content.decode()
    again = client.get(RESULTS, {"county": "50", "missing": ""}).content.decode()
    for content in (first, again):
        assert "without a chief physician" in content
    assert first.count('class="vacant"') == again.count('class="vacant"') >= 1
