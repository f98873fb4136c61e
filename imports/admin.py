"""The import pages in the admin: upload → preview → confirm, the rejected rows, the export, and the log.

Access: importing and exporting need the explicit permissions (see IMPORT_PERMISSION); which rows an
import may touch is the user's region, checked row by row in the import itself.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _

from accounts.access import is_national_admin
from imports import services
from imports.forms import ConfirmForm, UploadForm
from imports.models import ImportLog, PendingImport
from imports.normalise import EXPORT_EXTRA_HEADERS, EXPORT_HEADERS, ROLE_HEADER
from imports.sheets import MAX_ROWS

# The preview lists at most this many rows of each kind; the counts are always complete.
PREVIEW_LIMIT = 500
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(data, file_name, content_type):
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@admin.register(ImportLog)
class ImportLogAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "user",
        "source",
        "file_name",
        "saved",
        "rows_new",
        "rows_updated",
        "rows_unchanged",
        "rows_skipped",
        "rows_rejected",
        "appointments_missing",
        "appointments_ended",
    )
    list_filter = ("source", "saved")
    list_select_related = ("user",)
    change_list_template = "imports/importlog_change_list.html"

    # The log is a record: nobody adds, changes or deletes entries by hand.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if is_national_admin(request.user) else queryset.filter(user=request.user)

    def has_import_permission(self, request):
        return request.user.has_perm(services.IMPORT_PERMISSION)

    def has_export_permission(self, request):
        return request.user.has_perm(services.EXPORT_PERMISSION)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "may_import": self.has_import_permission(request),
            "may_export": self.has_export_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("upload/", view(self.upload_view), name="imports_importlog_upload"),
            path("pending/<int:pk>/", view(self.preview_view), name="imports_importlog_preview"),
            path("pending/<int:pk>/confirm/", view(self.confirm_view), name="imports_importlog_confirm"),
            path("pending/<int:pk>/cancel/", view(self.cancel_view), name="imports_importlog_cancel"),
            path("pending/<int:pk>/rejects/", view(self.rejects_view), name="imports_importlog_rejects"),
            path("result/<int:pk>/", view(self.result_view), name="imports_importlog_result"),
            path("export/", view(self.export_view), name="imports_importlog_export"),
            *super().get_urls(),
        ]

    def context(self, request, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "layout_headers": [*EXPORT_HEADERS.values(), *EXPORT_EXTRA_HEADERS.values(), ROLE_HEADER],
            "max_rows": MAX_ROWS,
            **extra,
        }

    def _require_import(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied

    def upload_view(self, request):
        self._require_import(request)
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            pending = services.store_upload(user=request.user, file_name=upload.name, data=form.data_bytes)
            return redirect("admin:imports_importlog_preview", pk=pending.pk)
        return TemplateResponse(
            request,
            "imports/upload.html",
            self.context(
                request, form=form, title=_("Import a contact sheet"), may_export=self.has_export_permission(request)
            ),
        )

    def _pending(self, request, pk, **kwargs):
        try:
            return services.pending_for(user=request.user, pk=pk, **kwargs)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return None

    def preview_view(self, request, pk):
        self._require_import(request)
        pending = self._pending(request, pk)
        if pending is None:
            return redirect("admin:imports_importlog_upload")
        report = services.preview_pending(pending=pending, user=request.user)
        form = ConfirmForm(initial={"sha256": pending.sha256, "digest": report.digest})
        return self._preview(request, pending, report, form)

    def _preview(self, request, pending, report, form):
        sections = [
            (kind, label, report.rows_of(kind)[:PREVIEW_LIMIT], max(len(report.rows_of(kind)) - PREVIEW_LIMIT, 0))
            for kind, label in (
                ("error", _("Rows with errors")),
                ("new", _("New")),
                ("updated", _("Changed")),
                ("skipped", _("Skipped")),
                ("unchanged", _("Unchanged")),
            )
        ]
        return TemplateResponse(
            request,
            "imports/preview.html",
            self.context(
                request,
                title=_("Preview: %(file)s") % {"file": pending.file_name},
                pending=pending,
                report=report,
                counts=report.counts,
                sections=sections,
                form=form,
            ),
        )

    def confirm_view(self, request, pk):
        self._require_import(request)
        if request.method != "POST":
            return redirect("admin:imports_importlog_preview", pk=pk)
        form = ConfirmForm(request.POST)
        if not form.is_valid():
            raise PermissionDenied
        pending = self._pending(request, pk, sha256=form.cleaned_data["sha256"])
        if pending is None:
            return redirect("admin:imports_importlog_upload")
        report = services.confirm_import(
            pending=pending,
            user=request.user,
            skip_invalid=form.cleaned_data["skip_invalid"],
            end_missing=form.cleaned_data["end_missing"],
            accept_no_phones=form.cleaned_data["accept_no_phones"],
            # Without the preview's digest nothing is applied: the preview is shown again.
            expected_digest=form.cleaned_data["digest"] or "none",
        )
        if not report.saved:
            messages.error(request, self._not_saved(report))
            # The preview shown again is the plan as it is now; confirming it applies that one.
            form = ConfirmForm(initial={**form.cleaned_data, "digest": report.digest, "sha256": pending.sha256})
            return self._preview(request, pending, report, form)
        counts = report.counts
        messages.success(
            request,
            _(
                "Imported %(file)s: %(new)s new, %(updated)s changed, %(unchanged)s unchanged, %(skipped)s skipped, "
                "%(errors)s rejected."
            )
            % {
                "file": report.file_name,
                "new": counts["new"],
                "updated": counts["updated"],
                "unchanged": counts["unchanged"],
                "skipped": counts["skipped"],
                "errors": counts["error"],
            },
        )
        return redirect("admin:imports_importlog_result", pk=report.log.pk)

    @staticmethod
    def _not_saved(report):
        if report.plan_changed:
            return _(
                "Nothing was saved: the registry changed after your preview, so the import would no longer do "
                "what it showed. Check the new preview below and confirm again."
            )
        if report.error:
            return report.error
        if report.no_phone_columns:
            return _(
                "Nothing was saved: no phone column was recognised in the sheet. Check the column names, or tick "
                "that you want to import without phone numbers."
            )
        if report.rejected:
            return _(
                "Nothing was saved: %(count)s rows have errors. Fix them in the sheet and upload it again, "
                "or tick «Import the valid rows»."
            ) % {"count": len(report.rejected)}
        return _("Nothing was saved.")

    def result_view(self, request, pk):
        self._require_import(request)
        log = ImportLog.objects.filter(pk=pk, user=request.user).first()
        if log is None:
            raise PermissionDenied
        rejects = PendingImport.objects.filter(log=log, user=request.user, kind=PendingImport.Kind.REJECTS).first()
        return TemplateResponse(
            request, "imports/result.html", self.context(request, title=_("Import finished"), log=log, rejects=rejects)
        )

    def cancel_view(self, request, pk):
        self._require_import(request)
        if request.method != "POST":
            return redirect("admin:imports_importlog_preview", pk=pk)
        pending = self._pending(request, pk)
        if pending is not None:
            pending.delete()
            messages.info(request, _("The upload was deleted; nothing was imported."))
        return redirect("admin:imports_importlog_upload")

    def rejects_view(self, request, pk):
        """The rows with errors as .xlsx: of a pending upload (from its preview), or kept after an import."""
        self._require_import(request)
        pending = PendingImport.objects.filter(pk=pk, user=request.user).first()
        if pending is None:
            raise PermissionDenied
        pending = self._pending(request, pk, kind=pending.kind)
        if pending is None:
            return redirect("admin:imports_importlog_upload")
        if pending.kind == PendingImport.Kind.REJECTS:
            data = bytes(pending.data)
            # Personal data: handed over once, then gone.
            pending.delete()
        else:
            report = services.preview_pending(pending=pending, user=request.user)
            if not report.rejected:
                raise Http404
            data = services.rejects_workbook(report)
        return download(data, "avviste-rader.xlsx", XLSX_TYPE)

    def export_view(self, request):
        if not self.has_export_permission(request):
            raise PermissionDenied
        file_format = request.GET.get("format", "xlsx")
        if file_format not in ("xlsx", "csv"):
            raise Http404
        data, content_type = services.export_file(request.user, file_format)
        return download(data, services.export_file_name(file_format), content_type)
