"""The national list in a real browser: Playwright driving Debian's Chromium, and axe-core for accessibility.

The browser, the live site and the tab are fixtures in tests/web/conftest.py.

Chromium cannot download itself here; install it with `apt-get install chromium chromium-driver`
(.ci/browser.sh does it in CI). Without it these tests skip and say so.
"""

import csv
import io
from pathlib import Path

import pytest

from tests.web.conftest import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="Chromium is missing: install it with `apt-get install chromium chromium-driver` (see .ci/browser.sh)",
    ),
    pytest.mark.django_db(transaction=True),
]


def result_rows(page):
    return page.locator("table.contact-list tbody tr")


def test_typing_a_sami_name_finds_the_municipality_and_its_doctor(page, site):
    from playwright.sync_api import expect

    page.goto(site + "/")
    expect(result_rows(page)).to_have_count(357)
    page.locator("#id_q").press_sequentially("raarvihke", delay=40)
    # No Enter: the list updates as the user types.
    expect(result_rows(page)).to_have_count(1)
    row = result_rows(page).first
    expect(row).to_contain_text("Røyrvik")
    expect(row).to_contain_text("Demo Kari Fiktivsen")
    expect(row.locator('a[href="tel:+4740000101"]')).to_be_visible()
    expect(page.locator("#live-status")).to_contain_text("1 kommune")
    assert page.url.endswith("/?q=raarvihke"), "the address bar holds a shareable URL of the result"
    assert "+4740000102" not in page.content(), "an anonymous visitor never sees a number for authorities only"


def test_filter_by_office(page, site):
    from playwright.sync_api import expect

    page.goto(site + "/")
    page.select_option("#id_office", "trondelag")
    page.get_by_role("button", name="Søk").click()
    page.wait_for_url("**/?*office=trondelag*")
    counties = result_rows(page).locator(".county").all_inner_texts()
    assert counties and set(counties) == {"Trøndelag"}
    expect(result_rows(page).locator('th a[href="/kommune/5043/"]')).to_have_count(1)
    expect(result_rows(page).locator('th a[href="/kommune/0301/"]')).to_have_count(0)


def test_download_the_csv_export(page, site):
    page.goto(site + "/?q=namsskogan")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert header[0] == "Kommunenummer" and download.value.suggested_filename.endswith(".csv")
    assert {row[0] for row in rows} == {"5044"} and "Demo Kari Fiktivsen" in {row[6] for row in rows}


def focused(page):
    return page.evaluate(
        "() => { const e = document.activeElement;"
        " return {tag: e.tagName, id: e.id, cls: e.className, href: e.getAttribute('href'),"
        " outline: getComputedStyle(e).outlineStyle}; }"
    )


def tab_until(page, predicate, limit=80):
    for _ in range(limit):
        page.keyboard.press("Tab")
        element = focused(page)
        if predicate(element):
            return element
    raise AssertionError(f"not reached with {limit} presses of Tab")


def test_the_list_can_be_used_with_the_keyboard_only(page, site):
    page.goto(site + "/")
    page.keyboard.press("Tab")
    skip = focused(page)
    assert skip["cls"] == "skip-link" and skip["outline"] != "none", "the first Tab shows the skip link"
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main"
    search = tab_until(page, lambda element: element["id"] == "id_q")
    assert search["outline"] != "none", "focus is visible"
    page.keyboard.type("royrvik")
    # The live search may already have put ?q=royrvik in the address: wait for Enter's own page load.
    with page.expect_navigation(url="**/?q=royrvik*"):
        page.keyboard.press("Enter")
    tab_until(page, lambda element: element["href"] == "/kommune/5043/")
    page.keyboard.press("Enter")
    page.wait_for_url("**/kommune/5043/")
    assert "Røyrvik" in page.locator("h1").inner_text()


@pytest.mark.parametrize(
    "path", ["/", "/kommune/5043/", "/kommune/0301/", "/dekning/", "arrangement", "/bydel/030102/meld-feil/"]
)
def test_no_serious_accessibility_violations(page, site, path):
    from axe_playwright_python.sync_playwright import Axe

    if path == "arrangement":
        from registry.models import Arrangement

        path = f"/ordning/{Arrangement.objects.get(name='Demo Indre Namdal legetjeneste').pk}/"
    page.goto(site + path)
    results = Axe().run(page)
    serious = [
        f"{violation['id']} ({violation['impact']}): {violation['help']} – {len(violation['nodes'])} elements"
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
    assert serious == []


def test_a_municipality_in_an_arrangement_shows_it_and_its_members(page, site):
    page.goto(site + "/kommune/5043/")
    facts = page.locator("dl.facts").inner_text()
    assert "Demo Indre Namdal legetjeneste" in facts and "Grong, Lierne, Namsskogan, Røyrvik" in facts
    page.locator("dl.facts a", has_text="Demo Indre Namdal legetjeneste").click()
    page.wait_for_url("**/ordning/*/")
    assert "Namsskogan" in page.locator("main").inner_text()


def test_oslos_page_lists_its_districts_with_their_people(page, site):
    from playwright.sync_api import expect

    page.goto(site + "/kommune/0301/")
    districts = page.locator("section.district")
    expect(districts).to_have_count(15)
    expect(page.locator("#bydel-030102")).to_contain_text("Demo Bydelslege Grünerløkka")
    expect(page.locator("#bydel-030104")).to_contain_text("Ingen bydelsoverlege registrert")


def test_the_page_reads_well_on_a_phone(browser, site):
    context = browser.new_context(locale="nb-NO", viewport={"width": 375, "height": 740}, is_mobile=True)
    try:
        phone = context.new_page()
        phone.goto(site + "/?q=royrvik")
        width = phone.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 375, "no sideways scrolling on a phone"
        label = phone.evaluate("() => getComputedStyle(document.querySelector('.contact-list td'), '::before').content")
        assert "Kommuneoverlege" in label, "each cell is labelled when the table becomes cards"
    finally:
        context.close()


def test_the_print_stylesheet_hides_navigation_and_the_form(page, site):
    page.goto(site + "/?q=royrvik")
    page.emulate_media(media="print")
    assert page.locator(".search-form").is_hidden() and page.locator(".site-nav").is_hidden()
    assert page.locator("table.contact-list").is_visible()
