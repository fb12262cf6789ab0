"""Writes of customer data; idempotent on external ids (re-sending updates, never duplicates)."""

import dataclasses
import heapq
import json
import logging
import os
import re
import socket
import threading
import uuid
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from operator import itemgetter
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Max, Min, Q, Sum
from django.db.models.functions import Trunc
from django.dispatch import Signal
from django.utils import timezone
from django.utils.text import slugify
from psycopg.copy import QueuedLibpqWriter

from cxgov.lib import bounds, dispatch, heavy, permissions
from cxgov.lib.history import record_as
from cxgov.lib.retry import retry_on_conflict
from cxgov.lib.services import model_update
from cxgov.services import accountability_link, accountability_unlink
from metrics import calculations, columnar, dates, ingestion
from metrics.models import (
    Customer,
    ImportJob,
    ImportMapping,
    ImportStatus,
    Kind,
    Metric,
    MetricValue,
    Observation,
    SurveyResponse,
)

log = logging.getLogger(__name__)


def _instances_upsert(kind: str, instances: Iterable, clean: bool, notify: bool) -> int:
    model, keys, fields = IMPORT_TABLES[kind]
    objects = list(instances)
    for obj in objects if clean else ():
        obj.full_clean(validate_unique=False, validate_constraints=False)
    return rows_upsert(kind=kind, rows=[{c: getattr(obj, c) for c in keys + fields} for obj in objects], notify=notify)


def customers_upsert(*, customers: Iterable[Customer], clean: bool = True, notify: bool = True) -> int:
    """Insert or update customers by external id; returns how many were written."""
    return _instances_upsert("customers", customers, clean, notify)


def responses_upsert(*, responses: Iterable[SurveyResponse], clean: bool = True, notify: bool = True) -> int:
    """Insert or update survey responses by (source, external id); returns how many were written."""
    return _instances_upsert("responses", responses, clean, notify)


def observations_upsert(*, observations: Iterable[Observation], clean: bool = True, notify: bool = True) -> int:
    """Insert or update observations by (source, external id); returns how many were written."""
    return _instances_upsert("observations", observations, clean, notify)


@retry_on_conflict
@transaction.atomic
def rows_upsert(*, kind: str, rows: list[dict], notify: bool = True, chunk: int = 50_000) -> int:
    """Insert or update checked rows (dicts of field values), idempotently on their natural key.

    The one writer under the bulk API, the upload page and ``import_data`` (which stream their
    rows into ``_write_rows`` directly); it queues recalculation of the periods the rows touch.
    Rows are written in key order, so two batches that share keys lock them in the same order
    and one waits for the other instead of deadlocking; a race lost anyway is run again."""
    model, keys, fields = IMPORT_TABLES[kind]
    columns = keys + fields
    rows = sorted(rows, key=lambda row: tuple(str(row.get(k, "")) for k in keys))
    defaults = [model._meta.get_field(c).get_default() for c in columns]
    json_positions = [i for i, c in enumerate(columns) if c in JSON_FIELDS]
    tuples = []
    for row in rows:
        values = [row.get(c, default) for c, default in zip(columns, defaults, strict=True)]
        for i in json_positions:
            values[i] = json.dumps(values[i]) if values[i] else "{}"
        tuples.append(tuple(values))
    stamp = {"responses": "responded_at", "observations": "observed_at"}.get(kind)
    stamps = [row[stamp] for row in rows] if stamp else []
    if stamps:
        # A re-sent row may move to another period: its old period must be recomputed too.
        before = model.objects.filter(
            source__in={row["source"] for row in rows}, external_id__in=[row["external_id"] for row in rows]
        ).aggregate(first=Min(stamp), last=Max(stamp))
        stamps += [value for value in before.values() if value is not None]
    for start in range(0, len(tuples), chunk):
        _write_rows(kind, tuples[start : start + chunk], columns)
    if tuples and notify:
        metrics_touched(
            kind=kind,
            sources={row.get("source", "") for row in rows},
            first=min(stamps) if stamps else None,
            last=max(stamps) if stamps else None,
        )
    return len(tuples)


# Sent (inside the writing transaction) when survey responses were added or changed, with their
# sources and time span; other apps (comment tagging) listen without metrics importing them.
responses_changed = Signal()

# Sent inside an import's writing transaction when a label column is mapped, with the source,
# the key driver's name and {external id: label}; the comment taxonomy (rootcause) answers with
# {"tagged": n, "created": [new sub-theme names]} after tagging those responses, so a failure
# there rolls the whole import back. Metrics never imports the taxonomy.
labels_imported = Signal()

# Sent to ask for the key drivers imported labels can go under: receivers answer
# {driver name: [its sub-theme names]}, for the preview to list the labels that are new.
label_taxonomy = Signal()


def label_vocabulary() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for _, answer in label_taxonomy.send(sender=SurveyResponse):
        found.update(answer or {})
    return found


# Sent (inside the writing transaction) after a metric's values were recomputed, with its id;
# alert rules listen (and queue their evaluation on commit) without metrics knowing about them.
metric_recalculated = Signal()


# --- recalculation ---------------------------------------------------------------------------

SCORE_SCALES = {"nps": ["nps"], "csat": ["csat"]}
RESPONSE_CALCULATORS = {"nps", "csat", "mean"}
SERIES_CALCULATORS = {"count", "sum", "ratio", "series_proportion", "rate", "failure_cost", "share_of_wallet"}
PER_CUSTOMER_CALCULATORS = {"cost_to_serve": "active", "cost_to_acquire": "new"}  # a cost series / customers
RESPONSE_FIELDS = {"segment", "channel", "product", "touchpoint", "score", "scale"}  # read without "attributes"
CUSTOMER_CALCULATORS = {"churn", "clv", "revenue_at_risk", "net_growth", "clv_discounted"}
DISSATISFIED = Q(scale="nps", score__lte=6) | Q(scale="csat", score__lte=2) | Q(scale="ces", score__gte=5)


def _filters(metric: Metric) -> dict:
    pairs = {
        "segment": metric.filter_segment,
        "channel": metric.filter_channel,
        "product": metric.filter_product,
        "touchpoint": metric.filter_touchpoint,
    }
    return {field: value for field, value in pairs.items() if value}


def _window(period_from: date | None, period_to: date | None, granularity: str, field: str) -> dict:
    """Filter rows to [start of period_from's period, end of period_to's period) in local time."""
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    lookup = {}
    if period_from:
        start = calculations.period_start(period_from, granularity)
        lookup[f"{field}__gte"] = datetime.combine(start, time.min, tzinfo=tz)
    if period_to:
        end = calculations.next_period(calculations.period_start(period_to, granularity), granularity)
        lookup[f"{field}__lt"] = datetime.combine(end, time.min, tzinfo=tz)
    return lookup


def _period_range(first: date, last: date, granularity: str) -> list[tuple[date, date]]:
    periods, start = [], calculations.period_start(first, granularity)
    while start <= last:
        end = calculations.next_period(start, granularity)
        periods.append((start, end))
        start = end
    return periods


def _frame(queryset, fields: list[str]) -> pd.DataFrame:
    return pd.DataFrame.from_records(list(queryset.values_list(*fields)), columns=fields)


