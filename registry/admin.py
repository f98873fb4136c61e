from django import forms
from django.contrib import admin, messages
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
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
    Arrangement,
    ArrangementKind,
    County,
    CountyGovernor,
    District,
    FormerNumber,
    FunctionContact,
    Legevakt,
    Membership,
    Municipality,
    Phone,
    Physician,
    Role,
    default_visibility,
)
from registry.phones import format_phone
from registry.validators import validate_line

TRACKING_FIELDS = ("updated_at", "updated_by", "verified_at", "verified_by")


def appointment_office(appointment):
    """The office, or offices, responsible for an appointment: its municipality's, or its arrangement's members'."""
    if appointment.municipality_id:
        return appointment.municipality.county.county_governor
    return arrangement_offices(appointment.arrangement)


def arrangement_offices(arrangement):
    """The offices of an arrangement's members today, by name: an arrangement across a border is kept by both."""
    today = timezone.localdate()
    offices = {
        m.municipality.county.county_governor.name
        for m in arrangement.memberships.open_on(today).select_related("municipality__county__county_governor")
    }
    return ", ".join(sorted(offices)) or gettext("the national administrators")


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


class FunctionContactForm(forms.ModelForm):
    class Meta:
        model = FunctionContact
        fields = (
            "kind",
            "role",
            "email",
            "number",
            "visibility",
            "opening_hours",
            "municipality",
            "district",
            "arrangement",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None and "visibility" in self.fields:
            # The 24/7 number is for the authorities unless the office says otherwise.
            self.fields["visibility"].help_text = _(
                "A new 24/7 emergency number is for authorities only unless you choose otherwise."
            )

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and cleaned.get("kind") and "visibility" not in self.changed_data:
            cleaned["visibility"] = default_visibility(cleaned["kind"])
        return cleaned


class FunctionContactInline(OptimisticLockingInlineMixin, ScopedInlineMixin, admin.TabularInline):
    """The function's own contacts: role mailboxes, the 24/7 number, the switchboard, each confirmed on its own."""

    model = FunctionContact
    form = FunctionContactForm
    extra = 1
    fields = ("kind", "role", "email", "number", "visibility", "opening_hours", "verified_at")
    readonly_fields = ("verified_at",)


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
        fields = ("physician", "municipality", "district", "arrangement", "role", "start_date", "end_date", "note")

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
        (_("Reforms"), {"fields": ("valid_from", "valid_to", "successors"), "classes": ("collapse",)}),
        (_("Responsibility and freshness"), {"fields": RESPONSIBILITY_FIELDS}),
    )
    inlines = (FunctionContactInline, AppointmentInline)

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
        "place",
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
    search_fields = (
        "municipality__number",
        "municipality__name",
        "arrangement__name",
        "district__name",
        "physician__name",
        "physician__email",
    )
    list_select_related = ("municipality__county__county_governor", "physician", "arrangement", "district")
    autocomplete_fields = ("physician", "municipality", "district", "arrangement")
    date_hierarchy = "start_date"
    actions = ["confirm_selected", "form_arrangement"]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "municipality",
                    "district",
                    "arrangement",
                    "role",
                    "physician",
                    "start_date",
                    "end_date",
                    "note",
                )
            },
        ),
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
        return appointment_office(obj) if obj is not None and obj.pk else "–"

    def deleted_label(self, record):
        return f"{record.physician} – {record.get_role_display()}, {record.municipality or record.arrangement}"

    @admin.action(
        description=_("Make an intermunicipal arrangement of the selected appointments"), permissions=["change"]
    )
    def form_arrangement(self, request, queryset):
        """Appointments one person holds in several municipalities become one arrangement, in one step."""
        form = ArrangementActionForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            try:
                arrangement = services.form_arrangement(
                    list(queryset),
                    arrangement=Arrangement(name=form.cleaned_data["name"], kind=form.cleaned_data["kind"]),
                    on=form.cleaned_data["on"],
                    by=request.user,
                    reason=_("made into the arrangement %(name)s") % {"name": form.cleaned_data["name"]},
                )
            except (ValidationError, PermissionDenied) as error:
                self.message_user(request, " ".join(getattr(error, "messages", [str(error)])), messages.ERROR)
                return None
            self.message_user(
                request,
                gettext("%(name)s made, with %(count)s members.")
                % {"name": arrangement, "count": arrangement.memberships.count()},
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Make an intermunicipal arrangement"),
            "opts": self.opts,
            "form": form,
            "appointments": queryset.select_related("physician", "municipality"),
            "action": "form_arrangement",
        }
        return TemplateResponse(request, "admin/registry/form_arrangement.html", context)


