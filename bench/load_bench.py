"""A bounded load test on loopback, against the server as ``bin/run`` starts it.

The web server is started from the Procfile's ``web:`` line (gunicorn, the same workers and threads)
on a free port of 127.0.0.1, on the benchmark's database; the throttles of the API are raised for
it (the test measures the server, not the rate limit) and it stops at the end. Clients are threads
of this process with their own keep-alive connection, logged in with a session of an administrator.

1. Quiet: the one-row page and ``/healthz`` requested alone (the baselines).
2. 16 users for ``seconds`` over the main pages and API lists, round robin from a different start
   each: requests, errors (anything but 200), median and p95 per address, against the quiet
   one-row page.
3. Mixed, twice: 8 users on the Pareto page (each request a different filter: a random period and, one
   in three, dissatisfied only, so most miss the cache), one user on the one-row page and one on
   ``/healthz``: the last two's median and p95 against quiet (the aim: within x2), and what the
   Pareto users got (200, 503 busy, 503 too slow). First with users asking again at once after
   a 503, then with users asking again after its Retry-After, as a person reading the page (or a
   client following HTTP) would, with the time they spent waiting.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import shlex
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.test import Client

from cxgov.models import Function, Role, User
from metrics.models import SurveyResponse

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def web_command(port: int) -> list[str]:
    """The Procfile's web command with its variables filled in (the same server, workers, threads),
    without the access log (a line per request would only slow the test down)."""
    line = next(raw for raw in (ROOT / "Procfile").read_text().splitlines() if raw.startswith("web:"))
    line = re.sub(r"\$\{HOST:-[^}]*\}", "127.0.0.1", line.removeprefix("web:").strip())
    parts = shlex.split(re.sub(r"\$\{WEB_PORT:-[^}]*\}", str(port), line))
    parts[0] = str(Path(sys.executable).parent / parts[0])
    if "--access-logfile" in parts:
        i = parts.index("--access-logfile")
        parts[i : i + 2] = []
    return parts


class Server:
    """The web process on a free port of loopback; a context manager that waits for /healthz."""

    def __init__(self):
        self.port = _free_port()
        self.process = None

    def __enter__(self):
        # The benchmark's database and var/ (bench/run.py set them in the environment).
        env = {**os.environ, "API_THROTTLE_USER": "1000000/hour", "API_THROTTLE_ANON": "1000000/hour"}
        self.log = Path(settings.VAR_DIR) / "load-server.log"
        with self.log.open("w") as log:  # the server's own log, for a failure's cause
            self.process = subprocess.Popen(  # noqa: S603 (our own Procfile's command)
                web_command(self.port), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 180  # two workers importing Django on a busy machine
        while time.monotonic() < deadline:
            try:
                status, _ = _get(http.client.HTTPConnection("127.0.0.1", self.port, timeout=60), "/healthz", "")
                if status in (200, 503):
                    return self
            except OSError:
                time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"the web server did not answer within three minutes: see {self.log}")

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _get(conn: http.client.HTTPConnection, path: str, cookie: str, retry: list | None = None) -> tuple[int, float]:
    """(status, seconds) of one GET; ``retry`` gets the answer's ``Retry-After`` seconds, if any."""
    start = time.perf_counter()
    conn.request("GET", path, headers={"Cookie": cookie, "Host": "localhost"})
    response = conn.getresponse()
    response.read()
    if retry is not None:
        after = response.getheader("Retry-After", "")
        retry[:] = [int(after)] if after.isdigit() else []
    return response.status, time.perf_counter() - start


