"""Checks for the registry's natural keys. Each error says what is wrong and what to do."""

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
