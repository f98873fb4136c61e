from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from accounts.login_security import unlock


class Command(BaseCommand):
    help = (
        "Lift the login lockouts of USERNAME: after too many wrong passwords from one address, or for the "
        "account from all addresses. Do it once you know the owner, not an attacker, is the one logging in."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        count = unlock(username)
        self.stdout.write(
            _("Logins to %(username)s are open again (%(count)s records of failed logins deleted).")
            % {"username": username, "count": count}
        )
