"""Metrics with values, and rules on them, for the alert tests."""

from datetime import date, timedelta

from django.utils import timezone

from alerts.models import AlertRule
from metrics.models import Metric, MetricValue


def metric_with(org, values, *, start=date(2026, 1, 1), granularity="day", segment="", sizes=None, **fields):
    """A metric owned by Billing (led by ``leader``) with one value per period from ``start``;
    ``None`` leaves a period without a value."""
    defaults = {
        "name": "Invoice CSAT",
        "slug": "invoice-csat",
        "calculator": "csat",
        "kind": "outcome",
        "granularity": granularity,
        "target": 80,
        "amber_threshold": 78,
        "red_threshold": 72,
        "unit": "%",
        "owning_function": org["billing"],
    }
    metric = Metric.objects.create(**{**defaults, **fields})
    add_values(metric, values, start=start, segment=segment, sizes=sizes)
    return metric


def add_values(metric, values, *, start, segment="", sizes=None):
    from alerts.evaluation import next_period

    rows, period = [], start
    for i, value in enumerate(values):
        if value is not None:
            rows.append(
                MetricValue(
                    metric=metric,
                    period_start=period,
                    segment=segment,
                    value=value,
                    sample_size=sizes[i] if sizes else None,
                    computed_at=timezone.now(),
                )
            )
        period = next_period(period, metric.granularity)
    MetricValue.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["metric", "period_start", "segment"],
        update_fields=["value", "sample_size"],
    )
    return period  # the first period after the values


def rule_on(metric, *, kind="threshold", created=None, subscribers=(), **fields):
    rule = AlertRule.objects.create(metric=metric, name=fields.pop("name", f"{kind} rule"), kind=kind, **fields)
    # Rules watch from their creation; tests date them at the start of the data.
    AlertRule.objects.filter(pk=rule.pk).update(
        created_at=created or timezone.make_aware(timezone.datetime(2026, 1, 1, 9, 0))
    )
    rule.refresh_from_db()
    rule.subscribers.set(subscribers)
    return rule


def day(n: int, start=date(2026, 1, 1)) -> date:
    return start + timedelta(days=n)
