from django import template
from django.utils.html import format_html

from registry.phones import format_phone

register = template.Library()


@register.filter
def phone(number):
    """Show a stored E.164 number in national format (international for foreign numbers)."""
    return format_phone(number)


@register.filter
def phone_link(number):
    """A tel: link with the E.164 number as target and the readable form as text."""
    if not number:
        return ""
    return format_html(
        '<a href="tel:{}">{}</a>', number.as_e164 if hasattr(number, "as_e164") else number, format_phone(number)
    )