@admin.register(FormerNumber)
class FormerNumberAdmin(WritePathAdminMixin, admin.ModelAdmin):
    """Numbers municipalities had before a renumbering: old sheets and links still find them."""

    list_display = ("number", "municipality", "valid_to")
    search_fields = ("number", "municipality__name", "municipality__number")
    list_select_related = ("municipality",)
    autocomplete_fields = ("municipality",)


@admin.register(Phone)
class PhoneAdmin(WritePathAdminMixin, ScopedAdminMixin, SimpleHistoryAdmin):
    list_display = ("__str__", "kind", "visibility", "note", "physician", "appointment", "responsible_office")
    list_filter = ("kind", "visibility")
    search_fields = ("number", "note", "physician__name", "appointment__municipality__name")
    list_select_related = (
        "physician",
        "appointment__municipality__county__county_governor",
        "appointment__arrangement",
        "appointment__physician",
    )
    autocomplete_fields = ("physician", "appointment")
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
        return appointment_office(obj.appointment)

    def deleted_label(self, record):
        return format_phone(record.number)


class ArrangementActionForm(forms.Form):
    """What the "make an arrangement" action asks before it changes anything."""

    name = forms.CharField(label=_("Name of the arrangement"), max_length=150, validators=[validate_line])
    kind = forms.ChoiceField(label=_("Kind"), choices=ArrangementKind.choices)
    on = forms.DateField(
        label=_("From"),
        initial=timezone.localdate,
        help_text=_("The municipalities' own appointments end the day before; the arrangement's start this day."),
    )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if Arrangement.objects.filter(name__iexact=name).exists():
            raise ValidationError(_("There is already an arrangement called %(name)s.") % {"name": name})
        return name


class MembershipInline(ScopedInlineMixin, admin.TabularInline):
    model = Membership
    extra = 1
    fields = ("municipality", "valid_from", "valid_to")
    autocomplete_fields = ("municipality",)


class ArrangementAppointmentInline(AppointmentInline):
    fields = ("physician", "physician_hpr", "role", "start_date", "end_date", "note")
    autocomplete_fields = ("physician",)
    verbose_name = _("person in the arrangement")
    verbose_name_plural = _("people in the arrangement")


class DistrictAppointmentInline(AppointmentInline):
    fields = ("physician", "physician_hpr", "role", "start_date", "end_date", "note")
    autocomplete_fields = ("physician",)
    verbose_name = _("person in the district")
    verbose_name_plural = _("people in the district")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        district = obj

        class InDistrict(formset.form):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                # A district's appointment is its municipality's too (kept by its office).
                if district is not None and self.instance.municipality_id is None:
                    self.instance.municipality_id = district.municipality_id

        formset.form = InDistrict
        return formset


@admin.register(District)
class DistrictAdmin(TrackedAdmin):
    """Districts (bydeler): Oslo's run health services, each with a district chief physician."""

    list_display = ("number", "name", "municipality", "runs_health_services", "responsible_office", "verified_at")
    list_filter = ("runs_health_services", ("municipality", RelatedOnlyFieldListFilter))
    search_fields = ("number", "name", "municipality__name")
    list_select_related = ("municipality__county__county_governor",)
    autocomplete_fields = ("municipality",)
    fieldsets = (
        (None, {"fields": ("number", "name", "municipality", "runs_health_services")}),
        (_("Responsibility and freshness"), {"fields": RESPONSIBILITY_FIELDS}),
    )
    inlines = (FunctionContactInline, DistrictAppointmentInline)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        # Districts come from SSB's list; national administrators add others (a new city's districts).
        return fields if sees_all_regions(request.user) else ("number", "name", "municipality", *fields)

    def has_add_permission(self, request):
        return sees_all_regions(request.user) and super().has_add_permission(request)

    @admin.display(description=_("responsible office"), ordering="municipality__county__county_governor__name")
    def responsible_office(self, obj):
        return obj.municipality.county.county_governor if obj and obj.municipality_id else "–"


