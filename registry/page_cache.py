"""Whole pages of the national list for anonymous visitors, served from the shared cache.

In an outbreak FHI, Helsedirektoratet and the public reload the same few pages. For a visitor who is
not logged in, a page depends only on its address, the language, the day and the registry's data,
so the first answer is kept whole in the cache (Redis when several app servers run) and later
visitors get it before sessions, authentication or any view runs: one cache read instead of the
page's queries and templates.

A page is kept only when its view opted in (`shareable`) and the visitor was anonymous, the answer
was a 200 that set no cookie, and the request carried no cookie but the CSRF and language ones, so
nothing personal is ever shared. The key holds the data state (registry.versioning), which each
process reads from the database at most once a second and forgets on every change it makes itself,
so an edit shows at once on the server that made it and within a second on the others. Reading it
for every request cost a third of the throughput (make bench-load: 0.29 of a static file's
requests/s with the query, 0.82 without). The timeout only bounds memory.
"""

import hashlib
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.cache import get_conditional_response
from django.utils.http import parse_http_date_safe

from registry.versioning import cache_variant, current_data_state

CACHE_SECONDS = 600
# A page larger than this is served but not kept: the cache is for pages, not downloads of any size.
MAX_BYTES = 2 * 1024 * 1024
# Larger answers are kept only for an address without a query string (the whole list, the full
# exports): anyone can make up query strings, and a cache filled with copies of the whole list under
# made-up ones would hold hundreds of megabytes.
MAX_BYTES_WITH_QUERY = 256 * 1024
KEY_PREFIX = "registry:page:"
# Request headers the key holds (the cookie only as "none but CSRF and language"); an answer that
# varies on any other is not kept.
KEYED_HEADERS = {"cookie", "accept-language"}


def shareable(view):
    """Decorate a view whose answer to an anonymous visitor may be kept and served to other anonymous visitors."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if request.user.is_anonymous:
            response.registry_shareable = True
        return response

    wrapped.registry_shareable = True  # read by page_key before the view runs; kept by wraps() around it
    return wrapped


def shareable_mark(path):
    """How the view at `path` may be shared: False, True, or "accept" (one URL resolution, no query).

    An API view set marks its class `registry_shareable = "accept"`: its answer depends on the Accept
    header (JSON, or 406), so the header is part of the key.
    """
    try:
        match = resolve(path)
    except Resolver404:
        return False
    view_class = getattr(match.func, "cls", None)
    return getattr(match.func, "registry_shareable", False) or getattr(view_class, "registry_shareable", False)


def harmless_cookies():
    """Cookies that change nothing in an anonymous visitor's page (the language is in the key)."""
    return {settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME}


def page_key(request):
    """Return the cache key of the page `request` asks for, or None when it must not come from the cache."""
    if request.method != "GET" or "HTTP_AUTHORIZATION" in request.META:
        return None
    if not set(request.COOKIES) <= harmless_cookies():
        return None  # a session, messages or anything else we do not know: render it for this visitor
    mark = shareable_mark(request.path_info)
    if not mark:
        return None
    request._registry_keyed_on_accept = mark == "accept"
    # Read once for the request: the view renders with the same state (registry.conditional.list_state).
    request._registry_state = state = current_data_state()
    parts = [
        request.scheme,
        request.get_host(),  # refuses a host that is not allowed, as the page itself would
        request.get_full_path(),
        # Only anonymous visitors get here: no numbers for authorities only.
        cache_variant(state=state, language=translation.get_language_from_request(request), restricted=False),
        request.META.get("HTTP_ACCEPT", "") if mark == "accept" else "",
    ]
    return KEY_PREFIX + hashlib.sha256("\n".join(parts).encode()).hexdigest()


def worth_keeping(request, content):
    """True when `content`, the answer to `request`, is small enough to keep in the cache."""
    limit = MAX_BYTES_WITH_QUERY if request.META.get("QUERY_STRING") else MAX_BYTES
    return len(content) <= limit


def keep(request, response):
    """The parts of `response` to store, or None when it must not be shared."""
    if not getattr(response, "registry_shareable", False):
        return None
    if response.status_code != 200 or response.streaming or response.cookies:
        return None
    if {"private", "no-store"} & set(cc.strip().lower() for cc in response.get("Cache-Control", "").split(",")):
        return None
    varies = {header.strip().lower() for header in response.get("Vary", "").split(",") if header.strip()}
    keyed = KEYED_HEADERS | ({"accept"} if getattr(request, "_registry_keyed_on_accept", False) else set())
    if not varies <= keyed:
        return None  # the answer depends on a header the key does not hold
    if not worth_keeping(request, response.content):
        return None
    return {"content": response.content, "headers": dict(response.headers)}


def replay(request, stored):
    response = HttpResponse(stored["content"])
    for header, value in stored["headers"].items():
        response[header] = value
    return get_conditional_response(
        request,
        etag=response.get("ETag"),
        last_modified=parse_http_date_safe(response.get("Last-Modified", "")),
        response=response,
    )


class SharedPageCacheMiddleware:
    """Serve a kept page before sessions and authentication run; keep the pages views mark `shareable`.

    Sits after the security, static file and CSP middleware, which add their headers to every answer,
    kept or not, and before the session middleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = page_key(request)
        if key is not None:
            stored = cache.get(key)
            if stored is not None:
                return replay(request, stored)
        response = self.get_response(request)
        if key is not None:
            kept = keep(request, response)
            if kept is not None:
                cache.set(key, kept, CACHE_SECONDS)
        return response
