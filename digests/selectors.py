"""Reads for digests: whose schedule is what, what goes into a person's digest, delivery history."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from cxgov.lib import permissions
from cxgov.models import EmailStatus, User
from digests.models import DeliveryStatus, DigestDefault, DigestDelivery, DigestPreference, Frequency
from digests.schedule import Plan

SOON_DAYS = 7
LIST_LIMIT = 10

BUILT_IN = DigestDefault.BUILT_IN


def _plan(schedule) -> Plan:
    return Plan(schedule.frequency, schedule.weekday, schedule.day_of_month, schedule.hour, schedule.time_zone)


def plans(users: list[User]) -> dict[int, Plan]:
    """Each person's schedule: their own, else their role's default, else the built-in one (two queries)."""
    own = {p.user_id: p for p in DigestPreference.objects.filter(user__in=users)}
    defaults = {d.role: d for d in DigestDefault.objects.all()}
    result = {}
    for user in users:
        role = permissions.role_of(user)
        chosen = own.get(user.pk) or defaults.get(role)
        result[user.pk] = (
            _plan(chosen) if chosen else Plan(BUILT_IN.get(role, Frequency.WEEKLY), time_zone=settings.TIME_ZONE)
        )
    return result


def recipients() -> QuerySet[User]:
    return User.objects.filter(is_active=True).exclude(email="").order_by("pk")


STATES = [
    ("sent", "Sent"),
    ("waiting", "Waiting to be sent"),
    ("empty", "Nothing to report (not sent)"),
    ("failed", "Failed"),
]


def in_state(deliveries: QuerySet[DigestDelivery], state: str) -> QuerySet[DigestDelivery]:
    """The deliveries in one of ``STATES`` (see ``DigestDelivery.state``); any other value: all."""
    queued = Q(status=DeliveryStatus.QUEUED)
    match state:
        case "sent":
            return deliveries.filter(queued & (Q(email__isnull=True) | Q(email__status=EmailStatus.SENT)))
        case "waiting":
            return deliveries.filter(queued, email__status__in=[EmailStatus.WAITING, EmailStatus.SENDING])
        case "empty":
            return deliveries.filter(status=DeliveryStatus.EMPTY)
        case "failed":
            return deliveries.filter(Q(status=DeliveryStatus.FAILED) | (queued & Q(email__status=EmailStatus.FAILED)))
    return deliveries


def recent_failures() -> QuerySet[DigestDelivery]:
    """Deliveries that could not be built or whose email failed for good, in the last week (emails
    still waiting are reported by the outbox)."""
    return in_state(DigestDelivery.objects.all(), "failed").filter(claimed_at__gte=timezone.now() - timedelta(days=7))


def last_sent(user_ids) -> dict[int, datetime]:
    """When each person's previous digest was claimed (what it covered ends there)."""
    rows = (
        DigestDelivery.objects.filter(
            user_id__in=list(user_ids), status__in=[DeliveryStatus.QUEUED, DeliveryStatus.EMPTY]
        )
        .order_by("user_id", "claimed_at")
        .values_list("user_id", "claimed_at")
    )
    return dict(rows)


# --- Content ------------------------------------------------------------------------------------


def shared_content(now: datetime) -> dict:
    """What every digest of this run may show, read once: metrics with their latest values, the
    North Star, and Pareto snapshots (vital-few changes)."""
    from metrics.selectors import metric_list
    from outcomes.selectors import ledger_headline
    from rootcause.models import ParetoSnapshot

    metrics = metric_list()
    snapshots = list(ParetoSnapshot.objects.order_by("created_at", "pk").only("filters", "rows", "created_at"))
    return {"metrics": metrics, "snapshots": snapshots, "now": now, "ledger": ledger_headline()}


def _vital_changes(snapshots, since: datetime) -> list[dict]:
    """Snapshots saved since the last digest whose vital few differ from the one before (same filters)."""
    previous: dict[str, object] = {}
    changes = []
    for snap in snapshots:
        key = repr(sorted(snap.filters.items()))
        before = previous.get(key)
        if snap.created_at > since and before is not None:
            entered = sorted(snap.vital_labels - before.vital_labels)
            left = sorted(before.vital_labels - snap.vital_labels)
            if entered or left:
                changes.append({"snapshot": snap, "entered": entered, "left": left})
        previous[key] = snap
    return changes


