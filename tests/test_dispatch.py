"""Task intents survive a broker outage: the change answers success, its background work is stored
with it and sent when the broker answers again (cxgov/lib/dispatch.py)."""

from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from kombu.exceptions import OperationalError

from cxgov.celery import app
from cxgov.lib import dispatch
from cxgov.models import PendingTask
from cxgov.services import heartbeat_record
from metrics import tasks as metrics_tasks
from metrics.models import ImportJob, Metric, MetricValue

pytestmark = pytest.mark.django_db

REFUSED = "Error 111 connecting to 127.0.0.1:6379. Connection refused."


@contextmanager
def broker_down():
    """Every send to the broker fails as it does while Redis is stopped (``delay`` and
    ``apply_async`` end in ``app.send_task`` too)."""
    with mock.patch.object(app, "send_task", side_effect=OperationalError(REFUSED)) as send:
        yield send


@contextmanager
def broker_up():
    with mock.patch.object(app, "send_task") as send:
        yield send


def _sent(send) -> list[tuple[str, dict]]:
    return [(c.args[0], c.kwargs["kwargs"]) for c in send.call_args_list]


ROWS = [
    {
        "source": "pulse",
        "external_id": str(i),
        "responded_at": f"2026-10-{i + 1:02d}T09:00:00Z",
        "score": s,
        "scale": "csat",
    }
    for i, s in enumerate([5, 2, 4])
]


def test_ingest_during_a_broker_outage_answers_success_and_its_recalculation_is_sent_when_the_broker_returns(
    org, api_for, django_capture_on_commit_callbacks
):
    metric = Metric.objects.create(name="CSAT", slug="csat", calculator="csat", kind="outcome", source="pulse")
    with broker_down(), django_capture_on_commit_callbacks(execute=True):
        answer = api_for(org["cx"]).post("/api/ingest/responses/", ROWS, format="json")
    assert answer.status_code == 200 and answer.json() == {"written": 3}
    stored = {p.task: p for p in PendingTask.objects.all()}
    assert stored["metrics.recalculate"].kwargs == {
        "metric_id": metric.pk,
        "period_from": "2026-10-01",
        "period_to": "2026-10-03",
    }
    assert "rootcause.tag_comments" in stored
    assert "outcomes.refresh_business_cases" in stored  # new responses: the issues' business cases
    assert all(REFUSED in p.last_error and p.next_attempt_at <= timezone.now() for p in stored.values())

    with broker_down():  # still down: the sweep stops at the first refusal and keeps everything
        assert dispatch.sweep() == (0, f"OperationalError: {REFUSED}")
    assert PendingTask.objects.count() == len(stored) == 3

    with broker_up() as send:
        assert dispatch.sweep() == (3, "")
    assert ("metrics.recalculate", stored["metrics.recalculate"].kwargs) in _sent(send)
    assert not PendingTask.objects.exists()
    metrics_tasks.recalculate.apply(kwargs=stored["metrics.recalculate"].kwargs)
    assert MetricValue.objects.get(metric=metric).value == pytest.approx(200 / 3)  # October: 2 of 3 in the top two


def test_an_import_started_during_a_broker_outage_starts_when_the_broker_returns(
    org, client_for, django_capture_on_commit_callbacks
):
    client = client_for(org["cx"])
    content = b"id,when,value\na,2026-10-01,3\nb,2026-10-02,4\n"
    client.post(
        "/metrics/imports/", {"kind": "observations", "source": "calls", "file": SimpleUploadedFile("c.csv", content)}
    )
    job = ImportJob.objects.get()
    form = {"col_external_id": "id", "col_observed_at": "when", "col_value": "value"}
    with broker_down(), django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/metrics/imports/{job.pk}/", form)
    assert answer.status_code == 302
    job.refresh_from_db()
    assert job.status == "queued"
    assert "broker) is not answering" in client.get(f"/metrics/imports/{job.pk}/").content.decode()

    with broker_up() as send:
        assert dispatch.sweep() == (1, "")
    assert _sent(send) == [("metrics.import_file", {"job_id": job.pk})]
    assert "Waiting for a free worker" in client.get(f"/metrics/imports/{job.pk}/progress/").content.decode()
    metrics_tasks.import_file.apply(kwargs={"job_id": job.pk})
    job.refresh_from_db()
    assert job.status == "done" and job.written_rows == 2


def test_a_task_the_request_is_still_sending_is_not_sent_again_by_the_sweep():
    pending = PendingTask.objects.create(
        task="cxgov.heartbeat", created_at=timezone.now(), next_attempt_at=timezone.now() + timedelta(seconds=30)
    )
    with broker_up() as send:
        assert dispatch.sweep() == (0, "")
        assert dispatch.send(pending_id=pending.pk) is False  # claimed by its request
    send.assert_not_called()


def test_health_reports_work_the_broker_has_not_taken_for_minutes(client, settings):
    heartbeat_record(name="worker")
    heartbeat_record(name="beat")
    now = timezone.now()
    PendingTask.objects.create(task="metrics.recalculate", created_at=now, next_attempt_at=now)
    part = client.get("/healthz").json()["checks"]["dispatch"]
    assert part["ok"] is True and part["waiting"] == 1  # just stored: the request is still sending it
    PendingTask.objects.create(
        task="metrics.recalculate",
        created_at=now - timedelta(seconds=settings.DISPATCH_HEALTH_MAX_AGE + 60),
        next_attempt_at=now,
        last_error=f"OperationalError: {REFUSED}",
    )
    answer = client.get("/healthz")
    assert answer.status_code == 503
    part = answer.json()["checks"]["dispatch"]
    assert part["ok"] is False and part["waiting"] == 2
    assert "2 background task(s) not handed to the broker" in part["error"] and REFUSED in part["error"]


def test_health_reports_a_beat_that_is_alive_but_cannot_send(client):
    heartbeat_record(name="worker")
    heartbeat_record(name="beat", error=f"cannot send cxgov.heartbeat to the broker: {REFUSED}")
    answer = client.get("/healthz")
    assert answer.status_code == 503
    beat = answer.json()["checks"]["beat"]
    assert beat["ok"] is False and "cannot send cxgov.heartbeat" in beat["error"]