def _compute(metric: Metric, period_from: date | None, period_to: date | None) -> list[calculations.Result]:
    """Load the rows a metric reads and run its calculator."""
    segment_by = metric.segment_by or None
    if metric.calculator in RESPONSE_CALCULATORS:
        # Aggregated in the database (one query overall, one per segment); only the interval
        # arithmetic happens here, so millions of responses never travel to Python.
        qs = SurveyResponse.objects.scored().filter(
            **_filters(metric), **_window(period_from, period_to, metric.granularity, "responded_at")
        )
        if metric.source:
            qs = qs.filter(source=metric.source)
        if metric.calculator in SCORE_SCALES:
            qs = qs.filter(scale__in=SCORE_SCALES[metric.calculator])
        qs = qs.order_by().annotate(
            period=Trunc("responded_at", metric.granularity, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))
        )
        aggregates = {
            "n": Count("pk"),
            "promoters": Count("pk", filter=Q(score__gte=9)),
            "detractors": Count("pk", filter=Q(score__lte=6)),
            "top_two": Count("pk", filter=Q(score__gte=4)),
            "total": Sum("score"),
            "squares": Sum(F("score") * F("score")),
        }
        groups = [qs.values("period").annotate(**aggregates)]
        if segment_by:
            groups.append(qs.exclude(**{segment_by: ""}).values("period", segment_by).annotate(**aggregates))
        results = []
        for rows in groups:
            for row in rows:
                period = row["period"].date() if hasattr(row["period"], "date") else row["period"]
                value, n, low, high = calculations.from_aggregates(metric.calculator, row)
                results.append(calculations.Result(period, row.get(segment_by, ""), value, n, low, high))
        return sorted(results, key=lambda r: (r.period, r.segment))

    if metric.calculator == "proportion":
        # Responses whose field has a value at all are the sample; those with a chosen value count.
        field = metric.condition_field
        column = field if field in RESPONSE_FIELDS else f"attributes__{field}"
        qs = SurveyResponse.objects.filter(
            **_filters(metric), **_window(period_from, period_to, metric.granularity, "responded_at")
        )
        if metric.source:
            qs = qs.filter(source=metric.source)
        if field == "score":
            qs = qs.scored()
        elif field in RESPONSE_FIELDS:
            qs = qs.exclude(**{field: ""})
        else:
            qs = qs.filter(attributes__has_key=field)
        frame = _frame(qs.order_by(), ["responded_at", column, *([segment_by] if segment_by else [])])
        frame = frame[frame[column].notna() & (frame[column].map(str).str.strip() != "")]
        if frame.empty:
            return []
        frame["period"] = calculations.period_starts(frame["responded_at"], metric.granularity, settings.TIME_ZONE)
        frame["hit"] = calculations.matches(frame[column], metric.condition_values.split(","))
        return calculations.proportion_metric(frame, segment_by)

    if metric.calculator in SERIES_CALCULATORS:

        def series(source: str) -> pd.DataFrame:
            qs = Observation.objects.filter(
                source=source, **_filters(metric), **_window(period_from, period_to, metric.granularity, "observed_at")
            )
            frame = _frame(qs.order_by(), ["observed_at", "value", *([segment_by] if segment_by else [])])
            if not frame.empty:
                frame["period"] = calculations.period_starts(
                    frame["observed_at"], metric.granularity, settings.TIME_ZONE
                )
            return frame

        frame = series(metric.source)
        two = metric.calculator in calculations.TWO_SERIES_CALCULATORS
        denominator = series(metric.denominator_source) if two else None
        if frame.empty and (denominator is None or denominator.empty):
            return []
        if frame.empty:
            frame = pd.DataFrame(columns=denominator.columns)
        return calculations.series_metric(
            frame,
            metric.calculator,
            segment_by,
            denominator=denominator,
            unit_cost=float(metric.unit_cost) if metric.unit_cost is not None else None,
        )

    customer_segment = "category" if segment_by == "segment" else None
    customers = _frame(
        Customer.objects.order_by(),
        ["external_id", "category", "started_on", "ended_on", "monthly_revenue", "monthly_margin"],
    )
    if metric.filter_segment:
        customers = customers[customers["category"] == metric.filter_segment]
    if customers.empty:
        return []
    if metric.calculator == "revenue_at_risk":
        qs = SurveyResponse.objects.filter(DISSATISFIED, **_filters(metric)).exclude(customer_id="")
        qs = qs.filter(**_window(period_from, period_to, metric.granularity, "responded_at"))
        if metric.source:
            qs = qs.filter(source=metric.source)
        responses = _frame(qs.order_by(), ["responded_at", "customer_id"])
        if responses.empty:
            return []
        responses["period"] = calculations.period_starts(
            responses["responded_at"], metric.granularity, settings.TIME_ZONE
        )
        customers["monthly_revenue"] = customers["monthly_revenue"].astype(float)
        return [
            calculations.Result(period, segment, value, n)
            for period, rows in responses.groupby("period", sort=True)
            for segment, value, n in calculations.revenue_at_risk(customers, set(rows["customer_id"]), customer_segment)
        ]

    if metric.calculator in PER_CUSTOMER_CALCULATORS or metric.calculator == "net_growth":
        return _customer_counts_metric(metric, customers, period_from, period_to)

    ended = customers["ended_on"].dropna()
    if ended.empty:
        return []
    first, last = min(ended), max(ended)
    if period_from:
        first = max(first, period_from)
    if period_to:
        last = min(last, period_to)
    periods = _period_range(first, last, metric.granularity)
    if customer_segment:
        customers = customers.rename(columns={"category": "segment_value"})
        customer_segment = "segment_value"
    churn = calculations.churn_rate(customers, periods, customer_segment)
    if metric.calculator == "churn":
        return churn
    # Lifetime value: average margin per customer per period (revenue where no margin is known)
    # divided by the churn rate per period.
    per_month = customers["monthly_margin"].where(customers["monthly_margin"].notna(), customers["monthly_revenue"])
    customers["per_month"] = per_month.astype(float)
    results = []
    for r in churn:
        end = calculations.next_period(r.period, metric.granularity)
        months = {"month": 1, "quarter": 3}.get(metric.granularity) or (end - r.period).days / 30.4375
        pool = customers if r.segment == "" else customers[customers[customer_segment] == r.segment]
        discount = 0.0
        if metric.calculator == "clv_discounted":
            discount = calculations.annual_to_period_rate((metric.discount_rate or 0.0) / 100, months)
        value = calculations.lifetime_value(float(pool["per_month"].mean()) * months, r.value / 100, discount)
        if value is not None:
            results.append(calculations.Result(r.period, r.segment, value, r.sample_size))
    return results


def _customer_counts_metric(
    metric: Metric, customers: pd.DataFrame, period_from: date | None, period_to: date | None
) -> list[calculations.Result]:
    """Cost to serve, cost to acquire (a cost series over active or new customers) and net growth."""
    costs = None
    if metric.calculator in PER_CUSTOMER_CALCULATORS:
        qs = Observation.objects.filter(
            source=metric.source, **_window(period_from, period_to, metric.granularity, "observed_at")
        )
        costs = _frame(qs.order_by(), ["observed_at", "value"])
        if costs.empty:
            return []
        costs["period"] = calculations.period_starts(costs["observed_at"], metric.granularity, settings.TIME_ZONE)
        first, last = min(costs["period"]), max(costs["period"])
    else:
        days = [*customers["started_on"].dropna(), *customers["ended_on"].dropna()]
        if not days:
            return []
        first, last = min(days), max(days)
        if period_from:
            first = max(first, period_from)
        if period_to:
            last = min(last, period_to)
        if first > last:
            return []
    counts = calculations.customer_counts(customers, _period_range(first, last, metric.granularity))
    if costs is not None:
        return calculations.per_customer(costs, counts, PER_CUSTOMER_CALCULATORS[metric.calculator])
    return calculations.net_growth(counts)


