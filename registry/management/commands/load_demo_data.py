import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from registry.demo import load_demo_data, real_physicians

DEMO_ADMIN = "admin"


class Command(BaseCommand):
    help = (
        "Load a small, clearly fictional demo data set and a demo administrator. "
        "Refuses to touch a database that holds real entries unless --force is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Load even though real entries exist")
        parser.add_argument("--no-admin", action="store_true", help="Do not create or reset the demo administrator")

    def handle(self, *args, force, no_admin, **options):
        real = real_physicians().count()
        if real and not force:
            raise CommandError(
                _(
                    "This database holds %(count)s physician(s) that are not demo data. Demo data is meant for "
                    "an empty development database; use --force if you really want it here."
                )
                % {"count": real}
            )
        counts = load_demo_data()
        self.stdout.write(_("Demo data: %(physicians)s fictional physicians, %(appointments)s appointments.") % counts)
        if no_admin:
            return
        password = os.environ.get("DEMO_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        user, _created = get_user_model().objects.get_or_create(username=DEMO_ADMIN)
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        self.stdout.write(
            self.style.SUCCESS(
                _("Demo administrator: username %(username)r, password %(password)r")
                % {"username": DEMO_ADMIN, "password": password}
            )
        )
