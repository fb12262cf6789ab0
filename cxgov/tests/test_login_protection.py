"""Guessing passwords and flooding the API are stopped: django-axes lockout and DRF throttles."""

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from rest_framework.throttling import SimpleRateThrottle

from conftest import PASSWORD


def _log_in(client, username, password, address="10.0.0.1"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_wrong_passwords_lock_out_the_name_from_that_address_with_a_clear_message(org, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _log_in(client, "leader", "wrong").status_code == 200  # the form again, with its error
    assert _log_in(client, "leader", "wrong").status_code == 429
    response = _log_in(client, "leader", PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed log-ins" in page and "administrator" in page
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_name_and_address(org, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _log_in(client, "leader", "wrong", address="10.0.0.1")
    assert _log_in(client, "leader", PASSWORD, address="10.0.0.2").status_code == 302  # same person elsewhere
    client.logout()
    assert _log_in(client, "cx", PASSWORD, address="10.0.0.1").status_code == 302  # someone else, same address


def test_an_administrator_unlocks_a_locked_out_person(org, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _log_in(client, "leader", "wrong")
    assert _log_in(client, "leader", PASSWORD).status_code == 429
    call_command("axes_reset_username", "leader")
    assert _log_in(client, "leader", PASSWORD).status_code == 302


def test_administrators_see_and_clear_lockouts_in_the_admin(org, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _log_in(client, "leader", "wrong")
    attempt = AccessAttempt.objects.get(username="leader")
    admin = org["admin"]
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    assert client.get("/admin/axes/accessattempt/").status_code == 200
    response = client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not AccessAttempt.objects.exists()


@pytest.fixture
def tight_rates(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/minute", "user": "3/minute", "ingest": "1/minute"}
    )


def test_the_api_throttles_each_person(org, api_for, tight_rates):
    api = api_for(org["leader"])
    assert [api.get("/api/functions/").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert api_for(org["cx"]).get("/api/functions/").status_code == 200  # counted per person


def test_ingestion_has_its_own_tighter_rate(org, api_for, tight_rates):
    api = api_for(org["cx"])
    assert api.post("/api/ingest/responses/", [], format="json").status_code == 400
    response = api.post("/api/ingest/responses/", [], format="json")
    assert response.status_code == 429 and "throttled" in response.json()["detail"]
    assert api.get("/api/functions/").status_code == 200  # other endpoints keep the person's rate
