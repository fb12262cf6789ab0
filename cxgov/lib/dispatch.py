"""Task intents through a transactional outbox: background work survives a broker outage.

A change that needs background work (recalculate a metric, evaluate its alert rules, tag
comments, run an import) calls ``enqueue`` inside its transaction: a ``PendingTask`` row is
stored with the data, so both commit or neither does. After commit the request hands the task to
the broker; if the broker does not answer, the request still succeeds (the data and the intent
are safe) and beat's sweep sends the row when the broker is back. The row is deleted once the
broker accepted the task, so what is left is exactly the undispatched work ``health`` reports.

Sending is at least once (a sender that dies between the broker's answer and the delete sends
again later): every task is safe to run twice. Two beats or a beat and a request never send one
row at the same time: a sender claims the row by moving ``next_attempt_at`` ahead with a
conditional UPDATE, as the email outbox does.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min
from django.utils import timezone

from cxgov.models import PendingTask

log = logging.getLogger(__name__)

# Publishing from a request or a sweep tries briefly: a broker that is down is left to the next
# sweep rather than holding up a page.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def enqueue(task_name: str, kwargs: dict | None = None) -> PendingTask:
    """Store the intent to run ``task_name(**kwargs)`` in the current transaction; after commit it
    is sent to the broker (now if the broker answers, else by beat's sweep)."""
    now = timezone.now()
    pending = PendingTask.objects.create(
        task=task_name,
        kwargs=kwargs or {},
        created_at=now,
        # Claimed by this request until it has tried; the sweep takes it only after that.
        next_attempt_at=now + timedelta(seconds=settings.DISPATCH_CLAIM_SECONDS),
    )
    transaction.on_commit(lambda: send(pending_id=pending.pk, claimed=True))
    return pending


def _publish(pending: PendingTask) -> None:
    from cxgov.celery import app

    app.send_task(pending.task, kwargs=pending.kwargs, retry=True, retry_policy=PUBLISH_RETRY_POLICY)


def _claim(pending_id: int, due_before) -> bool:
    now = timezone.now()
    return bool(
        PendingTask.objects.filter(pk=pending_id, next_attempt_at__lte=due_before).update(
            next_attempt_at=now + timedelta(seconds=settings.DISPATCH_CLAIM_SECONDS)
        )
    )


def send(*, pending_id: int, claimed: bool = False) -> bool:
    """Hand one stored task to the broker; True when the broker accepted it. Never raises: a
    broker that does not answer leaves the row due for the next sweep, with the reason."""
    if not claimed and not _claim(pending_id, timezone.now()):
        return False
    pending = PendingTask.objects.filter(pk=pending_id).first()
    if pending is None:
        return False
    try:
        _publish(pending)
    except Exception as exc:  # any broker failure: the intent stays stored and is sent later
        log.warning("could not send %s to the broker (%s); beat's sweep will send it", pending, exc)
        PendingTask.objects.filter(pk=pending_id).update(
            next_attempt_at=timezone.now(),
            attempts=pending.attempts + 1,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        return False
    PendingTask.objects.filter(pk=pending_id).delete()
    return True


def sweep(*, limit: int = 500) -> tuple[int, str]:
    """Send the stored tasks that are due (their request could not, or died trying), oldest first.
    Stops at the first broker failure (the others would fail the same way). Returns how many were
    sent and the broker's error ("" when it answered)."""
    now = timezone.now()
    due = PendingTask.objects.filter(next_attempt_at__lte=now).order_by("next_attempt_at", "pk")
    sent = 0
    for pending_id in list(due.values_list("pk", flat=True)[:limit]):
        if not _claim(pending_id, now):
            continue  # another beat or a request has it
        if send(pending_id=pending_id, claimed=True):
            sent += 1
            continue
        error = PendingTask.objects.filter(pk=pending_id).values_list("last_error", flat=True).first()
        return sent, error or "the broker did not accept the task"
    return sent, ""


def health() -> dict:
    """Undispatched work on /healthz: tasks the broker has not accepted for longer than
    ``DISPATCH_HEALTH_MAX_AGE`` seconds fail it, with their number, age and the last error."""
    found = PendingTask.objects.aggregate(waiting=Count("pk"), oldest=Min("created_at"))
    waiting = found["waiting"]
    age = (timezone.now() - found["oldest"]).total_seconds() if found["oldest"] else 0
    result = {"ok": True, "waiting": waiting, "oldest_seconds": round(age, 1)}
    if waiting and age > settings.DISPATCH_HEALTH_MAX_AGE:
        error = PendingTask.objects.exclude(last_error="").order_by("-pk").values_list("last_error", flat=True).first()
        result["ok"] = False
        result["error"] = f"{waiting} background task(s) not handed to the broker, the oldest for {round(age)} s" + (
            f"; last error: {error[:200]}" if error else ""
        )
    return result
