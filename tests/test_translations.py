"""Everything a user reads is in Norwegian bokmål: every string translated, and the compiled files current."""

from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
PO_FILES = sorted(p for p in ROOT.glob("*/locale/nb/LC_MESSAGES/django.po")) + sorted(
    ROOT.glob("locale/nb/LC_MESSAGES/django.po")
)


def test_there_are_catalogues():
    assert any("registry" in str(p) for p in PO_FILES)


@pytest.mark.parametrize("path", PO_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_string_is_translated(path):
    po = polib.pofile(str(path))
    assert po.untranslated_entries() == [] and po.fuzzy_entries() == []


@pytest.mark.parametrize("path", PO_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_compiled_catalogue_matches_the_source(path):
    po = {e.msgid: e.msgstr for e in polib.pofile(str(path)) if not e.obsolete}
    mo = {e.msgid: e.msgstr for e in polib.mofile(str(path.with_suffix(".mo")))}
    assert mo == po, "Run `make messages` and commit the .mo file"
