import pytest
from django.contrib.auth.models import Permission
from django.db import connection
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
    analyse()


def analyse():
    """Give PostgreSQL's planner the statistics of what the test wrote, as autovacuum gives production's.

    The test's rows are not committed, so autovacuum never sees them: left with the statistics of tables
    that were empty, the planner loops over them row by row, and a search of the demo took 1.4 s instead of
    6 ms (the PostgreSQL run of the suite took an hour). ANALYZE inside the transaction samples its rows.
    """
    if connection.vendor != "postgresql":
        return
    from django.apps import apps

    tables = [model._meta.db_table for model in apps.get_app_config("registry").get_models()]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(table) for table in tables))


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


# The browser tests' fixtures (tests/web/test_browser.py, tests/web/test_upkeep_browser.py): Playwright driving
# Debian's Chromium against a live server with the demo data.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls in the fixtures are still synchronous.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()


@pytest.fixture
def site(live_server, browser):
    """The demo data on a live server. Transactional tests empty the tables afterwards, so load everything each time."""
    from registry import services

    services.load_reference()
    load_demo_data()
    return live_server.url


@pytest.fixture
def page(browser, site):
    """A Norwegian visitor's tab, not logged in."""
    context = browser.new_context(locale="nb-NO", accept_downloads=True, viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()
