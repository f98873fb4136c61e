"""ETag and Last-Modified: a client polling the list gets 304 until the data, day, language or reader changes."""

import pytest
from django.urls import reverse

from registry.models import Phone
from registry.phones import parse_phone
from tests.factories import FunctionContactFactory, UserFactory, municipality, remove

pytestmark = pytest.mark.django_db

URLS = [
    reverse("registry:list"),
    reverse("registry:municipality-detail", args=["5043"]),
    reverse("registry:export-csv"),
    reverse("registry:coverage"),
]


@pytest.mark.parametrize("url", URLS)
def test_unchanged_page_is_answered_with_304(client, demo, url):
    client.get(url)  # the first visit sets the CSRF cookie, which the ETag includes
    first = client.get(url)
    assert first.status_code == 200 and first["ETag"] and first["Last-Modified"]
    assert client.get(url, headers={"If-None-Match": first["ETag"]}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": first["Last-Modified"]}).status_code == 304


def test_responses_vary_on_cookie_and_language(client, demo):
    vary = client.get(reverse("registry:list"))["Vary"]
    assert "Cookie" in vary and "Accept-Language" in vary


def test_etag_changes_when_a_number_is_added(client, demo):
    url = reverse("registry:list")
    client.get(url)
    etag = client.get(url)["ETag"]
    FunctionContactFactory(municipality=municipality("5001"), number=parse_phone("73 00 08 88"))
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200 and response["ETag"] != etag


def test_etag_changes_when_a_number_is_deleted(client, demo):
    url = reverse("registry:list")
    client.get(url)
    etag = client.get(url)["ETag"]
    remove(*Phone.objects.filter(physician__email="kari.fiktivsen@example.no"))
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 200


def test_etag_differs_by_language(client, demo):
    url = reverse("registry:list")
    client.get(url)
    english = client.get(url)["ETag"]
    norwegian = client.get(url, headers={"Accept-Language": "nb"})
    assert norwegian["ETag"] != english
    assert client.get(url, headers={"Accept-Language": "nb", "If-None-Match": english}).status_code == 200


def test_etag_differs_for_a_reader_who_sees_restricted_numbers(client, reader, demo):
    url = reverse("registry:list")
    anonymous = client.get(url)["ETag"]
    client.force_login(reader)
    response = client.get(url, headers={"If-None-Match": anonymous})
    assert response.status_code == 200 and "40 00 01 02" in response.content.decode()


def test_etag_differs_once_logged_in_even_without_the_permission(client, demo):
    url = reverse("registry:list")
    anonymous = client.get(url)["ETag"]
    client.force_login(UserFactory(username="someone"))
    response = client.get(url, headers={"If-None-Match": anonymous})
    assert response.status_code == 200 and "Log out someone" in response.content.decode()
