from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mass_mail
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.services import office_by_code
from registry.freshness import freshness_report


def editor_addresses(offices):
    """Map office id → the e-mail addresses of its active editors. One query."""
    rows = (
        get_user_model()
        .objects.filter(is_active=True, groups__office__county_governor__in=offices)
        .exclude(email="")
        .values_list("groups__office__county_governor_id", "email")
        .distinct()
    )
    addresses = {}
    for office_id, email in rows:
        addresses.setdefault(office_id, []).append(email)
    return {office_id: sorted(emails) for office_id, emails in addresses.items()}


class Command(BaseCommand):
    help = (
        "Print, per county governor office, the entries not confirmed lately, the municipalities with no chief "
        "physician or no deputy, the proposals and error reports waiting for a decision, and what falls out of "
        "date within a month. With --email, send each office's part to its editors: the weekly digest (cron)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", action="store_true", help="E-mail each office's part to its editors")
        parser.add_argument("--office", help="Only this office (its code, for example trondelag)")

    def handle(self, *args, email, office, **options):
        if office:
            try:
                office = office_by_code(office)
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from None
        # The period is REGISTRY_STALE_AFTER_DAYS: one threshold for this report, the admin and the public list.
        report = freshness_report()
        parts = [part for part in report.offices if office is None or part.office == office]
        for part in parts:
            self.stdout.write("\n".join(report.lines(part)) + "\n")
        if email:
            self.send(report, parts)

    def send(self, report, parts):
        addresses = editor_addresses([part.office for part in parts])
        messages, unreachable = [], []
        for part in parts:
            recipients = addresses.get(part.office.pk)
            if part.is_empty:
                continue
            if not recipients:
                unreachable.append(part.office)
                continue
            # The e-mail is in the site's language, whatever the language of the shell running cron.
            with translation.override(settings.LANGUAGE_CODE):
                subject = _("Kommuneoverlegeregisteret: entries to confirm for %(office)s") % {"office": part.office}
                body = "\n".join(report.lines(part))
            messages.append((subject, body, settings.DEFAULT_FROM_EMAIL, recipients))
        for office in unreachable:
            self.stderr.write(_("%(office)s has no editor with an e-mail address; nothing sent.") % {"office": office})
        sent = send_mass_mail(messages, fail_silently=False)
        self.stdout.write(_("E-mail sent to %(count)s office(s).") % {"count": sent})
