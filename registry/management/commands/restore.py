from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from registry.backup import BackupError
from registry.services import restore_backup


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into an empty database migrated by the same version of "
        "the registry. Refuses a file whose checksum does not match or that holds anything but the registry's "
        "own tables and accounts, and a database that holds users or entries unless --force (which replaces them)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--force", action="store_true", help="Replace everything in a database that is not empty.")

    def handle(self, *args, file, force, **options):
        try:
            rows = restore_backup(file, force=force)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(_("%(rows)s rows restored from %(file)s.") % {"rows": rows, "file": file})
