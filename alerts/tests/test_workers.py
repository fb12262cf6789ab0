"""Two real worker processes, two beat processes and duplicated evaluation messages: each
recipient gets exactly one notice when the episode fires and one when it resolves."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from alerts import services, tasks
from alerts.models import Alert, AlertRule, Delivery, Evaluation
from metrics.models import Metric, MetricValue
from tests.test_worker import _database_url, _stop, _wait_for, spawn

pytestmark = pytest.mark.worker


def _start(var_dir: Path, *args: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "HEARTBEAT_INTERVAL": "1",
        # Each process writes its mail under its own folder; all share the test's broker.
        "CXGOV_VAR_DIR": str(var_dir),
        # Beat re-sends "stuck" evaluations after one second: duplicates arrive while others still run.
        "ALERTS_REQUEUE_INTERVAL": "1",
        "ALERTS_STUCK_AFTER": "1",
    }
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        env["CELERY_BROKER_DIR"] = str(Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]).parent)
    return spawn([sys.executable, "-m", "celery", "-A", "cxgov", *args], env)


def _ready(process: subprocess.Popen) -> bool:
    """Whether a worker has said it is ready (Celery logs "<name> ready."). Read through a file
    description of its own: seeking the one the process writes through would move its writes."""
    with open(f"/proc/self/fd/{process.log.fileno()}") as log:
        return " ready." in log.read()


def _mail(folders: list[Path]) -> list[tuple[str, str]]:
    """(recipient, subject) of every message the processes wrote with the file email backend."""
    sent = []
    for folder in folders:
        for path in (folder / "mail").glob("*.log") if (folder / "mail").exists() else []:
            to = subject = None
            for line in path.read_text().splitlines():
                if line.startswith("To: "):
                    to = line[4:]
                elif line.startswith("Subject: "):
                    subject = line[9:]
                elif line.startswith("-" * 79) and to:
                    sent.append((to, subject))
                    to = subject = None
    return sorted(sent)


def _duplicate_evaluations(metric: Metric) -> None:
    job = services.evaluation_request(metric_id=metric.pk) or Evaluation.objects.get(metric=metric, status="queued")
    for _ in range(4):  # a redelivered message, a retry, a second beat...
        tasks.evaluate.delay(job.pk)
        services.evaluation_request(metric_id=metric.pk)


def test_one_notice_per_recipient_per_episode_with_two_workers_and_two_beats(transactional_db, org, tmp_path):
    org["leader"].email = "leader@example.com"
    org["leader"].save()
    org["cx"].email = "cx@example.com"
    org["cx"].save()
    today = timezone.localdate()
    metric = Metric.objects.create(
        name="Invoice CSAT", slug="invoice-csat", calculator="csat", kind="outcome", granularity="day",
        target=80, amber_threshold=78, red_threshold=72, owning_function=org["billing"],
    )  # fmt: skip
    for back, value in ((3, 80), (2, 81), (1, 60)):
        MetricValue.objects.create(
            metric=metric, period_start=today - timedelta(days=back), value=value, computed_at=timezone.now()
        )
    rule = AlertRule.objects.create(metric=metric, name="CSAT red", kind="threshold", level="red")
    rule.subscribers.set([org["cx"]])

    folders = [tmp_path / name for name in ("w1", "w2", "b1", "b2")]
    processes = [
        _start(folders[0], "worker", "--pool", "solo", "--loglevel", "INFO", "--hostname", "alerts-1@%h"),
        _start(folders[1], "worker", "--pool", "solo", "--loglevel", "INFO", "--hostname", "alerts-2@%h"),
    ]
    try:
        # Both workers consuming before anything is sent, or the first one up takes every message.
        assert _wait_for(lambda: all(_ready(p) for p in processes), 60), [_stop(p) for p in processes]
        processes += [_start(folders[2], "beat", "--pidfile="), _start(folders[3], "beat", "--pidfile=")]
        _duplicate_evaluations(metric)
        assert _wait_for(lambda: Delivery.objects.filter(email__status="sent").count() == 2, 90), _stop(processes[0])
        assert _wait_for(lambda: not Evaluation.objects.exclude(status="done").exists(), 60)
        _duplicate_evaluations(metric)  # evaluating the same data again changes nothing
        assert _wait_for(lambda: not Evaluation.objects.exclude(status="done").exists(), 60)

        MetricValue.objects.filter(metric=metric, period_start=today - timedelta(days=1)).update(value=79)
        _duplicate_evaluations(metric)
        assert _wait_for(lambda: Delivery.objects.filter(kind="resolve", email__status="sent").count() == 2, 90)
        assert _wait_for(lambda: not Evaluation.objects.exclude(status="done").exists(), 60)
        _duplicate_evaluations(metric)
        assert _wait_for(lambda: not Evaluation.objects.exclude(status="done").exists(), 60)
    finally:
        logs = [_stop(p) for p in processes if p.poll() is None]
    assert Alert.objects.count() == 1 and Alert.objects.get().state == "resolved"
    assert sorted(Delivery.objects.values_list("recipient__username", "kind")) == [
        ("cx", "fire"),
        ("cx", "resolve"),
        ("leader", "fire"),
        ("leader", "resolve"),
    ]
    mail = _mail(folders)
    assert mail == [
        ("cx@example.com", "[cxgov] Resolved: CSAT red on Invoice CSAT"),
        ("cx@example.com", "[cxgov] Warning: CSAT red fired on Invoice CSAT"),
        ("leader@example.com", "[cxgov] Resolved: CSAT red on Invoice CSAT"),
        ("leader@example.com", "[cxgov] Warning: CSAT red fired on Invoice CSAT"),
    ], logs
    # The duplicates really were delivered, to both workers, and did nothing.
    runs = [log.count("Task alerts.evaluate[") // 2 for log in logs[:2]]
    assert all(runs) and sum(runs) >= Evaluation.objects.count() + 16, runs
