"""Writes for digests: schedules, and sending each person's digest exactly once per period.

Sending claims a ``DigestDelivery`` row (unique per person and period) *before* building and
sending the email: a second worker, a second beat or a retried task finds the row taken and does
nothing. A transient SMTP failure leaves the claim "waiting to retry" and its task retries with
back-off (only the task holding the claim may send it); a permanent failure is recorded."""

from __future__ import annotations

import logging
import smtplib
import socket
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from cxgov.lib import permissions
from cxgov.lib.emails import templated_email
from cxgov.lib.history import record_as
from cxgov.models import User
from digests import schedule, selectors
from digests.models import DeliveryStatus, DigestDefault, DigestDelivery, DigestPreference, Frequency

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "digests.unsubscribe"
MAX_ATTEMPTS = 5


class TransientError(Exception):
    """The mail server could not take the message now; try again later."""


def preference_save(*, user: User, fields: dict) -> DigestPreference:
    """A person sets their own digest schedule."""
    preference = DigestPreference.objects.filter(user=user).first() or DigestPreference(user=user)
    for key, value in fields.items():
        setattr(preference, key, value)
    preference.full_clean()
    preference.save()
    return preference


def default_save(*, user: User, role: str, fields: dict) -> DigestDefault:
    """An administrator sets the schedule of everyone with a role who has not chosen their own."""
    if not permissions.can_configure(user):
        raise PermissionDenied("Only administrators set the digest defaults.")
    default = DigestDefault.objects.filter(role=role).first() or DigestDefault(role=role)
    for key, value in fields.items():
        setattr(default, key, value)
    default.full_clean()
    record_as(default, user).save()
    return default


