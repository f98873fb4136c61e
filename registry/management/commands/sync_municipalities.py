import datetime
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from registry import services
from registry.reference import read_csv


class Command(BaseCommand):
    help = (
        "Apply a later SSB municipality list (columns kommunenummer, navn, alternative_navn, fylkesnummer; "
        "optional tidligere_kommunenummer). Prints what changed; never deletes a municipality."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="CSV file in the layout of registry/data/kommuner.csv")
        parser.add_argument("--date", help="The day the list takes effect, YYYY-MM-DD (default: today)")
        parser.add_argument("--dry-run", action="store_true", help="Show what would change, change nothing")

    def handle(self, *args, file, date, dry_run, **options):
        try:
            on = datetime.date.fromisoformat(date) if date else None
        except ValueError:
            raise CommandError(
                _("--date must be YYYY-MM-DD, for example 2028-01-01; got %(date)r.") % {"date": date}
            ) from None
        if not file.is_file():
            raise CommandError(_("%(file)s does not exist. Give the path to the CSV file from SSB.") % {"file": file})
        try:
            report = services.sync_municipalities(rows=read_csv(file), on=on, dry_run=dry_run)
        except (ValidationError, KeyError, UnicodeDecodeError) as error:
            messages = error.messages if isinstance(error, ValidationError) else [str(error)]
            raise CommandError(_("Nothing was changed:") + "\n" + "\n".join(messages)) from None
        for line in report.lines():
            self.stdout.write(line)
        if not report.changed:
            self.stdout.write(_("No changes: the registry already matches this list."))
        elif dry_run:
            self.stdout.write(_("Dry run: nothing was saved."))
