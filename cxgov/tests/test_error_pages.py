"""403, 404 and 500 are pages in the app's layout with a way back, and never list the app's insides."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import path

from cxgov.urls import urlpatterns as app_patterns


def _fails(request):
    raise RuntimeError("boom")


def _refuses(request):
    raise PermissionDenied("Only the CX team may do this.")


urlpatterns = [path("boom/", _fails), path("refused/", _refuses), *app_patterns]
handler404 = "cxgov.views.not_found"


@pytest.fixture
def test_urls(settings):
    settings.ROOT_URLCONF = __name__


def test_unknown_address_is_the_apps_not_found_page(org, client_for):
    response = client_for(org["leader"]).get("/no/such/page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Not found" in page and 'href="/"' in page and "navbar" in page
    assert "Log out" in page  # the layout, with the person's menu


@pytest.mark.parametrize("debug", [True, False])
def test_not_found_never_lists_the_url_patterns(org, client_for, settings, debug):
    settings.DEBUG = debug
    client = client_for(org["leader"])
    for url in ("/no/such/page/", "/functions/no-such-function/"):
        page = client.get(url).content.decode()
        assert "Not found" in page and "Back to your home page" in page
        assert "int:pk" not in page and "DEBUG = True" not in page and "URLconf" not in page


def test_unknown_api_address_answers_json(org, api_for, settings):
    settings.DEBUG = True
    response = api_for(org["leader"]).get("/api/no-such-endpoint/")
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


def test_refusal_is_the_apps_page_with_the_reason(org, client_for, test_urls):
    response = client_for(org["leader"]).get("/refused/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "Only the CX team may do this." in page and "Back to your home page" in page and "navbar" in page


def test_server_error_page_needs_no_database_and_offers_a_way_back(org, client_for, test_urls, monkeypatch):
    from django.db.backends.base.base import BaseDatabaseWrapper

    client = client_for(org["leader"])
    client.raise_request_exception = False

    def down(self, *args, **kwargs):
        raise RuntimeError("database is down")

    with monkeypatch.context() as patched:
        patched.setattr(BaseDatabaseWrapper, "cursor", down)
        response = client.get("/boom/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page and 'href="/"' in page and "navbar" in page


def test_a_form_without_its_csrf_token_is_refused_in_the_layout(db):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "This form could not be accepted" in page and "Back to your home page" in page and "navbar" in page