def metric_recalculate(*, metric: Metric, period_from: date | None = None, period_to: date | None = None) -> int:
    """Recompute a metric's values (all periods, or those from/to the given days) and store them.

    Upserts on (metric, period, segment) and removes values of recomputed periods that no
    longer have data. The metric's row is locked for the duration, so two workers doing
    the same metric at once run one after the other and leave one correct set of values.
    The lock is FOR NO KEY UPDATE: rows that merely point at the metric (a new alert rule, a
    queued evaluation) go ahead, while deleting the metric waits for the values to be stored.
    A metric deleted before or meanwhile is not an error: there is nothing left to compute (0).
    """
    with transaction.atomic():
        metric = Metric.objects.select_for_update(no_key=True).filter(pk=metric.pk).first()
        if metric is None:
            return 0
        results = _compute(metric, period_from, period_to)
        now = timezone.now()
        values = [
            MetricValue(
                metric=metric,
                period_start=r.period,
                segment=r.segment,
                value=r.value,
                sample_size=r.sample_size,
                ci_low=r.ci_low,
                ci_high=r.ci_high,
                computed_at=now,
            )
            for r in results
        ]
        stale = MetricValue.objects.filter(metric=metric)
        if period_from:
            stale = stale.filter(period_start__gte=calculations.period_start(period_from, metric.granularity))
        if period_to:
            stale = stale.filter(period_start__lte=period_to)
        MetricValue.objects.bulk_create(
            values,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["metric", "period_start", "segment"],
            update_fields=["value", "sample_size", "ci_low", "ci_high", "computed_at"],
        )
        stale.exclude(computed_at=now).delete()
        Metric.objects.filter(pk=metric.pk).update(recalculated_at=now, last_error="", last_error_at=None)
        metric_recalculated.send(sender=Metric, metric_id=metric.pk)
    return len(values)


def metric_record_failure(*, metric_id: int, error: str) -> None:
    """Make a failed recalculation visible on the metric page and the health page."""
    Metric.objects.filter(pk=metric_id).update(last_error=error[:2000], last_error_at=timezone.now())


# --- definitions -------------------------------------------------------------------------------


RESERVED_SLUGS = {"new", "imports", "kpi-audit", "business-impact"}


def _check_definition(metric: Metric) -> None:
    errors = {}
    if metric.calculator in SERIES_CALCULATORS and not metric.source:
        errors["source"] = "This calculator reads a series: name its source key."
    if metric.calculator == "proportion":
        if not metric.condition_field:
            errors["condition_field"] = "A proportion of responses needs the field to look at (e.g. sentiment)."
        elif "__" in metric.condition_field or bounds.name_problem(metric.condition_field):
            errors["condition_field"] = f"“{metric.condition_field}” cannot be a field name."
        if not [v for v in metric.condition_values.split(",") if v.strip()]:
            errors["condition_values"] = "Give the values that count (e.g. negative), separated by commas."
    if metric.calculator in {"series_proportion", "rate"} and not metric.denominator_source:
        errors["denominator_source"] = (
            "A proportion of two series needs the series key of the whole."
            if metric.calculator == "series_proportion"
            else "A rate needs the series key of the units (orders, contacts, hours...)."
        )
    if metric.calculator == "ratio" and not metric.denominator_source:
        errors["denominator_source"] = "A ratio needs the series key of its denominator."
    if metric.calculator in PER_CUSTOMER_CALCULATORS and not metric.source:
        errors["source"] = "Name the series of costs (its observation source), e.g. service-costs."
    if metric.calculator == "share_of_wallet" and not metric.denominator_source:
        errors["denominator_source"] = "A share of wallet needs the series of the whole (the customers' total spend)."
    if metric.calculator in calculations.BUSINESS_CALCULATORS and metric.kind != Kind.BUSINESS:
        errors["kind"] = f"A {metric.get_calculator_display()} metric is a business metric: choose “Business”."
    if metric.calculator == "clv_discounted" and (metric.discount_rate is None or not 0 <= metric.discount_rate < 100):
        errors["discount_rate"] = "Give the annual discount rate in % (from 0 to under 100)."
    if metric.calculator in {"cost_to_serve", "cost_to_acquire", "net_growth"} and metric.segment_by:
        errors["segment_by"] = "This business metric is computed for all customers, without a breakdown."
    if metric.calculator == "failure_cost" and metric.unit_cost is None:
        errors["unit_cost"] = "The cost of failure demand needs a cost per contact."
    if metric.calculator in CUSTOMER_CALCULATORS and metric.segment_by not in ("", "segment"):
        errors["segment_by"] = "Customer metrics break down by customer category only."
    if metric.calculator in {"churn", "clv", "clv_discounted", "net_growth", "cost_to_serve", "cost_to_acquire"}:
        for name in ("filter_channel", "filter_product", "filter_touchpoint"):
            if getattr(metric, name):
                errors[name] = "Customers have no channel, product or touchpoint: filter by segment (category) only."
    if metric.calculator == "mean" and not metric.source:
        errors["source"] = "A mean score needs one survey source, so that it never mixes 0-10, 1-5 and 1-7 answers."
    if metric.slug in RESERVED_SLUGS:
        errors["slug"] = f"“{metric.slug}” is taken by a page of its own; choose another name or slug."
    if metric.target is not None:
        sign = 1 if metric.direction == "higher" else -1
        for name in ("amber_threshold", "red_threshold"):
            limit = getattr(metric, name)
            if limit is not None and sign * (metric.target - limit) < 0:
                errors[name] = "must be on the far side of the target from “better” (the target is the goal)."
    if metric.amber_threshold is not None and metric.red_threshold is not None:
        higher = metric.direction == "higher"
        if (
            (metric.red_threshold > metric.amber_threshold)
            if higher
            else (metric.red_threshold < metric.amber_threshold)
        ):
            errors["red_threshold"] = (
                "When higher is better the red threshold must be at or below the amber one"
                if higher
                else "When lower is better the red threshold must be at or above the amber one"
            )
    if errors:
        raise ValidationError(errors)


