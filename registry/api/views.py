"""The read-only JSON API: the same search, filters and visibility rules as the national list."""

import json

from django.db.models import prefetch_related_objects
from django.http import HttpResponsePermanentRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, viewsets
from rest_framework.decorators import api_view, permission_classes, renderer_classes
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings

from registry import feed
from registry.access import sees_restricted_numbers
from registry.api.permissions import ListAccess
from registry.api.serializers import MunicipalitySerializer
from registry.conditional import conditional_list
from registry.directory import build_entries
from registry.filters import MunicipalityFilter, day_asked
from registry.models import Municipality
from registry.numbers import current_number
from registry.page_cache import shareable


class MunicipalityPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    # The whole country fits in one page when asked for.
    max_page_size = 400


# The reforms each entry names: those it succeeded, those that succeeded it, and its former numbers.
REFORMS = ("predecessors", "successors", "former_numbers")


def api_entries(request, municipalities, day=None):
    """The directory entries the API shows `request`'s reader of `municipalities` (from for_directory) on `day`,
    with their reforms (three queries more): the list, one municipality, the change feed and the dump."""
    municipalities = list(municipalities)
    prefetch_related_objects(municipalities, *REFORMS)
    return build_entries(municipalities, include_restricted=sees_restricted_numbers(request.user), today=day)


# Every answer a client can get is documented, errors included (checked by schemathesis in the tests).
ERROR = inline_serializer("Error", fields={"detail": serializers.CharField()})
CANONICAL = OpenApiResponse(
    description="Moved permanently: the same address without the query parameters the API does not read "
    "(registry.page_cache.canonical_address)."
)


@extend_schema_view(
    list=extend_schema(
        summary="Search the national list",
        description="Active municipalities, by number.",
        responses={
            200: MunicipalitySerializer(many=True),
            301: CANONICAL,
            304: None,
            400: OpenApiTypes.OBJECT,
            403: ERROR,
            404: ERROR,
        },
    ),
    retrieve=extend_schema(
        summary="One municipality, also a ceased one (then without contacts)",
        description=(
            "A number a municipality had before it was renumbered (3005 Drammen until 2023) answers 301 with the "
            "address of its current number (3301)."
        ),
        responses={200: MunicipalitySerializer, 301: CANONICAL, 304: None, 403: ERROR, 404: ERROR},
    ),
)
class MunicipalityViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = MunicipalitySerializer
    permission_classes = [ListAccess]
    pagination_class = MunicipalityPagination
    # Declared so the schema documents the filters; list() applies them with the page's own search.
    filter_backends = [DjangoFilterBackend]
    filterset_class = MunicipalityFilter
    lookup_field = "number"
    # Anything up to the next slash reaches retrieve(), so a malformed number gets the API's JSON 404.
    lookup_value_regex = "[^/]+"
    # Anonymous answers are served from the shared page cache, keyed with the Accept header too.
    registry_shareable = "accept"
    # The query parameters it reads (the filters, paging, DRF's format); any other is redirected away.
    registry_parameters = frozenset(MunicipalityFilter.base_filters) | {
        MunicipalityPagination.page_query_param,
        MunicipalityPagination.page_size_query_param,
        api_settings.URL_FORMAT_OVERRIDE,
    }

    def renumbered(self, request, number):
        """301 to the current number of a renumbered municipality; else the API's JSON 404."""
        current = current_number(number)
        if current is None:
            raise NotFound
        location = reverse("registry:api:municipality-detail", args=[current])
        query = request.META.get("QUERY_STRING")
        return HttpResponsePermanentRedirect(f"{location}?{query}" if query else location)

    def get_queryset(self):
        return Municipality.objects.active().for_directory()

    def entries(self, municipalities, day=None):
        return api_entries(self.request, municipalities, day)

    @method_decorator(shareable)
    @method_decorator(conditional_list)
    def list(self, request, *args, **kwargs):
        filterset = MunicipalityFilter(request.query_params, request=request)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        page = self.paginate_queryset(filterset.results())
        serializer = self.get_serializer(self.entries(page, filterset.today), many=True)
        return self.get_paginated_response(serializer.data)

    @method_decorator(shareable)
    @method_decorator(conditional_list)
    def retrieve(self, request, number=None, *args, **kwargs):
        day = day_asked(request.query_params)
        if request.query_params.get("on") and day is None:
            raise ValidationError({"on": ["Enter a valid date, YYYY-MM-DD."]})
        municipality = Municipality.objects.for_directory(on=day).filter(number=number).first()
        if municipality is None:
            return self.renumbered(request, number)
        (entry,) = self.entries([municipality], day)
        return Response(self.get_serializer(entry).data)


