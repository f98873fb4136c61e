from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _


class AccountCommand(BaseCommand):
    """Shared shape of add_editor / add_reader: create or update one account and say what happened."""

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", help="The person's e-mail address")
        parser.add_argument(
            "--reset-password", action="store_true", help="Give an existing account a new random password, printed"
        )

    def create(self, **options):
        raise NotImplementedError

    def handle(self, *args, **options):
        existed = get_user_model().objects.filter(username=options["username"]).exists()
        try:
            user, password = self.create(**options)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        groups = ", ".join(sorted(user.groups.values_list("name", flat=True)))
        self.stdout.write(_("%(username)s: %(groups)s") % {"username": user.username, "groups": groups})
        if password and existed:
            self.stdout.write(
                _("New password: %(password)s (hand it over safely; the user should change it).")
                % {"password": password}
            )
        elif password:
            self.stdout.write(
                _("New account. Initial password: %(password)s (hand it over safely; the user should change it).")
                % {"password": password}
            )
