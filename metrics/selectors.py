"""Reads of metrics, each with a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import numpy as np
import pandas as pd
from django.db.models import Count, F, QuerySet, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from cxgov.models import Function, PendingTask
from metrics import calculations
from metrics.models import Customer, ImportJob, ImportStatus, Kind, Metric, MetricValue, SurveyResponse

SPARK_POINTS = 12


def metric_list() -> list[Metric]:
    """Active metrics with their owner, latest overall value, RAG status and recent values."""
    metrics = list(Metric.objects.filter(active=True).select_related("owning_function").order_by("-north_star", "name"))
    recent = (
        MetricValue.objects.filter(metric__in=[m.pk for m in metrics], segment="")
        .annotate(rank=Window(RowNumber(), partition_by=[F("metric_id")], order_by=F("period_start").desc()))
        .filter(rank__lte=SPARK_POINTS)
        .values_list("metric_id", "period_start", "value")
    )
    series = defaultdict(list)
    for metric_id, period, value in recent:
        series[metric_id].append((period, value))
    for metric in metrics:
        points = sorted(series.get(metric.pk, []))
        metric.spark = [round(v, 2) for _, v in points]
        metric.latest = points[-1][1] if points else None
        metric.latest_period = points[-1][0] if points else None
        metric.status = metric.rag(metric.latest)
    return metrics


def metric_detail(*, slug: str, segment: str = "") -> tuple[Metric, list[MetricValue], list[str]]:
    metric = Metric.objects.select_related("owning_function").get(slug=slug)
    values = list(MetricValue.objects.filter(metric=metric, segment=segment).order_by("period_start"))
    for value in values:
        value.status = metric.rag(value.value)
    segments = list(
        MetricValue.objects.filter(metric=metric)
        .exclude(segment="")
        .order_by("segment")
        .values_list("segment", flat=True)
        .distinct()
    )
    return metric, values, segments


def metric_unscored(*, metric: Metric) -> int:
    """How many responses a score metric (NPS, CSAT, mean) reads but skips: comments without a score."""
    from metrics.services import RESPONSE_CALCULATORS, _filters

    if metric.calculator not in RESPONSE_CALCULATORS:
        return 0
    qs = SurveyResponse.objects.filter(score__isnull=True, **_filters(metric))
    if metric.source:
        qs = qs.filter(source=metric.source)
    return qs.count()


def kpi_audit() -> list[dict]:
    """Each function's mix of outcome / output / business metrics; mostly-output functions flagged."""
    counts = defaultdict(lambda: dict.fromkeys(Kind.values, 0))
    for function_id, kind, n in (
        Metric.objects.filter(active=True).values_list("owning_function_id", "kind").annotate(n=Count("pk")).order_by()
    ):
        counts[function_id][kind] = n
    rows = []
    for function in Function.objects.order_by("customer_facing", "name"):
        mix = counts.get(function.pk, dict.fromkeys(Kind.values, 0))
        total = sum(mix.values())
        rows.append(
            {
                "function": function,
                "mix": mix,
                "total": total,
                "output_share": mix["output"] / total * 100 if total else None,
                "mostly_outputs": bool(total) and mix["output"] * 2 > total,
                "no_outcome": bool(total) and mix["outcome"] == 0,
            }
        )
    if None in counts:
        mix = counts[None]
        rows.append(
            {
                "function": None,
                "mix": mix,
                "total": sum(mix.values()),
                "output_share": None,
                "mostly_outputs": False,
                "no_outcome": False,
            }
        )
    return rows


def business_impact(*, month: date | None = None) -> dict:
    """Churn, lifetime value and revenue lost by customer category, for the latest month with churn."""
    customers = pd.DataFrame.from_records(
        list(Customer.objects.values_list("category", "started_on", "ended_on", "monthly_revenue", "monthly_margin")),
        columns=["category", "started_on", "ended_on", "monthly_revenue", "monthly_margin"],
    )
    if customers.empty or customers["ended_on"].dropna().empty:
        return {"month": None, "rows": []}
    last_end = max(customers["ended_on"].dropna())
    month = month or date(last_end.year, last_end.month, 1)
    end = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    churn = {r.segment: r for r in calculations.churn_rate(customers, [(month, end)], "category")}
    per_month = customers["monthly_margin"].where(customers["monthly_margin"].notna(), customers["monthly_revenue"])
    customers["per_month"] = per_month.astype(float)
    customers["monthly_revenue"] = customers["monthly_revenue"].astype(float)
    lost = customers[
        pd.to_datetime(customers["ended_on"]).between(pd.Timestamp(month), pd.Timestamp(end), inclusive="left")
    ]
    rows = []
    for segment, result in sorted(churn.items(), key=lambda item: (item[0] != "", item[0])):
        pool = customers if segment == "" else customers[customers["category"] == segment]
        lost_pool = lost if segment == "" else lost[lost["category"] == segment]
        rows.append(
            {
                "category": segment or "All customers",
                "customers": result.sample_size,
                "churned": int(round(result.value / 100 * result.sample_size)),
                "churn_rate": result.value,
                "ci_low": result.ci_low,
                "ci_high": result.ci_high,
                "monthly_revenue": float(pool["monthly_revenue"].sum()),
                "revenue_lost": float(lost_pool["monthly_revenue"].sum()),
                "lifetime_value": calculations.lifetime_value(float(pool["per_month"].mean()), result.value / 100),
                "uses_margin": bool(pool["monthly_margin"].notna().any()),
            }
        )
    at_risk = revenue_at_risk_by_category(since=end - timedelta(days=90))
    for row in rows:
        row["revenue_at_risk"] = at_risk.get("" if row["category"] == "All customers" else row["category"])
    return {"month": month, "rows": rows, "risk_known": bool(at_risk)}


