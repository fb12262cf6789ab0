"""The health page reports database, broker, worker and beat."""

from datetime import timedelta

from django.db import OperationalError
from django.utils import timezone

from cxgov.models import Heartbeat
from cxgov.services import heartbeat_record


def test_health_is_ok_when_worker_and_beat_checked_in(db, client):
    heartbeat_record(name="worker")
    heartbeat_record(name="beat")
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert set(body["checks"]) == {
        "database",
        "broker",
        "worker",
        "beat",
        "dispatch",
        "metrics",
        "imports",
        "alerts",
        "digests",
        "outbox",
    }
    assert all(check["ok"] for check in body["checks"].values())


def test_health_fails_loudly_when_nothing_checked_in(db, client):
    response = client.get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] and checks["broker"]["ok"]
    assert checks["worker"] == {"ok": False, "error": "no worker has checked in yet", "last_seen": None}


def test_stale_beat_is_reported(db, client, settings):
    heartbeat_record(name="worker")
    Heartbeat.objects.create(
        name="beat", seen_at=timezone.now() - timedelta(seconds=settings.HEALTH_HEARTBEAT_MAX_AGE + 5)
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    beat = response.json()["checks"]["beat"]
    assert beat["ok"] is False and "last check-in" in beat["error"]


def test_unreachable_broker_is_reported(db, client, monkeypatch):
    from cxgov.celery import app

    heartbeat_record(name="worker")
    heartbeat_record(name="beat")
    connect = app.connection_for_write
    monkeypatch.setattr(app, "connection_for_write", lambda: connect(url="redis://127.0.0.1:1/0"))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False


def test_heartbeat_is_an_upsert(db):
    heartbeat_record(name="worker")
    heartbeat_record(name="worker")
    assert Heartbeat.objects.filter(name="worker").count() == 1


def test_database_down_is_a_json_503_naming_the_database(db, client, monkeypatch):
    from django.db.backends.base.base import BaseDatabaseWrapper

    def down(self, *args, **kwargs):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')

    client.raise_request_exception = False
    with monkeypatch.context() as patched:
        patched.setattr(BaseDatabaseWrapper, "cursor", down)
        response = client.get("/healthz")
    assert response.status_code == 503 and response["Content-Type"] == "application/json"
    body = response.json()
    assert body["ok"] is False and body["failing"][0] == "database"
    assert "Connection refused" in body["checks"]["database"]["error"]
    assert body["checks"]["metrics"] == {"ok": False, "error": "not checked: the database is unavailable"}
    assert body["checks"]["broker"]["ok"] is True  # parts that need no database are still checked


def test_a_part_whose_check_breaks_is_named_not_a_500(db, client, monkeypatch):
    from django.apps import apps

    def broken():
        raise RuntimeError("the checker itself is broken")

    monkeypatch.setattr(type(apps.get_app_config("metrics")), "health_checks", {"metrics": broken})
    client.raise_request_exception = False
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert "metrics" in body["failing"]
    assert body["checks"]["metrics"] == {"ok": False, "error": "the check failed: the checker itself is broken"}


def test_the_state_parts_are_read_at_most_every_few_seconds_the_database_and_broker_every_time(
    db, client, settings, monkeypatch, django_assert_num_queries
):
    from cxgov import selectors
    from cxgov.celery import app

    settings.HEALTH_STATE_SECONDS = 60
    monkeypatch.setattr(selectors, "_state", None)
    heartbeat_record(name="worker")
    heartbeat_record(name="beat")
    assert client.get("/healthz").status_code == 200
    Heartbeat.objects.filter(name="beat").delete()  # beat gone: seen at the next read of the state
    with django_assert_num_queries(1):  # SELECT 1: the rest is this process's copy, under a minute old
        body = client.get("/healthz").json()
    assert body["ok"] is True and 0 <= body["state_age_seconds"] < 60
    connect = app.connection_for_write
    monkeypatch.setattr(app, "connection_for_write", lambda: connect(url="redis://127.0.0.1:1/0"))
    answer = client.get("/healthz")  # the broker is asked every time
    assert answer.status_code == 503 and answer.json()["failing"] == ["broker"]
    monkeypatch.setattr(app, "connection_for_write", connect)
    settings.HEALTH_STATE_SECONDS = 0  # older than allowed: read again
    answer = client.get("/healthz")
    assert answer.status_code == 503 and answer.json()["failing"] == ["beat"]
    assert answer.json()["state_age_seconds"] == 0


def test_favicon_ico_leads_to_the_sites_icon_for_anyone(client):
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301 and answer["Location"].endswith("cxgov/favicon.svg")
