"""Checks for the registry's natural keys. Each error says what is wrong and what to do."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

# Brønnøysund's mod-11 weights for the first eight digits of an organisation number.
ORGANISATION_NUMBER_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)

validate_municipality_number = RegexValidator(
    r"^\d{4}\Z",
    _("A municipality number has exactly four digits, for example 0301 or 5001."),
    code="municipality_number",
)
validate_county_number = RegexValidator(
    r"^\d{2}\Z",
    _("A county number has exactly two digits, for example 03 or 50."),
    code="county_number",
)
validate_hpr_number = RegexValidator(
    r"^\d{4,9}\Z",
    _("An HPR number has 4 to 9 digits and nothing else. Leave it empty if you do not know it."),
    code="hpr_number",
)


def organisation_number_is_valid(value):
    """Return True when `value` is nine digits whose last digit is the mod-11 check digit."""
    if not (isinstance(value, str) and len(value) == 9 and value.isdigit()):
        return False
    remainder = sum(int(d) * w for d, w in zip(value[:8], ORGANISATION_NUMBER_WEIGHTS, strict=True)) % 11
    check = 0 if remainder == 0 else 11 - remainder
    return check != 10 and check == int(value[8])


def validate_organisation_number(value):
    if not organisation_number_is_valid(value):
        raise ValidationError(
            _("%(value)s is not a valid organisation number: it must be nine digits with a correct check digit."),
            code="organisation_number",
            params={"value": value},
        )


# Characters no text a person types may hold (names, notes, e-mail, function contacts, import cells):
# control characters (a vertical tab from a pasted Word text, NUL) cannot be shown, break the XLSX
# exports and mean nothing in a name; bidirectional overrides and isolates (U+202A–U+202E,
# U+2066–U+2069) make a name display as something other than what it is. One pattern, used by the model
# fields' validators, the write path (registry.services), the import's cells and the exports.
BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
REFUSED_IN_TEXT = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{BIDI_CONTROLS}]")
REFUSED_IN_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{BIDI_CONTROLS}]")


def refused_character(value, *, multiline=False):
    """The ValidationError for the first character `value` may not hold, or None."""
    if not isinstance(value, str):
        return None
    found = (REFUSED_IN_TEXT if multiline else REFUSED_IN_LINE).search(value)
    if found is None:
        return None
    character = found.group()
    if character in "\t\n\r":
        what = _("a line break or tab")
    elif re.fullmatch(f"[{BIDI_CONTROLS}]", character):
        what = _("a character that changes the direction of the text")
    else:
        what = _("an invisible control character")
    return ValidationError(
        _(
            "The text has %(what)s (U+%(code)s) at character %(position)s, which cannot be shown or exported "
            "safely. Remove it (type the text again rather than pasting it) and try again."
        ),
        code="refused_character",
        params={"what": what, "code": f"{ord(character):04X}", "position": found.start() + 1},
    )


def validate_line(value):
    """One line of text a person types (a name, an e-mail address, opening hours): no control characters,
    line breaks or direction overrides."""
    error = refused_character(value)
    if error is not None:
        raise error


def validate_text(value):
    """Text of several lines a person types (a note, a message): line breaks and tabs, but no other control
    characters or direction overrides."""
    error = refused_character(value, multiline=True)
    if error is not None:
        raise error