def revenue_at_risk_by_category(*, since: date) -> dict[str, float]:
    """Monthly revenue of active customers who gave a dissatisfied answer (NPS 0-6, CSAT 1-2, CES 5-7)
    since a day, by category ("" is the total); empty when no response names a customer."""
    from metrics.services import DISSATISFIED

    unhappy = SurveyResponse.objects.filter(DISSATISFIED, responded_at__date__gte=since).exclude(customer_id="")
    rows = dict(
        Customer.objects.filter(ended_on__isnull=True, external_id__in=unhappy.values("customer_id"))
        .values_list("category")
        .annotate(total=Sum("monthly_revenue"))
        .order_by()
    )
    if not rows:
        return {}
    result = {category: float(total or 0) for category, total in rows.items()}
    result[""] = sum(result.values())
    return result


def failed_metrics() -> QuerySet[Metric]:
    return Metric.objects.filter(active=True).exclude(last_error="").order_by("-last_error_at")


def metric_values(*, metric_id: int | None = None, segment: str | None = None) -> QuerySet[MetricValue]:
    qs = MetricValue.objects.select_related("metric")
    if metric_id:
        qs = qs.filter(metric_id=metric_id)
    if segment is not None:
        qs = qs.filter(segment=segment)
    return qs.order_by("metric__name", "period_start", "segment")


KDA_MAX_RESPONSES = 20_000
KDA_MIN_RESPONSES = 30


def key_drivers(*, metric: Metric) -> dict:
    """Relative importance of each driver rating for the metric's score, with R², and each
    driver's performance (mean rating and % rating 4-5), for its most recent responses."""
    from metrics.services import RESPONSE_CALCULATORS, SCORE_SCALES, _filters

    if metric.calculator not in RESPONSE_CALCULATORS:
        return {"error": "Key-driver analysis needs a metric computed from survey scores (NPS, CSAT or mean)."}
    qs = SurveyResponse.objects.scored().filter(**_filters(metric)).exclude(driver_ratings={})
    if metric.source:
        qs = qs.filter(source=metric.source)
    if metric.calculator in SCORE_SCALES:
        qs = qs.filter(scale__in=SCORE_SCALES[metric.calculator])
    rows = list(qs.order_by("-responded_at").values_list("score", "driver_ratings")[:KDA_MAX_RESPONSES])
    if len(rows) < KDA_MIN_RESPONSES:
        return {
            "error": f"{len(rows)} response(s) carry driver ratings; at least {KDA_MIN_RESPONSES} are needed. "
            "Map driver columns when importing survey files."
        }
    frame = pd.DataFrame([{**ratings, "__score": score} for score, ratings in rows])
    counts = frame.count()
    drivers = [c for c in frame.columns if c != "__score" and counts[c] >= KDA_MIN_RESPONSES]
    frame = frame[[*drivers, "__score"]].dropna()
    if len(frame) < KDA_MIN_RESPONSES or not drivers:
        return {"error": "Too few responses rate every driver to compare them."}
    drivers = drivers[: calculations.MAX_DRIVERS]
    try:
        shares, r2 = calculations.relative_importance(frame[[*drivers, "__score"]], "__score")
    except ValueError as exc:
        return {"error": str(exc).capitalize() + "."}
    table = []
    for driver in drivers:
        table.append(
            {
                "driver": driver,
                "importance": shares[driver],
                "share": shares[driver] / r2 * 100 if r2 else 0.0,
                "mean": float(frame[driver].mean()),
                "top_two": float((frame[driver] >= 4).mean() * 100),
            }
        )
    median_share = float(np.median([t["share"] for t in table]))
    median_perf = float(np.median([t["mean"] for t in table]))
    for t in table:
        important, weak = t["share"] >= median_share, t["mean"] < median_perf
        t["quadrant"] = (
            "Fix first" if important and weak else "Keep up" if important else "Watch" if weak else "Maintain"
        )
    table.sort(key=lambda t: -t["share"])
    return {"drivers": table, "r2": r2, "n": len(frame)}


def metric_schedule_entry(*, metric: Metric):
    """The metric's django-celery-beat entry (administrators edit it in the admin)."""
    from django_celery_beat.models import PeriodicTask

    return PeriodicTask.objects.select_related("interval", "crontab").filter(name=metric.schedule_name).first()


def _holder_alive(holder: str) -> bool:
    from metrics.services import import_holder_alive

    return import_holder_alive(holder) is True


def import_activity(job: ImportJob) -> str:
    """What is really happening to an import, in a sentence for its page (at most one query)."""
    if job.status == ImportStatus.QUEUED:
        if PendingTask.objects.filter(task="metrics.import_file", kwargs__job_id=job.pk).exists():
            return (
                "The task queue (broker) is not answering; the import is stored and starts as soon as it answers. "
                "You can leave this page."
            )
        return "Waiting for a free worker to start it. You can leave this page."
    if job.worker_lost and not _holder_alive(job.worker):
        stopped = timezone.localtime(job.lease_until)
        return (
            f"The worker running this import stopped responding at {stopped:%H:%M:%S}; another worker takes it "
            "over within a minute and starts it again (nothing was half-written)."
        )
    if job.running:
        return "A worker is on it. You can leave this page: it shows where the import is."
    return ""
