from django.contrib import admin, messages
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin_scoping import ScopedAdminMixin, ScopedInlineMixin, editable, sees_all_regions
from registry import services
from registry.concurrency import OptimisticLockingAdminMixin, OptimisticLockingInlineMixin
from registry.freshness import freshness_report
from registry.models import (
    Appointment,
    County,
    CountyGovernor,
    Municipality,
    Phone,
    Physician,
    Role,
    TrackedModel,
)
from registry.phones import format_phone

TRACKING_FIELDS = ("updated_at", "updated_by", "verified_at", "verified_by")
# Loads what the "responsible office" column needs, in one extra query for a whole page.
APPOINTMENTS_WITH_OFFICE = Appointment.objects.select_related("municipality__county__county_governor")


def office_names(appointments):
    """The offices responsible for a physician: those of the municipalities they serve, by name."""
    return ", ".join(sorted({a.municipality.county.county_governor.name for a in appointments})) or "–"


class SafeChangeList(ChangeList):
    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except OverflowError as error:
            # A date hierarchy year of 20 digits overflows in Django's own code; treat it as the bad
            # lookup it is (the admin then shows the list with "?e=1"), not as a server error.
            raise IncorrectLookupParameters(error) from error


class TrackedAdmin(OptimisticLockingAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    """The admin of an entry with an office and a freshness: scoped to the user's region (see
    `accounts.admin_scoping`), with history, the responsible office, and confirmation one by one
    ("Save and confirm") or in bulk (an action). Records who changed an entry last, also through an inline.

    A save is refused when someone else saved the entry after the form was opened (registry.concurrency).
    """

    actions = ["confirm_selected"]

    def get_changelist(self, request, **kwargs):
        return SafeChangeList

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "responsible_office", *TRACKING_FIELDS)

    @admin.action(description=_("Confirm selected entries as correct"), permissions=["change"])
    def confirm_selected(self, request, queryset):
        # `queryset` comes from get_queryset, so it holds only entries this user may edit.
        count = services.confirm_entries(entries=queryset, by=request.user)
        self.message_user(
            request, gettext("%(count)s entries confirmed as correct.") % {"count": count}, messages.SUCCESS
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["show_confirm"] = bool(change and obj is not None and self.has_change_permission(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        if change and "_confirm" in request.POST:
            # The change view has already checked that this user may change `obj`.
            obj.verified_at, obj.verified_by = timezone.now(), request.user
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for instance in instances:
            if isinstance(instance, TrackedModel):
                instance.updated_by = request.user
            instance.save()
        for instance in formset.deleted_objects:
            instance.delete()
        formset.save_m2m()


class PhoneInline(ScopedInlineMixin, admin.TabularInline):
    model = Phone
    extra = 1
    fields = ("number", "kind", "note", "visibility")


class MunicipalityPhoneInline(PhoneInline):
    verbose_name = _("function phone number (e.g. 24/7 on-call)")
    verbose_name_plural = _("function phone numbers (e.g. 24/7 on-call)")


class AppointmentInline(OptimisticLockingInlineMixin, ScopedInlineMixin, admin.TabularInline):
    model = Appointment
    extra = 0
    fields = ("physician", "municipality", "role", "start_date", "end_date", "note")
    autocomplete_fields = ("physician", "municipality")
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("physician", "municipality")


class CurrentFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("current", _("current")), ("ended", _("ended")), ("future", _("not started"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "current":
            return queryset.on(today)
        if self.value() == "ended":
            return queryset.filter(end_date__lt=today)
        if self.value() == "future":
            return queryset.filter(start_date__gt=today)
        return queryset


class ActiveMunicipalityFilter(admin.SimpleListFilter):
    title = _("exists")
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return [("yes", _("active")), ("no", _("ceased"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.active()
        if self.value() == "no":
            return queryset.exclude(pk__in=Municipality.objects.active())
        return queryset


class VacancyFilter(admin.SimpleListFilter):
    title = _("chief physician")
    parameter_name = "chief"

    def lookups(self, request, model_admin):
        return [("none", _("no chief physician")), ("no-deputy", _("no deputy"))]

    def queryset(self, request, queryset):
        current = Appointment.objects.current()
        if self.value() == "none":
            return queryset.exclude(pk__in=current.filter(role=Role.CHIEF_PHYSICIAN).values("municipality"))
        if self.value() == "no-deputy":
            return queryset.exclude(pk__in=current.filter(role=Role.DEPUTY).values("municipality"))
        return queryset


@admin.register(CountyGovernor)
class CountyGovernorAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "organisation_number", "county_list")
    search_fields = ("name", "code", "organisation_number")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("counties")

    @admin.display(description=_("counties"))
    def county_list(self, obj):
        return ", ".join(county.name for county in obj.counties.all())


@admin.register(County)
class CountyAdmin(admin.ModelAdmin):
    list_display = ("number", "name", "county_governor", "municipality_count")
    list_filter = ("county_governor",)
    search_fields = ("number", "name")
    list_select_related = ("county_governor",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(active_municipalities=Count("municipalities", filter=Q(municipalities__valid_to__isnull=True)))
        )

    @admin.display(description=_("municipalities"), ordering="active_municipalities")
    def municipality_count(self, obj):
        return obj.active_municipalities


# Reference data: editors see them, but only national administrators change them (reforms come from SSB).
REFERENCE_FIELDS = ("number", "name", "parallel_names", "county", "valid_from", "valid_to", "successors")
RESPONSIBILITY_FIELDS = ("responsible_office", *TRACKING_FIELDS)


@admin.register(Municipality)
class MunicipalityAdmin(TrackedAdmin):
    list_display = ("number", "name", "parallel_names", "county", "responsible_office", "valid_to", "verified_at")
    list_display_links = ("number", "name")
    list_filter = (
        ActiveMunicipalityFilter,
        VacancyFilter,
        ("county__county_governor", RelatedOnlyFieldListFilter),
        ("county", RelatedOnlyFieldListFilter),
    )
    search_fields = ("number", "name", "parallel_names")
    list_select_related = ("county__county_governor",)
    autocomplete_fields = ("successors",)
    fieldsets = (
        (None, {"fields": ("number", "name", "parallel_names", "county")}),
        (_("Function contacts"), {"fields": ("role_email",)}),
        (_("Reforms"), {"fields": ("valid_from", "valid_to", "successors"), "classes": ("collapse",)}),
        (_("Responsibility and freshness"), {"fields": RESPONSIBILITY_FIELDS}),
    )
    inlines = (MunicipalityPhoneInline, AppointmentInline)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if sees_all_regions(request.user):
            return fields
        return (*REFERENCE_FIELDS, *fields)

    @admin.display(description=_("responsible office"), ordering="county__county_governor__name")
    def responsible_office(self, obj):
        return obj.county.county_governor if obj and obj.county_id else "–"

    def get_urls(self):
        own = [path("freshness/", self.admin_site.admin_view(self.freshness_view), name="registry_freshness")]
        return own + super().get_urls()

    def freshness_view(self, request):
        """Per office: entries not confirmed lately, municipalities with no chief physician or deputy."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        report = freshness_report(municipalities=editable(Municipality, request.user))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Not confirmed lately, and missing roles"),
            "opts": self.opts,
            "report": report,
        }
        return TemplateResponse(request, "admin/registry/freshness.html", context)


@admin.register(Physician)
class PhysicianAdmin(TrackedAdmin):
    list_display = ("name", "email", "hpr_number", "phone_list", "responsible_office", "verified_at")
    search_fields = ("name", "email", "hpr_number", "phones__number")
    fieldsets = (
        (None, {"fields": ("name", "email", "hpr_number")}),
        (_("Responsibility and freshness"), {"fields": RESPONSIBILITY_FIELDS}),
    )
    inlines = (PhoneInline, AppointmentInline)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related("phones", Prefetch("appointments", queryset=APPOINTMENTS_WITH_OFFICE))
        )

    @admin.display(description=_("phone numbers"))
    def phone_list(self, obj):
        return ", ".join(format_phone(phone.number) for phone in obj.phones.all())

    @admin.display(description=_("responsible office"))
    def responsible_office(self, obj):
        # A physician serving municipalities of two offices is kept by both.
        if obj is None or obj.pk is None:
            return "–"
        return office_names(obj.appointments.all())

    def deleted_label(self, record):
        return record.name


@admin.register(Appointment)
class AppointmentAdmin(TrackedAdmin):
    list_display = (
        "municipality",
        "role",
        "physician",
        "start_date",
        "end_date",
        "responsible_office",
        "verified_at",
    )
    list_filter = (
        CurrentFilter,
        "role",
        ("municipality__county__county_governor", RelatedOnlyFieldListFilter),
        ("municipality__county", RelatedOnlyFieldListFilter),
    )
    search_fields = ("municipality__number", "municipality__name", "physician__name", "physician__email")
    list_select_related = ("municipality__county__county_governor", "physician")
    autocomplete_fields = ("physician", "municipality")
    date_hierarchy = "start_date"
    fieldsets = (
        (None, {"fields": ("municipality", "role", "physician", "start_date", "end_date", "note")}),
        (_("Responsibility and freshness"), {"fields": RESPONSIBILITY_FIELDS}),
    )
    inlines = (PhoneInline,)
    deleted_select_related = ("physician", "municipality")

    @admin.display(description=_("responsible office"), ordering="municipality__county__county_governor__name")
    def responsible_office(self, obj):
        if obj is None or obj.municipality_id is None:
            return "–"
        return obj.municipality.county.county_governor

    def deleted_label(self, record):
        return f"{record.physician} – {record.get_role_display()}, {record.municipality}"


@admin.register(Phone)
class PhoneAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = (
        "__str__",
        "kind",
        "visibility",
        "note",
        "physician",
        "appointment",
        "municipality",
        "responsible_office",
    )
    list_filter = ("kind", "visibility")
    search_fields = ("number", "note", "physician__name", "municipality__name")
    list_select_related = (
        "physician",
        "appointment__municipality__county__county_governor",
        "appointment__physician",
        "municipality__county__county_governor",
    )
    autocomplete_fields = ("physician", "appointment", "municipality")
    readonly_fields = ("responsible_office",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("physician__appointments", queryset=APPOINTMENTS_WITH_OFFICE))
        )

    @admin.display(description=_("responsible office"))
    def responsible_office(self, obj):
        if obj is None or obj.pk is None:
            return "–"
        if obj.physician_id:
            return office_names(obj.physician.appointments.all())
        owner = obj.appointment.municipality if obj.appointment_id else obj.municipality
        return owner.county.county_governor

    def deleted_label(self, record):
        return format_phone(record.number)
