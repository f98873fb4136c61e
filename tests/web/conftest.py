import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from registry.demo import load_demo_data
from registry.models import Phone, Visibility
from registry.phones import format_phone, parse_phone
from tests.factories import UserFactory

# Kari Fiktivsen's numbers (Indre Namdal) in the demo data: one public, one for authorities only.
PUBLIC_NUMBER = format_phone(parse_phone("400 00 101"))
RESTRICTED_NUMBER = format_phone(parse_phone("400 00 102"))


def restricted_forms():
    """Every number marked "authorities only", in each form a page, an export or the API could show it."""
    forms = []
    for phone in Phone.objects.filter(visibility=Visibility.AUTHORITIES):
        forms += [format_phone(phone.number), phone.number.as_e164, phone.number.as_e164.removeprefix("+47")]
    assert forms, "the test needs restricted numbers to look for"
    return forms


@pytest.fixture
def client():
    """A browser that asks for English, so that tests read the English msgids; Norwegian is tested on its own."""
    return Client(headers={"Accept-Language": "en"})


@pytest.fixture
def demo(db, today):
    """The demo set: Indre Namdal's shared physician, deputies, a vacancy, a Swedish mobile, restricted numbers."""
    load_demo_data()


@pytest.fixture
def reader(db):
    """A national reader (FHI): logged in, sees numbers for authorities only, edits nothing."""
    user = UserFactory(username="fhi-reader")
    user.user_permissions.add(Permission.objects.get(codename="view_authorities_only"))
    return user


@pytest.fixture
def reader_client(client, reader):
    client.force_login(reader)
    return client


@pytest.fixture
def plain_user_client(client, db):
    """A logged-in user without the permission: sees the list, but no restricted numbers."""
    client.force_login(UserFactory(username="someone"))
    return client
