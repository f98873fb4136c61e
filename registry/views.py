"""The national list, a page per municipality, the exports and the coverage overview."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.access import may_view_list, sees_restricted_numbers
from registry import exports
from registry.conditional import conditional_list
from registry.coverage import coverage_by_office
from registry.directory import build_entries
from registry.filters import MunicipalityFilter
from registry.models import Municipality


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
    return filterset, build_entries(municipalities, include_restricted=sees_restricted_numbers(request.user))


def list_context(request):
    filterset, entries = search(request)
    query = request.GET.copy()
    return {
        "filterset": filterset,
        "form": filterset.form,
        "entries": entries,
        "query_string": query.urlencode(),
        "vacancies": sum(1 for entry in entries if not entry.has_chief_physician),
    }


def status_of(context):
    # A filter value that does not exist (an office code mistyped in a shared link) is the caller's error.
    return 400 if context["form"].errors else 200


@list_access
@conditional_list
def national_list(request):
    context = list_context(request)
    return render(request, "registry/national_list.html", context, status=status_of(context))


@list_access
@conditional_list
def results(request):
    """Only the results of a search: what the page fetches as the user types."""
    context = list_context(request)
    return render(request, "includes/_results.html", context, status=status_of(context))


@list_access
@conditional_list
def municipality_detail(request, number):
    if len(number) < 4:
        # Numbers lose their leading zero in spreadsheets: /kommune/301/ is Oslo, 0301.
        return redirect("registry:municipality-detail", number=number.zfill(4), permanent=True)
    municipality = get_object_or_404(Municipality.objects.with_office(), number=number)
    (entry,) = build_entries([municipality], include_restricted=sees_restricted_numbers(request.user))
    context = {
        "entry": entry,
        "municipality": municipality,
        "is_active": municipality.is_active(),
        "successors": list(municipality.successors.order_by("number")),
    }
    return render(request, "registry/municipality_detail.html", context)


def export(build_response):
    @list_access
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
@conditional_list
def coverage(request):
    offices, national = coverage_by_office()
    return render(request, "registry/coverage.html", {"offices": offices, "national": national})


@list_access
def api_docs(request):
    return render(request, "registry/api_docs.html")
