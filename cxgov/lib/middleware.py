"""Request handling shared by every page."""

from django.http import HttpResponseNotAllowed

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
