"""The office's side of keeping the registry current, in the admin: the editor's home (the admin index),
the queue of proposals and error reports, and the confirmation e-mails.

Scoped with the access helpers like the rest of the admin: an editor sees their region's work, a national
administrator every office's. Decisions are written by registry.services as the editor.
"""

from dataclasses import dataclass, field

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.access import editable, is_national_admin, keepers, kept_by_text, offices_for
from registry import services
from registry.coverage import coverage_by_office
from registry.directory import build_arrangement_entry, build_district_entries, build_entries
from registry.forms import DecisionForm
from registry.models import ConfirmationRequest, ErrorReport, Municipality, Proposal, QueueStatus
from registry.upkeep import ENTRY_KINDS, open_work_by_office, proposal_about, tell_proposal_outcome, tell_report_outcome


def changelist(model, **query):
    url = reverse(f"admin:registry_{model._meta.model_name}_changelist")
    return f"{url}?{urlencode(query)}" if query else url


@dataclass
class OfficeWork:
    """One office's open work, as counts with the address of the list each one counts."""

    office: object
    coverage: object
    proposals: int = 0
    reports: int = 0
    not_sent: int = 0
    links: dict = field(default_factory=dict)


def work_for(user):
    """(one OfficeWork per office `user` edits for, by name; the total, for national administrators, or None).

    A fixed number of queries, whatever the number of offices and entries: the offices, the coverage
    (registry.coverage, one query), and the open work (registry.upkeep.open_work_by_office).
    """
    ids = set(offices_for(user).values_list("pk", flat=True))
    coverage, national = coverage_by_office()
    work = open_work_by_office()
    rows = []
    for row in coverage:
        if row.office.pk not in ids:
            continue
        counts = work.get(row.office.pk, {})
        office = {"office": row.office.code}
        rows.append(
            OfficeWork(
                office=row.office,
                coverage=row,
                proposals=counts.get("proposals", 0),
                reports=counts.get("reports", 0),
                not_sent=counts.get("not_sent", 0),
                links={
                    "vacancies": changelist(
                        Municipality, active="yes", chief="none", county__county_governor__id__exact=row.office.pk
                    ),
                    "not_confirmed": changelist(
                        Municipality, active="yes", confirmed="no", county__county_governor__id__exact=row.office.pk
                    ),
                    "proposals": changelist(Proposal, status__exact=QueueStatus.OPEN, **office),
                    "reports": changelist(ErrorReport, status__exact=QueueStatus.OPEN, **office),
                    "not_sent": changelist(ConfirmationRequest, sending="failed", **office),
                },
            )
        )
    total = None
    if is_national_admin(user):
        total = OfficeWork(
            office=None,
            coverage=national,
            proposals=sum(row.proposals for row in rows),
            reports=sum(row.reports for row in rows),
            not_sent=sum(row.not_sent for row in rows),
            links={
                "vacancies": changelist(Municipality, active="yes", chief="none"),
                "not_confirmed": changelist(Municipality, active="yes", confirmed="no"),
                "proposals": changelist(Proposal, status__exact=QueueStatus.OPEN),
                "reports": changelist(ErrorReport, status__exact=QueueStatus.OPEN),
                "not_sent": changelist(ConfirmationRequest, sending="failed"),
            },
        )
    return rows, total


class OfficeFilter(admin.SimpleListFilter):
    """The office whose region an entry is in: the offices the user edits for."""

    title = _("responsible office")
    parameter_name = "office"

    def lookups(self, request, model_admin):
        return [(office.code, office.name) for office in offices_for(request.user)]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.kept_by(offices_for(request.user).filter(code=self.value()))
        return queryset


