"""Freshness: per office, the entries nobody has confirmed lately and the municipalities missing a key role;
and for the weekly digest, the proposals and reports waiting for the office and what falls out of date next.

Used by the admin's freshness page and the `stale_report` command. A fixed number of queries,
whatever the number of offices or entries.
"""

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from registry import access
from registry.models import (
    Appointment,
    CountyGovernor,
    ErrorReport,
    Municipality,
    Proposal,
    Role,
    confirmation_cutoff,
)
from registry.upkeep import ENTRY_KINDS, SOON, due_cutoff

# The digest is weekly: what arrived within this period is marked as new.
DIGEST_PERIOD = datetime.timedelta(days=7)


@dataclass
class OfficeFreshness:
    office: CountyGovernor
    municipalities: list = field(default_factory=list)  # function contacts not confirmed lately
    appointments: list = field(default_factory=list)  # current or future, not confirmed lately
    physicians: list = field(default_factory=list)  # serving here, not confirmed lately
    without_chief: list = field(default_factory=list)  # active municipalities with no current chief physician
    without_deputy: list = field(default_factory=list)  # active municipalities with no current deputy
    proposals: list = field(default_factory=list)  # open proposals through confirmation links (the office's queue)
    reports: list = field(default_factory=list)  # open error reports (the office's queue)
    falling_due: list = field(default_factory=list)  # confirmed lately today, not within SOON from now

    @property
    def is_empty(self):
        return not (
            self.municipalities
            or self.appointments
            or self.physicians
            or self.without_chief
            or self.without_deputy
            or self.proposals
            or self.reports
            or self.falling_due
        )


@dataclass
class FreshnessReport:
    cutoff: datetime.datetime
    days: int
    offices: list
    # Queue items received after this are "new" in the digest.
    new_since: datetime.datetime | None = None

    def lines(self, office_freshness):
        """The report of one office as plain text lines (the command's output and the e-mail body)."""
        part = office_freshness
        out = [part.office.name, "=" * len(part.office.name)]
        if part.is_empty:
            return [*out, _("Everything is confirmed, and every municipality has a chief physician and a deputy.")]
        since = date_format(timezone.localtime(self.cutoff).date(), "SHORT_DATE_FORMAT")

        def received(item):
            new = _(" (new)") if self.new_since and item.created_at >= self.new_since else ""
            return f"{item}{new}: {date_format(timezone.localtime(item.created_at).date(), 'SHORT_DATE_FORMAT')}"

        sections = [
            (_("Proposals through confirmation links waiting for a decision"), [received(p) for p in part.proposals]),
            (_("Error reports waiting for a decision"), [received(r) for r in part.reports]),
            (_("No current chief physician"), [str(m) for m in part.without_chief]),
            (_("No current deputy"), [str(m) for m in part.without_deputy]),
            (_("Appointments not confirmed since %(date)s") % {"date": since}, [str(a) for a in part.appointments]),
            (_("Physicians not confirmed since %(date)s") % {"date": since}, [str(p) for p in part.physicians]),
            (
                _("Municipalities (function contacts) not confirmed since %(date)s") % {"date": since},
                [str(m) for m in part.municipalities],
            ),
            (
                _("Falls out of date within %(days)s days (confirm it before then)") % {"days": SOON.days},
                [str(m) for m in part.falling_due],
            ),
        ]
        for title, items in sections:
            if items:
                out += ["", f"{title} ({len(items)}):", *[f"  - {item}" for item in items]]
        return out


def _not_confirmed_since(cutoff, prefix=""):
    return Q(**{f"{prefix}verified_at__isnull": True}) | Q(**{f"{prefix}verified_at__lt": cutoff})


def freshness_report(*, municipalities=None, now=None):
    """Return a FreshnessReport per office for `municipalities` (a queryset; default all), as of `now`.

    Entries count as stale when not confirmed since `confirmation_cutoff` (REGISTRY_STALE_AFTER_DAYS, the
    one threshold the public list, its filter and the admin use too). Only active municipalities and
    appointments not yet ended are reported. Nine queries; two more each with open proposals and with open
    reports (who keeps them: the ownership rule).
    """
    today = timezone.localdate(now) if now else timezone.localdate()
    cutoff = confirmation_cutoff(today)
    scope = Municipality.objects.active(on=today)
    if municipalities is not None:
        scope = scope.filter(pk__in=municipalities.values("pk"))
    open_appointments = Appointment.objects.exclude(end_date__lt=today).filter(municipality__in=scope.values("pk"))
    offices = {
        office.pk: OfficeFreshness(office)
        for office in CountyGovernor.objects.filter(counties__municipalities__in=scope.values("pk")).distinct()
    }

    def office_of(municipality):
        return offices[municipality.county.county_governor_id]

    for municipality in scope.filter(_not_confirmed_since(cutoff)).with_office():
        office_of(municipality).municipalities.append(municipality)
    with_office = ("physician", "municipality__county__county_governor")
    for appointment in open_appointments.filter(_not_confirmed_since(cutoff)).select_related(*with_office):
        office_of(appointment.municipality).appointments.append(appointment)
    seen = set()
    for appointment in (
        open_appointments.filter(_not_confirmed_since(cutoff, "physician__"))
        .select_related(*with_office)
        .order_by("physician__name", "physician_id")
    ):
        part = office_of(appointment.municipality)
        if (part.office.pk, appointment.physician_id) not in seen:
            seen.add((part.office.pk, appointment.physician_id))
            part.physicians.append(appointment.physician)
    for role, attribute in ((Role.CHIEF_PHYSICIAN, "without_chief"), (Role.DEPUTY, "without_deputy")):
        for municipality in scope.without_current(role, on=today).with_office():
            getattr(office_of(municipality), attribute).append(municipality)
    # The digest: the office's open queue, and what falls out of date within SOON (the one rule's annotation).
    proposals = Proposal.objects.open().filter(
        pk__in=Proposal.objects.kept_by(list(offices)).values("pk"),
        link__kind__in=list(ENTRY_KINDS),
    )
    related = [f"link__{name}" for kind in ENTRY_KINDS.values() for name in kind.related]
    proposals = list(proposals.select_related("link", *related).order_by("created_at"))
    # An entry kept by two offices (an arrangement across a border) is in both digests: the ownership rule.
    kept = access.keepers(Proposal, [proposal.pk for proposal in proposals])
    for proposal in proposals:
        for office in kept.get(proposal.pk, []):
            if office.pk in offices:
                offices[office.pk].proposals.append(proposal)
    reports = list(
        ErrorReport.objects.open()
        .filter(pk__in=ErrorReport.objects.kept_by(list(offices)).values("pk"))
        .select_related("municipality", "district__municipality", "arrangement")
        .order_by("created_at")
    )
    kept = access.keepers(ErrorReport, [report.pk for report in reports])
    for report in reports:
        for office in kept.get(report.pk, []):
            if office.pk in offices:
                offices[office.pk].reports.append(report)
    confirmed = scope.with_confirmation(on=today).filter(confirmed_lately=True)
    for municipality in confirmed.filter(entry_confirmed_at__lt=due_cutoff(today)).with_office():
        office_of(municipality).falling_due.append(municipality)
    return FreshnessReport(
        cutoff=cutoff,
        days=settings.REGISTRY_STALE_AFTER_DAYS,
        offices=sorted(offices.values(), key=lambda o: o.office.name),
        new_since=(now or timezone.now()) - DIGEST_PERIOD,
    )
