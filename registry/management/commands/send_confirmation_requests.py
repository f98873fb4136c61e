from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from registry.upkeep import plan_requests, send_requests


class Command(BaseCommand):
    help = (
        "E-mail every entry's physician that is, or within a month will be, not confirmed lately a signed link to "
        "confirm it or propose a change: at most one e-mail per address per month. Run from cron (weekly); "
        "an e-mail that could not be sent is tried again on the next run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List what would be sent; send and store nothing")

    def handle(self, *args, dry_run, **options):
        if not settings.REGISTRY_SITE_URL and not dry_run:
            raise CommandError(
                _(
                    "Set REGISTRY_SITE_URL to the site's address (for example https://kommuneoverleger.example.no): "
                    "the links in the e-mails start with it."
                )
            )
        plans = plan_requests()
        for plan in plans:
            if dry_run:
                line = (
                    _("Would send to %(address)s:") if plan.request is None else _("Would send again to %(address)s:")
                )
            else:
                line = _("To %(address)s:")
            self.stdout.write(line % {"address": plan.recipient})
            for kind, entry in plan.entries:
                self.stdout.write(f"  - {kind.title(entry)}")
        if dry_run:
            self.stdout.write(
                _("Dry run: %(count)s e-mail(s) would be sent; nothing was sent or stored.") % {"count": len(plans)}
            )
            return
        sent, failed = send_requests(plans)
        for request in failed:
            self.stderr.write(
                _("Could not send to %(address)s: %(error)s (tried again on the next run)")
                % {"address": request.recipient, "error": request.error}
            )
        self.stdout.write(
            _("%(sent)s e-mail(s) sent, %(failed)s could not be sent.") % {"sent": len(sent), "failed": len(failed)}
        )
