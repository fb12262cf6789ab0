"""Faults with real processes: a worker killed in the middle of an import, and a broker stopped and
started again while the web, a worker and beat run (issue 13, findings 6 and 7)."""

import http.cookiejar
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token

from conftest import PASSWORD
from cxgov.models import PendingTask, User
from metrics import ingestion, services
from metrics.models import ImportJob, Metric, MetricValue, Observation
from tests.test_worker import _database_url, _stop, _wait_for, spawn

pytestmark = pytest.mark.worker


def _env(**extra: str) -> dict:
    env = {**os.environ, "DATABASE_URL": _database_url(), "HEARTBEAT_INTERVAL": "1", **extra}
    if settings.CELERY_BROKER_URL.startswith("filesystem://") and "CELERY_BROKER_URL" not in extra:
        env["CELERY_BROKER_DIR"] = str(Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]).parent)
    return env


def _celery(env: dict, *args: str) -> subprocess.Popen:
    return spawn([sys.executable, "-m", "celery", "-A", "cxgov", *args], env)


def _big_import(user, rows: int) -> ImportJob:
    content = "id,when,value\n" + "".join(f"r{i},2026-10-{i % 28 + 1:02d},{i % 7}\n" for i in range(rows))
    job = services.import_create(
        user=user, kind="observations", source="calls", upload=SimpleUploadedFile("big.csv", content.encode())
    )
    return job


def test_an_import_whose_worker_process_is_killed_is_taken_over_by_the_redelivered_task(transactional_db, org):
    env = _env(JOB_LEASE_SECONDS="3")
    worker = _celery(env, "worker", "--pool", "prefork", "--concurrency", "1", "--loglevel", "INFO", "-n", "kill@%h")
    try:
        job = _big_import(org["cx"], 60_000)
        services.import_configure(
            user=org["cx"],
            job=job,
            mapping=ingestion.Mapping(columns={"external_id": "id", "observed_at": "when", "value": "value"}),
        )

        def started() -> bool:
            job.refresh_from_db()
            return job.status in ("validating", "writing") and bool(job.worker)

        assert _wait_for(started, 60), _stop(worker)
        holder = job.worker
        os.kill(int(holder.rpartition(":")[2]), signal.SIGKILL)  # the pool process running the import
        killed_at = time.monotonic()

        def finished() -> bool:
            job.refresh_from_db()
            return job.status in ("done", "failed", "invalid")

        assert _wait_for(finished, 90), (job.status, job.message, _stop(worker)[-3000:])
        assert time.monotonic() - killed_at < 60
        assert job.status == "done", job.message
        assert job.worker != holder and Observation.objects.filter(source="calls").count() == 60_000
    finally:
        _stop(worker)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Redis:
    """A redis-server of the test's own on a free port, stopped and started again at will."""

    def __init__(self, folder: Path):
        self.port = _free_port()
        self.folder = folder
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert _wait_for(self._answers, 10), "redis-server did not start"

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def _http(url: str, *, data=None, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"} if data is not None else {}
    if token:
        headers["Authorization"] = f"Token {token}"
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 - our own test server
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - our own test server
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body)
        except ValueError:
            return error.code, {"body": body.decode(errors="replace")[:2000]}
    except (urllib.error.URLError, OSError) as error:  # not listening yet
        return 0, {"error": str(error)}


def _logged_in(base: str, username: str):
    """A browser-like session on the test server: returns post(path, form) -> status (no redirects)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)

    def post(path: str, form: dict) -> int:
        token = next(c.value for c in jar if c.name == "csrftoken")
        body = urllib.parse.urlencode({**form, "csrfmiddlewaretoken": token}).encode()
        try:
            request = urllib.request.Request(base + path, data=body)  # noqa: S310 - our own test server
            with opener.open(request, timeout=30) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code

    # The server hashes with the real hashers, not the tests' fast one.
    hashed = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    User.objects.filter(username=username).update(password=hashed)
    opener.open(base + "/accounts/login/", timeout=30).read()
    assert post("/accounts/login/", {"username": username, "password": PASSWORD}) == 302
    return post


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server to stop and start a broker")
def test_a_broker_outage_delays_work_but_loses_none_and_health_says_so(transactional_db, org, tmp_path):
    redis = _Redis(tmp_path)
    redis.start()
    port = _free_port()
    env = _env(
        CELERY_BROKER_URL=f"redis://127.0.0.1:{redis.port}/0",
        REDIS_URL="",
        CXGOV_VAR_DIR=str(tmp_path / "var"),
        DISPATCH_HEALTH_MAX_AGE="2",
        HEALTH_HEARTBEAT_MAX_AGE="30",
    )
    base = f"http://127.0.0.1:{port}"
    metric = Metric.objects.create(name="CSAT", slug="csat", calculator="csat", kind="outcome", source="pulse")
    token = Token.objects.create(user=org["cx"]).key
    web = spawn(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "cxgov.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "4",
        ],
        env,
    )
    worker = _celery(env, "worker", "--pool", "solo", "--loglevel", "INFO", "-n", "outage@%h")
    beat = _celery(env, "beat", "--loglevel", "INFO", "--pidfile=")
    processes = [beat, worker, web]
    try:
        assert _wait_for(lambda: _http(f"{base}/healthz")[0] == 200, 90), _http(f"{base}/healthz")

        redis.stop()
        rows = [
            {
                "source": "pulse",
                "external_id": str(i),
                "responded_at": f"2026-10-0{i + 1}T09:00:00Z",
                "score": s,
                "scale": "csat",
            }
            for i, s in enumerate([5, 2, 4])
        ]
        assert _http(f"{base}/api/ingest/responses/", data=rows, token=token) == (200, {"written": 3})
        job = services.import_create(
            user=org["cx"],
            kind="observations",
            source="calls",
            upload=SimpleUploadedFile("c.csv", b"id,when,value\na,2026-10-01,3\nb,2026-10-02,4\n"),
        )
        # Started from its page during the outage: the page answers and the job is not "queued for ever".
        page = _logged_in(base, "cx")
        started = page(
            f"/metrics/imports/{job.pk}/", {"col_external_id": "id", "col_observed_at": "when", "col_value": "value"}
        )
        assert started == 302
        job.refresh_from_db()
        assert job.status == "queued"
        waiting = set(PendingTask.objects.values_list("task", flat=True))
        assert {"metrics.recalculate", "rootcause.tag_comments"} <= waiting

        def outage_reported() -> bool:
            status, body = _http(f"{base}/healthz")
            checks = body.get("checks", {})
            return (
                status == 503
                and not checks["broker"]["ok"]
                and not checks["dispatch"]["ok"]
                and not checks["beat"]["ok"]
                and "cannot send" in checks["beat"].get("error", "")
            )

        assert _wait_for(outage_reported, 30), _http(f"{base}/healthz")

        redis.start()  # same port: workers and beat reconnect by themselves

        def caught_up() -> bool:
            job.refresh_from_db()
            return (
                job.status == "done"
                and MetricValue.objects.filter(metric=metric).exists()
                and not PendingTask.objects.exists()
            )

        assert _wait_for(caught_up, 90), (job.status, list(PendingTask.objects.values_list("task", "last_error")))
        assert MetricValue.objects.get(metric=metric, segment="").value == pytest.approx(200 / 3)
        assert _wait_for(lambda: _http(f"{base}/healthz")[0] == 200, 60), _http(f"{base}/healthz")
    finally:
        for process in processes:
            if process.poll() is None:
                _stop(process)
        redis.stop()
