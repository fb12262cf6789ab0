"""Request checks that belong in front of every view rather than in each."""

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.urls import get_resolver

NUL = "\x00"
NUL_MESSAGE = "The address contains a NUL character (%00), which no name or value in cxgov can hold."


class RejectNulBytesMiddleware:
    """A NUL in the path or a query value is a 400 before any view sees it.

    PostgreSQL cannot store or compare text containing NUL, so a slug or a filter value with one
    made the query fail with a 500 on every endpoint that looks something up. Form and JSON fields
    are checked by Django's and DRF's CharField (ProhibitNullCharactersValidator)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if NUL in request.path_info or any(NUL in key or NUL in value for key, value in _query_items(request)):
            if request.path_info.startswith("/api/"):
                return JsonResponse({"detail": NUL_MESSAGE}, status=400)
            raise BadRequest(NUL_MESSAGE)
        return self.get_response(request)


def _query_items(request):
    for key, values in request.GET.lists():
        for value in values:
            yield key, value


class AppNotFoundPageMiddleware:
    """With DEBUG on (the run command's default) Django answers a 404 with its technical page, which
    lists every URL pattern to whoever asks. Answer with the app's own 404 (handler404) instead; the
    patterns are in the code for those who need them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.DEBUG and response.status_code == 404 and _TECHNICAL_404_MARK in getattr(response, "content", b""):
            response = get_resolver().resolve_error_handler(404)(request, Http404())
        return response


_TECHNICAL_404_MARK = b"<code>DEBUG = True</code>"


PAGE_METHODS = ("GET", "HEAD", "POST", "OPTIONS")


class PageMethodsMiddleware:
    """Pages answer GET and POST (forms) only; PUT, PATCH and DELETE belong to the API.

    Without this a page view that checks ``request.method == "POST"`` answers any other method as a
    read, which hides what the page allows (the permission matrix tests every method)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from rest_framework.views import APIView

        api_view = getattr(view_func, "cls", None)
        if isinstance(api_view, type) and issubclass(api_view, APIView):
            return None
        if request.method not in PAGE_METHODS:
            return HttpResponseNotAllowed(PAGE_METHODS)
        return None
