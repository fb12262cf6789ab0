"""Building and sending digests to many recipients through a real SMTP server (aiosmtpd on
127.0.0.1), against sending the same number of ready-made two-part emails over one SMTP session. Ours is
claiming and storing them in the outbox, then the outbox sending them (one SMTP session a run).

Each recipient is a leader of one of the generated functions, whose issue has an overdue and a
soon-due action item, so every digest has content. Each size is timed three times (minimum and
median; the ratio is of medians); the queries of a run are counted at two sizes to show they follow
the number of batches (``digests.services.BATCH_SIZE`` recipients each), not of recipients."""

from __future__ import annotations

import logging
import multiprocessing
import socket
import threading
import time
from datetime import UTC, date, datetime
from statistics import median

from aiosmtpd.controller import Controller
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection

from cxgov.lib import outbox
from cxgov.models import Email, Function, Membership, Role, User
from digests import services
from digests.models import DigestDelivery, DigestPreference
from rootcause.models import ActionItem, Issue

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


class _Counter:
    """Counts the messages received, in a number shared with the benchmark's process."""

    def __init__(self, count):
        self.count = count

    async def handle_DATA(self, server, session, envelope):
        with self.count.get_lock():
            self.count.value += 1
        return "250 OK"


def _serve(port: int, count, ready) -> None:
    """The SMTP server, in a process of its own as a real one would be (in a thread of the
    benchmark's process it would hold the interpreter's lock while the sender waits for the database)."""
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command
    controller = Controller(_Counter(count), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    threading.Event().wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _recipients(n: int, offset: int) -> None:
    functions = list(Function.objects.order_by("pk").values_list("pk", flat=True))
    users = User.objects.bulk_create(
        User(username=f"digest-{offset + i}", role=Role.LEADER, email=f"d{offset + i}@example.com") for i in range(n)
    )
    Membership.objects.bulk_create(
        Membership(person=u, function_id=functions[i % len(functions)]) for i, u in enumerate(users)
    )
    DigestPreference.objects.bulk_create(DigestPreference(user=u, frequency="daily", hour=8) for u in users)


def _work() -> None:
    for function in Function.objects.all():
        issue = Issue.objects.create(title=f"Issue of {function.name}", function=function)
        ActionItem.objects.create(issue=issue, title="Overdue fix", function=function, due_date=date(2026, 11, 1))
        ActionItem.objects.create(issue=issue, title="Next step", function=function, due_date=date(2026, 11, 27))


def bench_digests(sizes=(1000, 5000), repeat: int = 3) -> list[tuple]:
    # Forked (it touches no database; spawning would import Django unconfigured).
    forked = multiprocessing.get_context("fork")
    port, received, ready = _free_port(), forked.Value("i", 0), forked.Event()
    server = forked.Process(target=_serve, args=(port, received, ready), daemon=True)
    server.start()
    if not ready.wait(30):
        raise RuntimeError("the benchmark's SMTP server did not start")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    User.objects.exclude(username__startswith="digest-").update(email="")  # only the bench recipients
    _work()
    results, made = [], 0
    try:
        for n in sizes:
            _recipients(n - made, made)
            made = n
            # The baseline sends the very emails ours stores (same subjects, parts and headers), ready-made:
            # taken from a first run of ours, which also warms up both.
            _reset()
            _ours()
            ready = [
                (email.subject, email.body, email.html, email.to, email.headers)
                for email in Email.objects.filter(kind="digest").order_by("pk")
            ]
            assert len(ready) == n, len(ready)
            baselines, runs, count = [], [], [0]

            def counting(execute, sql, params, many, context, count=count):
                count[0] += 1
                return execute(sql, params, many, context)

            for _ in range(repeat):
                received.value = 0
                start = time.perf_counter()
                smtp = get_connection()
                smtp.send_messages([_two_part(*email) for email in ready])
                baselines.append(time.perf_counter() - start)
                assert received.value == n
                _reset()
                received.value, count[0] = 0, 0
                with connection.execute_wrapper(counting):
                    start = time.perf_counter()
                    stats = _ours()
                    runs.append(time.perf_counter() - start)
                assert stats["queued"] == n and received.value == n, (stats, received.value)
            batches = -(-n // services.BATCH_SIZE)
            results.append((n, min(baselines), median(baselines), min(runs), median(runs), count[0], batches))
    finally:
        server.terminate()
        server.join()
    return results


def _reset() -> None:
    DigestDelivery.objects.all().delete()
    Email.objects.filter(kind="digest").delete()


def _ours() -> dict:
    """Digests claimed, built and stored in batches, then sent by the outbox worker."""
    stats = services.digests_send_due(now=NOW)
    while outbox.send_due():
        pass
    return stats


def _two_part(subject: str, body: str, html: str, to: list[str], headers: dict) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(subject=subject, body=body, to=to, headers=headers)
    message.attach_alternative(html, "text/html")
    return message
