"""Whole pages of the national list for anonymous visitors, served from the shared cache, and what the edge may keep.

In an outbreak FHI, Helsedirektoratet and the public reload the same few pages. For a visitor who is
not logged in, a page depends only on its address, the language, the day and the registry's data,
so the first answer is kept whole in the cache (Redis when several app servers run) and later
visitors get it before sessions, authentication or any view runs: one cache read instead of the
page's queries and templates.

A page is kept only when its view opted in (`shareable`) and the visitor was anonymous, the answer
was a 200 that set no cookie, and the request carried no cookie but the CSRF and language ones, so
nothing personal is ever shared. The key holds the cache variant (registry.versioning.cache_variant:
the data state, the day, the language, the login-only setting), which each process reads from the
database at most once a second and forgets on every change it makes itself, so an edit shows at once
on the server that made it and within a second on the others. Reading it for every request cost a
third of the throughput (make bench-load: 0.29 of a static file's requests/s with the query, 0.82
without). The timeout only bounds memory.

The same middleware decides what browsers and proxies in front may keep (`edge_headers`): such shared
answers say `Cache-Control: public` with a short max-age, and are compressed, once, before they are
kept; every answer for a logged-in user, with a cookie of its own or setting one, says
`private, no-store` and is never compressed (BREACH: see the README). Addresses with query parameters
the view does not read are redirected to the address without them, and pages at an address without a
query string are kept apart from answers to searches, so that made-up query strings can neither fill
the cache with copies of a page nor push the main pages out of it.
"""

import gzip
import hashlib
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import caches
from django.http import HttpResponse, HttpResponsePermanentRedirect
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
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
KEYED_HEADERS = {"cookie", "accept-language", "accept-encoding"}
# Pages at an address without a query string: a bounded set (each view's addresses, two languages, two
# encodings), kept apart from the answers to searches, of which anyone can make up as many as they like.
PAGES_CACHE = "pages"
SEARCHES_CACHE = "searches"
# An API answer asked for with one of these Accept headers counts as the address's own page.
PLAIN_ACCEPT = {"", "*/*", "application/json"}
# HTML, JSON, CSV and text shrink to a fraction; XLSX is a zip file already.
COMPRESSIBLE_TYPES = {"text/html", "application/json", "text/csv", "text/plain"}
# Below this, the gzip header costs more than it saves.
MIN_COMPRESS_BYTES = 256
# Compressed once per data change and then served many times: the smallest output is worth the time.
COMPRESS_LEVEL = 9
# Answers that browsers and proxies may keep and share, when they are not personal.
PUBLIC_STATUSES = {200, 301, 304}


def shareable(view=None, *, parameters=()):
    """Decorate a view whose answer to an anonymous visitor may be kept and served to other anonymous visitors.

    `parameters` names the query parameters the view reads: an address with any other is redirected
    to the same address without it, before the view runs. Use as `@shareable` or
    `@shareable(parameters=...)`.
    """

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            if request.user.is_anonymous:
                response.registry_shareable = True
            return response

        # Read by the middleware before the view runs; kept by wraps() around it.
        wrapped.registry_shareable = True
        wrapped.registry_parameters = frozenset(parameters)
        return wrapped

    return decorate if view is None else decorate(view)


@dataclass(frozen=True)
class SharedView:
    """What the middleware needs to know, before it runs, of a view marked `shareable`."""

    parameters: frozenset
    # An API view set's answer depends on the Accept header (JSON, or 406), so the header is in the key.
    keyed_on_accept: bool = False


def shared_view(path):
    """The SharedView of the view at `path`, or None when it is not shareable (one URL resolution).

    An API view set marks its class `registry_shareable = "accept"` and `registry_parameters`.
    """
    try:
        match = resolve(path)
    except Resolver404:
        return None
    view_class = getattr(match.func, "cls", None)
    mark = getattr(match.func, "registry_shareable", False) or getattr(view_class, "registry_shareable", False)
    if not mark:
        return None
    parameters = getattr(match.func, "registry_parameters", None) or getattr(view_class, "registry_parameters", ())
    return SharedView(parameters=frozenset(parameters), keyed_on_accept=mark == "accept")


def canonical_address(request, view):
    """The address without the query parameters `view` does not read, or None when there are none of those."""
    unknown = [name for name in request.GET if name not in view.parameters]
    if not unknown:
        return None
    query = request.GET.copy()
    for name in unknown:
        del query[name]
    encoded = query.urlencode()
    return request.path + (f"?{encoded}" if encoded else "")


def harmless_cookies():
    """Cookies that change nothing in an anonymous visitor's page (the language is in the key)."""
    return {settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME}


def accepted_encoding(request):
    """Return "gzip" when the client accepts gzip (not refused with q=0), else "" (the bytes as they are)."""
    weights = {}
    for part in request.META.get("HTTP_ACCEPT_ENCODING", "").split(","):
        coding, *params = (item.strip() for item in part.split(";"))
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if coding:
            weights[coding.lower()] = weight
    return "gzip" if weights.get("gzip", weights.get("*", 0.0)) > 0 else ""


