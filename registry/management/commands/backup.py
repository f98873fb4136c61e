from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from registry.backup import BackupError, write_backup


class Command(BaseCommand):
    help = (
        "Write the registry (entries, history, imports, users, groups, office permissions, two-factor devices) "
        "to FILE (JSON with a checksum; gzip when FILE ends in .gz), readable by its owner only: it holds "
        "password hashes and second-factor keys. Restore it with `manage.py restore FILE`."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        try:
            counts = write_backup(file)
        except (BackupError, OSError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            _("%(rows)s rows from %(tables)s tables written to %(file)s.")
            % {"rows": sum(counts.values()), "tables": sum(1 for n in counts.values() if n), "file": file}
        )