@admin.register(Arrangement)
class ArrangementAdmin(TrackedAdmin):
    """An intermunicipal arrangement: its members with their dates, its people, its own function contacts."""

    list_display = ("name", "kind", "host", "member_list", "responsible_office", "verified_at")
    list_filter = ("kind",)
    search_fields = ("name", "organisation_number", "memberships__municipality__name")
    list_select_related = ("host",)
    autocomplete_fields = ("host",)
    fieldsets = (
        (None, {"fields": ("name", "kind", "organisation_number", "host", "roles", "note")}),
        (_("Responsibility and freshness"), {"fields": RESPONSIBILITY_FIELDS}),
    )
    inlines = (MembershipInline, ArrangementAppointmentInline, FunctionContactInline)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("memberships__municipality")

    @admin.display(description=_("members"))
    def member_list(self, obj):
        today = timezone.localdate()
        return ", ".join(m.municipality.name for m in obj.memberships.all() if m.is_current(today)) or "–"

    @admin.display(description=_("responsible office"))
    def responsible_office(self, obj):
        return arrangement_offices(obj) if obj and obj.pk else "–"


@admin.register(FunctionContact)
class FunctionContactAdmin(TrackedAdmin):
    list_display = ("__str__", "kind", "role", "visibility", "owner", "verified_at")
    list_filter = ("kind", "visibility")
    search_fields = ("email", "number", "municipality__name", "district__name", "arrangement__name")
    list_select_related = ("municipality", "district__municipality", "arrangement")
    autocomplete_fields = ("municipality", "district", "arrangement")
    form = FunctionContactForm
    fieldsets = (
        (None, {"fields": ("kind", "role", "email", "number", "visibility", "opening_hours")}),
        (_("Whose contact"), {"fields": ("municipality", "district", "arrangement")}),
        (_("Responsibility and freshness"), {"fields": TRACKING_FIELDS}),
    )

    @admin.display(description=_("responsible office"))
    def responsible_office(self, obj):
        owner = obj.owner if obj is not None and obj.pk else None
        if owner is None:
            return "–"
        if isinstance(owner, Arrangement):
            return arrangement_offices(owner)
        municipality = owner.municipality if isinstance(owner, District) else owner
        return municipality.county.county_governor


class LegevaktForm(forms.ModelForm):
    """A clinic and the municipalities it serves (kept as a function contact of kind legevakt in each)."""

    served = forms.ModelMultipleChoiceField(
        label=_("municipalities served"), queryset=Municipality.objects.none(), required=False
    )
    user = None  # set per request by LegevaktAdmin.get_form

    class Meta:
        model = Legevakt
        fields = ("name", "number", "visibility", "opening_hours", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance.municipalities if self.instance.pk else Municipality.objects.none()
        # An office picks among its own municipalities; those of other offices it shares stay as they are.
        self.fields["served"].queryset = editable(Municipality, self.user) | current
        self.fields["served"].initial = list(current)


@admin.register(Legevakt)
class LegevaktAdmin(TrackedAdmin):
    """Out-of-hours clinics with their direct numbers, and the municipalities each serves."""

    form = LegevaktForm
    list_display = ("name", "number_display", "visibility", "served_list", "verified_at")
    search_fields = ("name", "links__municipality__name")
    fieldsets = (
        (None, {"fields": ("name", "number", "visibility", "opening_hours", "served", "note")}),
        (_("Responsibility and freshness"), {"fields": RESPONSIBILITY_FIELDS}),
    )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"user": request.user})

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("links__municipality")

    @admin.display(description=_("direct number"))
    def number_display(self, obj):
        return format_phone(obj.number)

    @admin.display(description=_("municipalities served"))
    def served_list(self, obj):
        return ", ".join(link.municipality.name for link in obj.links.all() if link.municipality_id) or "–"

    @admin.display(description=_("responsible office"))
    def responsible_office(self, obj):
        if obj is None or obj.pk is None:
            return "–"
        offices = {m.county.county_governor.name for m in obj.municipalities.select_related("county__county_governor")}
        return ", ".join(sorted(offices)) or gettext("the national administrators")

    def save_related(self, request, form, formsets, change):
        if "served" in form.changed_data:
            services.set_served(form.instance, form.cleaned_data["served"], by=request.user, reason=ADMIN_REASON)
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


# The office's queue, the confirmation e-mails and the editor's home (keeping the registry current).
from registry import admin_upkeep  # noqa: E402, F401