def metric_schedule(*, metric: Metric) -> None:
    """Keep the metric's django-celery-beat entry (hourly by default; administrators edit it)."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every_hour, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.HOURS)
    task, created = PeriodicTask.objects.get_or_create(
        name=metric.schedule_name,
        defaults={
            "task": "metrics.recalculate",
            "interval": every_hour,
            "kwargs": json.dumps({"metric_id": metric.pk}),
        },
    )
    if not created and task.enabled != metric.active:
        task.enabled = metric.active
        task.save(update_fields=["enabled"])


@transaction.atomic
def metric_schedule_set(
    *, user, metric: Metric, kind: str, every=None, period: str = "", cron: str = "", tz: str = "", enabled: bool = True
):
    """Set when a metric is recalculated (administrators): "every N minutes/hours/days" or a cron
    expression in a time zone, stored as django-celery-beat rows (shared ``IntervalSchedule`` /
    ``CrontabSchedule``, the metric's own ``PeriodicTask``). Bad input raises ``ValidationError``
    naming the field (``every``, ``period``, ``cron``, ``timezone``, ``kind``). Safe to repeat."""
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    from metrics import schedules

    permissions.require_configure_organisation(user)
    checked = schedules.check(kind=kind, every=every, period=period, cron=cron, tz=tz)
    enabled = bool(enabled) and metric.active
    if checked.kind == schedules.INTERVAL:
        interval = IntervalSchedule.objects.filter(every=checked.every, period=checked.period).order_by("pk").first()
        interval = interval or IntervalSchedule.objects.create(every=checked.every, period=checked.period)
        crontab = None
    else:
        parts = {**checked.cron_parts, "timezone": zoneinfo.ZoneInfo(checked.tz)}
        crontab = CrontabSchedule.objects.filter(**parts).order_by("pk").first() or CrontabSchedule.objects.create(
            **parts
        )
        interval = None
    task = PeriodicTask.objects.select_for_update().filter(name=metric.schedule_name).first()
    if task is None:
        task = PeriodicTask(
            name=metric.schedule_name, task="metrics.recalculate", kwargs=json.dumps({"metric_id": metric.pk})
        )
    task.interval, task.crontab, task.enabled = interval, crontab, enabled
    task.save()  # PeriodicTask.save also tells beat that the schedules changed
    log.info("%s set the schedule of metric %s to %s (%s)", user, metric.pk, checked.describe(), checked.tz)
    return task


@transaction.atomic
def metric_save(*, user, metric: Metric, fields: dict) -> Metric:
    """Create or change a metric definition (administrators), keep its schedule and accountability."""
    permissions.require_configure_organisation(user)
    model_update(metric, fields, fields=Metric.DEFINITION_FIELDS)
    if not metric.slug:
        metric.slug = slugify(metric.name)[:120]
    _check_definition(metric)
    metric.full_clean(validate_constraints=False)
    if metric.north_star and metric.active:
        current = Metric.objects.filter(north_star=True, active=True).exclude(pk=metric.pk).first()
        if current is not None:
            raise ValidationError(
                {"north_star": f"“{current}” is the active North Star; there is at most one. Unset it first."}
            )
    try:
        with transaction.atomic():
            record_as(metric, user).save()
    except IntegrityError:
        raise ValidationError(
            {"north_star": "Another metric became the active North Star at the same moment; reload and retry."}
        ) from None
    if metric.owning_function_id:
        accountability_link(function=metric.owning_function, subject_object=metric, subject=f"Metric: {metric.name}")
    else:
        accountability_unlink(subject_object=metric)
    metric_schedule(metric=metric)
    dispatch.enqueue("metrics.recalculate", {"metric_id": metric.pk})
    return metric


@retry_on_conflict
@transaction.atomic
def metric_delete(*, user, metric: Metric) -> None:
    """Remove a metric with its values, its schedule and its place in the accountability register."""
    from django_celery_beat.models import PeriodicTask

    permissions.require_configure_organisation(user)
    # Lock first: a running recalculation finishes storing its values, then all of them go with
    # the metric (deleting before the lock would miss them and fail on their foreign key).
    if not list(Metric.objects.select_for_update().filter(pk=metric.pk).values_list("pk")):
        return
    PeriodicTask.objects.filter(name=metric.schedule_name).delete()
    accountability_unlink(subject_object=metric)
    record_as(metric, user).delete()


def metrics_touched(
    *, kind: str, sources: set[str], first: datetime | None = None, last: datetime | None = None
) -> None:
    """After new data, queue recalculation of the periods it touches, for the metrics that read it
    (stored with the data, so a broker outage delays the recalculation but never loses it)."""
    if kind != "customers" and (first is None or last is None):
        return  # no dated row was written
    if kind == "responses":
        responses_changed.send(sender=SurveyResponse, sources=sources, first=first, last=last)
        metrics = Metric.objects.filter(
            active=True, calculator__in=RESPONSE_CALCULATORS | {"revenue_at_risk", "proportion"}
        )
        metrics = metrics.filter(Q(source="") | Q(source__in=sources))
    elif kind == "observations":
        metrics = Metric.objects.filter(active=True).filter(Q(source__in=sources) | Q(denominator_source__in=sources))
    else:
        # Customer changes (start and end dates, revenue) can move any period: recompute all.
        for metric_id in Metric.objects.filter(active=True, calculator__in=CUSTOMER_CALCULATORS).values_list(
            "pk", flat=True
        ):
            dispatch.enqueue("metrics.recalculate", {"metric_id": metric_id})
        return
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start, end = first.astimezone(tz).date(), last.astimezone(tz).date()
    for metric_id in metrics.values_list("pk", flat=True):
        dispatch.enqueue(
            "metrics.recalculate",
            {"metric_id": metric_id, "period_from": start.isoformat(), "period_to": end.isoformat()},
        )


def duplicate_keys(model: type, rows: list[dict]) -> list[dict]:
    """Rows whose natural key repeats an earlier row of the same batch (index and key)."""
    key_fields = ["external_id"] if model is Customer else ["source", "external_id"]
    seen: dict[tuple, int] = {}
    duplicates = []
    for index, row in enumerate(rows):
        key = tuple(row.get(f) for f in key_fields)
        if key in seen:
            duplicates.append({"row": index, "errors": {"external_id": [f"Repeats row {seen[key]}."]}})
        else:
            seen[key] = index
    return duplicates


# --- file imports ----------------------------------------------------------------------------

MAX_STORED_ERRORS = 500


# Column names that real exports (survey tools, social listening, review sites) give these fields.
GUESS_ALIASES = {
    "external_id": ["id", "response id", "respondent id", "review id", "tweet id", "ticket id"],
    "comment": ["text", "comments", "review text", "verbatim", "feedback"],
    "responded_at": ["date", "when", "created at", "tweet created", "submitted at", "timestamp"],
    "score": ["rating", "nps"],
}


def _guess_mapping(kind: str, header: list[str]) -> ingestion.Mapping:
    """Match columns to fields by name (case and punctuation ignored)."""

    def norm(text: str) -> str:
        return re.sub(r"[^a-z0-9]", "", text.lower())

    columns = {norm(h): ingestion.column_label(i, h) for i, h in enumerate(header)}
    spec = ingestion.FIELDS[kind]
    guessed = {}
    for name in spec["required"] + spec["optional"]:
        for candidate in (name, ingestion.LABELS[name], name.replace("_", ""), *GUESS_ALIASES.get(name, ())):
            if norm(candidate) in columns:
                guessed[name] = columns[norm(candidate)]
                break
    return ingestion.Mapping(columns=guessed)


def import_create(*, user, kind: str, source: str, upload) -> ImportJob:
    """Store an uploaded file and read its header; the mapping starts from the saved one."""
    if not permissions.can_import_data(user):
        raise PermissionDenied("Only administrators and the CX team import data.")
    if kind != "customers" and not source:
        raise ValidationError({"source": "Name the source (survey name or series key) the rows belong to."})
    if upload.size > settings.IMPORT_MAX_BYTES:
        raise ValidationError(
            {
                "file": f"The file is {upload.size / 1e6:.1f} MB; the limit is "
                f"{settings.IMPORT_MAX_BYTES / 1e6:.0f} MB. Split it, or use the bulk API."
            }
        )
    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}{Path(upload.name).suffix.lower()[:8]}"
    with path.open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    try:
        table = ingestion.read_table(path, whole_file=True)
        if not ingestion.has_data_rows(ingestion.read_table(path)):
            raise ingestion.FileProblem(ingestion.NO_ROWS)
    except ingestion.FileProblem as exc:
        path.unlink(missing_ok=True)
        raise ValidationError({"file": str(exc)}) from None
    saved = ImportMapping.objects.filter(kind=kind, source=source).first()
    mapping = ingestion.Mapping.from_json(saved.mapping) if saved else _guess_mapping(kind, table.header)
    return ImportJob.objects.create(
        kind=kind,
        source=source,
        file_name=upload.name[:255],
        stored_path=str(path),
        mapping=mapping.to_json(),
        created_by=user,
    )


# The preview detects date formats and counts repeated ids in this many rows; the import reads every row.
PREVIEW_SCAN = 200_000


def import_preview(*, job: ImportJob, limit: int = 8) -> dict:
    """The file's columns and its first rows, as read and as the mapping turns them into data."""
    table = ingestion.read_table(Path(job.stored_path))
    mapping = ingestion.Mapping.from_json(job.mapping)
    raw = []
    for row in table.rows:
        raw.append(row)
        if len(raw) >= limit:
            break
    preview = ingestion.Table(table.header, iter(raw), table.delimiter)
    try:
        found = ingestion.scan(job.kind, ingestion.read_table(Path(job.stored_path)), mapping, limit=PREVIEW_SCAN)
    except ingestion.FileProblem:  # the saved row filter names a column this file lacks (shown as missing)
        mapping = dataclasses.replace(mapping, filter_column="")
        found = ingestion.scan(job.kind, ingestion.read_table(Path(job.stored_path)), mapping, limit=PREVIEW_SCAN)
    evidence = found.evidence
    date_formats, formats = [], {}
    for name in ingestion.DATE_FIELDS[job.kind]:
        column = mapping.columns.get(name)
        if not column:
            continue
        chosen = mapping.date_formats.get(name)
        seen = evidence.get(name)
        fmt, why = (chosen, "chosen") if chosen else seen.decide() if seen else (None, "the column is not in the file")
        if fmt:
            formats[name] = fmt
        date_formats.append(
            {
                "field": ingestion.LABELS[name],
                "column": column,
                "format": fmt,
                "text": (seen.describe(fmt) if seen and fmt else dates.FORMATS.get(fmt, "")),
                "why": why,
            }
        )
    try:
        built = list(
            ingestion.build_rows(
                job.kind,
                job.source,
                preview,
                mapping,
                total=max(job.total_rows, limit),
                formats=formats,
            )
        )
    except (ingestion.FileProblem, KeyError):
        built = []
    taxonomy = label_vocabulary()
    labels = None
    if job.kind == "responses" and mapping.label_column:
        drivers = {name.casefold(): name for name in taxonomy}
        driver = drivers.get(mapping.label_driver.casefold())
        known = {name.casefold() for name in taxonomy.get(driver, [])} if driver else set()
        counts = found.labels.most_common()
        labels = {
            "driver": driver or mapping.label_driver,
            "driver_new": driver is None,
            "counts": counts,
            "new": sorted((label for label, _ in counts if label.casefold() not in known), key=str.casefold),
        }
    return {
        "taxonomy": taxonomy,
        "labels": labels,
        "scan": found,
        "date_formats": date_formats,
        "time_zone": mapping.time_zone or settings.TIME_ZONE,
        "columns": [ingestion.column_label(i, h) for i, h in enumerate(table.header)],
        "raw": raw,
        "built": built,
        "delimiter": table.delimiter,
        "missing": ingestion.missing_columns(table, mapping),
    }


def import_reject(*, job: ImportJob, problem: str) -> ImportJob:
    """An uploaded file that turned out unreadable (found while previewing or configuring it) is
    rejected with the reason, rather than waiting for a mapping for ever."""
    ImportJob.objects.filter(pk=job.pk, status=ImportStatus.UPLOADED).update(
        status=ImportStatus.INVALID, message=problem, updated_at=timezone.now(), finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def import_remap(*, user, job: ImportJob, mapping: ingestion.Mapping) -> ImportJob:
    """Try a mapping on an uploaded file without starting the import: the preview then reads the
    file with it (dates, repeated ids, the row filter, the labels that would become sub-themes)."""
    if not permissions.can_import_data(user):
        raise PermissionDenied("Only administrators and the CX team import data.")
    if job.status != ImportStatus.UPLOADED:
        raise ValidationError("This import has already been started.")
    ImportJob.objects.filter(pk=job.pk, status=ImportStatus.UPLOADED).update(mapping=mapping.to_json())
    job.refresh_from_db()
    return job


def import_configure(*, user, job: ImportJob, mapping: ingestion.Mapping) -> ImportJob:
    """Save the mapping for this source (reused next time) and queue the import."""
    if not permissions.can_import_data(user):
        raise PermissionDenied("Only administrators and the CX team import data.")
    if job.status != ImportStatus.UPLOADED:
        raise ValidationError("This import has already been started.")
    spec = ingestion.FIELDS[job.kind]
    missing = [
        ingestion.LABELS[f] for f in spec["required"] if not mapping.columns.get(f) and not mapping.constants.get(f)
    ]

    def given(name: str) -> bool:
        return bool(mapping.columns.get(name) or mapping.constants.get(name))

    if job.kind == "responses" and not (given("score") or given("comment") or mapping.fields):
        missing.append("Score, Comment or other fields (a comment-only source maps no score)")
    if job.kind == "responses" and given("score") and not given("scale"):
        missing.append("Scale")
    if missing:
        raise ValidationError(f"Map a column (or give a value) for: {', '.join(missing)}.")
    table = ingestion.read_table(Path(job.stored_path))
    absent = ingestion.missing_columns(table, mapping)
    if absent:
        raise ValidationError(f"The file has no column {', '.join(absent)}.")
    scanned = ingestion.scan(job.kind, ingestion.read_table(Path(job.stored_path)), mapping)
    if mapping.filter_column and not scanned.kept:
        raise ValidationError({"filter_values": "No row has one of these values: the filter leaves nothing to import."})
    undecided = {}
    for name, found in scanned.evidence.items():
        fmt, why = found.decide()
        if fmt is None:
            undecided[f"fmt_{name}"] = f"The column “{mapping.columns[name]}” {why}."
    if undecided:
        raise ValidationError(undecided)
    with transaction.atomic():
        ImportMapping.objects.update_or_create(
            kind=job.kind, source=job.source, defaults={"mapping": mapping.to_json()}
        )
        ImportJob.objects.filter(pk=job.pk, status=ImportStatus.UPLOADED).update(
            mapping=mapping.to_json(), status=ImportStatus.QUEUED, updated_at=timezone.now()
        )
        dispatch.enqueue("metrics.import_file", {"job_id": job.pk})
    job.refresh_from_db()
    return job


def _progress(job_id: int, **fields) -> None:
    """Record progress, only while this process holds the job (a worker that lost its lease to
    another changes nothing)."""
    ImportJob.objects.filter(pk=job_id, worker=_holder()).update(updated_at=timezone.now(), **fields)


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def import_holder_alive(holder: str) -> bool | None:
    """Whether the process holding a job (``ImportJob.worker``) still runs: known only on this host
    (None elsewhere, where only its lease tells)."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _lease() -> timedelta:
    return timedelta(seconds=settings.JOB_LEASE_SECONDS)


def import_takeable(job: ImportJob) -> bool:
    """A job a worker may start: queued, or checking/writing for a worker that died (its lease ran
    out, or its process is gone on this host). A live holder keeps it, even past its lease (a long
    SQLite write cannot renew the lease while it holds the database)."""
    if job.status == ImportStatus.QUEUED:
        return True
    if job.status not in (ImportStatus.VALIDATING, ImportStatus.WRITING):
        return False
    alive = import_holder_alive(job.worker) if job.worker else None
    if alive is not None:
        return not alive
    return job.lease_until is None or job.lease_until < timezone.now()


def import_wait_seconds(job: ImportJob) -> float | None:
    """For a job another live worker holds: seconds until its lease runs out (when to look again)."""
    if job.status not in (ImportStatus.VALIDATING, ImportStatus.WRITING) or import_takeable(job):
        return None
    remaining = (job.lease_until - timezone.now()).total_seconds() if job.lease_until else 0
    # Past its lease but alive (a long SQLite write): look again a renewal period later, not at once.
    return max(remaining, settings.JOB_LEASE_SECONDS / 3) + 1


class _LeaseKeeper:
    """Renews a job's lease from a thread of its own (its own connection) while the work runs,
    so a live worker keeps its job even inside one long write transaction."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"import-lease-{job_id}", daemon=True)

    def _run(self) -> None:
        from django.db import connections

        try:
            while not self.stop.wait(settings.JOB_LEASE_SECONDS / 3):
                try:
                    ImportJob.objects.filter(pk=self.job_id, worker=_holder()).update(
                        lease_until=timezone.now() + _lease()
                    )
                except Exception:  # the database is busy or away: try again at the next beat
                    log.warning("could not renew the lease of import %s", self.job_id, exc_info=True)
        finally:
            connections.close_all()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=10)


def imports_requeue_stuck() -> int:
    """Send again the imports whose worker died (lease ran out, or the process is gone) and the
    queued ones no worker started for ``QUEUED_RESEND_AFTER`` (their message was lost). Each is
    claimed with a conditional UPDATE, so two beats send it once; the worker's own claim in
    ``import_run`` lets only one run it. Safe: the write phase is one transaction, so a dead
    worker left nothing half-written."""
    from cxgov.models import PendingTask

    now = timezone.now()
    count = 0
    running = ImportJob.objects.filter(status__in=[ImportStatus.VALIDATING, ImportStatus.WRITING])
    for job in running.only("pk", "status", "worker", "lease_until"):
        if not import_takeable(job):
            continue
        if ImportJob.objects.filter(
            pk=job.pk, status=job.status, worker=job.worker, lease_until=job.lease_until
        ).update(
            status=ImportStatus.QUEUED,
            worker="",
            lease_until=None,
            updated_at=now,
            message=f"The worker running this import stopped (last sign of life before "
            f"{timezone.localtime(job.lease_until or now):%H:%M:%S}); it was handed to another worker.",
        ):
            dispatch.enqueue("metrics.import_file", {"job_id": job.pk})
            count += 1
    waiting = ImportJob.objects.filter(status=ImportStatus.QUEUED, updated_at__lt=now - QUEUED_RESEND_AFTER)
    for job_id, updated in waiting.values_list("pk", "updated_at"):
        if PendingTask.objects.filter(task="metrics.import_file", kwargs__job_id=job_id).exists():
            continue  # not lost: waiting for the broker, the sweep sends it
        if ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED, updated_at=updated).update(updated_at=now):
            dispatch.enqueue("metrics.import_file", {"job_id": job_id})
            count += 1
    return count


