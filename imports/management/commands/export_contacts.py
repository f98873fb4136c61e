from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from imports.management.commands.import_contacts import command_user
from imports.services import EXPORT_PERMISSION, export_file


class Command(BaseCommand):
    help = "Export the current contacts in the import layout (.xlsx or .csv), ready to edit and import again."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="Where to write; the ending (.xlsx or .csv) picks the format")
        parser.add_argument("--user", help="Export what this account may edit (default: every municipality)")

    def handle(self, *args, file, user, **options):
        account = command_user(user)
        if account is not None and not account.has_perm(EXPORT_PERMISSION):
            raise CommandError(_("%(username)s may not export contact sheets.") % {"username": user})
        file_format = file.suffix.lower().lstrip(".")
        if file_format not in ("xlsx", "csv"):
            raise CommandError(_("The file must end in .xlsx or .csv."))
        data, _content_type = export_file(account, file_format)
        file.write_bytes(data)
        self.stdout.write(_("Wrote %(file)s.") % {"file": file})
