"""The public pages of keeping the registry current: the confirmation link's page, its proposal form, and
"Report an error" for a municipality, a district or an arrangement.

None of them is shared through the page cache (none is `shareable`), and none may be cached by a browser
or proxy: they hold a CSRF token, and the link pages a personal entry.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from registry import services
from registry.addresses import client_ip
from registry.forms import ErrorReportForm, form_started
from registry.models import Arrangement, District, Municipality
from registry.upkeep import ENTRY_KINDS, LinkProblem, keepers_text, link_days, open_link
from registry.views import list_access

# Reports one address may send within REPORT_WINDOW seconds; more are refused with a message.
REPORTS_PER_ADDRESS = 5
REPORT_WINDOW = 60 * 60

PROBLEM_STATUS = {"invalid": 400, "expired": 410, "used": 410, "gone": 410}


def link_problem(request, problem):
    """The page for a link that cannot be used: what happened and what to do, changing nothing."""
    context = {"reason": problem.reason, "days": link_days()}
    return render(request, "registry/link_problem.html", context, status=PROBLEM_STATUS[problem.reason])


def public_page(entry):
    """(address, name) of the public page that shows `entry` (an appointment or a function contact): its
    arrangement's, its district's section on the municipality's page, or its municipality's."""
    if entry.arrangement_id:
        return reverse("registry:arrangement-detail", args=[entry.arrangement_id]), str(entry.arrangement)
    if entry.district_id:
        page = reverse("registry:municipality-detail", args=[entry.district.municipality.number])
        return f"{page}#bydel-{entry.district.number}", str(entry.district)
    return reverse("registry:municipality-detail", args=[entry.municipality.number]), str(entry.municipality)


def entry_context(link):
    kind = ENTRY_KINDS[link.kind]
    public_url, public_name = public_page(link.entry)
    return {
        "link": link,
        "title": kind.title(link.entry),
        "facts": kind.facts(link.entry),
        "keepers": keepers_text(link.entry),
        "public_url": public_url,
        "public_name": public_name,
    }


@never_cache
def confirm(request, token):
    """Show what the registry holds about the link's entry; a POST of "This is correct" confirms it."""
    try:
        link = open_link(token)
        if request.method == "POST":
            services.confirm_through_link(link)
            return render(request, "registry/link_done.html", {**entry_context(link), "outcome": "confirmed"})
    except services.LinkAlreadyUsed:
        return link_problem(request, LinkProblem("used"))
    except LinkProblem as problem:
        return link_problem(request, problem)
    return render(request, "registry/confirm.html", {**entry_context(link), "token": token})


@never_cache
def propose(request, token):
    """ "Something is wrong": the kind's proposal form; a valid POST files the proposal for the office."""
    try:
        link = open_link(token)
    except LinkProblem as problem:
        return link_problem(request, problem)
    kind = ENTRY_KINDS[link.kind]
    form = kind.form_class()(request.POST or None, entry=link.entry, phones=kind.phones(link.entry))
    if request.method == "POST" and form.is_valid():
        try:
            services.propose_through_link(link, changes=form.changes())
        except services.LinkAlreadyUsed:
            return link_problem(request, LinkProblem("used"))
        return render(request, "registry/link_done.html", {**entry_context(link), "outcome": "proposed"})
    status = 400 if request.method == "POST" else 200
    return render(request, kind.propose_template, {**entry_context(link), "form": form, "token": token}, status=status)


def throttled(request):
    """True when the request's address has sent REPORTS_PER_ADDRESS reports within REPORT_WINDOW (counts this one).

    Counted in the shared cache, so every app server counts the same address together. The address is
    hashed: the cache holds no visitor's address.
    """
    address = hashlib.sha256(f"{settings.SECRET_KEY}|{client_ip(request)}".encode()).hexdigest()
    key = f"registry:report-throttle:{address}"
    cache.add(key, 0, REPORT_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, REPORT_WINDOW)
        count = 1
    return count > REPORTS_PER_ADDRESS


@never_cache
@list_access
def report_error(request, number):
    """ "Report an error" for one municipality: a page of its own, so that the municipality's page stays the same
    for every visitor (and can be served whole from the page cache) while this one carries a CSRF token."""
    municipality = Municipality.objects.filter(number=number).first()
    if municipality is None:
        raise Http404
    back = reverse("registry:municipality-detail", args=[municipality.number])
    return report_page(request, municipality, back_url=back)


@never_cache
@list_access
def report_district_error(request, number):
    """ "Report an error" for one district (bydel) of a municipality."""
    district = District.objects.select_related("municipality").filter(number=number).first()
    if district is None:
        raise Http404
    back = reverse("registry:municipality-detail", args=[district.municipality.number]) + f"#bydel-{district.number}"
    return report_page(request, district, back_url=back)


@never_cache
@list_access
def report_arrangement_error(request, pk):
    """ "Report an error" for one intermunicipal arrangement."""
    arrangement = Arrangement.objects.filter(pk=pk).first()
    if arrangement is None:
        raise Http404
    return report_page(request, arrangement, back_url=reverse("registry:arrangement-detail", args=[arrangement.pk]))


def report_page(request, subject, *, back_url):
    """The report form for `subject` (a municipality, a district or an arrangement); a valid POST files it for
    the office(s) that keep it (the ownership rule, as the office's queue asks it)."""
    context = {"subject": subject, "back_url": back_url, "keepers": keepers_text(subject), "action": request.path}
    if request.method == "POST":
        if throttled(request):
            minutes = REPORT_WINDOW // 60
            return render(request, "registry/report_throttled.html", {**context, "minutes": minutes}, status=429)
        form = ErrorReportForm(request.POST)
        if form.is_valid():
            services.report_error(
                subject=subject,
                message=form.cleaned_data["message"],
                reporter_email=form.cleaned_data["reporter_email"],
            )
            return render(request, "registry/report_done.html", {**context, "form": form})
        return render(request, "registry/report_error.html", {**context, "form": form}, status=400)
    form = ErrorReportForm(initial={"started": form_started()})
    return render(request, "registry/report_error.html", {**context, "form": form})
