from django import forms
from django.contrib import admin, messages
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from accounts.access import editable, keepers_of, kept_by_text
from accounts.admin_scoping import ScopedAdminMixin, ScopedInlineMixin, sees_all_regions
from registry import services
from registry.concurrency import OptimisticLockingAdminMixin, OptimisticLockingInlineMixin
from registry.freshness import freshness_report
from registry.models import (
    Appointment,
    County,
    CountyGovernor,
    FormerNumber,
    Municipality,
    Phone,
    Physician,
    Role,
)
from registry.phones import format_phone

TRACKING_FIELDS = ("updated_at", "updated_by", "verified_at", "verified_by")


def keepers_on_page(objects, physician_of):
    """Note on each of `objects` the offices that keep its physician (`physician_of(obj)`): two queries a page."""
    objects = list(objects)
    keepers = keepers_of({physician_of(obj) for obj in objects if physician_of(obj)})
    for obj in objects:
        obj.physician_keepers = keepers.get(physician_of(obj), [])


def physician_keepers(obj, physician_id):
    """The offices that keep the physician `physician_id`, as the list shows them: by name, or "national"."""
    keepers = getattr(obj, "physician_keepers", None)
    if keepers is None:
        keepers = keepers_of([physician_id]).get(physician_id, [])
    return kept_by_text(keepers)


class SafeChangeList(ChangeList):
    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except OverflowError as error:
            # A date hierarchy year of 20 digits overflows in Django's own code; treat it as the bad
            # lookup it is (the admin then shows the list with "?e=1"), not as a server error.
            raise IncorrectLookupParameters(error) from error


# The change reason the history records for what is changed in the admin.
ADMIN_REASON = _("changed in the admin")


class WritePathAdminMixin:
    """Saves and deletes through registry.services (the one write path), which checks the access rule
    again on the server, derives, records who and why, and notes the data change. Inline rows too."""

    def save_model(self, request, obj, form, change):
        confirm = bool(change and "_confirm" in request.POST)
        services.save_entries([obj], by=request.user, reason=ADMIN_REASON, confirm=confirm)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        services.delete_entries(formset.deleted_objects, by=request.user, reason=ADMIN_REASON)
        services.save_entries(instances, by=request.user, reason=ADMIN_REASON)
        formset.save_m2m()

    def delete_model(self, request, obj):
        services.delete_entries([obj], by=request.user, reason=ADMIN_REASON)

    def delete_queryset(self, request, queryset):
        # `queryset` comes from get_queryset, so it holds only entries this user may edit; checked again.
        services.delete_entries(list(queryset), by=request.user, reason=ADMIN_REASON)


