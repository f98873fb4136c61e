"""The registry's domain: offices, counties, municipalities, physicians and their appointments.

This module imports no other app of the project (see STYLE.md): access rules live in `accounts`.
"""

import datetime
import functools
import operator

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce, Least
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from registry.phones import PhoneField, format_phone
from registry.search import municipality_search_text, physician_search_text, search_text
from registry.validators import (
    validate_county_number,
    validate_hpr_number,
    validate_line,
    validate_municipality_number,
    validate_organisation_number,
    validate_text,
)


def with_search_text(update_fields, sources):
    """Return `update_fields` plus "search_text" when a field it is computed from is being saved."""
    if update_fields is None or not sources & set(update_fields):
        return update_fields
    return {*update_fields, "search_text"}


class TrackedModel(models.Model):
    """An entry whose freshness matters: who changed it last, and when its office last confirmed it."""

    updated_at = models.DateTimeField(_("last changed"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last changed by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    verified_at = models.DateTimeField(_("last confirmed"), null=True, blank=True, editable=False)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last confirmed by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The audit trail: every change, with who made it and the old and new values (django-simple-history).
    history = HistoricalRecords(inherit=True)

    class Meta:
        abstract = True


class CountyGovernor(models.Model):
    """A statsforvalter office: it keeps the entries of the municipalities in its counties."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120, unique=True, validators=[validate_line])
    organisation_number = models.CharField(
        _("organisation number"), max_length=9, unique=True, validators=[validate_organisation_number]
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("county governor office")
        verbose_name_plural = _("county governor offices")
        # Held as an object permission on its own office by each office's editors group (accounts): the
        # office's region is then whatever its counties hold today, so no grant can drift from the counties.
        permissions = [("edit_region", _("Can edit the entries of the office's region"))]

    def __str__(self):
        return self.name


class County(models.Model):
    """A fylke, kept by exactly one county governor office."""

    number = models.CharField(_("county number"), max_length=2, unique=True, validators=[validate_county_number])
    name = models.CharField(_("name"), max_length=80, validators=[validate_line])
    county_governor = models.ForeignKey(
        CountyGovernor, verbose_name=_("county governor office"), on_delete=models.PROTECT, related_name="counties"
    )

    class Meta:
        ordering = ["number"]
        verbose_name = _("county")
        verbose_name_plural = _("counties")
        constraints = [
            # The number is the county's natural key: two digits, as SSB writes it.
            models.CheckConstraint(condition=Q(number__regex=r"^[0-9]{2}$"), name="county_number_two_digits"),
        ]

    def __str__(self):
        return f"{self.number} {self.name}"


class MunicipalityQuerySet(models.QuerySet):
    def active(self, on=None):
        """Municipalities that exist on `on` (default today): started, and not ceased in a reform."""
        day = on or timezone.localdate()
        return self.exclude(valid_from__gt=day).exclude(valid_to__lt=day)

    def with_office(self):
        return self.select_related("county__county_governor")

    def kept_by(self, offices):
        """The municipalities of the counties that `offices` (ids or a queryset of offices) keep."""
        return self.filter(county__county_governor__in=offices)

    # Each rule below is written once, here; the list, its filters, the coverage page, the freshness
    # report, the admin's filters, the exports and the API all ask it.

    @staticmethod
    def holds(role, on=None):
        """An EXISTS telling whether the outer municipality has someone in `role` on `on` (today): its own
        appointment or one through an arrangement it is a member of (AppointmentQuerySet.serving).

        No one is a vacancy, which every list must show.
        """
        return Appointment.objects.any_serving(models.OuterRef("pk"), on=on, role=role)

    def with_current(self, role, on=None):
        """Municipalities with someone published in `role`."""
        return self.filter(self.holds(role, on))

    def without_current(self, role, on=None):
        """Municipalities with nobody published in `role`: vacancies."""
        return self.exclude(self.holds(role, on))

    def with_roles(self, on=None):
        """Annotate `has_<role>` (has_chief_physician, has_deputy, has_infection_control_physician) for each role."""
        return self.annotate(**{f"has_{role}": self.holds(role, on) for role in Role.values})

    def with_confirmation(self, on=None):
        """Annotate when each municipality's entry was last confirmed, and whether that was lately.

        `entry_confirmed_at`: the entry is the appointments serving the municipality (its own and its
        arrangements', AppointmentQuerySet.serving), its function contacts, and the municipality's own
        confirmation (which is how a vacancy with nothing else is confirmed); the oldest confirmation
        counts, and NULL when some appointment or contact never was.
        `confirmed_lately`: confirmed at or after `confirmation_cutoff` (REGISTRY_STALE_AFTER_DAYS).
        """
        day = on or timezone.localdate()

        def parts():
            # Fresh querysets for each use: a subquery shared by two expressions would be renamed twice
            # when an outer query refers to this annotation (coverage.through_link).
            own, through = Appointment.objects.serving(models.OuterRef("pk"), on=day)
            return own, through, FunctionContact.objects.of_the_function().filter(municipality=models.OuterRef("pk"))

        def oldest(queryset):
            # A missing part must not win the LEAST below (SQLite's MIN is NULL if any argument is).
            return Coalesce(
                models.Subquery(queryset.order_by("verified_at").values("verified_at")[:1]), models.Value(NEVER)
            )

        never_confirmed = functools.reduce(
            operator.or_, (models.Exists(part.filter(verified_at__isnull=True)) for part in parts())
        )
        nothing = functools.reduce(operator.and_, (~models.Exists(part) for part in parts()))
        confirmed_at = models.Case(
            models.When(never_confirmed, then=models.Value(None)),
            models.When(nothing, then=models.F("verified_at")),
            default=Least(*(oldest(part) for part in parts()), Coalesce(models.F("verified_at"), models.Value(NEVER))),
            output_field=models.DateTimeField(),
        )
        return self.annotate(entry_confirmed_at=confirmed_at).annotate(
            confirmed_lately=models.Case(
                models.When(entry_confirmed_at__gte=confirmation_cutoff(day), then=models.Value(True)),
                default=models.Value(False),
                output_field=models.BooleanField(),
            )
        )

    @staticmethod
    def reachable(kind, on=None):
        """An EXISTS telling whether the outer municipality has a function contact of `kind` (the 24/7 number):
        its own, or that of an arrangement it is a member of on `on` (today)."""
        # Two EXISTS rather than one with an OR inside: see AppointmentQuerySet.serving.
        of_kind = FunctionContact.objects.filter(kind=kind)
        through = Q(arrangement__memberships__municipality=models.OuterRef("pk")) & MembershipQuerySet.in_force(
            on or timezone.localdate(), through="arrangement__memberships__"
        )
        return models.Exists(of_kind.filter(municipality=models.OuterRef("pk"))) | models.Exists(
            of_kind.filter(through)
        )

    def without_contact(self, kind, on=None):
        """Municipalities with no function contact of `kind`: no 24/7 number, for example."""
        return self.exclude(self.reachable(kind, on))

    def not_confirmed_lately(self, on=None):
        """Municipalities whose entry was not confirmed within REGISTRY_STALE_AFTER_DAYS (see with_confirmation)."""
        return self.with_confirmation(on).filter(confirmed_lately=False)

    def for_directory(self, on=None):
        """What the national list needs of each municipality: its office, its roles, its confirmation and
        whether it has a 24/7 number."""
        return (
            self.with_office()
            .with_roles(on)
            .with_confirmation(on)
            .annotate(has_emergency_number=self.reachable(ContactKind.EMERGENCY, on))
        )


# Later than any confirmation: stands in for a part that does not exist when the oldest is sought.
NEVER = datetime.datetime(9999, 12, 31, tzinfo=datetime.UTC)


def confirmation_cutoff(today=None):
    """The moment before which a confirmation is no longer recent: the start of the day, local time,
    REGISTRY_STALE_AFTER_DAYS ago. The one threshold of "not confirmed lately", everywhere."""
    today = today or timezone.localdate()
    # A list asked "as on" the first days of the calendar (?on=0001-01-01) has no earlier day to count from;
    # its second day keeps the moment inside the calendar in UTC too.
    earliest = datetime.date.min + datetime.timedelta(days=1)
    days = datetime.timedelta(days=settings.REGISTRY_STALE_AFTER_DAYS)
    day = today - days if today - earliest > days else earliest
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class Municipality(TrackedModel):
    """A kommune. The number is its key; a reform ends it (`valid_to`) rather than deleting it."""

    number = models.CharField(
        _("municipality number"), max_length=4, unique=True, validators=[validate_municipality_number]
    )
    name = models.CharField(_("name"), max_length=100, validators=[validate_line])
    # Official parallel names in Sami or Kven, in SSB's order, separated by "|".
    parallel_names = models.CharField(
        _("parallel names"),
        max_length=200,
        blank=True,
        help_text=_("Official Sami or Kven names, separated by |, for example: Guovdageaidnu"),
        validators=[validate_line],
    )
    county = models.ForeignKey(
        County, verbose_name=_("county"), on_delete=models.PROTECT, related_name="municipalities"
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(
        _("ceased"),
        null=True,
        blank=True,
        help_text=_("The last day the municipality existed, after a merger or split."),
    )
    successors = models.ManyToManyField(
        "self",
        verbose_name=_("succeeded by"),
        symmetrical=False,
        blank=True,
        related_name="predecessors",
        help_text=_("The municipalities that took over after a merger, split or renumbering."),
    )
    # Folded words of the number and names (registry.search), derived by derive(): the list searches it.
    search_text = models.TextField(editable=False, blank=True, default="")

    objects = MunicipalityQuerySet.as_manager()

    class Meta:
        ordering = ["number"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        constraints = [
            # The number is the municipality's natural key: four digits, leading zero kept.
            models.CheckConstraint(condition=Q(number__regex=r"^[0-9]{4}$"), name="municipality_number_four_digits"),
            # A municipality cannot cease before it starts.
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=models.F("valid_from")),
                name="municipality_valid_to_after_valid_from",
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.name}"

    def save(self, *args, **kwargs):
        self.derive()
        kwargs["update_fields"] = with_search_text(kwargs.get("update_fields"), {"number", "name", "parallel_names"})
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("admin:registry_municipality_change", args=[self.pk])

    def derive(self):
        """Compute the derived fields. Called by save() and by every bulk write (registry.services)."""
        self.search_text = municipality_search_text(
            number=self.number, name=self.name, parallel_names=self.parallel_names
        )

    @property
    def parallel_name_list(self):
        return [part.strip() for part in self.parallel_names.split("|") if part.strip()]

    def is_active(self, on=None):
        day = on or timezone.localdate()
        return not (self.valid_from and self.valid_from > day) and not (self.valid_to and self.valid_to < day)

    @property
    def county_governor(self):
        """The office responsible for this municipality. Loads `county`; use `with_office()` in lists."""
        return self.county.county_governor


class FormerNumber(models.Model):
    """A number a municipality had before it was renumbered (in 2024, 113 of them, with the county reform).

    The municipality is the same one: its appointments, contacts and history stay with it, and old
    sheets, links and API calls that use the old number still find it (registry.numbers).
    """

    number = models.CharField(_("former number"), max_length=4, validators=[validate_municipality_number])
    municipality = models.ForeignKey(
        Municipality, verbose_name=_("municipality"), on_delete=models.CASCADE, related_name="former_numbers"
    )
    valid_to = models.DateField(_("last used"))

    class Meta:
        ordering = ["number"]
        verbose_name = _("former municipality number")
        verbose_name_plural = _("former municipality numbers")
        constraints = [
            # Four digits, as SSB writes it.
            models.CheckConstraint(condition=Q(number__regex=r"^[0-9]{4}$"), name="former_number_four_digits"),
            # A municipality had a number once; a number may have gone to several (a split).
            models.UniqueConstraint(fields=["number", "municipality"], name="former_number_once"),
        ]

    def __str__(self):
        return f"{self.number} → {self.municipality}"


class DistrictQuerySet(models.QuerySet):
    def kept_by(self, offices):
        """The districts of the municipalities that `offices` keep."""
        return self.filter(municipality__county__county_governor__in=offices)

    def with_health_services(self):
        """The districts that run health services of their own, each with a district chief physician."""
        return self.filter(runs_health_services=True)

    @staticmethod
    def holds(role, on=None):
        """An EXISTS telling whether the outer district has someone in `role` on `on` (today)."""
        day = on or timezone.localdate()
        return models.Exists(Appointment.objects.on(day).filter(district=models.OuterRef("pk"), role=role))

    def without_current(self, role, on=None):
        """Districts with nobody in `role`: a district without its bydelsoverlege."""
        return self.exclude(self.holds(role, on))


class District(TrackedModel):
    """A bydel: a part of a municipality. Oslo's 15 run health services, each with a district chief physician.

    SSB lists statistical districts too (Oslo's Sentrum and Marka; Bergen's, Stavanger's and Trondheim's):
    they hold no appointments of their own by default, and coverage leaves them out.
    """

    number = models.CharField(_("district number"), max_length=6, unique=True)
    name = models.CharField(_("name"), max_length=100, validators=[validate_line])
    municipality = models.ForeignKey(
        Municipality, verbose_name=_("municipality"), on_delete=models.PROTECT, related_name="districts"
    )
    runs_health_services = models.BooleanField(
        _("runs health services"),
        default=False,
        help_text=_("The district has health services of its own and a district chief physician (bydelsoverlege)."),
    )
    # Folded words of the name and number (registry.search), derived by derive(): the list searches it.
    search_text = models.TextField(editable=False, blank=True, default="")

    objects = DistrictQuerySet.as_manager()

    class Meta:
        ordering = ["number"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        constraints = [
            # SSB's code: the municipality's four digits and two of the district's own.
            models.CheckConstraint(condition=Q(number__regex=r"^[0-9]{6}$"), name="district_number_six_digits"),
        ]

    def __str__(self):
        return f"{self.name} ({self.municipality.name})"

    def save(self, *args, **kwargs):
        self.derive()
        kwargs["update_fields"] = with_search_text(kwargs.get("update_fields"), {"name", "number"})
        super().save(*args, **kwargs)

    DERIVED_FIELDS = {"search_text": {"name", "number"}}

    def derive(self):
        """Compute the derived fields. Called by save() and by every bulk write (registry.services)."""
        self.search_text = search_text(self.name, self.number)


class ArrangementKind(models.TextChoices):
    # The Norwegian terms (kommuneloven) are the bokmål translations of these labels.
    TASK_COMMUNITY = "oppgavefellesskap", _("municipal task community")
    HOST_MUNICIPALITY = "vertskommunesamarbeid", _("host municipality cooperation")
    INTERMUNICIPAL = "interkommunalt_samarbeid", _("intermunicipal cooperation")
    OTHER = "annen", _("other arrangement")


class ArrangementQuerySet(models.QuerySet):
    def kept_by(self, offices):
        """The arrangements with a current or future member in a municipality `offices` keep: an arrangement
        whose members lie in two offices' regions is kept by both."""
        open_members = Membership.objects.open_on(timezone.localdate()).filter(
            arrangement=models.OuterRef("pk"), municipality__county__county_governor__in=offices
        )
        return self.filter(models.Exists(open_members))


class Arrangement(TrackedModel):
    """An intermunicipal arrangement: its members share one kommuneoverlege function, or some roles of it.

    An appointment to an arrangement gives the person that role in every member municipality for as
    long as it is a member (`AppointmentQuerySet.serving`).
    """

    name = models.CharField(_("name"), max_length=150, unique=True, validators=[validate_line])
    kind = models.CharField(_("kind"), max_length=30, choices=ArrangementKind.choices)
    organisation_number = models.CharField(
        _("organisation number"), max_length=9, blank=True, validators=[validate_organisation_number]
    )
    host = models.ForeignKey(
        Municipality,
        verbose_name=_("host municipality"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hosted_arrangements",
    )
    # The roles the arrangement holds for its members, as Role values separated by spaces; empty: all.
    roles = models.CharField(
        _("roles covered"), max_length=100, blank=True, help_text=_("Empty: every role of the function.")
    )
    note = models.TextField(_("note"), blank=True, validators=[validate_text])
    search_text = models.TextField(editable=False, blank=True, default="")

    objects = ArrangementQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("intermunicipal arrangement")
        verbose_name_plural = _("intermunicipal arrangements")

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.derive()
        kwargs["update_fields"] = with_search_text(kwargs.get("update_fields"), {"name"})
        super().save(*args, **kwargs)

    DERIVED_FIELDS = {"search_text": {"name"}}

    def derive(self):
        """Compute the derived fields. Called by save() and by every bulk write (registry.services)."""
        self.search_text = search_text(self.name)

    @staticmethod
    def roles_of(roles):
        """The roles an arrangement whose `roles` field says this holds, in the order roles are shown."""
        chosen = set(roles.split())
        return [role for role in Role.values if not chosen or role in chosen]

    @property
    def role_list(self):
        """The roles the arrangement holds, in the order roles are shown."""
        return self.roles_of(self.roles)

    def covers(self, role):
        return role in self.role_list

    @staticmethod
    def label_of(name, kind):
        """ "Indre Namdal legetjeneste (kommunalt oppgavefellesskap)": the name and the kind, as lists show it (and
        as the import reads it back)."""
        return f"{name} ({ArrangementKind(kind).label})"

    def label(self):
        return self.label_of(self.name, self.kind)


class MembershipQuerySet(models.QuerySet):
    @staticmethod
    def in_force(day, through=""):
        """The condition of a membership in force on `day`, on the membership reached by `through` (a lookup
        path such as "arrangement__memberships__"; none: the membership itself). Written without a negation so
        that, through a relation, it stays a condition on the one joined row."""
        return Q(**{f"{through}valid_from__lte": day}) & (
            Q(**{f"{through}valid_to__isnull": True}) | Q(**{f"{through}valid_to__gte": day})
        )

    def on(self, day):
        """Memberships in force on `day`."""
        return self.filter(self.in_force(day))

    def open_on(self, day):
        """Memberships not ended by `day`."""
        return self.exclude(valid_to__lt=day)

    def kept_by(self, offices):
        return self.filter(arrangement__in=Arrangement.objects.kept_by(offices))


class Membership(models.Model):
    """A municipality's membership of an arrangement, for a period: dates keep "who held the role when" answerable."""

    arrangement = models.ForeignKey(
        Arrangement, verbose_name=_("arrangement"), on_delete=models.CASCADE, related_name="memberships"
    )
    municipality = models.ForeignKey(
        Municipality, verbose_name=_("municipality"), on_delete=models.PROTECT, related_name="memberships"
    )
    valid_from = models.DateField(_("member from"))
    valid_to = models.DateField(_("member to"), null=True, blank=True)

    objects = MembershipQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["arrangement__name", "municipality__number", "valid_from"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            # A membership cannot end before it starts.
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="membership_end_not_before_start",
            ),
            # The same municipality joins the same arrangement once on a given day.
            models.UniqueConstraint(
                fields=["arrangement", "municipality", "valid_from"], name="membership_natural_key"
            ),
        ]

    def __str__(self):
        return f"{self.municipality} – {self.arrangement}"

    def is_current(self, on=None):
        day = on or timezone.localdate()
        return self.valid_from <= day and (self.valid_to is None or self.valid_to >= day)


class PhysicianQuerySet(models.QuerySet):
    def kept_by(self, offices):
        """The physicians that `offices` (ids or a queryset of offices) keep: the ownership rule.

        A physician belongs to every office where they hold a current or future appointment; with none,
        to the office that registered them; with none of those, to the national administrators only.
        An ended appointment gives no office any right over the person.
        """
        open_appointments = Appointment.objects.open_on(timezone.localdate()).filter(physician=models.OuterRef("pk"))
        return self.filter(
            models.Exists(open_appointments.kept_by(offices))
            | (~models.Exists(open_appointments) & Q(registered_by__in=offices))
        )


class Physician(TrackedModel):
    """A physician. One person may serve several municipalities (intermunicipal arrangements)."""

    name = models.CharField(_("name"), max_length=150, validators=[validate_line])
    email = models.EmailField(_("e-mail"), blank=True, validators=[validate_line])
    hpr_number = models.CharField(
        _("HPR number"),
        max_length=9,
        null=True,
        blank=True,
        unique=True,
        validators=[validate_hpr_number],
        help_text=_("The number in the national health personnel register (Helsepersonellregisteret)."),
    )
    # The office whose editor registered the physician: it keeps them while they hold no open appointment.
    registered_by = models.ForeignKey(
        CountyGovernor,
        verbose_name=_("registered by office"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Folded words of the name (registry.search), derived by derive(): the list searches it.
    search_text = models.TextField(editable=False, blank=True, default="")

    objects = PhysicianQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("physician")
        verbose_name_plural = _("physicians")
        constraints = [
            # An HPR number is digits only; blank is stored as NULL so that many may be unknown.
            models.CheckConstraint(
                condition=Q(hpr_number__isnull=True) | Q(hpr_number__regex=r"^[0-9]{4,9}$"),
                name="physician_hpr_number_digits",
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.derive()
        kwargs["update_fields"] = with_search_text(kwargs.get("update_fields"), {"name"})
        super().save(*args, **kwargs)

    # The fields derive() computes, and the fields they are computed from.
    DERIVED_FIELDS = {"search_text": {"name"}, "hpr_number": {"hpr_number"}}

    def derive(self):
        """Compute the derived fields. Called by save() and by every bulk write (registry.services)."""
        # An empty HPR number means unknown; storing "" would collide with the next unknown one.
        if not self.hpr_number:
            self.hpr_number = None
        self.search_text = physician_search_text(name=self.name)


class Role(models.TextChoices):
    CHIEF_PHYSICIAN = "chief_physician", _("chief municipal physician")
    DEPUTY = "deputy", _("deputy")
    INFECTION_CONTROL_PHYSICIAN = "infection_control_physician", _("infection control physician")


class AppointmentQuerySet(models.QuerySet):
    def on(self, day):
        """Appointments in force on `day`."""
        return self.filter(start_date__lte=day).exclude(end_date__lt=day)

    def open_on(self, day):
        """Appointments not ended by `day`: in force, or starting later."""
        return self.exclude(end_date__lt=day)

    def kept_by(self, offices):
        """The appointments `offices` (ids or a queryset of offices) keep: in their municipalities and
        districts, and to the arrangements they keep."""
        return self.filter(
            Q(municipality__county__county_governor__in=offices)
            | Q(arrangement__in=Arrangement.objects.kept_by(offices).values("pk"))
        )

    def current(self):
        return self.on(timezone.localdate())

    def published(self, on=None):
        """What public pages and exports start from: appointments in force on `on` (today), in active
        municipalities or to an arrangement."""
        day = on or timezone.localdate()
        return (
            self.on(day)
            .filter(Q(municipality__in=Municipality.objects.active(on=day)) | Q(arrangement__isnull=False))
            .select_related("physician", "municipality", "district", "arrangement")
        )

    def serving(self, municipality, on=None):
        """The appointments that give someone a role in `municipality` (an id or an OuterRef) on `on` (today):
        its own (not its districts'), and its arrangements' while it is a member (MembershipQuerySet.on).
        The rule, once: the vacancy, the confirmation and the list all ask it.

        Returned as its two parts, (own, through arrangements), each a queryset: callers ask each part and
        combine the answers (EXISTS … OR EXISTS …, the least of two minimums). One queryset with an OR across
        the two would be evaluated row by row for every municipality (PostgreSQL can use an index for neither
        side of it): 1.3 s instead of a few milliseconds for the list at 100,000 appointments (bench/search.py).
        """
        day = on or timezone.localdate()
        in_force = self.on(day)
        # A join to the membership rather than a subquery of memberships: a subquery two levels deep cannot be
        # inlined where an outer query refers to an annotation built on this one (coverage.through_link).
        through = Q(arrangement__memberships__municipality=municipality) & MembershipQuerySet.in_force(
            day, through="arrangement__memberships__"
        )
        return in_force.filter(municipality=municipality, district__isnull=True), in_force.filter(through)

    def any_serving(self, municipality, on=None, **conditions):
        """An EXISTS: whether an appointment serving `municipality` (see serving) meets `conditions`."""
        own, through = self.serving(municipality, on)
        return models.Exists(own.filter(**conditions)) | models.Exists(through.filter(**conditions))


def handover_end(start_date, on):
    """The last day of an appointment whose role passes to another from `on`: the day before, or its first day
    if it starts on `on` (an appointment cannot end before it starts)."""
    return max(on - datetime.timedelta(days=1), start_date)


class Appointment(TrackedModel):
    """A physician's role for a period: in one municipality, in one of its districts, or in an arrangement
    (then in every member municipality while it is a member). No end date: until further notice."""

    # No index of their own: the indexes below begin with these columns.
    physician = models.ForeignKey(
        Physician, verbose_name=_("physician"), on_delete=models.PROTECT, related_name="appointments", db_index=False
    )
    municipality = models.ForeignKey(
        Municipality,
        verbose_name=_("municipality"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointments",
        db_index=False,
    )
    district = models.ForeignKey(
        District,
        verbose_name=_("district"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointments",
        help_text=_("For a district chief physician (bydelsoverlege): the district of the municipality."),
    )
    arrangement = models.ForeignKey(
        Arrangement,
        verbose_name=_("intermunicipal arrangement"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointments",
        help_text=_("Instead of a municipality: the person holds the role in every member municipality."),
    )
    role = models.CharField(_("role"), max_length=40, choices=Role.choices, default=Role.CHIEF_PHYSICIAN)
    start_date = models.DateField(_("from"), default=timezone.localdate)
    end_date = models.DateField(_("to"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True, validators=[validate_text])

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["municipality__number", "role", "start_date"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        constraints = [
            # An appointment cannot end before it starts.
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="appointment_end_not_before_start",
            ),
            # An appointment is to a municipality (or one of its districts) or to an arrangement: exactly one.
            models.CheckConstraint(
                condition=Q(municipality__isnull=False, arrangement__isnull=True)
                | Q(municipality__isnull=True, arrangement__isnull=False, district__isnull=True),
                name="appointment_to_one_place",
            ),
            # The natural keys imports match on: the same person, place, role and start is one appointment.
            models.UniqueConstraint(
                fields=["physician", "municipality", "role", "start_date"],
                condition=Q(district__isnull=True),
                name="appointment_natural_key",
            ),
            models.UniqueConstraint(
                fields=["physician", "district", "role", "start_date"],
                condition=Q(district__isnull=False),
                name="appointment_district_natural_key",
            ),
            models.UniqueConstraint(
                fields=["physician", "arrangement", "role", "start_date"],
                condition=Q(arrangement__isnull=False),
                name="appointment_arrangement_natural_key",
            ),
        ]
        indexes = [
            models.Index(fields=["municipality", "role", "end_date"], name="appointment_lookup"),
            # Today's appointments in some municipalities, or of some physicians: the national list reads
            # these for every search, among 30 times as many ended ones (8 ms to 1 ms; make bench-search).
            models.Index(fields=["municipality", "end_date"], name="appointment_current_in"),
            models.Index(fields=["physician", "end_date"], name="appointment_current_of"),
            models.Index(fields=["arrangement", "end_date"], name="appointment_current_through"),
            # Every appointment in force today, anywhere: what the list's vacancy and confirmation rules ask of
            # each municipality, which PostgreSQL answers once for all of them (a hashed subplan). Without this
            # index that is a scan of every appointment ever, per rule (a search: 75 ms to 33 ms; bench-search).
            models.Index(fields=["end_date"], name="appointment_in_force"),
        ]

    def __str__(self):
        return f"{self.physician} – {self.get_role_display()}, {self.place}"

    @property
    def place(self):
        """Where the appointment is: the district, the municipality or the arrangement."""
        return self.district or self.municipality or self.arrangement

    def is_current(self, on=None):
        day = on or timezone.localdate()
        return self.start_date <= day and (self.end_date is None or self.end_date >= day)

    def clean(self):
        if self.end_date and self.start_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": _("The end date cannot be before the start date.")})


class PhoneKind(models.TextChoices):
    MOBILE = "mobile", _("mobile")
    OFFICE = "office", _("office")
    ON_CALL = "on_call", _("on call (24/7)")
    SWITCHBOARD = "switchboard", _("switchboard")


class Visibility(models.TextChoices):
    PUBLIC = "public", _("public")
    AUTHORITIES = "authorities", _("authorities only")


class PhoneQuerySet(models.QuerySet):
    def kept_by(self, offices):
        """The numbers whose owner (physician or appointment) `offices` keep."""
        return self.filter(
            Q(physician__in=Physician.objects.kept_by(offices).values("pk"))
            | Q(appointment__in=Appointment.objects.kept_by(offices).values("pk"))
        )

    def public(self):
        return self.filter(visibility=Visibility.PUBLIC)

    def visible(self, *, include_restricted):
        """The numbers a reader may see; the caller decides (in `accounts`) whether they see restricted ones."""
        return self if include_restricted else self.public()


class Phone(models.Model):
    """A phone number of a physician, or of one appointment (a post's own number). The function's numbers
    (24/7, switchboard) are FunctionContacts."""

    number = PhoneField(_("number"))
    kind = models.CharField(_("kind"), max_length=20, choices=PhoneKind.choices, default=PhoneKind.MOBILE)
    note = models.CharField(
        _("note"), max_length=200, blank=True, help_text=_("For example: daytime only"), validators=[validate_line]
    )
    visibility = models.CharField(_("visibility"), max_length=20, choices=Visibility.choices, default=Visibility.PUBLIC)
    physician = models.ForeignKey(
        Physician, null=True, blank=True, on_delete=models.CASCADE, related_name="phones", verbose_name=_("physician")
    )
    appointment = models.ForeignKey(
        Appointment,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="phones",
        verbose_name=_("appointment"),
    )

    objects = PhoneQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")
        permissions = [("view_authorities_only", _("Can see phone numbers for authorities only"))]
        constraints = [
            # A number belongs to exactly one owner: a physician or an appointment.
            models.CheckConstraint(
                condition=Q(physician__isnull=False, appointment__isnull=True)
                | Q(physician__isnull=True, appointment__isnull=False),
                name="phone_has_one_owner",
            ),
        ]

    def __str__(self):
        return format_phone(self.number)

    @property
    def is_public(self):
        return self.visibility == Visibility.PUBLIC


class ContactKind(models.TextChoices):
    ROLE_MAILBOX = "role_mailbox", _("role mailbox")
    EMERGENCY = "emergency", _("24/7 emergency number")
    SWITCHBOARD = "switchboard", _("switchboard")
    # The out-of-hours clinic that serves the municipality: its name, number and hours are the Legevakt's.
    LEGEVAKT = "legevakt", _("out-of-hours clinic (legevakt)")


def default_visibility(kind):
    """Who sees a new function contact of `kind`: the 24/7 number is for the authorities, unless the office says so."""
    return Visibility.AUTHORITIES if kind == ContactKind.EMERGENCY else Visibility.PUBLIC


class LegevaktQuerySet(models.QuerySet):
    def kept_by(self, offices):
        """The out-of-hours clinics that serve a municipality `offices` keep: shared ones by every such office."""
        return self.filter(
            models.Exists(
                FunctionContact.objects.filter(
                    legevakt=models.OuterRef("pk"), municipality__county__county_governor__in=offices
                )
            )
        )

    def visible(self, *, include_restricted):
        return self if include_restricted else self.filter(visibility=Visibility.PUBLIC)


class Legevakt(TrackedModel):
    """An out-of-hours clinic (legevakt), often intermunicipal, with its direct number: 116117 routes by the
    caller's location, so it does not reach a given legevakt. Each municipality it serves has a function
    contact of kind "legevakt" pointing here (registry.services.set_served)."""

    name = models.CharField(_("name"), max_length=150, unique=True, validators=[validate_line])
    number = PhoneField(_("direct number"))
    visibility = models.CharField(
        _("visibility"), max_length=20, choices=Visibility.choices, default=Visibility.AUTHORITIES
    )
    opening_hours = models.CharField(_("opening hours"), max_length=200, blank=True, validators=[validate_line])
    note = models.TextField(_("note"), blank=True, validators=[validate_text])
    search_text = models.TextField(editable=False, blank=True, default="")

    objects = LegevaktQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("out-of-hours clinic (legevakt)")
        verbose_name_plural = _("out-of-hours clinics (legevakter)")

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.derive()
        kwargs["update_fields"] = with_search_text(kwargs.get("update_fields"), {"name"})
        super().save(*args, **kwargs)

    DERIVED_FIELDS = {"search_text": {"name"}}

    def derive(self):
        """Compute the derived fields. Called by save() and by every bulk write (registry.services)."""
        self.search_text = search_text(self.name)

    @property
    def is_public(self):
        return self.visibility == Visibility.PUBLIC

    @property
    def municipalities(self):
        """The municipalities it serves (one query)."""
        return Municipality.objects.filter(function_contacts__legevakt=self).distinct()


class FunctionContactQuerySet(models.QuerySet):
    def kept_by(self, offices):
        """The contacts of the municipalities, districts and arrangements `offices` keep."""
        return self.filter(
            Q(municipality__county__county_governor__in=offices)
            | Q(district__municipality__county__county_governor__in=offices)
            | Q(arrangement__in=Arrangement.objects.kept_by(offices).values("pk"))
        )

    def visible(self, *, include_restricted):
        """The contacts a reader may see: a legevakt link as its clinic's visibility says."""
        if include_restricted:
            return self
        return self.filter(
            (~Q(kind=ContactKind.LEGEVAKT) & Q(visibility=Visibility.PUBLIC))
            | Q(kind=ContactKind.LEGEVAKT, legevakt__visibility=Visibility.PUBLIC)
        )

    def of_the_function(self):
        """The contacts that are the function's own (not the legevakt links, which their clinic keeps)."""
        return self.exclude(kind=ContactKind.LEGEVAKT)


class FunctionContact(TrackedModel):
    """A way to reach the kommuneoverlege function rather than a person: a role mailbox, the 24/7 emergency
    number or the switchboard, of a municipality, a district or an arrangement. Confirmed on its own."""

    kind = models.CharField(_("kind"), max_length=20, choices=ContactKind.choices)
    # For a role mailbox: the role it is for (kommuneoverlege@…, smittevernoverlege@…); empty: the function's.
    role = models.CharField(_("role"), max_length=40, choices=Role.choices, blank=True)
    email = models.EmailField(_("e-mail"), blank=True, validators=[validate_line])
    number = PhoneField(_("number"), null=True, blank=True)
    visibility = models.CharField(_("visibility"), max_length=20, choices=Visibility.choices, default=Visibility.PUBLIC)
    opening_hours = models.CharField(
        _("opening hours"),
        max_length=200,
        blank=True,
        help_text=_("For example: weekdays 08–15.30"),
        validators=[validate_line],
    )
    municipality = models.ForeignKey(
        Municipality,
        verbose_name=_("municipality"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="function_contacts",
    )
    district = models.ForeignKey(
        District,
        verbose_name=_("district"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="function_contacts",
    )
    arrangement = models.ForeignKey(
        Arrangement,
        verbose_name=_("intermunicipal arrangement"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="function_contacts",
    )
    legevakt = models.ForeignKey(
        Legevakt,
        verbose_name=_("out-of-hours clinic (legevakt)"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="links",
    )

    objects = FunctionContactQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "role", "pk"]
        verbose_name = _("function contact")
        verbose_name_plural = _("function contacts")
        constraints = [
            # A function contact belongs to exactly one owner: a municipality, a district or an arrangement.
            models.CheckConstraint(
                condition=Q(municipality__isnull=False, district__isnull=True, arrangement__isnull=True)
                | Q(municipality__isnull=True, district__isnull=False, arrangement__isnull=True)
                | Q(municipality__isnull=True, district__isnull=True, arrangement__isnull=False),
                name="function_contact_has_one_owner",
            ),
            # A mailbox is an address and nothing else; the 24/7 number and the switchboard are numbers; a
            # legevakt link points to its clinic, which has the number.
            models.CheckConstraint(
                condition=Q(kind="role_mailbox", number__isnull=True, legevakt__isnull=True) & ~Q(email="")
                | Q(kind__in=["emergency", "switchboard"], number__isnull=False, email="", legevakt__isnull=True)
                | Q(kind="legevakt", number__isnull=True, email="", legevakt__isnull=False),
                name="function_contact_mailbox_number_or_legevakt",
            ),
        ]

    def __str__(self):
        value = self.email or (format_phone(self.number) if self.number else "") or str(self.legevakt or "")
        return f"{self.get_kind_display()}: {value}"

    @property
    def owner(self):
        return self.municipality or self.district or self.arrangement

    @property
    def is_public(self):
        """Whether anyone may see it: a legevakt link as its clinic says."""
        visibility = self.legevakt.visibility if self.kind == ContactKind.LEGEVAKT else self.visibility
        return visibility == Visibility.PUBLIC

    def clean(self):
        if self.kind == ContactKind.ROLE_MAILBOX and not self.email:
            raise ValidationError({"email": _("A role mailbox needs its e-mail address.")})
        if self.kind in (ContactKind.EMERGENCY, ContactKind.SWITCHBOARD) and not self.number:
            raise ValidationError({"number": _("This kind of contact needs a phone number.")})
        if self.kind == ContactKind.LEGEVAKT and not self.legevakt_id:
            raise ValidationError({"legevakt": _("Choose the out-of-hours clinic.")})


class DataVersion(models.Model):
    """One row: a counter bumped after every committed change to what the national list shows.

    Caches and the list's ETag are keyed by it (registry.versioning), so that they follow the order
    in which changes commit, which history dates do not.
    """

    counter = models.BigIntegerField(_("counter"), default=0)
    changed_at = models.DateTimeField(_("changed at"), null=True)

    class Meta:
        verbose_name = _("data version")
        verbose_name_plural = _("data versions")

    def __str__(self):
        return f"{self.counter}"


class Change(models.Model):
    """A change to one municipality's published entry: a line of the change feed (registry.feed).

    Written by the write path in the transaction that makes the change, without a `sequence`; the data
    version's bump after the commit stamps every unstamped change with the new counter (registry.versioning),
    one bump at a time, so sequences follow the order in which changes commit and a reader that has seen a
    sequence never later finds a smaller one. `number` is the municipality's number when it changed: the
    feed removes it from a copy if the municipality was since renumbered or deleted.
    """

    sequence = models.BigIntegerField(_("sequence"), null=True, blank=True)
    municipality = models.ForeignKey(
        Municipality, verbose_name=_("municipality"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    number = models.CharField(_("municipality number"), max_length=4)

    class Meta:
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        indexes = [models.Index(fields=["sequence", "id"], name="change_feed_order")]

    def __str__(self):
        return f"{self.sequence}: {self.number}"


# Keeping the registry current: confirmation requests, proposals and reports.
#
# A physician confirms their entry, or proposes a change to it, through a signed single-use link that
# `send_confirmation_requests` e-mails (registry.upkeep); anyone may report an error on a municipality's
# page. Proposals and reports wait in the responsible office's queue in the admin, and approving one applies
# it through registry.services. None of these rows keeps a copy of which office is responsible: that is
# read from the entry's municipality when asked (`kept_by`), like every other right in the registry.


class ConfirmableKind(models.TextChoices):
    """The kinds of entries with a recipient address that a confirmation link can name (registry.upkeep.ENTRY_KINDS)."""

    APPOINTMENT = "appointment", _("appointment")
    FUNCTION_CONTACT = "function_contact", _("role mailbox")


class LinkOutcome(models.TextChoices):
    CONFIRMED = "confirmed", _("confirmed as correct")
    PROPOSED = "proposed", _("change proposed")


class QueueStatus(models.TextChoices):
    OPEN = "open", _("open")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")


class ConfirmationRequestQuerySet(models.QuerySet):
    def kept_by(self, offices):
        """The requests with a link to an entry that `offices` keep."""
        links = ConfirmationLink.objects.kept_by(offices).filter(request=models.OuterRef("pk"))
        return self.filter(models.Exists(links))

    def failed(self):
        """Requests whose e-mail could not be sent: the command tries them again within their cycle."""
        return self.filter(sent_at__isnull=True).exclude(error="")


class ConfirmationRequest(models.Model):
    """One e-mail to one address, with a link for each of its entries to confirm: at most one per address and cycle."""

    recipient = models.EmailField(_("recipient"))
    # The cycle is a calendar month, "2026-11" (registry.upkeep.cycle_of).
    cycle = models.CharField(_("cycle"), max_length=7)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    error = models.TextField(_("why it could not be sent"), blank=True)

    objects = ConfirmationRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "recipient"]
        verbose_name = _("confirmation e-mail")
        verbose_name_plural = _("confirmation e-mails")
        constraints = [
            # An address gets at most one request per cycle, however often the command runs.
            models.UniqueConstraint(fields=["recipient", "cycle"], name="confirmation_request_once_per_cycle"),
        ]

    def __str__(self):
        return f"{self.recipient} ({self.cycle})"


class ConfirmationLinkQuerySet(models.QuerySet):
    def kept_by(self, offices):
        """The links whose entry `offices` keep (the ownership rule of the entry's own model)."""
        return self.filter(
            Q(appointment__in=Appointment.objects.kept_by(offices).values("pk"))
            | Q(function_contact__in=FunctionContact.objects.kept_by(offices).values("pk"))
        )


class ConfirmationLink(models.Model):
    """A signed, single-use link that names one entry: it can confirm the entry or propose a change, once.

    The token in the e-mail is `nonce` signed with a timestamp (registry.upkeep.link_token), so a link
    expires without a stored date, cannot be made up, and once used is known as used here.
    """

    request = models.ForeignKey(
        ConfirmationRequest, verbose_name=_("confirmation e-mail"), on_delete=models.CASCADE, related_name="links"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=ConfirmableKind.choices)
    # The entry, one field per kind; a new kind adds its own field here and to the constraint below.
    appointment = models.ForeignKey(
        Appointment,
        verbose_name=_("appointment"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="confirmation_links",
    )
    # A role mailbox may be removed (an approved "no longer in use"): its links and their proposals stay.
    function_contact = models.ForeignKey(
        FunctionContact,
        verbose_name=_("function contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="confirmation_links",
    )
    nonce = models.CharField(max_length=64, unique=True, editable=False)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=LinkOutcome.choices, blank=True)

    objects = ConfirmationLinkQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("confirmation link")
        verbose_name_plural = _("confirmation links")
        constraints = [
            # A link names exactly the entry of its kind.
            models.CheckConstraint(
                condition=Q(kind=ConfirmableKind.APPOINTMENT, appointment__isnull=False, function_contact__isnull=True)
                | Q(kind=ConfirmableKind.FUNCTION_CONTACT, appointment__isnull=True),
                name="confirmation_link_names_its_entry",
            ),
            # A used link says what it was used for, and only a used link does.
            models.CheckConstraint(
                condition=Q(used_at__isnull=True, outcome="") | (Q(used_at__isnull=False) & ~Q(outcome="")),
                name="confirmation_link_outcome_when_used",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.entry}"

    @property
    def entry(self):
        """The entry the link names (one query unless loaded with select_related); None once it was removed."""
        return getattr(self, self.kind)


class QueueItem(models.Model):
    """Something waiting for an office's decision (a proposal, a report): when it came, and what was decided."""

    created_at = models.DateTimeField(_("received"), default=timezone.now)
    status = models.CharField(_("status"), max_length=20, choices=QueueStatus.choices, default=QueueStatus.OPEN)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decision_note = models.TextField(_("reason"), blank=True, validators=[validate_text])

    class Meta:
        abstract = True
        ordering = ["-created_at"]


class QueueQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=QueueStatus.OPEN)


class ProposalQuerySet(QueueQuerySet):
    def kept_by(self, offices):
        """The proposals about entries that `offices` keep: the office's queue."""
        return self.filter(link__in=ConfirmationLink.objects.kept_by(offices).values("pk"))


class Proposal(QueueItem):
    """A change proposed through a confirmation link (by a physician, or a role mailbox), for the office to decide."""

    link = models.OneToOneField(
        ConfirmationLink, verbose_name=_("confirmation link"), on_delete=models.CASCADE, related_name="proposal"
    )
    # What the physician proposed, as the kind's proposal form reads it (registry.forms); JSON values only.
    changes = models.JSONField(_("proposed changes"), default=dict)
    # What the office applied when approving: the proposal, as the editor may have corrected it.
    applied = models.JSONField(_("applied changes"), null=True, blank=True)

    objects = ProposalQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("proposal through a confirmation link")
        verbose_name_plural = _("proposals through confirmation links")
        constraints = [
            # A rejection always says why; the physician is told.
            models.CheckConstraint(
                condition=~Q(status=QueueStatus.REJECTED) | ~Q(decision_note=""), name="proposal_rejection_has_reason"
            ),
        ]

    def __str__(self):
        return _("Proposal %(number)s") % {"number": self.pk}


class ErrorReportQuerySet(QueueQuerySet):
    def kept_by(self, offices):
        """The reports about what `offices` keep (a municipality or one of its districts, an arrangement with a
        member in their region): the office's queue."""
        return self.filter(
            Q(municipality__in=Municipality.objects.kept_by(offices).values("pk"))
            | Q(arrangement__in=Arrangement.objects.kept_by(offices).values("pk"))
        )


class ErrorReport(QueueItem):
    """An error anyone reported on a public page (a municipality's, one of its districts', an arrangement's),
    for the office that keeps it to correct or reject."""

    # What the report is about: a municipality (and perhaps one of its districts), or an arrangement.
    municipality = models.ForeignKey(
        Municipality,
        verbose_name=_("municipality"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="error_reports",
    )
    district = models.ForeignKey(
        District,
        verbose_name=_("district"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="error_reports",
    )
    arrangement = models.ForeignKey(
        Arrangement,
        verbose_name=_("intermunicipal arrangement"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="error_reports",
    )
    message = models.TextField(_("what is wrong"), max_length=2000, validators=[validate_text])
    reporter_email = models.EmailField(_("reporter's e-mail"), blank=True, validators=[validate_line])

    objects = ErrorReportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("error report")
        verbose_name_plural = _("error reports")
        constraints = [
            # A rejection always says why; a reporter who left an address is told.
            models.CheckConstraint(
                condition=~Q(status=QueueStatus.REJECTED) | ~Q(decision_note=""),
                name="error_report_rejection_has_reason",
            ),
            # About a municipality (a district with its municipality), or about an arrangement: one of them.
            models.CheckConstraint(
                condition=Q(municipality__isnull=False, arrangement__isnull=True)
                | Q(municipality__isnull=True, district__isnull=True, arrangement__isnull=False),
                name="error_report_names_one_subject",
            ),
        ]

    def __str__(self):
        return _("Report %(number)s about %(subject)s") % {"number": self.pk, "subject": self.subject}

    @property
    def subject(self):
        """What the report is about: the district, the municipality or the arrangement."""
        return self.district or self.municipality or self.arrangement

    @property
    def keeper_row(self):
        """The row whose keepers decide the report (the ownership rule): the municipality or the arrangement."""
        return self.municipality or self.arrangement
