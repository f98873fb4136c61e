from django import template
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext

from registry.phones import format_phone

register = template.Library()


@register.filter
def phone(number):
    """Show a stored E.164 number in national format (international for foreign numbers)."""
    return format_phone(number)


@register.filter
def phone_link(number):
    """A tel: link with the E.164 number as target and the readable form as text."""
    # Not `if not number`: a PhoneNumber's truth is its length, which validates it (30 µs each).
    if number is None or isinstance(number, str) and not number:
        return ""
    return format_html(
        '<a href="tel:{}">{}</a>', number.as_e164 if hasattr(number, "as_e164") else number, format_phone(number)
    )


@register.filter
def phone_list(phones):
    """The numbers of a contact as a list: link, kind, note and, for restricted ones, "authorities only".

    Written here rather than as an included template: the national list shows a thousand numbers, and
    an include per contact was a third of the time it took to render (make bench-search).
    """
    if not phones:
        return ""
    restricted = format_html(' <span class="restricted">{}</span>', gettext("authorities only"))
    items = format_html_join(
        "\n",
        '  <li>{} <span class="phone-kind">{}</span>{}{}</li>',
        (
            (
                phone_link(phone.number),
                phone.get_kind_display(),
                format_html(' <span class="phone-note">({})</span>', phone.note) if phone.note else "",
                "" if phone.is_public else restricted,
            )
            for phone in phones
        ),
    )
    return format_html('<ul class="phones">\n{}\n</ul>', items)