class ScopedQueueAdmin(admin.ModelAdmin):
    """A queue: the rows of the user's region (accounts.access.editable); nobody adds or deletes them here."""

    list_per_page = 50

    def get_queryset(self, request):
        return editable(self.model, request.user, super().get_queryset(request))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def object_or_404(self, request, object_id):
        # get_object treats an id that is not one (letters, "../") as not found, not as a server error.
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            try:
                exists = self.model._default_manager.filter(
                    pk=self.model._meta.pk.to_python(unquote(object_id))
                ).exists()
            except ValidationError:
                exists = False
            if exists:
                raise PermissionDenied
            raise Http404
        return obj

    def decision_context(self, request, obj, **more):
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "can_decide": obj.status == QueueStatus.OPEN and self.has_change_permission(request, obj),
            **more,
        }


@admin.register(Proposal)
class ProposalAdmin(ScopedQueueAdmin):
    """Proposals through confirmation links (physicians, role mailboxes), against the current values; approving
    applies them through the write path."""

    list_display = ("__str__", "entry", "responsible_office", "created_at", "status")
    list_filter = ("status", OfficeFilter)
    list_select_related = (
        "link__request",
        "link__appointment__physician",
        "link__appointment__municipality",
        "link__appointment__district__municipality",
        "link__appointment__arrangement",
        "link__function_contact",
    )
    search_fields = (
        "link__appointment__physician__name",
        "link__appointment__municipality__name",
        "link__appointment__arrangement__name",
        "link__function_contact__email",
        "link__function_contact__municipality__name",
    )

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        # Who keeps each proposal on the page, by the ownership rule: two queries a page, not one a row.
        page = keepers(Proposal, [proposal.pk for proposal in changelist.result_list])
        for proposal in changelist.result_list:
            proposal.keepers = page.get(proposal.pk, [])
        return changelist

    @admin.display(description=_("entry"))
    def entry(self, proposal):
        entry = proposal.link.entry
        return str(entry) if entry is not None else gettext("removed")

    @admin.display(description=_("responsible office"))
    def responsible_office(self, proposal):
        found = getattr(proposal, "keepers", None)
        return kept_by_text(found if found is not None else keepers(Proposal, [proposal.pk]).get(proposal.pk, []))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        proposal = self.object_or_404(request, object_id)
        link = proposal.link
        kind, entry = ENTRY_KINDS[link.kind], link.entry
        if entry is None:  # a role mailbox removed since (an approved "no longer in use")
            self.message_user(
                request,
                gettext("%(proposal)s: %(status)s. Its entry has been removed from the registry.")
                % {"proposal": proposal, "status": proposal.get_status_display()},
                messages.INFO,
            )
            return HttpResponseRedirect(changelist(Proposal))
        form_class = kind.form_class()
        post = request.POST if request.method == "POST" else None
        form = form_class(
            post,
            prefix="change",
            entry=entry,
            phones=kind.phones(entry),
            require_change=False,
            initial=form_class.initial_from(proposal.applied or proposal.changes),
        )
        decision = DecisionForm(post, approve_label=_("Approve, and apply the change as shown below"))
        context = self.decision_context(
            request,
            proposal,
            title=gettext("%(proposal)s: %(entry)s") % {"proposal": proposal, "entry": kind.title(entry)},
            entry_title=kind.title(entry),
            entry_url=reverse(f"admin:registry_{entry._meta.model_name}_change", args=[entry.pk]),
            comparison=kind.compare(entry, proposal.changes),
            form=form,
            decision=decision,
        )
        if post is not None and context["can_decide"] and decision.is_valid():
            if not decision.approves:
                return self.decided(request, services.reject_proposal, proposal, reason=decision.cleaned_data["reason"])
            if form.is_valid():
                try:
                    return self.decided(request, services.approve_proposal, proposal, changes=form.changes())
                except (PermissionDenied, ValidationError, IntegrityError) as error:
                    form.add_error(None, getattr(error, "messages", None) or str(error) or gettext("Not applied."))
        return TemplateResponse(request, "admin/registry/proposal_decide.html", context)

    def decided(self, request, decide, proposal, **values):
        about = proposal_about(proposal)  # before an approved "no longer in use" removes the entry
        try:
            decide(proposal, by=request.user, **values)
        except services.AlreadyDecided:
            self.message_user(request, gettext("Someone decided this proposal already."), messages.WARNING)
            return HttpResponseRedirect(changelist(Proposal))
        error = tell_proposal_outcome(proposal, about)
        self.message_user(
            request,
            gettext("%(proposal)s: %(status)s.") % {"proposal": proposal, "status": proposal.get_status_display()},
            messages.SUCCESS,
        )
        if error:
            self.message_user(
                request,
                gettext("The physician could not be told by e-mail: %(error)s") % {"error": error},
                messages.WARNING,
            )
        return HttpResponseRedirect(changelist(Proposal, status__exact=QueueStatus.OPEN))


