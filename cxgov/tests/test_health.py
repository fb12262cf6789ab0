"""The health page reports database, broker, worker and beat."""

from datetime import timedelta

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
