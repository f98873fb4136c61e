"""The search box and filters of the national list, declared once for the page, the exports and the API."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from registry.models import Appointment, County, Municipality, Physician, Role
from registry.search import (
    MAX_QUERY_LENGTH,
    MIN_FUZZY_LENGTH,
    has_similar_word,
    has_word_starting,
    query_terms,
    search_plan,
    search_text,
    supports_typos,
)

ROLE_CHOICES = [(value, capfirst(label)) for value, label in Role.choices]


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
        label=_("Lacks"), choices=ROLE_CHOICES, method="filter_missing", empty_label=_("Nothing")
    )
    stale = django_filters.BooleanFilter(label=_("Not confirmed lately"), method="filter_stale", widget=Checkbox)

    class Meta:
        model = Municipality
        fields = ["q", "office", "county", "role", "missing", "stale"]

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, today=None):
        if queryset is None:
            queryset = Municipality.objects.active(on=today).for_directory(on=today)
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
        with search_plan():
            rows = list(self.qs)
        if not rows and supports_typos():
            self.fuzzy = True
            del self._qs
            with search_plan(typos=True):
                rows = list(self.qs)
        return rows

    def filter_search(self, queryset, name, value):
        terms = query_terms(value)
        if not terms:
            return queryset
        serving = Appointment.objects.current()
        role = self.form.cleaned_data.get("role")
        if role:
            # "Deputies named Nils": with a role chosen, a physician's name counts only in that role.
            serving = serving.filter(role=role)
        condition = None
        for term in terms:
            match = has_similar_word if self.fuzzy and len(term) >= MIN_FUZZY_LENGTH else has_word_starting
            # Where physicians by that name serve today, in a query of its own: inside the municipality
            # query the planner scans every physician instead of using the trigram index, and a list of
            # the physicians' ids is thousands long for a common name (twice the time; make bench-search).
            # The municipalities are the active ones already: the queryset this filters.
            named = Physician.objects.filter(match("search_text", term))
            municipalities = set(
                serving.filter(physician__in=named).order_by().values_list("municipality_id", flat=True)
            )
            term_condition = match("search_text", term) | Q(pk__in=municipalities)
            counties = [county.pk for county in self.counties if has_county_word(county, term)]
            if counties:
                term_condition |= Q(county_id__in=counties)
            condition = term_condition if condition is None else condition & term_condition
        return queryset.filter(condition)

    def filter_role(self, queryset, name, value):
        return queryset.with_current(value, on=self.today) if value else queryset

    def filter_missing(self, queryset, name, value):
        return queryset.without_current(value, on=self.today) if value else queryset

    def filter_stale(self, queryset, name, value):
        return queryset.filter(confirmed_lately=False) if value else queryset


def has_county_word(county, term):
    """True when a word of the county's or its office's name starts with `term` (both already folded)."""
    return (" " + term) in search_text(county.name, county.county_governor.name, county.number)
