"""The national list's contact cells, written in Python: a thousand contacts rendered through included
templates took most of the time a search answered in (make bench-search)."""

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext

from registry.templatetags.phones import phone_list

register = template.Library()


@register.filter
def contact_list(contacts):
    """The contacts of one role in a row of the national list: name, numbers, e-mail, other municipalities served."""
    items = []
    for contact in contacts:
        email = contact.email
        shared = ""
        if contact.shared_with:
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