class TrackedAdmin(WritePathAdminMixin, OptimisticLockingAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
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


class PhoneInline(ScopedInlineMixin, admin.TabularInline):
    model = Phone
    extra = 1
    fields = ("number", "kind", "note", "visibility")


class MunicipalityPhoneInline(PhoneInline):
    verbose_name = _("function phone number (e.g. 24/7 on-call)")
    verbose_name_plural = _("function phone numbers (e.g. 24/7 on-call)")


class AppointmentForm(forms.ModelForm):
    """An appointment's physician is one the editor keeps, or one kept by another office given by their exact
    HPR number: checked here on the server (a posted id of another office's physician is not a valid choice)
    and again by registry.services, which needs the HPR number to appoint another office's physician."""

    physician_hpr = forms.CharField(
        label=_("or the HPR number of a physician kept by another office"),
        required=False,
        max_length=9,
        help_text=_("To appoint a physician another office keeps, write their exact HPR number here."),
    )
    user = None  # set per request by `appointment_form_for`

    class Meta:
        model = Appointment
        fields = ("physician", "municipality", "role", "start_date", "end_date", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("physician")
        if field is not None:
            allowed = editable(Physician, self.user)
            if self.instance.physician_id:
                # The physician already appointed stays a valid choice, whoever keeps them.
                allowed = allowed | Physician.objects.filter(pk=self.instance.physician_id)
            field.queryset = allowed
            field.required = False

    def clean(self):
        cleaned = super().clean()
        hpr = (cleaned.get("physician_hpr") or "").replace(" ", "")
        if hpr:
            physician = Physician.objects.filter(hpr_number=hpr).first()
            if physician is None:
                self.add_error(
                    "physician_hpr",
                    _(
                        "No physician in the registry has the HPR number %(hpr)s. Check the number; a physician new "
                        "to the registry is registered first (the + next to Physician)."
                    )
                    % {"hpr": hpr},
                )
            else:
                cleaned["physician"] = physician
                self.instance.hpr_confirmation = hpr
        elif not cleaned.get("physician") and "physician" not in self.errors and self.has_changed():
            self.add_error(
                "physician", _("Choose a physician, or give the HPR number of a physician kept by another office.")
            )
        return cleaned


def appointment_form_for(form_class, user):
    """`form_class` (an AppointmentForm) for this request's user: a subclass, so nothing is shared between requests."""
    return type(form_class.__name__, (form_class,), {"user": user})


class AppointmentInline(OptimisticLockingInlineMixin, ScopedInlineMixin, admin.TabularInline):
    model = Appointment
    form = AppointmentForm
    extra = 0
    fields = ("physician", "physician_hpr", "municipality", "role", "start_date", "end_date", "note")
    autocomplete_fields = ("physician", "municipality")
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("physician", "municipality")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = appointment_form_for(formset.form, request.user)
        return formset


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


class ConfirmedFilter(admin.SimpleListFilter):
    title = _("confirmed")
    parameter_name = "confirmed"

    def lookups(self, request, model_admin):
        return [("yes", _("confirmed lately")), ("no", _("not confirmed lately"))]

    def queryset(self, request, queryset):
        # The one rule of "not confirmed lately" (MunicipalityQuerySet.with_confirmation), not a copy of it.
        if self.value() == "no":
            return queryset.not_confirmed_lately()
        if self.value() == "yes":
            return queryset.with_confirmation().filter(confirmed_lately=True)
        return queryset


class VacancyFilter(admin.SimpleListFilter):
    title = _("chief physician")
    parameter_name = "chief"

    def lookups(self, request, model_admin):
        return [("none", _("no chief physician")), ("no-deputy", _("no deputy"))]

    def queryset(self, request, queryset):
        # The vacancy rule of the national list (MunicipalityQuerySet.holds), not a copy of it.
        if self.value() == "none":
            return queryset.without_current(Role.CHIEF_PHYSICIAN)
        if self.value() == "no-deputy":
            return queryset.without_current(Role.DEPUTY)
        return queryset


@admin.register(CountyGovernor)
class CountyGovernorAdmin(WritePathAdminMixin, admin.ModelAdmin):
    list_display = ("name", "code", "organisation_number", "county_list")
    search_fields = ("name", "code", "organisation_number")

    # Offices come from the reference data (each with its editors group); they are renamed, not added here.
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("counties")

    @admin.display(description=_("counties"))
    def county_list(self, obj):
        return ", ".join(county.name for county in obj.counties.all())


@admin.register(County)
class CountyAdmin(WritePathAdminMixin, admin.ModelAdmin):
    """Moving a county to another office moves the edit rights with it: rights are read from the counties."""

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
REFERENCE_FIELDS = (*services.REFERENCE_FIELDS, "successors")
RESPONSIBILITY_FIELDS = ("responsible_office", *TRACKING_FIELDS)


@admin.register(Municipality)
class MunicipalityAdmin(TrackedAdmin):
    list_display = ("number", "name", "parallel_names", "county", "responsible_office", "valid_to", "verified_at")
    list_display_links = ("number", "name")
    list_filter = (
        ActiveMunicipalityFilter,
        VacancyFilter,
        ConfirmedFilter,
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

    def save_related(self, request, form, formsets, change):
        if "successors" in form.cleaned_data and form.has_changed() and "successors" in form.changed_data:
            services.set_successors(
                form.instance, form.cleaned_data["successors"], by=request.user, reason=ADMIN_REASON
            )
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

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
        return super().get_queryset(request).prefetch_related("phones")

    @admin.display(description=_("phone numbers"))
    def phone_list(self, obj):
        return ", ".join(format_phone(phone.number) for phone in obj.phones.all())

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        keepers_on_page(changelist.result_list, lambda physician: physician.pk)
        return changelist

    @admin.display(description=_("responsible office"))
    def responsible_office(self, obj):
        # A physician serving municipalities of two offices is kept by both (accounts.access, the ownership rule).
        if obj is None or obj.pk is None:
            return "–"
        return physician_keepers(obj, obj.pk)

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
    form = AppointmentForm

    def get_fieldsets(self, request, obj=None):
        (name, options), *rest = super().get_fieldsets(request, obj)
        fields = list(options["fields"])
        if "physician" in fields and "physician_hpr" not in fields and self.has_change_permission(request, obj):
            fields.insert(fields.index("physician") + 1, "physician_hpr")
        return [(name, {**options, "fields": tuple(fields)}), *rest]

    def get_form(self, request, obj=None, change=False, **kwargs):
        return appointment_form_for(super().get_form(request, obj, change=change, **kwargs), request.user)

    @admin.display(description=_("responsible office"), ordering="municipality__county__county_governor__name")
    def responsible_office(self, obj):
        if obj is None or obj.municipality_id is None:
            return "–"
        return obj.municipality.county.county_governor

    def deleted_label(self, record):
        return f"{record.physician} – {record.get_role_display()}, {record.municipality}"


@admin.register(FormerNumber)
class FormerNumberAdmin(WritePathAdminMixin, admin.ModelAdmin):
    """Numbers municipalities had before a renumbering: old sheets and links still find them."""

    list_display = ("number", "municipality", "valid_to")
    search_fields = ("number", "municipality__name", "municipality__number")
    list_select_related = ("municipality",)
    autocomplete_fields = ("municipality",)


@admin.register(Phone)
class PhoneAdmin(WritePathAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
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

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        keepers_on_page(changelist.result_list, lambda phone: phone.physician_id)
        return changelist

    @admin.display(description=_("responsible office"))
    def responsible_office(self, obj):
        if obj is None or obj.pk is None:
            return "–"
        if obj.physician_id:
            return physician_keepers(obj, obj.physician_id)
        owner = obj.appointment.municipality if obj.appointment_id else obj.municipality
        return owner.county.county_governor

    def deleted_label(self, record):
        return format_phone(record.number)


# The office's queue, the confirmation e-mails and the editor's home (keeping the registry current).
from registry import admin_upkeep  # noqa: E402, F401