# The change feed and the dump (registry.feed): for systems that keep a copy.

FEED_MAX_LIMIT = 500

FEED_CHANGE_FIELDS = {
    "sequence": serializers.IntegerField(help_text="When the change committed: sequences only grow."),
    "number": serializers.CharField(help_text="The municipality number: the key of the entry in a copy."),
    "removed": serializers.BooleanField(
        help_text="True: no active municipality has this number any more (ceased in a reform, renumbered or "
        "deleted); remove it from the copy. False: replace the copy's entry by `entry`."
    ),
    "entry": MunicipalitySerializer(allow_null=True, help_text="The entry as it is now; null when removed."),
    "successors": serializers.ListField(
        child=serializers.CharField(), help_text="For a removed number: the municipalities that took over."
    ),
}
FEED_PAGE = inline_serializer(
    "ChangePage",
    fields={
        "changes": inline_serializer("Change", fields=FEED_CHANGE_FIELDS, many=True),
        "cursor": serializers.CharField(help_text="Where the next page starts: pass it as `since`."),
        "next": serializers.URLField(help_text="The address of the next page (also when there is nothing new yet)."),
        "more": serializers.BooleanField(help_text="True: more changes are waiting; read `next` at once."),
    },
)


def feed_items(request, page):
    """The page's changes as the API shows them to this reader: entries now, or tombstones. A fixed number of
    queries: the municipalities, their reforms, and build_entries' own."""
    ids = {pk for _number, pk, _sequence in page.numbers if pk is not None}
    today = timezone.localdate()
    municipalities = {
        m.pk: m for m in Municipality.objects.for_directory(on=today).filter(pk__in=ids).prefetch_related(*REFORMS)
    }
    active = [m for m in municipalities.values() if m.is_active(on=today)]
    entries = api_entries(request, sorted(active, key=lambda m: m.number), today)
    data = {
        entry.municipality.pk: MunicipalitySerializer(entry, context={"request": request}).data for entry in entries
    }
    gone = {}  # number → successors: numbers that no longer name an active municipality
    current = {}  # number → (sequence, entry data)
    for number, pk, sequence in page.numbers:
        municipality = municipalities.get(pk)
        if municipality is None:
            gone[number] = (sequence, [])
            continue
        if pk in data:
            current[municipality.number] = (sequence, data[pk])
            later = [municipality.number]
        else:
            later = sorted(s.number for s in municipality.successors.all())
            gone[municipality.number] = (sequence, later)
        if number != municipality.number:  # renumbered since this change: the old number is gone
            gone[number] = (sequence, later)
    # A number given up by one municipality may name another today: that one is not removed.
    taken = set(Municipality.objects.active(on=today).filter(number__in=gone).values_list("number", flat=True))
    items = [
        {"sequence": sequence, "number": number, "removed": False, "entry": entry, "successors": []}
        for number, (sequence, entry) in current.items()
    ]
    items += [
        {"sequence": sequence, "number": number, "removed": True, "entry": None, "successors": successors}
        for number, (sequence, successors) in gone.items()
        if number not in taken and number not in current
    ]
    return sorted(items, key=lambda item: (item["sequence"], item["number"]))


