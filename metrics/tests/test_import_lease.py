"""An import whose worker died is taken over within a lease (not a 15-minute guess), by the
redelivered task or the next check; its page and /healthz say what is really happening."""

import os
import socket
import subprocess
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cxgov.models import PendingTask
from cxgov.services import heartbeat_record
from metrics import services, tasks
from metrics.models import ImportJob, Observation

pytestmark = pytest.mark.django_db

CSV = b"id,when,value\na,2026-10-01,3\nb,2026-10-02,4\n"


def _job(org, client_for, **state) -> ImportJob:
    client = client_for(org["cx"])
    client.post(
        "/metrics/imports/", {"kind": "observations", "source": "calls", "file": SimpleUploadedFile("c.csv", CSV)}
    )
    job = ImportJob.objects.get()
    client.post(
        f"/metrics/imports/{job.pk}/", {"col_external_id": "id", "col_observed_at": "when", "col_value": "value"}
    )
    ImportJob.objects.filter(pk=job.pk).update(**state)
    return ImportJob.objects.get(pk=job.pk)


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_the_redelivered_task_takes_over_a_job_whose_worker_process_died(org, client_for):
    holder = f"{socket.gethostname()}:{_dead_pid()}"
    # Writing, with a lease that has not run out yet: only the dead process tells.
    job = _job(org, client_for, status="writing", worker=holder, lease_until=timezone.now() + timedelta(seconds=20))
    tasks.import_file.apply(kwargs={"job_id": job.pk})
    job.refresh_from_db()
    assert job.status == "done" and job.written_rows == 2 and Observation.objects.count() == 2
    assert job.worker != holder and job.lease_until is None


def test_a_job_a_live_worker_holds_is_left_to_it_and_looked_at_again_when_its_lease_would_end(org, client_for):
    holder = f"{socket.gethostname()}:{os.getpid()}"  # this process: alive
    job = _job(org, client_for, status="validating", worker=holder, lease_until=timezone.now() + timedelta(seconds=20))
    assert services.import_run(job_id=job.pk).status == "validating"
    with pytest.raises(Retry) as retried:
        tasks.import_file.apply(kwargs={"job_id": job.pk}, throw=True)
    assert 15 < retried.value.when <= 22
    assert not Observation.objects.exists()


def test_a_job_of_a_worker_on_another_host_is_taken_over_when_its_lease_runs_out(org, client_for):
    job = _job(
        org, client_for, status="writing", worker="other-host:42", lease_until=timezone.now() + timedelta(seconds=20)
    )
    assert not services.import_takeable(job)
    ImportJob.objects.filter(pk=job.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    done = services.import_run(job_id=job.pk)
    assert done.status == "done" and done.message == "2 row(s) imported."


def test_the_page_and_health_say_the_worker_stopped_until_another_takes_over(org, client_for, client):
    stopped = timezone.now() - timedelta(minutes=2)
    job = _job(org, client_for, status="writing", worker="other-host:42", lease_until=stopped)
    page = client_for(org["cx"]).get(f"/metrics/imports/{job.pk}/progress/").content.decode()
    assert f"stopped responding at {timezone.localtime(stopped):%H:%M:%S}" in page
    assert "the import goes on" not in page
    heartbeat_record(name="worker")
    heartbeat_record(name="beat")
    part = client.get("/healthz").json()["checks"]["imports"]
    assert part["ok"] is False and "1 import(s) whose worker stopped" in part["error"]

    assert services.imports_requeue_stuck() == 1  # the check every minute hands it to a worker
    job.refresh_from_db()
    assert job.status == "queued" and "handed to another worker" in job.message
    assert client.get("/healthz").json()["checks"]["imports"] == {"ok": True}


def test_a_queued_import_whose_message_was_lost_is_sent_again(org, client_for, sent_tasks):
    job = _job(org, client_for, updated_at=timezone.now() - timedelta(minutes=10))
    PendingTask.objects.all().delete()  # the broker took it, then lost it (a restart without persistence)
    assert services.imports_requeue_stuck() == 1
    assert services.imports_requeue_stuck() == 0  # once
    assert PendingTask.objects.get().kwargs == {"job_id": job.pk}


def test_a_live_worker_past_its_lease_is_not_reported_stopped(org, client_for, client):
    # SQLite: one long write transaction keeps the lease thread from renewing; the process lives.
    holder = f"{socket.gethostname()}:{os.getpid()}"
    job = _job(org, client_for, status="writing", worker=holder, lease_until=timezone.now() - timedelta(minutes=3))
    page = client_for(org["cx"]).get(f"/metrics/imports/{job.pk}/progress/").content.decode()
    assert "A worker is on it" in page and "stopped responding" not in page
    heartbeat_record(name="worker")
    heartbeat_record(name="beat")
    assert client.get("/healthz").json()["checks"]["imports"] == {"ok": True}
    assert services.imports_requeue_stuck() == 0
