"""Writes for digests: schedules, and sending each person's digest exactly once per period.

Each due digest is claimed as a ``DigestDelivery`` row (unique per person and period) and its email
stored in the outbox in the same transaction: a second worker, a second beat or a retried task finds
the row taken and does nothing, and a worker that dies half-way leaves nothing behind, so the next
beat claims it again. Sending, retrying with back-off and reporting are the outbox's."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from cxgov.lib import outbox, permissions
from cxgov.lib.emails import templated_email
from cxgov.lib.history import record_as
from cxgov.models import User
from digests import schedule, selectors
from digests.models import DeliveryStatus, DigestDefault, DigestDelivery, DigestPreference, Frequency

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "digests.unsubscribe"
UNSUBSCRIBE_LINK_DAYS = 60


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
    if not permissions.can_configure_organisation(user):
        raise PermissionDenied("Only administrators set the digest defaults.")
    default = DigestDefault.objects.filter(role=role).first() or DigestDefault(role=role)
    for key, value in fields.items():
        setattr(default, key, value)
    default.full_clean()
    record_as(default, user).save()
    return default


def unsubscribe_token(user: User) -> str:
    """A signed, timestamped token naming the person (signing.dumps stamps the time)."""
    return signing.dumps(user.pk, salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(user: User) -> str:
    return settings.SITE_URL + reverse("digest-unsubscribe", args=[unsubscribe_token(user)])


class UnsubscribeLinkExpired(PermissionDenied):
    """The link was genuine but is older than UNSUBSCRIBE_LINK_DAYS."""


def unsubscribe_person(*, token: str) -> User:
    """Whose unsubscribe link this is. Raises PermissionDenied when it is not a valid one, and
    UnsubscribeLinkExpired when it is older than UNSUBSCRIBE_LINK_DAYS days: an old email that
    leaked (forwarded, archived) must not keep working for ever."""
    try:
        pk = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=timedelta(days=UNSUBSCRIBE_LINK_DAYS))
    except signing.SignatureExpired:
        raise UnsubscribeLinkExpired(f"This unsubscribe link is more than {UNSUBSCRIBE_LINK_DAYS} days old.") from None
    except signing.BadSignature:
        raise PermissionDenied("This unsubscribe link is not valid.") from None
    user = User.objects.filter(pk=pk).first()
    if user is None:
        raise PermissionDenied("This unsubscribe link is not valid.")
    return user


def unsubscribe(*, token: str) -> User:
    """Turn a person's digest off from the signed link in an email (no login needed)."""
    user = unsubscribe_person(token=token)
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


def claim(*, user: User, period: str, frequency: str, since: datetime) -> DigestDelivery | None:
    """Insert the delivery for (person, period), or None if someone already has."""
    try:
        with transaction.atomic():
            return DigestDelivery.objects.create(user=user, period=period, frequency=frequency, since=since)
    except IntegrityError:
        return None


def digests_send_due(*, now: datetime | None = None) -> dict[str, int]:
    """Claim every digest due at ``now`` and put its email in the outbox (a worker sends them all in
    one SMTP session). Safe to run at any time, often and concurrently: each (person, period) is
    claimed once. Needs no mail server: one that is down leaves the emails waiting in the outbox."""
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
    stats = {"due": len(due), "queued": 0, "empty": 0, "skipped": 0, "failed": 0}
    if not {(user_id, period) for user_id, (period, _) in due.items()} - taken:
        return stats
    last = selectors.last_sent(due)
    shared = selectors.shared_content(now)
    for user in users:
        if user.pk not in due or (user.pk, due[user.pk][0]) in taken:
            continue
        period, _moment = due[user.pk]
        since = last.get(user.pk) or schedule.previous_due(plans[user.pk], now)
        try:
            status = _claim_and_queue(user, period, plans[user.pk], since, shared)
        except Exception as exc:  # one person's broken digest must not stop everyone else's
            logger.exception("Digest %s for %s could not be built", period, user)
            failed = claim(user=user, period=period, frequency=plans[user.pk].frequency, since=since)
            if failed is None:
                status = "skipped"
            else:
                DigestDelivery.objects.filter(pk=failed.pk).update(
                    status=DeliveryStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]
                )
                status = DeliveryStatus.FAILED
        stats[status] += 1
    if stats["queued"]:
        transaction.on_commit(outbox.dispatch)
    return stats


def _claim_and_queue(user: User, period: str, plan, since: datetime, shared: dict) -> str:
    fields = {"user": user, "period": period, "frequency": plan.frequency, "since": since}
    try:
        with transaction.atomic():  # the claim and its email in the outbox, together or not at all
            content = selectors.digest_content(user, since, shared, time_zone=plan.time_zone)
            if content["empty"]:
                DigestDelivery.objects.create(**fields, status=DeliveryStatus.EMPTY)
                return DeliveryStatus.EMPTY
            message = build_message(DigestDelivery(**fields), content)
            email = outbox.enqueue(message, kind="digest", key=f"digest:{user.pk}:{period}", send=False)
            DigestDelivery.objects.create(**fields, email=email, subject=message.subject[:200])
            return DeliveryStatus.QUEUED
    except IntegrityError:  # someone else claimed it first; what this run stored for it is undone
        return "skipped"
