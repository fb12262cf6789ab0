"""Reads of alerts, each with a fixed number of queries whatever the data size."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Case, Count, Exists, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from alerts import evaluation
from alerts.models import Alert, AlertEvent, AlertRule, AlertState, Delivery, Evaluation, EvaluationStatus
from cxgov.lib import permissions
from metrics.models import Metric, MetricValue

SCOPES = {"mine": "Concerning me", "functions": "My functions'", "all": "All"}


def concerning(user) -> Q:
    """THE answer to "which alerts concern this person", used by the home page, the inbox and the
    digest alike: alerts on metrics their functions own, alerts of rules they subscribe to, and
    alerts a notice was sent to them about."""
    if not permissions.is_active_user(user):
        return Q(pk__in=[])
    return (
        Q(metric__owning_function_id__in=permissions.function_ids(user))
        | Q(Exists(AlertRule.subscribers.through.objects.filter(alertrule_id=OuterRef("rule_id"), user_id=user.pk)))
        | Q(Exists(Delivery.objects.filter(alert=OuterRef("pk"), recipient_id=user.pk)))
    )


def firing_concerning(user) -> QuerySet[Alert]:
    """The firing alerts that concern ``user``, most severe first then newest (home page summary,
    digest)."""
    severity = Case(When(severity="critical", then=Value(0)), When(severity="warning", then=Value(1)), default=Value(2))
    return (
        Alert.objects.filter(concerning(user), state=AlertState.FIRING)
        .select_related("rule", "metric__owning_function", "acknowledged_by")
        .annotate(
            unread=Exists(Delivery.objects.filter(alert=OuterRef("pk"), recipient=user, read_at__isnull=True)),
            rank=severity,
        )
        .order_by("rank", "-fired_at", "-pk")
    )


def rule_list(*, metric: Metric) -> list[AlertRule]:
    """A metric's rules with their subscribers and open episode (``rule.open_alert``)."""
    rules = list(
        AlertRule.objects.filter(metric=metric)
        .select_related("metric")
        .prefetch_related(
            "subscribers",
            Prefetch("alerts", queryset=Alert.objects.filter(state=AlertState.FIRING), to_attr="open_alerts"),
        )
        .order_by("name")
    )
    for rule in rules:
        rule.open_alert = rule.open_alerts[0] if rule.open_alerts else None
    return rules


def rule_index() -> list[Metric]:
    """Every metric with its alert rules (``metric.rule_rows``, open episode as ``rule.open_alert``),
    metrics with rules first: the Alerts menu's list of rules. Three queries however many."""
    metrics = list(
        Metric.objects.select_related("owning_function")
        .prefetch_related(
            Prefetch(
                "alert_rules",
                queryset=AlertRule.objects.order_by("name").prefetch_related(
                    Prefetch("alerts", queryset=Alert.objects.filter(state=AlertState.FIRING), to_attr="open_alerts")
                ),
                to_attr="rule_rows",
            )
        )
        .order_by("name")
    )
    for metric in metrics:
        for rule in metric.rule_rows:
            rule.open_alert = rule.open_alerts[0] if rule.open_alerts else None
            rule.metric = metric
    return sorted(metrics, key=lambda m: not m.rule_rows)