def page_key(request, view=None):
    """Return the cache key of the page `request` asks for, or None when it must not come from the cache."""
    if request.method != "GET" or "HTTP_AUTHORIZATION" in request.META:
        return None
    if not set(request.COOKIES) <= harmless_cookies():
        return None  # a session, messages or anything else we do not know: render it for this visitor
    view = view or shared_view(request.path_info)
    if view is None:
        return None
    request._registry_keyed_on_accept = view.keyed_on_accept
    # Read once for the request: the view renders with the same state (registry.conditional.list_state).
    request._registry_state = state = current_data_state()
    parts = [
        request.scheme,
        request.get_host(),  # refuses a host that is not allowed, as the page itself would
        request.get_full_path(),
        # Only anonymous visitors get here: no numbers for authorities only.
        cache_variant(state=state, language=translation.get_language_from_request(request), restricted=False),
        request.META.get("HTTP_ACCEPT", "") if view.keyed_on_accept else "",
        accepted_encoding(request),
    ]
    return KEY_PREFIX + hashlib.sha256("\n".join(parts).encode()).hexdigest()


def cache_for(request, view):
    """The cache for this request's page: its own for an address without a query string, else the searches'."""
    plain = not request.META.get("QUERY_STRING")
    if view.keyed_on_accept:
        plain = plain and request.META.get("HTTP_ACCEPT", "") in PLAIN_ACCEPT
    return caches[PAGES_CACHE if plain else SEARCHES_CACHE]


def worth_keeping(request, content):
    """True when `content`, the answer to `request` as it would be stored, is small enough to keep in the cache."""
    limit = MAX_BYTES_WITH_QUERY if request.META.get("QUERY_STRING") else MAX_BYTES
    return len(content) <= limit


def cache_control(response):
    return {part.strip().lower() for part in response.get("Cache-Control", "").split(",") if part.strip()}


def keep(request, response):
    """The parts of `response` to store, or None when it must not be shared."""
    if not getattr(response, "registry_shareable", False):
        return None
    if response.status_code != 200 or response.streaming or response.cookies:
        return None
    if {"private", "no-store"} & cache_control(response):
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


def is_personal(request, response):
    """True when the answer is for one visitor: logged in, with credentials or a cookie of their own, or given one."""
    if "HTTP_AUTHORIZATION" in request.META or not set(request.COOKIES) <= harmless_cookies():
        return True
    user = getattr(request, "user", None)  # absent when the answer came before authentication ran
    if user is not None and user.is_authenticated:
        return True
    return bool(response.cookies)


def compress(request, response):
    """Compress a public answer's body with gzip when the client accepts it; the answer varies on Accept-Encoding.

    Only answers that are the same for every anonymous visitor get here, so that nothing secret is ever
    compressed beside something an attacker typed (BREACH; see the README).
    """
    content_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    if response.streaming or response.has_header("Content-Encoding") or content_type not in COMPRESSIBLE_TYPES:
        return
    patch_vary_headers(response, ("Accept-Encoding",))
    if not accepted_encoding(request) or len(response.content) < MIN_COMPRESS_BYTES:
        return
    compressed = gzip.compress(response.content, compresslevel=COMPRESS_LEVEL, mtime=0)
    if len(compressed) >= len(response.content):
        return
    response.content = compressed
    response["Content-Encoding"] = "gzip"
    response["Content-Length"] = str(len(compressed))
    etag = response.get("ETag", "")
    if etag.startswith('"'):
        # Another representation of the same page: equal to the plain one only in a weak comparison.
        response["ETag"] = f"W/{etag}"


def edge_headers(request, response):
    """Say what browsers and proxies may keep of `response`, and compress it when it is public. True when public.

    Personal answers (see is_personal) get `private, no-store`, whatever the view said. Answers of
    views marked `shareable` for an anonymous visitor get `public`, the configured max-age and
    stale-while-revalidate, unless the view said private or no-store itself.
    """
    if is_personal(request, response):
        response["Cache-Control"] = "private, no-store"
        return False
    if not getattr(response, "registry_shareable", False) or response.status_code not in PUBLIC_STATUSES:
        return False
    if {"private", "no-store", "no-cache"} & cache_control(response):
        return False
    patch_cache_control(
        response,
        public=True,
        max_age=settings.REGISTRY_PUBLIC_MAX_AGE,
        stale_while_revalidate=settings.REGISTRY_STALE_WHILE_REVALIDATE,
    )
    if response.status_code == 200:
        compress(request, response)
    return True


class SharedPageCacheMiddleware:
    """Serve a kept page before sessions and authentication run; keep the pages views mark `shareable`.

    Also redirects addresses with query parameters a shareable view does not read, and sets every
    answer's Cache-Control for the edge (`edge_headers`). Sits after the security, static file and CSP
    middleware, which add their headers to every answer, kept or not, and before the session middleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = shared_view(request.path_info) if request.method in ("GET", "HEAD") else None
        if view is not None:
            address = canonical_address(request, view)
            if address is not None:
                response = HttpResponsePermanentRedirect(address)
                response.registry_shareable = True
                edge_headers(request, response)
                return response
        key = page_key(request, view) if view is not None else None
        if key is not None:
            stored = cache_for(request, view).get(key)
            if stored is not None:
                return replay(request, stored)
        response = self.get_response(request)
        public = edge_headers(request, response)
        if key is not None and public:
            kept = keep(request, response)
            if kept is not None:
                cache_for(request, view).set(key, kept, CACHE_SECONDS)
        return response
