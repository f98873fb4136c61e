"""Which registry rows a user may see and edit in the admin, written once and used by every admin class.

The rule (see README, "Who edits what"):

- A municipality belongs to the office of its county (guardian object permission held by the
  office's editors group; `accounts.access.municipalities_for`). Editors change only its function
  contacts and confirm it; number, name, county and reforms are reference data.
- An appointment belongs to the office of its municipality.
- A physician is shared: every office where the physician has an appointment (current, ended or
  future) may edit them. A physician with no appointment at all belongs to the office whose editor
  registered them (the creating history entry), so the "+" button next to a physician field works;
  otherwise only national administrators may edit them.
- A phone number belongs to its owner (physician, appointment or municipality).
- National administrators and superusers see and edit everything, and alone may restore a deleted
  or overwritten entry.

guardian's admin does not scope querysets; `ScopedAdminMixin` and `ScopedInlineMixin` do, for
changelists, search, filters, autocomplete, raw-id pop-ups, form choices, bulk actions and history.
"""

from django.contrib.admin.utils import unquote
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _

from accounts.access import is_national_admin, municipalities_for
from registry.models import Appointment, Municipality, Phone, Physician

# Page size of the deleted entries list; older deletions are reached through the history of a known id.
DELETED_PAGE_SIZE = 200


def sees_all_regions(user):
    """True for national administrators and superusers (`is_national_admin`), remembered on the user for one request."""
    cached = getattr(user, "_registry_is_national_admin", None)
    if cached is None:
        cached = is_national_admin(user)
        try:
            user._registry_is_national_admin = cached
        except AttributeError:  # AnonymousUser and friends
            pass
    return cached


def scope_municipalities(queryset, user):
    """The municipalities in `queryset` that `user` may edit (function contacts and confirmation)."""
    if sees_all_regions(user):
        return queryset
    return queryset.filter(pk__in=municipalities_for(user).values("pk"))


def scope_appointments(queryset, user):
    """The appointments in `queryset` in a municipality `user` may edit."""
    if sees_all_regions(user):
        return queryset
    return queryset.filter(municipality__in=municipalities_for(user).values("pk"))


def _office_groups(user):
    return Group.objects.filter(user=user, office__isnull=False)


def scope_physicians(queryset, user):
    """The physicians in `queryset` that `user` may edit (see the module docstring for the rule)."""
    if sees_all_regions(user):
        return queryset
    serving_here = Appointment.objects.filter(
        physician=OuterRef("pk"), municipality__in=municipalities_for(user).values("pk")
    )
    any_appointment = Appointment.objects.filter(physician=OuterRef("pk"))
    registered_by_office = Physician.history.filter(
        id=OuterRef("pk"), history_type="+", history_user__groups__in=_office_groups(user)
    )
    return queryset.filter(Q(Exists(serving_here)) | (~Q(Exists(any_appointment)) & Q(Exists(registered_by_office))))


def scope_phones(queryset, user):
    """The phone numbers in `queryset` whose owner `user` may edit."""
    if sees_all_regions(user):
        return queryset
    return queryset.filter(
        Q(physician__in=scope_physicians(Physician.objects.all(), user).values("pk"))
        | Q(appointment__in=scope_appointments(Appointment.objects.all(), user).values("pk"))
        | Q(municipality__in=municipalities_for(user).values("pk"))
    )


SCOPES = {
    Municipality: scope_municipalities,
    Appointment: scope_appointments,
    Physician: scope_physicians,
    Phone: scope_phones,
}


def editable(model, user, queryset=None):
    """The rows of `model` (or of `queryset`) that `user` may see and edit in the admin."""
    queryset = model._default_manager.all() if queryset is None else queryset
    return SCOPES[model](queryset, user)


def editable_municipalities(user):
    return editable(Municipality, user)


def editable_appointments(user):
    return editable(Appointment, user)


def editable_physicians(user):
    return editable(Physician, user)


def editable_phones(user):
    return editable(Phone, user)


def can_edit(user, obj):
    """True when `user` may see and edit `obj`. Works on unsaved and history-built instances too.

    One query at most (none for national administrators).
    """
    if sees_all_regions(user):
        return True
    if not (user and user.is_authenticated and user.is_active):
        return False
    if isinstance(obj, Phone):
        owner = obj.physician_id, obj.appointment_id, obj.municipality_id
        if owner[0]:
            return scope_physicians(Physician.objects.filter(pk=owner[0]), user).exists()
        if owner[1]:
            return scope_appointments(Appointment.objects.filter(pk=owner[1]), user).exists()
        return municipalities_for(user).filter(pk=owner[2]).exists()
    if isinstance(obj, Appointment):
        return municipalities_for(user).filter(pk=obj.municipality_id).exists()
    if isinstance(obj, Municipality):
        return municipalities_for(user).filter(pk=obj.pk).exists()
    if isinstance(obj, Physician):
        if obj.pk is None:
            return True
        return scope_physicians(Physician.objects.filter(pk=obj.pk), user).exists()
    raise TypeError(f"No access rule for {type(obj).__name__}")


def get_editable_appointment(user, pk):
    """Return the appointment `pk` if `user` may edit it; 404 when it does not exist, 403 when it is not theirs."""
    appointment = get_object_or_404(Appointment.objects.select_related("municipality", "physician"), pk=pk)
    if not can_edit(user, appointment):
        raise PermissionDenied
    return appointment


def selectable(db_field, user):
    """The choices `user` may pick for the foreign key `db_field` in a registry form.

    Picking a physician for one's own appointment does not edit the physician, so every physician
    may be picked (the autocomplete finds one of another region only by the exact HPR number).
    Everything else is limited to what the user may edit.
    """
    target = db_field.remote_field.model
    if target is Physician and db_field.model is Appointment:
        return Physician.objects.all()
    if target in SCOPES:
        return editable(target, user)
    return None


def _is_appointment_physician_autocomplete(request):
    return (
        request.GET.get("app_label") == Appointment._meta.app_label
        and request.GET.get("model_name") == Appointment._meta.model_name
        and request.GET.get("field_name") == "physician"
    )


class ScopedFormfieldsMixin:
    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            queryset = selectable(db_field, request.user)
            if queryset is not None:
                kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


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

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if self.model is Physician and term.isdigit() and _is_appointment_physician_autocomplete(request):
            # A physician of another region, serving one of ours too, is found by the exact HPR number.
            results = Physician.objects.filter(Q(pk__in=results.values("pk")) | Q(hpr_number=term))
            may_have_duplicates = False
        return results, may_have_duplicates

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
