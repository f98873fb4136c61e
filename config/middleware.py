"""Request checks that apply to every view."""

from django.core.exceptions import BadRequest
from django.http import JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _


class RejectNullCharactersMiddleware:
    """Answers 400 to an address whose path or query string contains a NUL character.

    No person types one, PostgreSQL cannot store or compare text containing one (it raises, which would
    be a 500), and views pass path values (a municipality number, an id) and query parameters such as
    searches straight to the database. Form fields already refuse NUL (Django's
    ProhibitNullCharactersValidator).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info:
            return self._refuse(request, _("The address contains a NUL character. Remove it and try again."))
        if any("\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()):
            return self._refuse(request, _("The query string contains a NUL character. Remove it and try again."))
        return self.get_response(request)

    @staticmethod
    def _refuse(request, message):
        # This runs before LocaleMiddleware: answer in the language the browser asks for, as every page does.
        translation.activate(translation.get_language_from_request(request))
        if request.path.startswith("/api/"):
            # API clients read JSON errors, as the schema documents for every answer.
            return JsonResponse({"detail": message}, status=400)
        raise BadRequest("NUL character in the address")


class RejectRegexLookupsMiddleware:
    """Answers 400 to an admin address whose query string asks for a regular-expression lookup.

    The admin accepts a lookup on any field of the list from the query string (`?number__regex=…`);
    no page of ours makes such a link, and a regular expression from the address runs in the
    database: PostgreSQL refuses an invalid one (a 500) and a pathological one costs its CPU.
    """

    LOOKUPS = ("__regex", "__iregex")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith("/admin/") and any(key.endswith(self.LOOKUPS) for key in request.GET):
            # This runs before LocaleMiddleware: answer in the language the browser asks for.
            translation.activate(translation.get_language_from_request(request))
            raise BadRequest("Regular-expression lookup in an admin address")
        return self.get_response(request)