def digest_content(user: User, since: datetime, shared: dict, time_zone: str | None = None) -> dict:
    """A person's digest: only what concerns them and what they may see, with dates as they are in
    the reader's time zone. ``empty`` is True when nothing in it calls for attention (such a digest
    is not sent)."""
    from zoneinfo import ZoneInfo

    from rootcause.models import CLOSED_STATES, ActionItem, ActionStatus, Issue

    now = shared["now"]
    zone = ZoneInfo(time_zone or settings.TIME_ZONE)
    today = now.astimezone(zone).date()
    function_ids = permissions.function_ids(user)
    items = (
        ActionItem.objects.exclude(status=ActionStatus.DONE)
        .exclude(issue__state__in=CLOSED_STATES)
        .filter(function_id__in=function_ids)
        .select_related("issue", "function", "owner")
        .order_by("due_date", "pk")
    )
    overdue_items = items.filter(due_date__lt=today)
    overdue = list(overdue_items[: LIST_LIMIT + 1])
    overdue_count = overdue_items.count() if len(overdue) > LIST_LIMIT else len(overdue)
    soon = list(items.filter(due_date__gte=today, due_date__lte=today + timedelta(days=SOON_DAYS))[:LIST_LIMIT])
    assigned = _newly_assigned(function_ids, since, now) if function_ids else []
    unowned = []
    if permissions.can_assign_issues(user):
        unowned = list(
            Issue.objects.exclude(state__in=CLOSED_STATES).filter(function__isnull=True).order_by("-pk")[:LIST_LIMIT]
        )
    moved = [
        m for m in shared["metrics"] if (m.north_star or m.owning_function_id in function_ids) and m.latest is not None
    ]
    for metric in moved:
        metric.fresh = bool(metric.latest_period and metric.latest_period >= since.date())
        metric.previous = metric.spark[-2] if len(metric.spark) > 1 else None
        peak = max((abs(v) for v in metric.spark), default=0) or 1
        metric.bars = [max(2, round(abs(v) / peak * 40)) for v in metric.spark]
    vital = _vital_changes(shared["snapshots"], since)
    alerts = _alerts(user, function_ids, since, now)
    content = {
        "user": user,
        "since": since,
        "overdue": overdue[:LIST_LIMIT],
        "overdue_count": overdue_count,
        "overdue_more": overdue_count - len(overdue[:LIST_LIMIT]),
        "soon": soon,
        "time_zone": zone.key,
        "assigned": assigned,
        "unowned": unowned,
        "metrics": moved,
        "vital": vital,
        "alerts": alerts,
        # The value ledger's headline, the same for every reader (read once per run).
        "ledger": shared.get("ledger"),
    }
    content["empty"] = not (overdue or soon or assigned or unowned or vital or alerts or any(m.fresh for m in moved))
    return content


def _newly_assigned(function_ids, since: datetime, now: datetime) -> list:
    """Open issues whose owning function became one of these between ``since`` and ``now`` (from
    their history)."""
    from rootcause.models import CLOSED_STATES, Issue

    history = Issue.history.model.objects
    recent = list(
        history.filter(history_date__gt=since, history_date__lte=now, function_id__in=function_ids)
        .values_list("id", "function_id")
        .distinct()
    )
    if not recent:
        return []
    ids = {pk for pk, _ in recent}
    before = {}
    for pk, function_id in (
        history.filter(id__in=ids, history_date__lte=since).order_by("history_date").values_list("id", "function_id")
    ):
        before[pk] = function_id
    issues = Issue.objects.filter(pk__in=ids, function_id__in=function_ids).exclude(state__in=CLOSED_STATES)
    return [
        issue
        for issue in issues.select_related("function").order_by("-pk")[: LIST_LIMIT * 3]
        if before.get(issue.pk) != issue.function_id
    ][:LIST_LIMIT]


def _alerts(user: User, function_ids, since: datetime, now: datetime) -> list:
    """The alerts that concern the reader (the same selector as the home page and the inbox):
    every one still firing, and those that resolved in the window."""
    from django.db.models import Q

    from alerts.models import Alert
    from alerts.selectors import concerning

    now_or_window = Q(state="firing") | Q(resolved_at__gt=since, resolved_at__lte=now)
    alerts = Alert.objects.filter(concerning(user)).filter(now_or_window).select_related("metric", "rule")
    return list(alerts.order_by("-fired_at", "-pk")[:LIST_LIMIT])
