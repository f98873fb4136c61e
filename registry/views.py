"""The national list, a page per municipality, the exports and the coverage overview."""

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.cache import caches
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import get_template, render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from registry import exports
from registry.access import may_view_list, sees_restricted_numbers
from registry.conditional import conditional_list, list_variant
from registry.coverage import coverage_by_office, districts_without_chief_physician
from registry.directory import build_arrangement_entry, build_district_entries, build_entries
from registry.filters import MunicipalityFilter, day_asked
from registry.models import Arrangement, Municipality, Role
from registry.numbers import current_number
from registry.page_cache import shareable

# The query parameters of the list, its results and its exports; any other is redirected away.
LIST_PARAMETERS = frozenset(MunicipalityFilter.base_filters)


def list_access(view):
    """Send a visitor to the login page when the deployment makes the list login-only."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not may_view_list(request.user):
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapped


def search(request):
    """Return (filterset, entries) for the search and filters in the query string; no entries if they are invalid."""
    filterset = MunicipalityFilter(request.GET, request=request)
    municipalities = filterset.results() if filterset.is_valid() else []
    entries = build_entries(
        municipalities, include_restricted=sees_restricted_numbers(request.user), today=filterset.today
    )
    return filterset, entries


def list_context(request, filterset):
    municipalities = filterset.results() if filterset.is_valid() else []
    rows = rendered_rows(request, municipalities, day=filterset.today)
    return {
        "filterset": filterset,
        "form": filterset.form,
        "rows": [html for html, has_chief_physician in rows],
        "query_string": request.GET.urlencode(),
        "vacancies": sum(1 for html, has_chief_physician in rows if not has_chief_physician),
        "districts": filterset.matched_districts(),
        "on_day": filterset.today if request.GET.get("on") and filterset.is_valid() else None,
    }


# Rendered rows stay valid until the data, the day, the language or the reader's access changes, all
# of which are in the key; the timeout only bounds memory.
ROWS_CACHE_SECONDS = 600


def row_key_prefix(request, day=None):
    """The start of the keys of the list's cached rows: each row's key adds its municipality. A row for
    another day than today (`?on=`) is another row."""
    return "registry:row:" + list_variant(request) + ":" + (day.isoformat() if day else "") + ":"


def rendered_rows(request, municipalities, day=None):
    """Return (row HTML, has a chief physician) for each municipality, rendering only the rows not in the cache.

    Building and rendering a row (its contacts, numbers, shared arrangements) is most of a search's
    cost, and the same rows come back search after search: the landing page alone renders all 357.
    So each row is rendered once per data change, day, language and access, and kept in the shared
    cache; a search then costs its own queries and one cache read (make bench-search).
    """
    prefix = row_key_prefix(request, day)
    keys = {municipality.pk: f"{prefix}{municipality.pk}" for municipality in municipalities}
    rows_cache = caches["rows"]
    found = rows_cache.get_many(list(keys.values())) if keys else {}
    missing = [municipality for municipality in municipalities if keys[municipality.pk] not in found]
    if missing:
        template = get_template("includes/_result_row.html")
        rendered = {
            keys[entry.municipality.pk]: (template.render({"entry": entry}), entry.has_chief_physician)
            for entry in build_entries(missing, include_restricted=sees_restricted_numbers(request.user), today=day)
        }
        rows_cache.set_many(rendered, ROWS_CACHE_SECONDS)
        found.update(rendered)
    return [(mark_safe(found[keys[m.pk]][0]), found[keys[m.pk]][1]) for m in municipalities]  # noqa: S308


def rendered_results(request):
    """Return (form, status, results HTML) for the query string: the search's own queries, then cached rows.

    Whole answers are not kept here: an anonymous visitor's come whole from the page cache
    (registry.page_cache), and a logged-in reader's are put together from the row cache, which costs
    the search's queries and one cache read (make bench-search).
    """
    filterset = MunicipalityFilter(request.GET, request=request)
    status = 200 if filterset.is_valid() else 400
    html = render_to_string("includes/_results.html", list_context(request, filterset), request=request)
    return filterset.form, status, mark_safe(html)  # noqa: S308 -- rendered by our own escaping template


@list_access
@shareable(parameters=LIST_PARAMETERS)
@conditional_list
def national_list(request):
    form, status, results_html = rendered_results(request)
    context = {"form": form, "results_html": results_html}
    return render(request, "registry/national_list.html", context, status=status)


@list_access
@shareable(parameters=LIST_PARAMETERS)
@conditional_list
def results(request):
    """Only the results of a search: what the page fetches as the user types."""
    form, status, results_html = rendered_results(request)
    return HttpResponse(results_html, status=status)


@list_access
@shareable(parameters={"on"})
@conditional_list
def municipality_detail(request, number):
    if len(number) < 4:
        # Numbers lose their leading zero in spreadsheets: /kommune/301/ is Oslo, 0301.
        return redirect("registry:municipality-detail", number=number.zfill(4), permanent=True)
    asked = day_asked(request.GET)
    if request.GET.get("on") and asked is None:
        raise SuspiciousOperation("bad date")  # a 400 page: the only parameter is a date
    day = asked or timezone.localdate()
    municipality = Municipality.objects.for_directory(on=day).filter(number=number).first()
    if municipality is None:
        current = current_number(number)
        if current is None:
            raise Http404
        return redirect("registry:municipality-detail", number=current, permanent=True)
    restricted = sees_restricted_numbers(request.user)
    (entry,) = build_entries([municipality], include_restricted=restricted, today=day)
    districts = municipality.districts.with_health_services().order_by("number")
    context = {
        "entry": entry,
        "municipality": municipality,
        "is_active": municipality.is_active(on=day),
        "successors": list(municipality.successors.order_by("number")),
        "districts": build_district_entries(districts, include_restricted=restricted, today=day),
        "on_day": asked,
    }
    return render(request, "registry/municipality_detail.html", context)


@list_access
@shareable
@conditional_list
def arrangement_detail(request, pk):
    """An intermunicipal arrangement: its kind, its members with their dates, and who holds each role."""
    arrangement = get_object_or_404(Arrangement, pk=pk)
    entry = build_arrangement_entry(arrangement, include_restricted=sees_restricted_numbers(request.user))
    context = {
        "arrangement": arrangement,
        "role_labels": [Role(role).label for role in arrangement.role_list],
        "memberships": entry.memberships,
        "contacts": entry.contacts,
        "function_contacts": entry.function_contacts,
    }
    return render(request, "registry/arrangement_detail.html", context)


def export(build_response):
    @list_access
    @shareable(parameters=LIST_PARAMETERS)
    @conditional_list
    def view(request):
        filterset, entries = search(request)
        if filterset.errors:
            message = _("The export was not made: %(errors)s Correct the filters and try again.") % {
                "errors": " ".join(str(error) for errors in filterset.errors.values() for error in errors)
            }
            return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
        return build_response(entries)

    return view


export_csv = export(exports.csv_response)
export_xlsx = export(exports.xlsx_response)


@list_access
@shareable
@conditional_list
def coverage(request):
    offices, national = coverage_by_office()
    context = {
        "offices": offices,
        "national": national,
        "stale_days": settings.REGISTRY_STALE_AFTER_DAYS,
        "districts": districts_without_chief_physician(),
    }
    return render(request, "registry/coverage.html", context)


@list_access
@shareable
def api_docs(request):
    return render(request, "registry/api_docs.html")
