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


class Prefetched:
    """Everything the digests of a batch of readers need that is not shared by the whole run, read
    with a fixed number of queries whatever the number of readers (one more set of three for each
    distinct local date among them, at most three as time zones span a day): their functions,
    open action items (per function, the first ``LIST_LIMIT`` overdue and due soon and the overdue
    count), issue history since the earliest ``since``, unowned issues and the alerts that concern
    them. ``digest_content`` assembles each reader's digest from it in Python."""

    def __init__(self, readers: list[tuple[User, datetime, str | None]], shared: dict):
        from zoneinfo import ZoneInfo

        now = shared["now"]
        self.now = now
        users = [user for user, _, _ in readers if permissions.is_active_user(user)]
        self.function_ids = _function_ids(users)
        self.today = {user.pk: now.astimezone(ZoneInfo(zone or settings.TIME_ZONE)).date() for user, _, zone in readers}
        by_today: dict = {}
        for user in users:
            by_today.setdefault(self.today[user.pk], set()).update(self.function_ids[user.pk])
        self.items = {today: _items_of(functions, today) for today, functions in by_today.items() if functions}
        sinces = [since for user, since, _ in readers if self.function_ids.get(user.pk)]
        all_functions = set().union(*self.function_ids.values()) if self.function_ids else set()
        self.history = _history(all_functions, min(sinces), max(sinces), now) if sinces else ([], [], {})
        self.unowned = None
        if any(permissions.can_assign_issues(user) for user in users):
            from rootcause.models import CLOSED_STATES, Issue

            self.unowned = list(
                Issue.objects.exclude(state__in=CLOSED_STATES)
                .filter(function__isnull=True)
                .order_by("-pk")[:LIST_LIMIT]
            )
        self.alerts = _alerts_of(users, self.function_ids, min((s for _, s, _ in readers), default=now), now)

    @classmethod
    def of(cls, user: User, since: datetime, shared: dict, time_zone: str | None) -> Prefetched:
        return cls([(user, since, time_zone)], shared)


def _function_ids(users: list[User]) -> dict[int, frozenset[int]]:
    """``permissions.function_ids`` of many people in two queries (and cached on each, as it does)."""
    from cxgov.models import Function, Membership

    found: dict[int, set[int]] = {user.pk: set() for user in users}
    for leader_id, pk in Function.objects.filter(leader__in=users).order_by().values_list("leader_id", "pk"):
        found[leader_id].add(pk)
    for person_id, pk in Membership.objects.filter(person__in=users).order_by().values_list("person_id", "function_id"):
        found[person_id].add(pk)
    result = {}
    for user in users:
        cached = getattr(user, "_cxgov_function_ids", None)
        if cached is None:
            cached = user._cxgov_function_ids = frozenset(found[user.pk])
        result[user.pk] = cached
    return result


def _items_of(function_ids: set[int], today) -> dict:
    """Open action items of these functions as seen on ``today``: per function the overdue count and
    the first LIST_LIMIT overdue and due-soon items (by due date then id), three queries. A
    reader's first LIST_LIMIT over several functions are among their functions' first LIST_LIMIT."""
    from django.db.models import Count, F, Window
    from django.db.models.functions import RowNumber

    from rootcause.models import CLOSED_STATES, ActionItem, ActionStatus

    items = (
        ActionItem.objects.exclude(status=ActionStatus.DONE)
        .exclude(issue__state__in=CLOSED_STATES)
        .filter(function_id__in=list(function_ids))
    )
    overdue = items.filter(due_date__lt=today)
    soon = items.filter(due_date__gte=today, due_date__lte=today + timedelta(days=SOON_DAYS))
    ranked = Window(RowNumber(), partition_by=[F("function_id")], order_by=[F("due_date").asc(), F("pk").asc()])

    def first(queryset) -> dict[int, list]:
        rows = (
            queryset.annotate(rank=ranked)
            .filter(rank__lte=LIST_LIMIT)
            .select_related("issue", "function", "owner")
            .order_by("due_date", "pk")
        )
        per_function: dict[int, list] = {}
        for item in rows:
            per_function.setdefault(item.function_id, []).append(item)
        return per_function

    counts = dict(overdue.values("function_id").annotate(n=Count("pk")).order_by().values_list("function_id", "n"))
    return {"overdue": first(overdue), "overdue_count": counts, "soon": first(soon)}


def _history(function_ids: set[int], earliest: datetime, latest: datetime, now: datetime) -> tuple:
    """Issue history for ``_newly_assigned`` over every reader's window, three queries: the rows
    moving an issue to one of these functions after ``earliest``, the rows of those issues up to
    ``latest`` (what each issue's function was at a reader's ``since``), and those issues if open."""
    from rootcause.models import CLOSED_STATES, Issue

    history = Issue.history.model.objects
    recent = list(
        history.filter(history_date__gt=earliest, history_date__lte=now, function_id__in=list(function_ids))
        .order_by()
        .values_list("id", "function_id", "history_date")
    )
    if not recent:
        return [], [], {}
    ids = {pk for pk, _, _ in recent}
    earlier = list(
        history.filter(id__in=ids, history_date__lte=latest)
        .order_by("history_date")
        .values_list("id", "function_id", "history_date")
    )
    issues = list(
        Issue.objects.filter(pk__in=ids).exclude(state__in=CLOSED_STATES).select_related("function").order_by("-pk")
    )
    return recent, earlier, issues


