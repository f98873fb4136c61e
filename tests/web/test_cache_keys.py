"""One cache variant for every cached form of the list: pages, rows and the ETag move together."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from registry.versioning import DataState, cache_variant

pytestmark = pytest.mark.django_db

LIST = reverse("registry:list")
STATE = DataState(changed_at=datetime.datetime(2026, 11, 23, 12, tzinfo=datetime.UTC), counter=7)


def variant(**changes):
    return cache_variant(**{"state": STATE, "language": "nb", "restricted": False, **changes})


def test_the_variant_differs_for_each_thing_the_list_depends_on(settings, monkeypatch, today):
    base = variant()
    assert variant() == base
    others = {
        "data state": variant(state=DataState(changed_at=STATE.changed_at, counter=8)),
        "language": variant(language="en"),
        "access": variant(restricted=True),
    }
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: today + datetime.timedelta(days=1))
    others["day"] = variant()
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: today)
    settings.REGISTRY_LIST_REQUIRES_LOGIN = True
    others["login-only"] = variant()
    assert len({base, *others.values()}) == 1 + len(others), others


def test_the_row_cache_and_the_etag_follow_the_login_only_setting(rf, reader, settings, today):
    from registry.conditional import list_etag
    from registry.views import row_key_prefix

    def keys():
        request = rf.get(LIST)
        request.user = reader
        return row_key_prefix(request), list_etag(request)

    open_prefix, open_etag = keys()
    settings.REGISTRY_LIST_REQUIRES_LOGIN = True
    login_only_prefix, login_only_etag = keys()
    assert open_prefix != login_only_prefix and open_etag != login_only_etag


def test_the_rows_the_etag_and_the_page_share_one_variant(rf, today):
    from django.contrib.auth.models import AnonymousUser

    from registry.conditional import list_state, list_variant
    from registry.page_cache import page_key
    from registry.views import row_key_prefix

    request = rf.get(LIST, headers={"Accept-Language": "nb"})
    assert page_key(request) is not None
    request.user = AnonymousUser()
    # The page key read the data state; the rows and the ETag use that same state and build the same variant.
    assert list_state(request) is request._registry_state
    expected = cache_variant(state=request._registry_state, language="nb", restricted=False)
    with translation.override("nb"):
        assert list_variant(request) == expected
        assert row_key_prefix(request) == f"registry:row:{expected}::"
        # A row for another day (?on=) is another row.
        assert row_key_prefix(request, datetime.date(2025, 6, 1)) == f"registry:row:{expected}:2025-06-01:"


def test_a_readers_etag_changes_when_the_list_turns_login_only(reader, demo, settings):
    browser = Client(headers={"Accept-Language": "en"})
    browser.force_login(reader)
    browser.get(LIST)  # sets the CSRF cookie, which the ETag includes
    etag = browser.get(LIST)["ETag"]
    assert browser.get(LIST, headers={"If-None-Match": etag}).status_code == 304
    settings.REGISTRY_LIST_REQUIRES_LOGIN = True
    assert browser.get(LIST, headers={"If-None-Match": etag}).status_code == 200
