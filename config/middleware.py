"""Request checks that apply to every view."""

from django.core.exceptions import BadRequest
from django.http import JsonResponse
from django.utils.translation import gettext as _


class RejectNullCharactersMiddleware:
    """Answers 400 to a query string containing a NUL character.

    No person types one, PostgreSQL cannot store or compare text containing one (it raises, which would
    be a 500), and views pass query parameters such as searches straight to the database. Form fields
    already refuse NUL (Django's ProhibitNullCharactersValidator).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any("\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()):
            if request.path.startswith("/api/"):
                # API clients read JSON errors, as the schema documents for every answer.
                message = _("The query string contains a NUL character. Remove it and try again.")
                return JsonResponse({"detail": message}, status=400)
            raise BadRequest("NUL character in the query string")
        return self.get_response(request)