# A queued import no worker has started after this long is sent again (a lost message).
QUEUED_RESEND_AFTER = timedelta(minutes=5)


@dataclass
class ImportOutcome:
    total: int = 0
    written: int = 0
    error_count: int = 0
    errors: list = field(default_factory=list)
    filtered: int = 0  # rows the row filter left out
    collapsed: int = 0  # exact copies of an earlier row, written once
    replaced: int = 0  # rows repeating an id with other values, the last kept (as the mapping chose)
    labelled: dict = field(default_factory=dict)  # {"tagged": n, "driver": name, "created": [names]}

    def notes(self) -> list[str]:
        """What the import did besides writing rows, in words for the result."""
        notes = []
        if self.filtered:
            notes.append(f"{self.filtered} row(s) left out by the row filter")
        if self.collapsed:
            notes.append(f"{self.collapsed} exact duplicate row(s) collapsed into the first")
        if self.replaced:
            notes.append(f"{self.replaced} row(s) repeating an id with other values: the last of each kept")
        if self.labelled:
            created = self.labelled.get("created") or []
            notes.append(
                f"{self.labelled.get('tagged', 0)} comment(s) tagged from their labels under "
                f"“{self.labelled.get('driver', '')}”"
                + (f" ({len(created)} new sub-theme(s): {', '.join(created[:20])})" if created else "")
            )
        return notes