def _user(port: int, cookie: str, paths, stop: float, out: dict, lock: threading.Lock, patient: bool) -> None:
    """Request ``paths()`` one after the other until ``stop`` (monotonic), recording each. A
    ``patient`` user told "503, Retry-After: N" asks again N seconds later, as a person reading the
    page (or a client following HTTP) would; the others ask again at once."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    retry: list[int] = []
    while time.monotonic() < stop:
        path, label = paths()
        try:
            status, seconds = _get(conn, path, cookie, retry)
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            status, seconds = 0, 0.0
        with lock:
            out.setdefault(label, []).append((status, seconds))
        if patient and status == 503 and retry:
            waited = max(0.0, min(retry[0], stop - time.monotonic()))
            with lock:
                out.setdefault("waited", []).append((0, waited))
            time.sleep(waited)
            conn.close()  # back later on a new connection (the server closes idle ones after 2 s)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.close()


def _run(port: int, cookie: str, users: list, seconds: float, patient: bool = False) -> dict:
    out, lock = {}, threading.Lock()
    stop = time.monotonic() + seconds
    threads = [threading.Thread(target=_user, args=(port, cookie, paths, stop, out, lock, patient)) for paths in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def _stats(samples: list[tuple[int, float]], answered=(200,)) -> tuple[int, int, float, float]:
    """(requests, errors, median, p95) of one address's samples (errors: any status not in ``answered``)."""
    times = sorted(s for _, s in samples)
    errors = sum(1 for status, _ in samples if status not in answered)
    p95 = times[min(len(times) - 1, max(0, int(round(0.95 * len(times))) - 1))]
    return len(samples), errors, statistics.median(times), p95


# /healthz answers 503 when a part is unhealthy (no Celery worker runs during the benchmark): an
# answer all the same; what counts here is how fast it comes.
HEALTH_ANSWERS = {"/healthz": (200, 503), "one-row page (baseline)": (200,)}


def _cycle(addresses: list[tuple[str, str]], offset: int):
    state = {"i": offset}

    def paths():
        state["i"] += 1
        return addresses[state["i"] % len(addresses)]

    return paths


def _pareto_paths(rng: random.Random, first: date, days: int):
    def paths():
        start = first + timedelta(days=rng.randrange(max(days - 7, 1)))
        end = start + timedelta(days=rng.choice((6, 13, 29, 90, 181)))
        extra = "&dissatisfied_only=on" if rng.random() < 1 / 3 else ""
        return f"/rootcause/pareto/?start={start}&end={end}{extra}", "pareto"

    return paths


def bench_load(seconds: float = 60.0, quiet_requests: int = 30) -> dict:
    admin = User.objects.filter(username="bench-load-admin").first() or User.objects.create(
        username="bench-load-admin", role=Role.ADMINISTRATOR
    )
    client = Client()
    client.force_login(admin)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    one = Function.objects.order_by("name").first()
    one_row = (f"/functions/?q={one.name.replace(' ', '+')}", "one-row page (baseline)")
    health = ("/healthz", "/healthz")
    main = [
        one_row,
        ("/functions/", "/functions/"),
        (f"/functions/{one.slug}/", "/functions/<slug>/"),
        ("/accountabilities/", "/accountabilities/"),
        ("/people/", "/people/"),
        ("/ownership/", "/ownership/ (map)"),
        ("/rootcause/themes/", "/rootcause/themes/"),
        ("/api/functions/", "/api/functions/"),
        ("/api/accountabilities/", "/api/accountabilities/"),
        ("/api/issues/", "/api/issues/"),
        ("/api/comments/", "/api/comments/"),
        ("/api/metrics/", "/api/metrics/"),
    ]
    result = {"server": " ".join(web_command(0)[1:]).replace(" --bind 127.0.0.1:0", "")}
    with Server() as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        for path, label in main + [health]:  # warm-up, and every address answers
            status, _ = _get(conn, path, cookie)
            if status not in (200, 503 if label == "/healthz" else 200):
                raise RuntimeError(f"{path} answered {status} before the load")
        quiet = {}
        for path, label in (one_row, health):
            quiet[label] = _stats([_get(conn, path, cookie) for _ in range(quiet_requests)], HEALTH_ANSWERS[label])
        conn.close()
        result["quiet"] = quiet
        result["load"] = _run(server.port, cookie, [_cycle(main, i * 3) for i in range(16)], seconds)
        span = (
            SurveyResponse.objects.exclude(comment="").order_by("responded_at").values_list("responded_at", flat=True)
        )
        first = span.first().date() if span.exists() else date(2026, 1, 1)
        last = span.last().date() if span.exists() else date(2026, 12, 31)
        days = max((last - first).days, 8)
        mixed_users = [_pareto_paths(random.Random(i), first, days) for i in range(8)]
        mixed_users += [_cycle([one_row], 0), _cycle([health], 0)]
        for key, patient in (("mixed", False), ("mixed, patient", True)):
            # The clients share the machine's cores with the server: how much of them they took.
            before, started = time.process_time(), time.monotonic()
            result[key] = _run(server.port, cookie, mixed_users, seconds, patient)
            result[key]["client cores"] = (time.process_time() - before) / (time.monotonic() - started)
    return result


