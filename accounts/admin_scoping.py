"""The admin's side of the access rule: every registry admin class scopes what it shows and offers through
`accounts.access`, where the rule is written once (see its docstring and README, "Who edits what").

guardian's admin does not scope querysets; `ScopedAdminMixin` and `ScopedInlineMixin` do, for
changelists, search, filters, autocomplete, raw-id pop-ups, form choices, bulk actions and history.
Saving and deleting go through registry.services, which checks the same rule again on the server.
"""

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _

from accounts.access import editable, is_national_admin, outside_region
from registry.models import (
    Appointment,
    Arrangement,
    County,
    CountyGovernor,
    District,
    FormerNumber,
    Municipality,
    Phone,
    Physician,
)

# Page size of the deleted entries list; older deletions are reached through the history of a known id.
DELETED_PAGE_SIZE = 200
SCOPED = (Municipality, Appointment, Physician, Phone, County, CountyGovernor, FormerNumber)


def sees_all_regions(user):
    """True for national administrators and superusers."""
    return is_national_admin(user)


def can_edit(user, obj):
    """True when `user` may see and edit `obj` (a new physician: anyone who registers one)."""
    if isinstance(obj, Physician) and obj.pk is None:
        return bool(user and user.is_authenticated and user.is_active)
    return not outside_region(user, [obj])


def selectable(db_field, user):
    """The choices `user` may pick for the foreign key `db_field` in a registry form: what they may edit.

    An appointment's physician is picked from the user's own physicians; one kept by another office is
    given by their exact HPR number in the appointment form (registry.admin.AppointmentForm).
    """
    target = db_field.remote_field.model
    if target in (Municipality, Appointment, Physician, Phone, District, Arrangement):
        return editable(target, user)
    return None


class ScopedFormfieldsMixin:
    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            queryset = selectable(db_field, request.user)
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        # The municipalities a legevakt serves: an office picks among its own (successors: national only).
        if "queryset" not in kwargs and not sees_all_regions(request.user):
            queryset = selectable(db_field, request.user)
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ScopedInlineMixin(ScopedFormfieldsMixin):
    """For inlines: list only rows the user may edit, and offer only choices they may pick."""

    def get_queryset(self, request):
        return editable(self.model, request.user, super().get_queryset(request))


class ScopedAdminMixin(ScopedFormfieldsMixin):
    """For registry ModelAdmins (with simple-history's SimpleHistoryAdmin after it in the bases).

    Scopes every queryset the admin derives from `get_queryset` (changelist, search, filters, date
    hierarchy, autocomplete, raw-id pop-ups, bulk actions, change/delete/history pages), checks each
    object, and reserves reverting and restoring to national administrators.
    """

    deleted_list_template = "admin/registry/deleted_list.html"

    def get_queryset(self, request):
        return editable(self.model, request.user, super().get_queryset(request))

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and (obj is None or can_edit(request.user, obj))

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or can_edit(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or can_edit(request.user, obj))

    # History (django-simple-history): editors read the history of their own entries; only national
    # administrators revert (restore an overwritten version) or restore a deleted entry.

    def has_change_history_permission(self, request, obj=None):
        return sees_all_regions(request.user) and super().has_change_history_permission(request, obj)

    def revert_disabled(self, request, obj=None):
        return not self.has_change_history_permission(request, obj) or super().revert_disabled(request, obj)

    @staticmethod
    def _key(model, value):
        """Return `value` from the URL as a primary key of `model`, or 404 when no row could have it.

        The history pages look ids up themselves (simple-history), without the admin's own check, and
        letters, or digits beyond the column's range, would reach the database and fail there.
        """
        field = model._meta.pk
        try:
            key = field.to_python(unquote(value))
            field.run_validators(key)
        except ValidationError:
            raise Http404 from None
        return key

    def _refuse_foreign_object(self, request, object_id):
        """403 when the entry exists but is outside the user's region (history pages fall back to old versions)."""
        object_id = self._key(self.model, object_id)
        exists = self.model._default_manager.filter(pk=object_id).exists()
        if exists and not self.get_queryset(request).filter(pk=object_id).exists():
            raise PermissionDenied
        if not exists and not sees_all_regions(request.user):
            # A deleted entry's history and restore belong to the national administrators.
            raise PermissionDenied

    def history_view(self, request, object_id, extra_context=None):
        self._refuse_foreign_object(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._key(self.model.history.model, version_id)
        self._refuse_foreign_object(request, object_id)
        if request.method == "POST" and not self.has_change_history_permission(request):
            # simple-history saves a posted old version without checking who may revert.
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        own = [
            path("deleted/", self.admin_site.admin_view(self.deleted_view), name="{}_{}_deleted".format(*info)),
        ]
        return own + super().get_urls()

    def deleted_view(self, request):
        """National administrators: the entries deleted most recently, each with a link to restore it."""
        if not sees_all_regions(request.user):
            raise PermissionDenied
        history = self.model.history
        live = self.model._default_manager.filter(pk=OuterRef("id"))
        records = (
            history.filter(history_type="-")
            .exclude(Exists(live))
            .select_related("history_user", *self.deleted_select_related)
            .order_by("-history_date")[:DELETED_PAGE_SIZE]
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Deleted %(name)s") % {"name": self.opts.verbose_name_plural},
            "opts": self.opts,
            "records": [(record, self.deleted_label(record)) for record in records],
        }
        return TemplateResponse(request, self.deleted_list_template, context)

    # Related objects of the historical model that `deleted_label` reads; loaded in the same query.
    deleted_select_related = ()

    def deleted_label(self, record):
        """How a deleted entry is named in the list; `record` is its last historical version."""
        return str(record.instance)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "show_deleted_link": sees_all_regions(request.user)}
        return super().changelist_view(request, extra_context)