@extend_schema(
    summary="Changes since a cursor, in commit order",
    description=(
        "Every change to what the API publishes, in the order the changes committed: each changed municipality "
        "with its entry as it is now, or a tombstone when its number no longer names an active municipality. "
        "Without `since` the feed starts from the beginning. Take `/api/municipalities.ndjson` once (its "
        "`Registry-Cursor` header says where it is current to), then follow `next`. A cursor never skips a "
        "change that commits late. Numbers for authorities only appear only for readers who may see them."
    ),
    parameters=[
        OpenApiParameter("since", str, description="A cursor from `cursor`/`next` of an earlier page or the dump."),
        OpenApiParameter("limit", int, description=f"Changes per page, 1–{FEED_MAX_LIMIT} (default {feed.PAGE_SIZE})."),
    ],
    responses={200: FEED_PAGE, 301: CANONICAL, 304: None, 400: ERROR, 403: ERROR},
)
@api_view(["GET"])
@permission_classes([ListAccess])
def changes(request):
    try:
        since = feed.Cursor.parse(request.query_params.get("since"))
    except feed.CursorError as error:
        raise ValidationError({"detail": str(error)}) from None
    limit = request.query_params.get("limit") or str(feed.PAGE_SIZE)
    if not limit.isdigit() or not 1 <= int(limit) <= FEED_MAX_LIMIT:
        raise ValidationError(
            {"detail": _("limit must be a whole number from 1 to %(max)s.") % {"max": FEED_MAX_LIMIT}}
        )
    page = feed.read(since, limit=int(limit))
    if not page.numbers and since is not None and since.sequence > feed.latest_cursor().sequence:
        raise ValidationError(
            {
                "detail": _(
                    "This cursor is past the end of the feed. Take the dump again and follow the feed from its cursor."
                )
            }
        )
    address = request.build_absolute_uri(reverse("registry:api:changes")) + f"?since={page.cursor}"
    return Response(
        {"changes": feed_items(request, page), "cursor": str(page.cursor), "next": address, "more": page.more}
    )


class NDJSONRenderer(BaseRenderer):
    media_type = "application/x-ndjson"
    format = "ndjson"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, list):
            return b"".join(json.dumps(item, ensure_ascii=False).encode() + b"\n" for item in data)
        return json.dumps(data, ensure_ascii=False).encode() + b"\n"  # an error: one line


@extend_schema(
    summary="The whole registry, one entry per line",
    description=(
        "Every active municipality's entry as `/api/municipalities/` gives it, one JSON object per line "
        "(newline-delimited JSON). The `Registry-Cursor` header is where the change feed continues: "
        "`/api/changes/?since=<cursor>`."
    ),
    responses={
        (200, "application/x-ndjson"): MunicipalitySerializer,
        301: CANONICAL,
        304: None,
        (403, "application/x-ndjson"): ERROR,
    },
)
@api_view(["GET"])
@renderer_classes([NDJSONRenderer])
@permission_classes([ListAccess])
def dump(request):
    # The cursor first: a change that commits while the dump is read is in the dump, the feed, or both.
    cursor = feed.latest_cursor()
    today = timezone.localdate()
    municipalities = Municipality.objects.active(on=today).for_directory(on=today).order_by("number")
    entries = api_entries(request, municipalities, today)
    response = Response([MunicipalitySerializer(entry, context={"request": request}).data for entry in entries])
    response["Registry-Cursor"] = str(cursor)
    response["Link"] = f'<{reverse("registry:api:changes")}?since={cursor}>; rel="next"'
    return response


def _shared(view, parameters):
    """Mark a function view's anonymous answers as shareable (registry.page_cache), keyed on Accept like the
    view set's: its answer changes only with the data, which the cache key follows."""
    wrapped = shareable(parameters=parameters)(view)
    wrapped.registry_shareable = "accept"
    return wrapped


changes = _shared(changes, {"since", "limit", api_settings.URL_FORMAT_OVERRIDE})
dump = _shared(dump, {api_settings.URL_FORMAT_OVERRIDE})