def print_load(result: dict, seconds: float) -> None:
    quiet_one = result["quiet"]["one-row page (baseline)"]
    print(f"\nLoad test on loopback: {result['server']}")
    print(f"  quiet ({quiet_one[0]} requests each, one at a time):")
    for label, (_, errors, median, p95) in result["quiet"].items():
        print(f"    {label:<34} median {median * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   errors {errors}")
    print(f"  16 users for {seconds:g} s over the main pages and API lists (ratio: median to the quiet one-row page)")
    print(f"    {'address':<34} {'requests':>8} {'errors':>7} {'median':>10} {'p95':>10} {'ratio':>7}")
    total = errors_all = 0
    for label, samples in sorted(result["load"].items()):
        n, errors, median, p95 = _stats(samples)
        total, errors_all = total + n, errors_all + errors
        print(
            f"    {label:<34} {n:>8} {errors:>7} {median * 1000:8.1f}ms {p95 * 1000:8.1f}ms "
            f"x{median / quiet_one[2]:6.1f}"
        )
    print(f"    {'all':<34} {total:>8} {errors_all:>7}   ({total / seconds:.1f} requests/s)")
    phases = (("mixed", "asking again at once after a 503"), ("mixed, patient", "asking again after Retry-After"))
    for key, how in phases:
        mixed = result[key]
        print(f"  {key} for {seconds:g} s: 8 users on Pareto (random filters, {how}),")
        print("  1 user on the one-row page, 1 on /healthz")
        for label in ("one-row page (baseline)", "/healthz"):
            n, errors, median, p95 = _stats(mixed.get(label, [(0, 0.0)]), HEALTH_ANSWERS[label])
            q = result["quiet"][label]
            print(
                f"    {label:<34} {n:>6} requests, {errors} errors, median {median * 1000:7.1f} ms "
                f"(x{median / q[2]:.2f} of quiet), p95 {p95 * 1000:7.1f} ms (x{p95 / q[3]:.2f} of quiet)"
            )
        pareto = mixed.get("pareto", [])
        if pareto:
            by_status = {}
            for status, _ in pareto:
                by_status[status] = by_status.get(status, 0) + 1
            answered = [s for status, s in pareto if status == 200]
            median = statistics.median(answered) * 1000 if answered else float("nan")
            waited = sum(s for _, s in mixed.get("waited", []))
            print(
                f"    {'Pareto':<34} {len(pareto):>6} requests: "
                + ", ".join(f"{n} x {status}" for status, n in sorted(by_status.items()))
                + f" (503: busy or too slow, at once); median of the 200s {median:.0f} ms"
                + (f"; {waited:.0f} of the 8 users' {8 * seconds:.0f} s spent waiting" if waited else "")
            )
        print(f"    (the clients themselves used {mixed['client cores']:.2f} of the {os.cpu_count()} cores meanwhile)")