# Columns written by file imports, and the natural key each upsert is idempotent on.
IMPORT_TABLES = {
    "responses": (
        SurveyResponse,
        ["source", "external_id"],
        [
            "customer_id",
            "responded_at",
            "score",
            "scale",
            "driver_ratings",
            "comment",
            "segment",
            "channel",
            "product",
            "touchpoint",
            "attributes",
        ],
    ),
    "customers": (
        Customer,
        ["external_id"],
        [
            "category",
            "started_on",
            "ended_on",
            "monthly_revenue",
            "monthly_margin",
            "attributes",
        ],
    ),
    "observations": (
        Observation,
        ["source", "external_id"],
        [
            "observed_at",
            "value",
            "dimensions",
            "segment",
            "channel",
            "product",
            "touchpoint",
        ],
    ),
}
JSON_FIELDS = {"driver_ratings", "attributes", "dimensions"}


def import_columns(kind: str) -> list[str]:
    """The fields a row of this kind carries: its natural key, then its data."""
    _, keys, fields = IMPORT_TABLES[kind]
    return keys + fields


def _copy(cursor, statement: str, rows: Iterable[tuple]) -> int:
    """COPY rows in; returns how many. psycopg's queued writer sends the data from a thread of its
    own, so the rows may be a generator still checking the file: the checks of the next rows run
    while PostgreSQL stores the last ones (the network wait releases the interpreter). The
    generator must not use the database: the connection is busy with the COPY until it ends."""
    count = 0
    with cursor.cursor.copy(statement, writer=QueuedLibpqWriter(cursor.cursor)) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _copy_straight(kind: str, rows: Iterable[tuple], columns: list[str]) -> int | None:
    """COPY rows straight into their table, the floor of any import (PostgreSQL): for the first
    import of a source, whose keys cannot be there yet. None, with nothing written, when some are
    after all (a writer of the same source got in first): the caller upserts instead."""
    model = IMPORT_TABLES[kind][0]
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    try:
        # (Django's error types, so a deadlock is retried like any other write's.)
        with transaction.atomic(), connection.cursor() as cursor, connection.wrap_database_errors:
            return _copy(cursor, f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN", rows)
    except IntegrityError:
        return None


def _write_rows(kind: str, rows: Iterable[tuple], columns: list[str]) -> int:
    """Upsert checked rows in one statement per chunk: COPY into a temporary table and
    INSERT ... ON CONFLICT DO UPDATE on PostgreSQL; an executemany upsert on SQLite. A row whose
    stored values are all the same is not written again (``DO UPDATE ... WHERE ... IS DISTINCT
    FROM``): re-importing an unchanged file writes nothing and leaves cached analyses valid."""
    model, keys, _ = IMPORT_TABLES[kind]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(c) for c in columns)
    data = [c for c in columns if c not in keys]
    updates = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in data)
    if connection.vendor == "postgresql":
        stored = ", ".join(f"{table}.{quote(c)}" for c in data)
        differs = f"ROW({stored}) IS DISTINCT FROM ROW({', '.join(f'EXCLUDED.{quote(c)}' for c in data)})"
    else:
        differs = " OR ".join(f"{table}.{quote(c)} IS NOT excluded.{quote(c)}" for c in data)
    conflict = ", ".join(keys)
    # Byte order, the same as the Python sort of the callers, so chunks follow one order too.
    key_order = ", ".join(f'{connection.ops.quote_name(k)} COLLATE "C"' for k in keys)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TABLE IF EXISTS pg_temp.import_rows")
            cursor.execute(f"CREATE TEMP TABLE import_rows AS SELECT {names} FROM {table} WITH NO DATA")  # noqa: S608
            count = _copy(cursor, f"COPY import_rows ({names}) FROM STDIN", rows)
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM import_rows ORDER BY {key_order} "  # noqa: S608
                f"ON CONFLICT ({conflict}) DO UPDATE SET {updates} WHERE {differs}"
            )
            written = cursor.rowcount
            cursor.execute("DROP TABLE import_rows")
        else:
            rows = list(rows)
            count = len(rows)
            marks = ", ".join(["%s"] * len(columns))
            before = connection.connection.total_changes
            cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({marks}) "  # noqa: S608
                f"ON CONFLICT ({conflict}) DO UPDATE SET {updates} WHERE {differs}",
                rows,
            )
            written = connection.connection.total_changes - before
        if written and kind in ("responses", "customers"):  # comments and the revenue weighing them
            heavy.bump(heavy.FEEDBACK)
    return count


