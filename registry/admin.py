from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.concurrency import OptimisticLockingAdminMixin, OptimisticLockingInlineMixin
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


class SafeChangeList(ChangeList):
    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except OverflowError as error:
            # A date hierarchy year of 20 digits overflows in Django's own code; treat it as the bad
            # lookup it is (the admin then shows the list with "?e=1"), not as a server error.
            raise IncorrectLookupParameters(error) from error


class TrackedAdmin(OptimisticLockingAdminMixin, admin.ModelAdmin):
    """Records who changed an entry last, also when the change comes through an inline.

    A save is refused when someone else saved the entry after the form was opened (registry.concurrency).
    """

    def get_changelist(self, request, **kwargs):
        return SafeChangeList

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), *TRACKING_FIELDS)

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
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


class PhoneInline(admin.TabularInline):
    model = Phone
    extra = 1
    fields = ("number", "kind", "note", "visibility")


class MunicipalityPhoneInline(PhoneInline):
    verbose_name = _("function phone number (e.g. 24/7 on-call)")
    verbose_name_plural = _("function phone numbers (e.g. 24/7 on-call)")


class AppointmentInline(OptimisticLockingInlineMixin, admin.TabularInline):
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


@admin.register(Municipality)
class MunicipalityAdmin(TrackedAdmin):
    list_display = ("number", "name", "parallel_names", "county", "county_governor", "valid_to", "verified_at")
    list_display_links = ("number", "name")
    list_filter = (ActiveMunicipalityFilter, VacancyFilter, "county__county_governor", "county")
    search_fields = ("number", "name", "parallel_names")
    list_select_related = ("county__county_governor",)
    autocomplete_fields = ("successors",)
    fieldsets = (
        (None, {"fields": ("number", "name", "parallel_names", "county")}),
        (_("Function contacts"), {"fields": ("role_email",)}),
        (_("Reforms"), {"fields": ("valid_from", "valid_to", "successors"), "classes": ("collapse",)}),
        (_("Freshness"), {"fields": TRACKING_FIELDS}),
    )
    inlines = (MunicipalityPhoneInline, AppointmentInline)

    @admin.display(description=_("county governor office"), ordering="county__county_governor__name")
    def county_governor(self, obj):
        return obj.county.county_governor


@admin.register(Physician)
class PhysicianAdmin(TrackedAdmin):
    list_display = ("name", "email", "hpr_number", "phone_list", "verified_at")
    search_fields = ("name", "email", "hpr_number", "phones__number")
    fieldsets = (
        (None, {"fields": ("name", "email", "hpr_number")}),
        (_("Freshness"), {"fields": TRACKING_FIELDS}),
    )
    inlines = (PhoneInline, AppointmentInline)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("phones")

    @admin.display(description=_("phone numbers"))
    def phone_list(self, obj):
        return ", ".join(format_phone(phone.number) for phone in obj.phones.all())


@admin.register(Appointment)
class AppointmentAdmin(TrackedAdmin):
    list_display = ("municipality", "role", "physician", "start_date", "end_date", "verified_at")
    list_filter = (CurrentFilter, "role", "municipality__county__county_governor", "municipality__county")
    search_fields = ("municipality__number", "municipality__name", "physician__name", "physician__email")
    list_select_related = ("municipality", "physician")
    autocomplete_fields = ("physician", "municipality")
    date_hierarchy = "start_date"
    fieldsets = (
        (None, {"fields": ("municipality", "role", "physician", "start_date", "end_date", "note")}),
        (_("Freshness"), {"fields": TRACKING_FIELDS}),
    )
    inlines = (PhoneInline,)


@admin.register(Phone)
class PhoneAdmin(admin.ModelAdmin):
    list_display = ("__str__", "kind", "visibility", "note", "physician", "appointment", "municipality")
    list_filter = ("kind", "visibility")
    search_fields = ("number", "note", "physician__name", "municipality__name")
    list_select_related = ("physician", "appointment__municipality", "appointment__physician", "municipality")
    autocomplete_fields = ("physician", "appointment", "municipality")
