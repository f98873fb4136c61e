"""The search box and filters of the national list, declared once for the page, the exports and the API."""

import functools

import django_filters
from django import forms
from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from registry.models import Appointment, ContactKind, County, District, Membership, Municipality, Physician, Role
from registry.search import (
    MAX_QUERY_LENGTH,
    MIN_FUZZY_LENGTH,
    has_similar_word,
    has_word_starting,
    query_terms,
    search_plan,
    search_text,
    supports_typos,
    trigram_indexes,
)

ROLE_CHOICES = [(value, capfirst(label)) for value, label in Role.choices]
MISSING_CHOICES = [*ROLE_CHOICES, (ContactKind.EMERGENCY.value, _("24/7 emergency number"))]


@functools.lru_cache(maxsize=8)
def _directory(day, stale_after_days):
    return Municipality.objects.active(on=day).for_directory(on=day)


def directory_queryset(day):
    """The list's base queryset on `day`: active municipalities with what the list shows (for_directory).

    Built once per day and threshold (REGISTRY_STALE_AFTER_DAYS) and cloned for each use, never evaluated
    itself: building its twenty subqueries took 20 ms of a 45 ms search (make bench-search).
    """
    return _directory(day, settings.REGISTRY_STALE_AFTER_DAYS).all()


def day_asked(data):
    """The valid date in the query's `on` parameter, or None (an invalid one is reported by the form)."""
    value = (data or {}).get("on")
    try:
        return forms.DateField().clean(value) if value else None
    except forms.ValidationError:
        return None


class Checkbox(forms.CheckboxInput):
    """A checkbox that also reads the 0/false/no/off of a hand-written API query as unticked."""

    def value_from_datadict(self, data, files, name):
        value = data.get(name)
        if isinstance(value, str) and value.strip().lower() in {"", "0", "false", "no", "off"}:
            return False
        return super().value_from_datadict(data, files, name)


