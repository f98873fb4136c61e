"""The national list's contact cells, written in Python: a thousand contacts rendered through included
templates took most of the time a search answered in (make bench-search)."""

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext

from registry.templatetags.phones import phone_link, phone_list

register = template.Library()


@register.filter
def contact_list(contacts):
    """The contacts of one role in a row of the national list: name, numbers, e-mail, other municipalities served."""
    items = []
    for contact in contacts:
        email = contact.email
        shared = ""
        if contact.through is not None:
            shared = format_html('\n    <span class="through">{} {}</span>', gettext("Through"), str(contact.through))
        elif contact.shared_with:
            links = format_html_join(
                ", ",
                '<a href="{}">{}</a>',
                ((reverse("registry:municipality-detail", args=[m.number]), m.name) for m in contact.shared_with),
            )
            shared = format_html('\n    <span class="shared">{} {}</span>', gettext("Also serves:"), links)
        items.append(
            format_html(
                '  <li class="contact">\n    <span class="name">{}</span>\n    {}{}{}\n  </li>',
                contact.name,
                phone_list(contact.phones),
                format_html('\n    <a class="email" href="mailto:{}">{}</a>', email, email) if email else "",
                shared,
            )
        )
    return format_html('<ul class="contacts">\n{}\n</ul>', format_html_join("\n", "{}", ((item,) for item in items)))


@register.filter
def function_contact_list(contacts):
    """A function's contacts: the 24/7 number, the switchboard, the role mailboxes, each with who sees it."""
    if not contacts:
        return ""
    restricted = format_html(' <span class="restricted">{}</span>', gettext("authorities only"))
    items = []
    for contact in contacts:
        if contact.email:
            value = format_html('<a class="email" href="mailto:{}">{}</a>', contact.email, contact.email)
        else:
            value = phone_link(contact.number)
        label = contact.get_kind_display()
        if contact.role:
            label = f"{label} ({contact.get_role_display()})"
        items.append(
            format_html(
                '  <li>{} <span class="contact-kind">{}</span>{}{}{}</li>',
                value,
                label,
                format_html(' <span class="phone-note">({})</span>', contact.opening_hours)
                if contact.opening_hours
                else "",
                format_html(' <span class="through">{} {}</span>', gettext("through"), contact.through.arrangement.name)
                if getattr(contact, "through", None)
                else "",
                "" if contact.is_public else restricted,
            )
        )
    return format_html('<ul class="function-contacts">\n{}\n</ul>', format_html_join("\n", "{}", ((i,) for i in items)))


@register.filter
def legevakt_list(legevakter):
    """The out-of-hours clinics that serve a municipality, with their direct numbers."""
    if not legevakter:
        return ""
    restricted = format_html(' <span class="restricted">{}</span>', gettext("authorities only"))
    items = format_html_join(
        "\n",
        '  <li><span class="legevakt">{}</span> {}{}{}</li>',
        (
            (
                legevakt.name,
                phone_link(legevakt.number),
                format_html(' <span class="phone-note">({})</span>', legevakt.opening_hours)
                if legevakt.opening_hours
                else "",
                "" if legevakt.is_public else restricted,
            )
            for legevakt in legevakter
        ),
    )
    return format_html('<ul class="legevakter">\n{}\n</ul>', items)