CHECK_CHUNK = 20_000  # rows checked at a time while the rows before them are written
IMPORT_LOCKS = 1_700_029  # the advisory locks' first key: one import of a source at a time


class _Refused(Exception):
    """A row of the file has a problem: what was written is undone, nothing is kept."""


class _Kept:
    """Rows from chunks checked as they are needed, each chunk kept once checked: a second pass (a
    retry after a deadlock, an upsert after a straight COPY lost a race) reads the kept chunks,
    then checks on where the first pass stopped."""

    def __init__(self, chunks: Iterable[list[tuple]]):
        self.chunks: list[list[tuple]] = []
        self._more = iter(chunks)

    def __iter__(self):
        position = 0
        while True:
            if position == len(self.chunks):
                chunk = next(self._more, None)
                if chunk is None:
                    return
                self.chunks.append(chunk)
            yield from self.chunks[position]
            position += 1


def import_path(
    *,
    kind: str,
    source: str,
    path: Path,
    mapping: ingestion.Mapping,
    on_check=None,
    on_write=None,
    progress_every: int = 5000,
) -> ImportOutcome:
    """Check every row of a file and write them idempotently, all or nothing: with a problem in
    any row nothing is written. (A response file on PostgreSQL with no repeated id is written as
    it is checked, a chunk at a time: PostgreSQL stores the rows while the next ones are checked.)

    ``on_check(rows_checked, total)`` and ``on_write(rows_written)`` report progress. Raises
    ``ingestion.FileProblem`` when the file as a whole is unreadable."""
    outcome = ImportOutcome()
    table = ingestion.read_table(path)
    # Column by column on PostgreSQL (``metrics.columnar``); odd rows, other kinds and SQLite row by row.
    by_column = columnar.handles(kind, mapping) and connection.vendor == "postgresql"
    if by_column:
        ingestion.row_filter(table, mapping)  # a filter on a column the file lacks: FileProblem
        cells = columnar.Cells(list(table.rows))
        found, keep = columnar.scan(cells, table.header, mapping, kind)
    else:
        found = ingestion.scan(kind, table, mapping)
    outcome.total = found.total
    if not outcome.total:
        raise ingestion.FileProblem(ingestion.NO_ROWS)
    outcome.filtered = found.total - found.kept
    if not found.kept:
        raise ingestion.FileProblem(
            f"No row has {' or '.join(mapping.filter_values) or 'nothing'} in “{mapping.filter_column}”: "
            "the row filter leaves nothing to import."
        )
    formats = ingestion.resolve_formats(kind, mapping, found.evidence)
    model, keys, fields = IMPORT_TABLES[kind]
    columns = keys + fields
    json_positions = [i for i, c in enumerate(columns) if c in JSON_FIELDS]
    keep_last = mapping.duplicates == ingestion.KEEP_LAST
    labels: dict[str, str] = {}  # external id: label, when a label column is mapped
    seen: dict = {}  # key: (line, cells fingerprint, position in checked_rows)
    checked_rows: list[tuple] = []

    def stored(row: dict) -> tuple:
        """A checked row as it is written: its columns in order, JSON fields as JSON text."""
        values = [row.get(c) for c in columns]
        for i in json_positions:
            values[i] = json.dumps(values[i]) if values[i] else "{}"
        return tuple(values)

    def problem(line: int, column: str, message: str) -> None:
        outcome.error_count += 1
        if len(outcome.errors) < MAX_STORED_ERRORS:
            outcome.errors.append({"row": line, "column": column, "message": message})

    if by_column:
        started = timezone.now()  # before the per-row checks read the clock: never laxer than they are
        build = ingestion.row_builder(kind, source, table.header, mapping, total=outcome.total, formats=formats)
        if columnar.ids_distinct(cells, table.header, mapping, keep):  # the rows are written as they are checked

            def chunks():
                """The kept rows checked a chunk at a time (clean ones by column, doubtful ones row
                by row), as stored tuples; with a problem anywhere, nothing more is given and, once
                every row is checked, ``_Refused`` undoes what was written."""
                for start in range(0, len(cells), CHECK_CHUNK):
                    part = keep.copy()
                    part[:start], part[start + CHECK_CHUNK :] = False, False
                    clean = columnar.check_responses(
                        cells, table.header, mapping, source, found, part, formats, outcome.total, now=started
                    )
                    odd = [(line, *build(line, raw)) for line, raw in clean.doubtful]
                    for line, _, row_errors in odd:
                        for column, message in row_errors:
                            problem(line, column, message)
                    if outcome.error_count:
                        continue
                    if mapping.label_column:
                        labels.update(zip(clean.values["external_id"], clean.labels, strict=True))
                        labels.update((row["external_id"], row.get(ingestion.LABEL, "")) for _, row, _ in odd)
                    yield list(zip(*(clean.values[c] for c in columns), strict=True)) + [
                        stored(row) for _, row, _ in odd
                    ]
                if outcome.error_count:
                    raise _Refused

            checked_rows = _Kept(chunks())
            rows = iter(())
        else:  # repeated ids: every row through the loop below, in file order
            clean = columnar.check_responses(cells, table.header, mapping, source, found, keep, formats, outcome.total)
            odd = [(line, *build(line, raw)) for line, raw in clean.doubtful]
            rows = heapq.merge(columnar.row_dicts(clean, cells), odd, key=itemgetter(0))
            del cells
    else:
        rows = ingestion.build_rows(
            kind, source, ingestion.read_table(path), mapping, total=outcome.total, formats=formats
        )
    for checked, (line, row, row_errors) in enumerate(rows, start=1):
        for column, message in row_errors:
            problem(line, column, message)
        key = tuple(row.get(k) for k in keys)
        earlier = seen.get(key) if row["external_id"] else None
        if earlier is not None and earlier[1] == row[ingestion.CELLS]:
            outcome.collapsed += 1  # the same row again: nothing new to write
        elif earlier is not None and not keep_last:
            problem(
                line,
                mapping.columns.get("external_id", "external_id"),
                f"repeats the id “{row['external_id']}” of row {earlier[0]} with other values "
                "(choose “keep the last row” to import the last one)",
            )
        else:
            position = earlier[2] if earlier is not None else len(checked_rows)
            if earlier is not None:
                outcome.replaced += 1
            if row["external_id"]:
                seen[key] = (line, row[ingestion.CELLS], position)
                if mapping.label_column:
                    labels[row["external_id"]] = row.get(ingestion.LABEL, "")
            if not outcome.error_count:
                if position < len(checked_rows):
                    checked_rows[position] = stored(row)
                else:
                    checked_rows.append(stored(row))
        if on_check and checked % progress_every == 0:
            on_check(checked, outcome.total)
    if on_check:  # (rows still to check are checked as they are written)
        on_check(outcome.total, outcome.total)
    if outcome.error_count:
        return outcome
    del seen
    stamp = {"responses": "responded_at", "observations": "observed_at"}.get(kind)

    def span() -> list:
        if stamp is None:
            return []
        found = model.objects.filter(source=source).aggregate(first=Min(stamp), last=Max(stamp))
        return [value for value in found.values() if value is not None]

    if isinstance(checked_rows, list):
        # Key order, as in rows_upsert: a concurrent writer of the same ids waits instead of
        # deadlocking. (Rows still being checked are put in key order by the upsert's ORDER BY; a
        # straight COPY is one source's first import, and imports of a source take turns.)
        checked_rows.sort(key=itemgetter(*range(len(keys))))  # keys are text

    # All or nothing: one transaction for the whole write; re-sent rows may move between
    # periods, so the periods spanned before and after are recomputed.
    @retry_on_conflict
    @transaction.atomic
    def write() -> int:
        if connection.vendor == "postgresql":
            # One import of a source at a time: a second one waits for the first to commit, then finds
            # its rows and upserts. (Two first imports COPYing the same ids in other orders deadlock.)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [IMPORT_LOCKS, f"{kind}:{source}"])
        stamps = span()
        # The first import of a source (no dates spanned: no rows yet; its rows are distinct) goes
        # straight into the table.
        written = _copy_straight(kind, checked_rows, columns) if by_column and not stamps else None
        if written is None:
            written = _write_rows(kind, checked_rows, columns)
        stamps += span()
        if mapping.label_column:
            for _, answer in labels_imported.send(
                sender=SurveyResponse, source=source, driver=mapping.label_driver.strip(), labels=labels
            ):
                outcome.labelled = answer or {}
        metrics_touched(
            kind=kind, sources={source}, first=min(stamps) if stamps else None, last=max(stamps) if stamps else None
        )
        return written

    try:
        outcome.written = write()
    except _Refused:  # a problem in a row: nothing was written
        return outcome
    if on_write:
        on_write(outcome.written)
    return outcome