class MunicipalityFilter(django_filters.FilterSet):
    """Filters active municipalities. Reads the counties and offices once (one query) for its choices and search."""

    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_search",
        max_length=MAX_QUERY_LENGTH,
        help_text=_("Municipality number or name (also Sami or Kven), physician, county or office."),
    )
    office = django_filters.ChoiceFilter(
        label=_("Office"), field_name="county__county_governor__code", empty_label=_("All offices")
    )
    county = django_filters.ChoiceFilter(label=_("County"), field_name="county__number", empty_label=_("All counties"))
    role = django_filters.ChoiceFilter(
        label=_("Has"), choices=ROLE_CHOICES, method="filter_role", empty_label=_("Any role")
    )
    missing = django_filters.ChoiceFilter(
        label=_("Lacks"), choices=MISSING_CHOICES, method="filter_missing", empty_label=_("Nothing")
    )
    stale = django_filters.BooleanFilter(label=_("Not confirmed lately"), method="filter_stale", widget=Checkbox)
    on = django_filters.DateFilter(
        label=_("As on"),
        method="filter_on",
        help_text=_("Who held each role on this day (YYYY-MM-DD); empty: today."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Municipality
        fields = ["q", "office", "county", "role", "missing", "stale", "on"]

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, today=None):
        # The day the list is for decides which municipalities exist and who holds each role: the base
        # queryset is built for it, before the other filters run.
        today = today or day_asked(data) or timezone.localdate()
        if queryset is None:
            queryset = directory_queryset(today)
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.today = today
        # Set when no municipality matched exactly and the search was repeated with typo tolerance.
        self.fuzzy = False
        self.counties = list(County.objects.select_related("county_governor"))
        offices = {county.county_governor.code: county.county_governor for county in self.counties}
        self.filters["office"].extra["choices"] = sorted(
            ((code, office.name) for code, office in offices.items()), key=lambda choice: choice[1]
        )
        self.filters["county"].extra["choices"] = [(county.number, county.name) for county in self.counties]

    def results(self):
        """Return the matching municipalities as a list.

        On PostgreSQL, when a search matches nothing exactly, it is repeated with typo tolerance
        (and `fuzzy` is set), so that one wrong letter still finds the municipality.
        """
        searching = self.is_valid() and bool(self.form.cleaned_data.get("q"))
        if not searching:
            return list(self.qs)
        if not supports_typos():
            with search_plan():
                return list(self.qs)
        with search_plan():
            # Whether anything matches exactly, asked without the list's annotations: building those is most
            # of a search's time, and a typo would otherwise pay for them twice (make bench-search).
            matched = self.qs.values_list("pk", flat=True).exists()
            if matched:
                return list(self.qs)
        self.fuzzy = True
        del self._qs
        with search_plan(typos=True):
            return list(self.qs)

    def filter_search(self, queryset, name, value):
        terms = query_terms(value)
        if not terms:
            return queryset
        serving = Appointment.objects.on(self.today)
        role = self.form.cleaned_data.get("role")
        if role:
            # "Deputies named Nils": with a role chosen, a physician's name counts only in that role.
            serving = serving.filter(role=role)
        members = Membership.objects.on(self.today)
        condition = None
        for term in terms:
            match = has_similar_word if self.fuzzy and len(term) >= MIN_FUZZY_LENGTH else has_word_starting
            # Where physicians by that name serve, in queries of their own: inside the municipality query
            # the planner scans every physician instead of using the trigram index, and a list of the
            # physicians' ids is thousands long for a common name (twice the time; make bench-search).
            # The municipalities are the active ones already: the queryset this filters.
            named = serving.filter(physician__in=Physician.objects.filter(match("search_text", term)))
            with trigram_indexes():
                municipalities = set(
                    named.filter(district__isnull=True)
                    .exclude(municipality=None)
                    .order_by()
                    .values_list("municipality_id", flat=True)
                )
                # … and where they serve through an arrangement, in each member municipality.
                municipalities |= set(
                    members.filter(arrangement__in=named.exclude(arrangement=None).values("arrangement"))
                    .order_by()
                    .values_list("municipality_id", flat=True)
                )
            term_condition = (
                match("search_text", term)
                | Q(pk__in=municipalities)
                # A district's name ("grunerlokka") finds its municipality, an arrangement's its members.
                | Q(Exists(District.objects.filter(match("search_text", term), municipality=OuterRef("pk"))))
                | Q(Exists(members.filter(match("arrangement__search_text", term), municipality=OuterRef("pk"))))
            )
            counties = [county.pk for county in self.counties if has_county_word(county, term)]
            if counties:
                term_condition |= Q(county_id__in=counties)
            condition = term_condition if condition is None else condition & term_condition
        return queryset.filter(condition)

    def matched_districts(self):
        """The districts whose name matches every word of the search, with their municipality (one query)."""
        terms = query_terms(self.form.cleaned_data.get("q")) if self.is_valid() else []
        if not terms:
            return []
        condition = Q()
        for term in terms:
            condition &= has_word_starting("search_text", term)
        return list(District.objects.filter(condition).select_related("municipality"))

    def filter_role(self, queryset, name, value):
        return queryset.with_current(value, on=self.today) if value else queryset

    def filter_missing(self, queryset, name, value):
        if value == ContactKind.EMERGENCY:
            return queryset.without_contact(ContactKind.EMERGENCY, on=self.today)
        return queryset.without_current(value, on=self.today) if value else queryset

    def filter_on(self, queryset, name, value):
        return queryset  # the base queryset is already for that day (see __init__)

    def filter_stale(self, queryset, name, value):
        return queryset.filter(confirmed_lately=False) if value else queryset


def has_county_word(county, term):
    """True when a word of the county's or its office's name starts with `term` (both already folded)."""
    return (" " + term) in search_text(county.name, county.county_governor.name, county.number)
