"""Keeping the registry current, in a real browser with axe-core: the confirmation page, the proposal form,
the report form and the editor's home (see tests/web/test_browser.py for the set-up)."""

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


def serious_violations(page, context=None):
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context=context)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} – {len(violation['nodes'])} elements"
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


@pytest.fixture
def link_path(site):
    """The path of a confirmation link for Demo Anne Påfunn, chief physician of 5001 Trondheim."""
    from registry import services
    from registry.models import Appointment, ConfirmationLink
    from registry.upkeep import ENTRY_KINDS, Plan, link_token

    appointment = Appointment.objects.get(municipality__number="5001", role="chief_physician")
    plan = Plan(appointment.physician.email, [(ENTRY_KINDS["appointment"], appointment)])
    (request,) = services.request_confirmations([plan], cycle="browser")
    return f"/bekreft/{link_token(ConfirmationLink.objects.get(request=request))}/"


def test_the_confirmation_page_is_accessible_and_confirms(page, site, link_path):
    from playwright.sync_api import expect

    page.goto(site + link_path)
    expect(page.locator("h1")).to_have_text("Er oppføringen din riktig?")
    expect(page.locator(".entry-facts")).to_contain_text("kun for myndigheter")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Dette stemmer").click()
    expect(page.locator("h1")).to_have_text("Takk: oppføringen er bekreftet")
    assert serious_violations(page) == []


def test_the_proposal_form_is_accessible_and_shows_a_bad_number(page, site, link_path):
    from playwright.sync_api import expect

    page.goto(site + link_path)
    page.get_by_role("link", name="Noe er feil").click()
    expect(page.locator("h1")).to_have_text("Foreslå en endring")
    assert serious_violations(page) == []
    page.get_by_label("Nytt telefonnummer").fill("12 34")
    page.get_by_role("button", name="Send forslaget").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator(".field-invalid")).to_contain_text("12 34 er ikke et gyldig telefonnummer")
    assert serious_violations(page) == []
    page.get_by_label("Nytt telefonnummer").fill("+46 70 123 45 67")
    page.get_by_role("button", name="Send forslaget").click()
    expect(page.locator("h1")).to_have_text("Takk: forslaget er sendt")


def test_the_report_form_is_accessible_and_sends(page, site, monkeypatch):
    from playwright.sync_api import expect

    from registry import forms

    monkeypatch.setattr(forms, "MIN_FILL_SECONDS", 0)  # the live server runs in this process
    page.goto(site + "/kommune/5001/")
    page.get_by_role("link", name="Meld fra om feil").click()
    expect(page.locator("h1")).to_contain_text("Meld fra om feil: 5001 Trondheim")
    assert serious_violations(page) == []
    trap = page.get_by_label("La dette feltet stå tomt").bounding_box()
    assert trap["x"] + trap["width"] <= 0, "the trap field is out of sight"
    page.get_by_label("Hva er feil?").fill("Vakttelefonen svarer ikke.")
    page.get_by_role("button", name="Send meldingen").click()
    expect(page.locator("h1")).to_have_text("Takk: meldingen er sendt")
    assert serious_violations(page) == []


def test_the_editors_home_is_accessible_and_shows_the_regions_work(page, site):
    from playwright.sync_api import expect

    from accounts.services import add_editor

    user, _password = add_editor(username="redaktor-nettleser", office_code="trondelag")
    user.set_password("correct horse battery staple 7")
    user.save()
    page.goto(site + "/admin/")
    page.get_by_label("Brukernavn").fill("redaktor-nettleser")
    page.get_by_label("Passord").fill("correct horse battery staple 7")
    page.get_by_role("button", name="Logg inn").click()
    expect(page.locator("#region-work")).to_contain_text("Statsforvalteren i Trøndelag")
    expect(page.locator("#site-name")).to_have_text("Kommuneoverlegeregisteret")
    assert serious_violations(page) == []
