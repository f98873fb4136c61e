from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from imports.models import ImportLog
from imports.services import IMPORT_PERMISSION, rejects_workbook, run_import
from imports.sheets import MAX_FILE_BYTES


def command_user(username):
    """Return the active account `username`, or raise CommandError. None means national administrator rights."""
    if username is None:
        return None
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(_("There is no active user %(username)s.") % {"username": username})
    return user


class Command(BaseCommand):
    help = (
        "Import an office's contact sheet (.xlsx, .ods or .csv) in the layout described in README.md. Prints every "
        "error and ends with 'new: N, updated: N, unchanged: N, skipped: N, errors: N'; exits 0 only when no row "
        "was rejected."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--user", help="Import with exactly this account's rights (default: national administrator rights)"
        )
        parser.add_argument("--dry-run", action="store_true", help="Report what would change; save nothing")
        parser.add_argument(
            "--skip-invalid", action="store_true", help="Save the valid rows even when other rows have errors"
        )
        parser.add_argument("--rejects", type=Path, help="Write the rejected rows, with an error column, to this .xlsx")
        parser.add_argument(
            "--no-phones",
            action="store_true",
            help="Import even though no phone column was recognised (no phone number is then imported)",
        )
        parser.add_argument(
            "--end-missing",
            action="store_true",
            help="End (as of today) the office's appointments that the sheet no longer lists",
        )

    def handle(self, *args, file, user, dry_run, skip_invalid, rejects, end_missing, no_phones, **options):
        account = command_user(user)
        if account is not None and not account.has_perm(IMPORT_PERMISSION):
            raise CommandError(_("%(username)s may not import contact sheets.") % {"username": user})
        if not file.is_file():
            raise CommandError(_("%(file)s does not exist.") % {"file": file})
        with file.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        report = run_import(
            data=data,
            file_name=file.name,
            user=account,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            end_missing=end_missing,
            accept_no_phones=no_phones,
            source=ImportLog.Source.COMMAND,
        )
        self.print_report(report)
        if rejects and report.rejected:
            rejects.write_bytes(rejects_workbook(report))
            self.stdout.write(_("Rejected rows written to %(file)s.") % {"file": rejects})
        self.stdout.write(report.summary_line())
        if report.has_errors or (report.no_phone_columns and not no_phones and not dry_run):
            raise SystemExit(1)

    def print_report(self, report):
        if report.error:
            self.stdout.write(_("Nothing was imported: %(error)s") % {"error": report.error})
        if report.no_phone_columns:
            self.stdout.write(
                _(
                    "Warning: no phone column was recognised, so no phone number would be imported. Check the column "
                    "names, or run again with --no-phones to import without numbers."
                )
            )
        for notice in report.notices:
            self.stdout.write(notice)
        for row in report.rows:
            for note in row.notes:
                self.stdout.write(_("Row %(row)s: %(note)s") % {"row": row.number, "note": note})
            for problem in row.problems:
                self.stdout.write(
                    _("Row %(row)s, column %(column)s, value «%(value)s»: %(message)s")
                    % {
                        "row": row.number,
                        "column": problem.column or "–",
                        "value": problem.value,
                        "message": problem.message,
                    }
                )
        for line in report.missing:
            self.stdout.write(_("Not in the sheet: %(appointment)s") % {"appointment": line})
        if report.ended:
            verb = (
                _("Would end (as of today): %(appointment)s")
                if report.dry_run or not report.saved
                else _("Ended (as of today): %(appointment)s")
            )
            for line in report.ended:
                self.stdout.write(verb % {"appointment": line})
        elif report.end_blocked:
            self.stdout.write(
                _("No appointment was ended: some rows have a municipality that could not be read. Fix them first.")
            )
        if report.dry_run:
            self.stdout.write(_("Dry run: nothing was saved."))
        elif report.rejected and not report.saved:
            self.stdout.write(
                _("Nothing was saved, because rows have errors. Fix them, or save the valid rows with --skip-invalid.")
            )