def rule_preview(*, rule: AlertRule, today=None) -> dict:
    """Where an unsaved rule would have fired over its metric's history: the evaluation engine
    (alerts/evaluation.py) run as saving the rule and replaying its history would run it (every
    complete period from the first value), with nothing written. ``rule`` has passed
    ``services.rule_check``. Returns the episodes (oldest first; the last may still be open, i.e.
    it would fire on saving), the verdict ("cannot judge yet"...) and the chart of the rule page."""
    metric = rule.metric
    today = today or timezone.localdate()
    current = evaluation.period_of(today, metric.granularity)
    known = {
        period: (value, n)
        for period, value, n in MetricValue.objects.filter(
            metric=metric, segment=rule.segment, period_start__lt=current
        ).values_list("period_start", "value", "sample_size")
    }
    start = min(known, default=today)
    periods = evaluation.complete_periods(start, today, metric.granularity)
    points = evaluation.Series([evaluation.Point(p, *known.get(p, (None, None))) for p in periods])
    conditions = evaluation.checks_array(rule, metric, points, metric.granularity)
    found = evaluation.episodes_array(rule, conditions)
    verdict, note = evaluation.verdict(rule, metric, points, conditions)
    rows = [
        {
            "opened": points[e.opened].period,
            "resolved": points[e.resolved].period if e.resolved is not None else None,
            "why": "; ".join(e.notes[i] for i in e.trigger if e.notes.get(i)),
        }
        for e in found
    ]
    triples = [(None, r["opened"], r["resolved"]) for r in rows]
    return {
        "episodes": rows,
        "open": bool(rows) and rows[-1]["resolved"] is None,
        "periods": len(points),
        "with_values": len(known),
        "verdict": verdict,
        "verdict_note": note,
        "chart": rule_chart(rule=rule, metric=metric, episodes=triples),
    }


def rule_episodes(*, rule: AlertRule, limit: int = 200) -> list[Alert]:
    """The rule's episodes, newest first, history included (one query)."""
    return list(Alert.objects.filter(rule=rule).order_by("-opened_period", "-pk")[:limit])


def alert_list(*, user, scope: str = "all", state: str = "", metric_id: int | None = None) -> QuerySet[Alert]:
    """Alerts for the inbox: ``mine`` (those that concern me: see ``concerning``), ``functions``
    (metrics owned by my functions) or ``all``;
    ``alert.unread`` when a notice of it to ``user`` has not been opened."""
    alerts = Alert.objects.select_related("rule", "metric__owning_function", "acknowledged_by").annotate(
        unread=Exists(Delivery.objects.filter(alert=OuterRef("pk"), recipient=user, read_at__isnull=True))
    )
    if scope == "mine":
        alerts = alerts.filter(concerning(user))
    elif scope == "functions":
        alerts = alerts.filter(metric__owning_function_id__in=permissions.function_ids(user))
    if state in AlertState.values:
        alerts = alerts.filter(state=state)
    if metric_id:
        alerts = alerts.filter(metric_id=metric_id)
    return alerts.order_by("-fired_at", "-pk")


def alert_detail(*, pk: int) -> Alert:
    return (
        Alert.objects.select_related("rule", "metric__owning_function__leader", "acknowledged_by")
        .prefetch_related(
            Prefetch("events", queryset=AlertEvent.objects.select_related("by").order_by("at", "pk")),
            Prefetch(
                "deliveries", queryset=Delivery.objects.select_related("recipient", "email").order_by("kind", "pk")
            ),
        )
        .get(pk=pk)
    )


def alert_chart(*, alert: Alert) -> dict:
    """The chart of an alert: its rule's chart, with this alert's own limits (those it was judged
    with, as stored when it fired) drawn, not today's."""
    return rule_chart(rule=alert.rule, metric=alert.metric, alert=alert)


