"""Phone numbers at the registry's edges: parsed once when they come in, stored in E.164.

Every way a number enters (admin forms, imports, the demo data) goes through `parse_phone`, so a
number is refused with the same message wherever it is typed.
"""

import copy
import functools
import re

import phonenumbers
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from phonenumber_field import formfields, modelfields
from phonenumber_field.phonenumber import PhoneNumber

DEFAULT_REGION = "NO"

# phonenumbers reads letters as keypad digits ("95 11 22 33 kun" would gain digits), so any
# letter makes a number invalid rather than silently becoming a different number.
_LETTERS = re.compile(r"[^\W\d_]")
# Non-breaking and other exotic spaces that spreadsheets leave in numbers.
_SPACES = re.compile(r"[\s\u00a0\u2007\u202f]+")

INVALID_MESSAGE = _(
    "%(number)s is not a valid phone number. Write a Norwegian number with 8 digits, "
    "or a foreign number starting with + and the country code (for example +46 70 123 45 67)."
)


def invalid_phone(raw):
    return ValidationError(INVALID_MESSAGE, code="invalid_phone", params={"number": raw})


def parse_phone(raw, *, region=DEFAULT_REGION):
    """Return the PhoneNumber in `raw`, or raise ValidationError naming it.

    Accepts spaces, dashes, dots, non-breaking spaces, +47 and 0047; refuses letters.
    """
    text = _SPACES.sub(" ", str(raw)).strip()
    if not text or _LETTERS.search(text):
        raise invalid_phone(raw)
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = PhoneNumber.from_string(text, region=region)
    except phonenumbers.NumberParseException:
        raise invalid_phone(raw) from None
    if not number.is_valid():
        raise invalid_phone(raw)
    return number


def validate_phone(value):
    """Model-level check: the stored value must be a valid number (imports may bypass forms)."""
    if value and not (isinstance(value, PhoneNumber) and value.is_valid()):
        raise invalid_phone(getattr(value, "raw_input", value))


class PhoneFormField(formfields.PhoneNumberField):
    """A text input that parses with `parse_phone`, so its errors name the number typed."""

    widget = forms.TextInput

    def __init__(self, *args, **kwargs):
        kwargs["widget"] = forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"})
        kwargs.pop("region", None)
        super().__init__(*args, region=DEFAULT_REGION, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return self.empty_value
        if isinstance(value, PhoneNumber):
            return value
        return parse_phone(value)

    def prepare_value(self, value):
        if isinstance(value, PhoneNumber) and value.is_valid():
            return format_phone(value)
        return value


class PhoneField(modelfields.PhoneNumberField):
    """Stores E.164; refuses invalid numbers with a message that names them."""

    default_validators = [validate_phone]

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": PhoneFormField, **kwargs})

    def from_db_value(self, value, expression, connection):
        # Parsing a stored number costs 30 µs, and the national list reads a thousand of them; the same
        # numbers come back on every request. A copy, so that no two rows share one object.
        if not isinstance(value, str) or not value:
            return super().from_db_value(value, expression, connection)
        return copy.copy(_stored_number(value))


@functools.lru_cache(maxsize=16_384)
def _stored_number(value):
    return modelfields.to_python(value)


def format_phone(number):
    """Return `number` as people read it: national format for Norway, international otherwise."""
    if not isinstance(number, PhoneNumber):
        return str(number or "")
    key = (
        number.country_code,
        number.national_number,
        number.extension,
        number.italian_leading_zero,
        number.number_of_leading_zeros,
    )
    return _readable(*key) or str(number)


@functools.lru_cache(maxsize=16_384)
def _readable(country_code, national_number, extension, italian_leading_zero, number_of_leading_zeros):
    """The readable form of a number, or None when it is not valid. Cached: validating a number against
    the numbering plan is most of the cost of showing the list's 1,000 numbers (make bench-search)."""
    number = PhoneNumber(
        country_code=country_code,
        national_number=national_number,
        extension=extension,
        italian_leading_zero=italian_leading_zero,
        number_of_leading_zeros=number_of_leading_zeros,
    )
    if not number.is_valid():
        return None
    if country_code == 47:
        return number.format_as(phonenumbers.PhoneNumberFormat.NATIONAL)
    return number.format_as(phonenumbers.PhoneNumberFormat.INTERNATIONAL)
