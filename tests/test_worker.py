"""Real Celery processes against the broker of the current configuration (filesystem or Redis)."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connection

from cxgov.models import Heartbeat
from cxgov.tasks import heartbeat

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.worker


def _database_url() -> str:
    """The URL of the test database, for processes started by the test."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def spawn(args: list[str], env: dict) -> subprocess.Popen:
    """Start a process whose output goes to a file, not a pipe. Nobody reads a pipe while a test
    waits, and a process that logs more than a pipe holds (64 KB: a few tracebacks a second during
    a broker outage) blocks on its next log line, which a test then reads as a hung beat."""
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed with the process object
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    process.log = log
    return process


def _start(*args: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": _database_url(), "HEARTBEAT_INTERVAL": "1"}
    return spawn([sys.executable, "-m", "celery", "-A", "cxgov", *args], env)


def _stop(process: subprocess.Popen) -> str:
    """Stop the process (if it still runs) and return what it printed."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    process.log.seek(0)
    return process.log.read()


def _wait_for(predicate, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def test_worker_runs_a_task_and_beat_checks_in(transactional_db, client):
    worker = _start("worker", "--pool", "solo", "--loglevel", "INFO", "--hostname", "test-worker@%h")
    beat = None
    try:
        # A task sent from this process is consumed by the worker process and written to the database.
        heartbeat.delay()
        assert _wait_for(lambda: Heartbeat.objects.filter(name="worker").exists()), _stop(worker)
        first = Heartbeat.objects.get(name="worker").seen_at

        # Beat checks in and keeps sending the heartbeat task, which the worker keeps recording.
        beat = _start("beat", "--loglevel", "INFO", "--pidfile=")
        assert _wait_for(lambda: Heartbeat.objects.filter(name="beat").exists()), _stop(beat)
        assert _wait_for(lambda: Heartbeat.objects.get(name="worker").seen_at > first), _stop(beat)

        health = client.get("/healthz")
        assert health.status_code == 200, health.content
        assert all(check["ok"] for check in health.json()["checks"].values())
    finally:
        for process in (beat, worker):
            if process is not None and process.poll() is None:
                _stop(process)


def test_ingested_data_is_recalculated_by_a_real_worker(transactional_db, org, api_for):
    from metrics.models import Metric, MetricValue

    metric = Metric.objects.create(
        name="Survey CSAT", slug="survey-csat", calculator="csat", kind="outcome", source="pulse", granularity="month"
    )
    worker = _start("worker", "--pool", "solo", "--loglevel", "INFO", "--hostname", "test-metrics@%h")
    try:
        rows = [
            {
                "source": "pulse",
                "external_id": str(i),
                "responded_at": f"2026-{month:02d}-10T09:00:00Z",
                "score": score,
                "scale": "csat",
            }
            for i, (month, score) in enumerate([(9, 5), (9, 2), (10, 4), (10, 5), (10, 1)])
        ]
        response = api_for(org["cx"]).post("/api/ingest/responses/", rows, format="json")
        assert response.json() == {"written": 5}
        assert _wait_for(lambda: MetricValue.objects.filter(metric=metric).count() == 2), _stop(worker)
        values = dict(MetricValue.objects.filter(metric=metric).values_list("period_start__month", "value"))
        assert values == {9: 50.0, 10: pytest.approx(200 / 3)}
        metric.refresh_from_db()
        assert metric.recalculated_at is not None and metric.last_error == ""
    finally:
        _stop(worker)


def test_a_worker_checks_in_as_soon_as_it_is_ready_without_waiting_for_beat(transactional_db):
    worker = _start("worker", "--pool", "solo", "--loglevel", "INFO", "--hostname", "test-ready@%h")
    try:
        # No beat runs and no task is sent: the worker's own start is what checks in.
        assert _wait_for(lambda: Heartbeat.objects.filter(name="worker").exists(), seconds=45), _stop(worker)
    finally:
        if worker.poll() is None:
            _stop(worker)