def _alerts_of(users: list[User], function_ids: dict, earliest: datetime, now: datetime) -> list[tuple]:
    """The alerts that may concern these readers (firing, or resolved after the earliest ``since``),
    newest first, each with the readers it concerns by ``alerts.selectors.concerning``'s three
    ways: its metric's owner is one of their functions, they subscribe to its rule, or a notice
    about it was sent to them. Three queries."""
    from django.db.models import Exists, OuterRef

    from alerts.models import Alert, AlertRule, Delivery

    if not users:
        return []
    owners = set().union(*function_ids.values())
    subscription = AlertRule.subscribers.through.objects.filter(alertrule_id=OuterRef("rule_id"), user__in=users)
    told = Delivery.objects.filter(alert=OuterRef("pk"), recipient__in=users)
    alerts = list(
        Alert.objects.filter(Q(state="firing") | Q(resolved_at__gt=earliest, resolved_at__lte=now))
        .filter(Q(metric__owning_function_id__in=list(owners)) | Q(Exists(subscription)) | Q(Exists(told)))
        .select_related("metric", "rule")
        .order_by("-fired_at", "-pk")
    )
    if not alerts:
        return []
    subscribers: dict[int, set[int]] = {}
    for rule_id, user_id in AlertRule.subscribers.through.objects.filter(
        user__in=users, alertrule_id__in={a.rule_id for a in alerts}
    ).values_list("alertrule_id", "user_id"):
        subscribers.setdefault(rule_id, set()).add(user_id)
    recipients: dict[int, set[int]] = {}
    for alert_id, user_id in Delivery.objects.filter(
        recipient__in=users, alert_id__in=[a.pk for a in alerts]
    ).values_list("alert_id", "recipient_id"):
        recipients.setdefault(alert_id, set()).add(user_id)
    return [(alert, subscribers.get(alert.rule_id, set()) | recipients.get(alert.pk, set())) for alert in alerts]


def digest_content(
    user: User, since: datetime, shared: dict, time_zone: str | None = None, prefetched: Prefetched | None = None
) -> dict:
    """A person's digest: only what concerns them and what they may see, with dates as they are in
    the reader's time zone. ``empty`` is True when nothing in it calls for attention (such a digest
    is not sent). ``prefetched`` holds what a batch of readers needs (read for this one alone when
    not given); assembling a digest from it runs no query."""
    from zoneinfo import ZoneInfo

    data = prefetched or Prefetched.of(user, since, shared, time_zone)
    now = shared["now"]
    zone = ZoneInfo(time_zone or settings.TIME_ZONE)
    today = now.astimezone(zone).date()
    function_ids = data.function_ids.get(user.pk, frozenset())
    items = data.items.get(today, {"overdue": {}, "overdue_count": {}, "soon": {}})

    def first(per_function: dict, limit: int) -> list:
        mine = [item for pk in function_ids for item in per_function.get(pk, [])]
        return sorted(mine, key=lambda item: (item.due_date, item.pk))[:limit]

    overdue = first(items["overdue"], LIST_LIMIT)
    overdue_count = sum(items["overdue_count"].get(pk, 0) for pk in function_ids)
    soon = first(items["soon"], LIST_LIMIT)
    assigned = _newly_assigned(function_ids, since, data.history) if function_ids else []
    unowned = list(data.unowned) if permissions.can_assign_issues(user) else []
    moved = [
        m for m in shared["metrics"] if (m.north_star or m.owning_function_id in function_ids) and m.latest is not None
    ]
    for metric in moved:
        metric.fresh = bool(metric.latest_period and metric.latest_period >= since.date())
        metric.previous = metric.spark[-2] if len(metric.spark) > 1 else None
        peak = max((abs(v) for v in metric.spark), default=0) or 1
        metric.bars = [max(2, round(abs(v) / peak * 40)) for v in metric.spark]
    vital = _vital_changes(shared["snapshots"], since)
    alerts = _alerts(user, function_ids, since, now, data.alerts)
    content = {
        "user": user,
        "since": since,
        "overdue": overdue,
        "overdue_count": overdue_count,
        "overdue_more": overdue_count - len(overdue),
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


def _newly_assigned(function_ids, since: datetime, history: tuple) -> list:
    """Open issues whose owning function became one of these between ``since`` and ``now`` (from
    their history)."""
    recent, earlier, issues = history
    ids = {pk for pk, function_id, when in recent if when > since and function_id in function_ids}
    if not ids:
        return []
    before = {}
    for pk, function_id, when in earlier:
        if pk in ids and when <= since:
            before[pk] = function_id
    mine = [issue for issue in issues if issue.pk in ids and issue.function_id in function_ids][: LIST_LIMIT * 3]
    return [issue for issue in mine if before.get(issue.pk) != issue.function_id][:LIST_LIMIT]


def _alerts(user: User, function_ids, since: datetime, now: datetime, candidates: list[tuple]) -> list:
    """The alerts that concern the reader (the same rule as the home page and the inbox,
    ``alerts.selectors.concerning``): every one still firing, and those that resolved in the window."""
    if not permissions.is_active_user(user):
        return []
    found = []
    for alert, people in candidates:
        if not (alert.state == "firing" or (alert.resolved_at and since < alert.resolved_at <= now)):
            continue
        if alert.metric.owning_function_id in function_ids or user.pk in people:
            found.append(alert)
            if len(found) == LIST_LIMIT:
                break
    return found
