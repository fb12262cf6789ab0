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
from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat, Substr
from django.urls import reverse
from django.utils import timezone

from cxgov.lib import outbox, permissions
from cxgov.lib.emails import templated_email
from cxgov.lib.history import record_as
from cxgov.models import Email, User
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


BATCH_SIZE = 200  # recipients built, stored and sent together: a fixed number of queries a batch


def digests_send_due(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Claim every digest due at ``now`` and put its email in the outbox (a worker sends them, 500
    a run, over one SMTP session), in batches of ``batch_size`` recipients: each batch is claimed,
    built (``selectors.Prefetched``: a fixed number of queries whatever its size) and stored in one
    transaction. Safe to run at any time, often and concurrently: each (person, period) is claimed
    once (a unique row inserted with ON CONFLICT DO NOTHING: a second worker waits for the first
    one's batch to commit, then finds it taken). Needs no mail server: one that is down leaves the
    emails waiting in the outbox, which retries them."""
    now = now or timezone.now()
    users = list(selectors.recipients())
    plans = selectors.plans(users)
    due = {}
    for user in users:
        found = schedule.due_period(plans[user.pk], now)
        # A period whose digest was due before the person joined starts with the next one: nobody
        # gets a weekly digest minutes after their account (or the demo) was created.
        if found and not (found[1] < user.date_joined <= now):
            due[user.pk] = found
    taken = set(
        DigestDelivery.objects.filter(user_id__in=list(due), period__in={p for p, _ in due.values()}).values_list(
            "user_id", "period"
        )
    )
    stats = {"due": len(due), "queued": 0, "empty": 0, "skipped": 0, "failed": 0}
    todo = [user for user in users if user.pk in due and (user.pk, due[user.pk][0]) not in taken]
    if not todo:
        return stats
    last = selectors.last_sent(due)
    shared = selectors.shared_content(now)
    for start in range(0, len(todo), batch_size):
        batch = [
            (user, due[user.pk][0], plans[user.pk], last.get(user.pk) or schedule.previous_due(plans[user.pk], now))
            for user in todo[start : start + batch_size]
        ]
        try:
            outcome = _batch_claim_and_queue(batch, shared)
        except Exception:  # e.g. an email key already stored: this batch one by one, as before
            logger.exception("Digest batch could not be stored at once; storing it one by one")
            outcome = {user.pk: _one(user, period, plan, since, shared) for user, period, plan, since in batch}
        for status in outcome.values():
            stats[status] += 1
    if stats["queued"]:
        transaction.on_commit(outbox.dispatch)  # the outbox worker sends them, 500 a session
    return stats


def _claim_many(batch: list[tuple]) -> dict[int, int]:
    """Insert the deliveries of a batch, skipping (person, period) already claimed by anyone:
    ``{user_id: delivery_id}`` of those this run won. A concurrent worker inserting the same row
    waits for this transaction and then skips it (the unique constraint)."""
    table = DigestDelivery._meta.db_table
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    rows, params = [], []
    for user, period, plan, since in batch:
        rows.append("(%s, %s, %s, %s, '', '', %s, %s, %s)")
        since = ops.adapt_datetimefield_value(since)
        params += [user.pk, period, plan.frequency, DeliveryStatus.QUEUED, since, now, now]
    sql = (
        f"INSERT INTO {table} (user_id, period, frequency, status, error, subject, since, claimed_at, updated_at) "  # noqa: S608 - fixed names
        f"VALUES {', '.join(rows)} ON CONFLICT (user_id, period) DO NOTHING RETURNING id, user_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {user_id: pk for pk, user_id in cursor.fetchall()}


def _batch_claim_and_queue(batch: list[tuple], shared: dict) -> dict[int, str]:
    """One batch in one transaction: claim, build each won digest from one prefetch, store the
    emails in the outbox and the deliveries' outcome; each person's outcome. A digest that cannot
    be built is recorded as failed; the others go."""
    outcome: dict[int, str] = {}
    with transaction.atomic():
        won = _claim_many(batch)
        for user, _, _, _ in batch:
            if user.pk not in won:
                outcome[user.pk] = "skipped"
        mine = [entry for entry in batch if entry[0].pk in won]
        if not mine:
            return outcome
        prefetched = selectors.Prefetched([(user, since, plan.time_zone) for user, _, plan, since in mine], shared)
        messages, subjects, empty, failed = [], {}, [], {}
        for user, period, plan, since in mine:
            try:
                content = selectors.digest_content(user, since, shared, time_zone=plan.time_zone, prefetched=prefetched)
                if content["empty"]:
                    empty.append(won[user.pk])
                    outcome[user.pk] = DeliveryStatus.EMPTY
                    continue
                fields = {"user": user, "period": period, "frequency": plan.frequency, "since": since}
                message = build_message(DigestDelivery(**fields), content)
            except Exception as exc:  # one person's broken digest must not stop everyone else's
                logger.exception("Digest %s for %s could not be built", period, user)
                failed[won[user.pk]] = f"{type(exc).__name__}: {exc}"[:2000]
                outcome[user.pk] = DeliveryStatus.FAILED
                continue
            messages.append((f"digest:{user.pk}:{period}", message))
            subjects[user.pk] = message.subject[:200]
            outcome[user.pk] = DeliveryStatus.QUEUED
        if messages:
            outbox.enqueue_many(messages, kind="digest")
            # Each delivery is linked to its email by the email's key, in one UPDATE.
            email = Email.objects.filter(
                key=Concat(Value("digest:"), Cast(OuterRef("user_id"), CharField()), Value(":"), OuterRef("period"))
            )
            DigestDelivery.objects.filter(pk__in=[won[user_id] for user_id in subjects]).update(
                email_id=Subquery(email.values("pk")[:1]),
                subject=Subquery(email.values(short=Substr("subject", 1, 200))[:1]),
            )
        if empty:
            DigestDelivery.objects.filter(pk__in=empty).update(status=DeliveryStatus.EMPTY)
        for pk, error in failed.items():  # rare: one query each
            DigestDelivery.objects.filter(pk=pk).update(status=DeliveryStatus.FAILED, error=error)
    return outcome


def _one(user: User, period: str, plan, since: datetime, shared: dict) -> str:
    """One digest on its own (the fallback when its batch could not be stored at once)."""
    try:
        return _claim_and_queue(user, period, plan, since, shared)
    except Exception as exc:  # one person's broken digest must not stop everyone else's
        logger.exception("Digest %s for %s could not be built", period, user)
        failed = claim(user=user, period=period, frequency=plan.frequency, since=since)
        if failed is None:
            return "skipped"
        DigestDelivery.objects.filter(pk=failed.pk).update(
            status=DeliveryStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        return DeliveryStatus.FAILED


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