def import_run(*, job_id: int) -> ImportJob:
    """Run an uploaded file's import. Claimed with a conditional UPDATE, from "queued" or from a
    worker that died mid-way (``import_takeable``), so only one worker runs a job; the claim takes
    a lease that a thread renews while the work goes on. A redelivered message for a job a live
    worker holds does nothing (the caller may look again when its lease would run out)."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or not import_takeable(job):
        return job
    now = timezone.now()
    takeover = job.status != ImportStatus.QUEUED
    claimed = ImportJob.objects.filter(
        pk=job_id, status=job.status, worker=job.worker, lease_until=job.lease_until
    ).update(
        status=ImportStatus.VALIDATING,
        processed_rows=0,
        written_rows=0,
        updated_at=now,
        worker=_holder(),
        lease_until=now + _lease(),
        message=(
            f"Taken over at {timezone.localtime(now):%H:%M:%S} from a worker that stopped; started again."
            if takeover
            else job.message
        ),
    )
    job = ImportJob.objects.get(pk=job_id)
    if not claimed:
        return job
    try:
        with _LeaseKeeper(job_id):
            _import_work(job)
    finally:
        ImportJob.objects.filter(pk=job_id, worker=_holder()).update(lease_until=None)
    return ImportJob.objects.get(pk=job_id)


def _import_work(job: ImportJob) -> None:
    job_id = job.pk

    def checked(rows: int, total: int) -> None:
        _progress(job_id, processed_rows=rows, total_rows=total)

    def writing(rows: int, total: int) -> None:
        checked(rows, total)
        if rows >= total:
            _progress(job_id, status=ImportStatus.WRITING)

    def written(rows: int) -> None:
        _progress(job_id, status=ImportStatus.WRITING, written_rows=rows)

    try:
        outcome = import_path(
            kind=job.kind,
            source=job.source,
            path=Path(job.stored_path),
            mapping=ingestion.Mapping.from_json(job.mapping),
            on_check=writing,
            on_write=written,
        )
    except ingestion.FileProblem as exc:
        _progress(job_id, status=ImportStatus.INVALID, message=str(exc), finished_at=timezone.now())
    except Exception as exc:
        _progress(
            job_id,
            status=ImportStatus.FAILED,
            message=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        raise
    else:
        if outcome.error_count:
            _progress(
                job_id,
                status=ImportStatus.INVALID,
                total_rows=outcome.total,
                processed_rows=outcome.total,
                error_count=outcome.error_count,
                errors=outcome.errors,
                finished_at=timezone.now(),
                message=f"{outcome.error_count} problem(s) found; nothing was written.",
            )
        else:
            _progress(
                job_id,
                status=ImportStatus.DONE,
                total_rows=outcome.total,
                processed_rows=outcome.total,
                written_rows=outcome.written,
                finished_at=timezone.now(),
                message=" ".join(
                    [f"{outcome.written} row(s) imported.", *(f"{n[0].upper()}{n[1:]}." for n in outcome.notes())]
                ),
            )
