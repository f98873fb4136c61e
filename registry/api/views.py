"""The read-only JSON API: the same search, filters and visibility rules as the national list."""

from django.db.models import prefetch_related_objects
from django.http import HttpResponsePermanentRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings

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
        """The directory entries of `municipalities` on `day`, with their reforms (three queries more)."""
        prefetch_related_objects(municipalities, *REFORMS)
        return build_entries(municipalities, include_restricted=sees_restricted_numbers(self.request.user), today=day)

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
