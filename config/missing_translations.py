"""Messages of Django 5.2 that its own Norwegian catalogue does not translate yet.

Never imported: listing them here makes `makemessages` keep their bokmål in locale/, which Django
reads before its own catalogues. Remove an entry once Django's nb catalogue has it.
"""

from django.utils.translation import ngettext_lazy

PASSWORD_TOO_SHORT = ngettext_lazy(
    "This password is too short. It must contain at least %d character.",
    "This password is too short. It must contain at least %d characters.",
    "min_length",
)