def rule_chart(*, rule: AlertRule, metric: Metric, alert: Alert | None = None, episodes: list | None = None) -> dict:
    """The metric's values (the rule's segment) with every episode of the rule marked (where it
    fired and resolved, history included). Control limits: the alert's stored ones when drawing an
    alert, otherwise the rule's current limits (marked provisional when they are). ``episodes``
    ((id, opened, resolved) triples) replaces the recorded ones: a preview of an unsaved rule."""
    values = list(
        MetricValue.objects.filter(metric=metric, segment=rule.segment)
        .order_by("period_start")
        .values_list("period_start", "value", "sample_size")
    )
    if episodes is None:
        episodes = list(
            Alert.objects.filter(rule=rule)
            .order_by("opened_period")
            .values_list("pk", "opened_period", "resolved_period")
        )
    labels = [p.isoformat() for p, _, _ in values]
    index = {p: i for i, (p, _, _) in enumerate(values)}

    def marks(pick) -> list:
        out = [None] * len(values)
        for pk, opened, resolved in episodes:
            period = pick(opened, resolved)
            if period in index:
                out[index[period]] = {"this": alert is not None and pk == alert.pk}
        return out

    fired = [round(values[i][1], 4) if m else None for i, m in enumerate(marks(lambda o, r: o))]
    resolved = [round(values[i][1], 4) if m else None for i, m in enumerate(marks(lambda o, r: r))]
    chart = {
        "labels": labels,
        "values": [round(v, 4) for _, v, _ in values],
        "fired": fired,
        "resolved": resolved,
        "this": alert.opened_period.isoformat() if alert else None,
        "unit": metric.unit,
        "limits": None,
        "lines": [],
    }
    if rule.kind in ("threshold", "target"):
        lines = [("Target", metric.target, "#198754")]
        if rule.kind == "threshold":
            lines += [
                ("Amber threshold", metric.amber_threshold, "#ffc107"),
                ("Red threshold", metric.red_threshold, "#dc3545"),
            ]
        chart["lines"] = [{"label": label, "value": v, "color": c} for label, v, c in lines if v is not None]
    if rule.kind != "control" or not values:
        return chart
    if alert is not None and alert.limits:
        chart["limits"] = _stored_limits(alert.limits, values)
        return chart
    points = [evaluation.Point(p, v, n) for p, v, n in values]
    try:
        drawn = evaluation.control_chart(rule, metric.calculator, points)
    except ValueError:
        return chart
    centre, upper, lower = [None] * len(values), [None] * len(values), [None] * len(values)
    for j, i in enumerate(drawn.known):
        limits = drawn.limits_at(j)
        centre[i], upper[i], lower[i] = round(limits["centre"], 4), round(limits["upper"], 4), round(limits["lower"], 4)
    label = "provisional limits today" if drawn.provisional else "limits today"
    chart["limits"] = {"kind": drawn.kind, "centre": centre, "upper": upper, "lower": lower, "label": label}
    return chart


def _stored_limits(stored: dict, values: list[tuple]) -> dict:
    """The limits an alert was judged with, over the whole chart: constant for individuals and
    c-charts; for p-charts the stored centre with each period's own sample size (and the stored
    Laney factor), as the chart had them when the alert fired."""
    kind, centre = stored["chart"], stored["centre"]
    upper, lower = [], []
    for _, _value, n in values:
        if kind in ("p", "laney") and n:
            p = centre / 100
            sigma = (p * (1 - p) / n) ** 0.5 * (stored.get("sigma_z") or 1) * 100
            upper.append(round(min(centre + 3 * sigma, 100), 4))
            lower.append(round(max(centre - 3 * sigma, 0), 4))
        elif kind in ("p", "laney"):
            upper.append(None)
            lower.append(None)
        else:
            upper.append(stored["upper"])
            lower.append(stored["lower"])
    label = "limits when it fired" + (" (provisional)" if stored.get("provisional") else "")
    return {"kind": kind, "centre": [centre] * len(values), "upper": upper, "lower": lower, "label": label}


def _unresolved_failure() -> Q:
    """A final failure not followed by a successful evaluation of the same metric."""
    later_success = Evaluation.objects.filter(
        metric=OuterRef("metric"), status=EvaluationStatus.DONE, pk__gt=OuterRef("pk")
    )
    return Q(status=EvaluationStatus.FAILED) & ~Q(Exists(later_success))


def _stuck() -> Q:
    """Did not move for twice the requeue delay: the requeueing itself is not working."""
    cutoff = timezone.now() - timedelta(seconds=2 * settings.ALERTS_STUCK_AFTER)
    active = [EvaluationStatus.QUEUED, EvaluationStatus.RUNNING, EvaluationStatus.RETRY]
    return Q(status__in=active, updated_at__lt=cutoff)


def failed_evaluations() -> QuerySet[Evaluation]:
    return Evaluation.objects.filter(_unresolved_failure()).select_related("metric").order_by("-finished_at")


def evaluation_problems() -> tuple[int, int]:
    """How many evaluations failed for good, and how many are stuck (one query, for the health page)."""
    counts = Evaluation.objects.aggregate(
        failed=Count("pk", filter=_unresolved_failure()), stuck=Count("pk", filter=_stuck())
    )
    return counts["failed"], counts["stuck"]
