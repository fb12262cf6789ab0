"""Demo alert rules on Loom & Thread's metrics, chosen to make sense with the real review and subscriber data.

A rule created here is replayed month by month over the past year, as if it had been running,
so the inbox shows real episodes (fired and resolved) and their notices. Idempotent: existing
rules are left alone and never replayed again.
"""

from __future__ import annotations

from django.utils import timezone

# (metric slug, rule name): fields, subscriber usernames
DEMO_RULES = {
    ("review-csat", "CSAT off track"): (
        {"kind": "threshold", "level": "red", "severity": "critical", "hysteresis": 2.0},
        ["cx"],
    ),
    ("review-csat", "CSAT control chart"): ({"kind": "control", "chart": "auto", "severity": "warning"}, ["cx"]),
    ("review-csat", "CSAT drop of 10 points"): (
        {"kind": "change", "comparison": "previous", "change_mode": "absolute", "change_limit": 10},
        [],
    ),
    ("dress-rating", "Dress rating below target for a quarter"): (
        {"kind": "target", "min_periods": 3, "severity": "warning"},
        [],
    ),
    ("monthly-churn", "Churn in the red"): (
        {"kind": "threshold", "level": "red", "severity": "critical"},
        ["stakeholder"],
    ),
    ("monthly-churn", "Churn not computed for two months"): (
        {"kind": "missing", "min_periods": 2, "severity": "info"},
        [],
    ),
}


def load(*, stdout) -> None:
    from alerts.evaluation import next_period, period_of
    from alerts.models import AlertRule
    from alerts.services import metric_evaluate
    from cxgov.models import User
    from metrics.models import Metric, MetricValue

    metrics = {m.slug: m for m in Metric.objects.filter(slug__in={slug for slug, _ in DEMO_RULES})}
    people = {u.username: u for u in User.objects.filter(username__in={n for _, s in DEMO_RULES.values() for n in s})}
    created = []
    for (slug, name), (fields, subscribers) in DEMO_RULES.items():
        metric = metrics.get(slug)
        if metric is None:
            continue
        rule, new = AlertRule.objects.get_or_create(metric=metric, name=name, defaults=fields)
        if new:
            rule.subscribers.set([people[n] for n in subscribers if n in people])
            created.append(rule)
    today = timezone.localdate()
    for metric in {rule.metric for rule in created}:
        first = MetricValue.objects.filter(metric=metric).order_by("period_start").first()
        if first is None:
            continue
        # The rules "ran" after each period of the past: replay them period by period.
        others = AlertRule.objects.filter(metric=metric).exclude(pk__in=[r.pk for r in created])
        paused = list(others.filter(active=True).values_list("pk", flat=True))
        AlertRule.objects.filter(pk__in=paused).update(active=False)
        day = next_period(period_of(first.period_start, metric.granularity), metric.granularity)
        while day <= today:
            metric_evaluate(metric=metric, today=day)
            day = next_period(day, metric.granularity)
        metric_evaluate(metric=metric, today=today)
        AlertRule.objects.filter(pk__in=paused).update(active=True)
    stdout.write(f"Alerts: {len(created)} demo rule(s) created and replayed over the data; {len(DEMO_RULES)} in all.")