def unsubscribe_token(user: User) -> str:
    return signing.dumps(user.pk, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(user: User) -> str:
    return settings.SITE_URL + reverse("digest-unsubscribe", args=[unsubscribe_token(user)])


def unsubscribe_person(*, token: str) -> User | None:
    """Whose unsubscribe link this is (None when it is not a valid one)."""
    try:
        return User.objects.filter(pk=signing.loads(token, salt=UNSUBSCRIBE_SALT)).first()
    except signing.BadSignature:
        return None


def unsubscribe(*, token: str) -> User:
    """Turn a person's digest off from the signed link in an email (no login needed)."""
    try:
        pk = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        raise PermissionDenied("This unsubscribe link is not valid.") from None
    user = User.objects.get(pk=pk)
    preference_save(user=user, fields={"frequency": Frequency.OFF})
    return user


def build_message(delivery: DigestDelivery, content: dict) -> EmailMultiAlternatives:
    """The digest email: subject, plain-text and HTML parts from templates/emails/, links into the
    app, and one-click unsubscribe (List-Unsubscribe with List-Unsubscribe-Post, RFC 8058)."""
    user = delivery.user
    context = content | {
        "site": settings.SITE_URL,
        "unsubscribe": unsubscribe_url(user),
        "preferences": settings.SITE_URL + reverse("digest-preferences"),
        "frequency": delivery.get_frequency_display().lower(),
    }
    return templated_email(
        "digest",
        context,
        [user.email],
        headers={
            "List-Unsubscribe": f"<{context['unsubscribe']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )


def _classify(exc: Exception) -> bool:
    """True when a failure is worth retrying (the server or network may recover)."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError | socket.error | TimeoutError)


def claim(*, user: User, period: str, frequency: str, since: datetime) -> DigestDelivery | None:
    """Insert the delivery for (person, period), or None if someone already has."""
    try:
        with transaction.atomic():
            return DigestDelivery.objects.create(
                user=user, period=period, frequency=frequency, since=since, status=DeliveryStatus.SENDING
            )
    except IntegrityError:
        return None


def _record_failure(pk: int, exc: Exception, retry: bool, attempts: int, subject: str = "") -> None:
    DigestDelivery.objects.filter(pk=pk).update(
        status=DeliveryStatus.RETRYING if retry else DeliveryStatus.FAILED,
        attempts=attempts,
        error=f"{type(exc).__name__}: {exc}"[:2000],
        subject=subject[:200],
        updated_at=timezone.now(),
    )


def _send(delivery: DigestDelivery, content: dict, connection=None) -> str:
    """Send a claimed delivery (status sending); record and return the outcome. Raises TransientError
    to retry."""
    if content["empty"]:
        DigestDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.EMPTY, updated_at=timezone.now())
        return DeliveryStatus.EMPTY
    message = build_message(delivery, content)
    message.connection = connection
    attempts = delivery.attempts + 1
    try:
        message.send()
    except Exception as exc:
        retry = _classify(exc) and attempts < MAX_ATTEMPTS
        _record_failure(delivery.pk, exc, retry, attempts, message.subject)
        if connection is not None:  # the next message starts a fresh SMTP session (opened on send)
            connection.close()
        if retry:
            raise TransientError(str(exc)) from exc
        return DeliveryStatus.FAILED
    DigestDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENT,
        attempts=attempts,
        error="",
        subject=message.subject[:200],
        sent_at=timezone.now(),
        updated_at=timezone.now(),
    )
    return DeliveryStatus.SENT


def digests_send_due(*, now: datetime | None = None, connection=None, on_transient=None) -> dict[str, int]:
    """Claim and send every digest due at ``now``. Safe to run at any time, often and concurrently:
    each (person, period) is claimed once. ``on_transient(delivery_id, attempts)`` schedules a retry."""
    now = now or timezone.now()
    users = list(selectors.recipients())
    plans = selectors.plans(users)
    due = {}
    for user in users:
        found = schedule.due_period(plans[user.pk], now)
        if found:
            due[user.pk] = found
    taken = set(
        DigestDelivery.objects.filter(user_id__in=list(due), period__in={p for p, _ in due.values()}).values_list(
            "user_id", "period"
        )
    )
    stats = {"due": len(due), "sent": 0, "empty": 0, "skipped": 0, "retrying": 0, "failed": 0}
    if not {(user_id, period) for user_id, (period, _) in due.items()} - taken:
        return stats
    last = selectors.last_sent(due)
    shared = selectors.shared_content(now)
    own_connection = connection is None
    if own_connection:  # one SMTP session for the whole run
        connection = get_connection()
        connection.open()
    try:
        _send_all(users, due, taken, last, plans, shared, connection, on_transient, stats, now)
    finally:
        if own_connection:
            connection.close()
    return stats


def _send_all(users, due, taken, last, plans, shared, connection, on_transient, stats, now) -> None:
    for user in users:
        if user.pk not in due or (user.pk, due[user.pk][0]) in taken:
            continue
        period, _moment = due[user.pk]
        since = last.get(user.pk) or schedule.previous_due(plans[user.pk], now)
        delivery = claim(user=user, period=period, frequency=plans[user.pk].frequency, since=since)
        if delivery is None:
            stats["skipped"] += 1
            continue
        delivery.user = user
        try:
            content = selectors.digest_content(user, since, shared, time_zone=plans[user.pk].time_zone)
            status = _send(delivery, content, connection)
        except TransientError:
            stats["retrying"] += 1
            if on_transient:
                on_transient(delivery.pk, 1)
            continue
        except Exception as exc:  # one person's broken digest must not stop everyone else's
            logger.exception("Digest %s for %s failed", delivery.pk, user)
            _record_failure(delivery.pk, exc, retry=False, attempts=delivery.attempts + 1)
            status = DeliveryStatus.FAILED
        stats[{"sent": "sent", "empty": "empty"}.get(status, "failed")] += 1


def delivery_retry(*, delivery_id: int, now: datetime | None = None) -> str:
    """Retry a delivery waiting after a transient failure. Only the caller that moves it from
    "waiting to retry" to "sending" sends it, so duplicated retries send once."""
    taken = DigestDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.RETRYING).update(
        status=DeliveryStatus.SENDING, updated_at=timezone.now()
    )
    if not taken:
        return "taken"
    delivery = DigestDelivery.objects.select_related("user").get(pk=delivery_id)
    shared = selectors.shared_content(now or timezone.now())
    plan = selectors.plans([delivery.user])[delivery.user_id]
    try:
        content = selectors.digest_content(delivery.user, delivery.since, shared, time_zone=plan.time_zone)
    except Exception as exc:
        _record_failure(delivery.pk, exc, retry=False, attempts=delivery.attempts + 1)
        raise
    return _send(delivery, content)


def deliveries_retry_stale(*, older_than_minutes: int = 30) -> list[int]:
    """Deliveries waiting to retry whose retry message was lost (a worker or broker restart): the ids
    to retry again. Retrying is claimed, so one already being retried is not sent twice."""
    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    return list(
        DigestDelivery.objects.filter(status=DeliveryStatus.RETRYING, updated_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