@admin.register(ErrorReport)
class ErrorReportAdmin(ScopedQueueAdmin):
    """Errors reported on municipalities' pages: the office corrects the entry, then closes the report."""

    list_display = ("__str__", "short_message", "created_at", "status")
    list_filter = ("status", OfficeFilter)
    list_select_related = ("municipality", "district__municipality", "arrangement")
    search_fields = ("municipality__name", "municipality__number", "district__name", "arrangement__name", "message")

    @admin.display(description=_("what is wrong"))
    def short_message(self, report):
        return report.message if len(report.message) <= 80 else report.message[:79] + "…"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        report = self.object_or_404(request, object_id)
        if report.arrangement_id:
            # The arrangement as its page shows it, with every number.
            entry = build_arrangement_entry(report.arrangement, include_restricted=True)
            correct_url = reverse("admin:registry_arrangement_change", args=[report.arrangement_id])
        elif report.district_id:
            (entry,) = build_district_entries([report.district], include_restricted=True)
            correct_url = reverse("admin:registry_district_change", args=[report.district_id])
        else:
            municipality = Municipality.objects.for_directory().get(pk=report.municipality_id)
            (entry,) = build_entries([municipality], include_restricted=True)
            correct_url = reverse("admin:registry_municipality_change", args=[municipality.pk])
        post = request.POST if request.method == "POST" else None
        decision = DecisionForm(post, approve_label=_("Corrected: I have changed the entry"))
        context = self.decision_context(
            request,
            report,
            title=str(report),
            entry=entry,
            subject=report.subject,
            correct_url=correct_url,
            decision=decision,
        )
        if post is not None and context["can_decide"] and decision.is_valid():
            try:
                services.decide_report(
                    report, corrected=decision.approves, note=decision.cleaned_data["reason"], by=request.user
                )
            except services.AlreadyDecided:
                self.message_user(request, gettext("Someone decided this report already."), messages.WARNING)
                return HttpResponseRedirect(changelist(ErrorReport))
            error = tell_report_outcome(report)
            self.message_user(
                request,
                gettext("%(report)s: %(status)s.") % {"report": report, "status": report.get_status_display()},
                messages.SUCCESS,
            )
            if error:
                self.message_user(
                    request,
                    gettext("The reporter could not be told by e-mail: %(error)s") % {"error": error},
                    messages.WARNING,
                )
            return HttpResponseRedirect(changelist(ErrorReport, status__exact=QueueStatus.OPEN))
        return TemplateResponse(request, "admin/registry/report_decide.html", context)


class SendingFilter(admin.SimpleListFilter):
    title = _("sending")
    parameter_name = "sending"

    def lookups(self, request, model_admin):
        return [("sent", _("sent")), ("failed", _("could not be sent"))]

    def queryset(self, request, queryset):
        if self.value() == "sent":
            return queryset.filter(sent_at__isnull=False)
        if self.value() == "failed":
            return queryset.failed()
        return queryset


@admin.register(ConfirmationRequest)
class ConfirmationRequestAdmin(ScopedQueueAdmin):
    """The confirmation e-mails `send_confirmation_requests` sent, and those it could not send (and why)."""

    list_display = ("recipient", "cycle", "created_at", "sent_at", "error")
    list_filter = (SendingFilter, OfficeFilter, "cycle")
    search_fields = ("recipient",)
    readonly_fields = ("recipient", "cycle", "created_at", "sent_at", "error")

    def has_change_permission(self, request, obj=None):
        return False
