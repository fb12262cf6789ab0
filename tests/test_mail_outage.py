"""A mail outage with real processes: two beats and a worker while the SMTP server is stopped and
started again. Every waiting email goes out exactly once when mail is back, and the beats do not
spend attempts faster than the back-off allows."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

from cxgov.lib import outbox
from cxgov.lib.emails import templated_email
from cxgov.models import Email
from tests.test_worker import _database_url, _stop, _wait_for, spawn

pytestmark = pytest.mark.worker


def _start(smtp_port: int, *args: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "HEARTBEAT_INTERVAL": "1",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_TIMEOUT": "5",
        # Seconds instead of minutes: retry after 1, 2, 4, 4 ... s; beats sweep every second.
        "OUTBOX_FIRST_RETRY": "1",
        "OUTBOX_MAX_BACKOFF": "4",
        "OUTBOX_SWEEP_INTERVAL": "1",
    }
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        env["CELERY_BROKER_DIR"] = str(Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]).parent)
    return spawn([sys.executable, "-m", "celery", "-A", "cxgov", *args], env)


def test_mail_outage_then_recovery_sends_each_waiting_email_once(transactional_db, org, smtp):
    smtp.stop()
    processes = [_start(smtp.port, "worker", "--pool", "solo", "--loglevel", "INFO", "--hostname", "mail-1@%h")]
    try:
        processes += [_start(smtp.port, "beat", "--pidfile="), _start(smtp.port, "beat", "--pidfile=")]
        with transaction.atomic():  # dispatched to the worker on commit, as a request or task would
            for person in ("leader", "cx", "admin", "other_leader"):
                context = {"person": org[person], "function": org["billing"], "issues": [], "by": org["cx"]}
                message = templated_email("issues_assigned", context, [f"{person}@example.com"])
                outbox.enqueue(message, kind="issues_assigned")
        started = time.monotonic()
        assert _wait_for(lambda: not Email.objects.filter(attempts=0).exists(), 60), _stop(processes[0])
        time.sleep(max(0.0, 8 - (time.monotonic() - started)))  # mail stays down for about 8 s
        # A sweep may be between its claim and its failure record (on a loaded machine): let it end.
        assert _wait_for(lambda: not Email.objects.filter(status="sending").exists(), 30)
        assert set(Email.objects.values_list("status", flat=True)) == {"waiting"}
        assert all("Connection refused" in error for error in Email.objects.values_list("error", flat=True))
        # Back-off 1, 2, 4, 4 s: at most 5 attempts each in 8 s, whatever two beats sweeping every
        # second and the worker's own try do (without the claim on next_attempt_at: ~16 or more).
        assert max(Email.objects.values_list("attempts", flat=True)) <= 5

        smtp.start()
        assert _wait_for(lambda: Email.objects.filter(status="sent").count() == 4, 60), _stop(processes[0])
        time.sleep(3)  # more sweeps: nothing is sent twice
    finally:
        logs = [_stop(p) for p in processes if p.poll() is None]
    recipients = sorted(m["To"] for m in smtp.messages)
    assert recipients == sorted(f"{p}@example.com" for p in ("leader", "cx", "admin", "other_leader")), logs
