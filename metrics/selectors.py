"""Reads of metrics, each with a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from django.db.models import Count, F, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from cxgov.lib import heavy
from cxgov.models import Function, PendingTask
from metrics import calculations, drivers
from metrics.models import Customer, ImportJob, ImportStatus, Kind, Metric, MetricValue, Scale, SurveyResponse

SPARK_POINTS = 12


def metric_list(*, owning_function_ids: Iterable[int] | None = None, north_star: bool | None = None) -> list[Metric]:
    """Active metrics with their owner, latest overall value, RAG status and recent values; narrowed in
    SQL (before the sparkline windows) to metrics owned by these functions, or to the North Star."""
    chosen = Metric.objects.filter(active=True)
    if owning_function_ids is not None:
        chosen = chosen.filter(owning_function_id__in=list(owning_function_ids))
    if north_star is not None:
        chosen = chosen.filter(north_star=north_star)
    metrics = list(chosen.select_related("owning_function").order_by("-north_star", "name"))
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


def metric_no_values_reason(*, metric: Metric) -> str:
    """Why a score metric (NPS, CSAT, mean) has no values, when its data explains it: no scored
    responses from its source, or responses only on another scale than its calculator reads."""
    from metrics.services import RESPONSE_CALCULATORS, SCORE_SCALES, _filters

    if metric.calculator not in RESPONSE_CALCULATORS:
        return ""
    qs = SurveyResponse.objects.scored().filter(**_filters(metric))
    if metric.source:
        qs = qs.filter(source=metric.source)
    found = dict(qs.order_by().values_list("scale").annotate(n=Count("pk")))
    source = f" from the source “{metric.source}”" if metric.source else ""
    if not found:
        return f"No scored survey responses{source} match this metric yet; import some and it is recalculated."
    wanted = SCORE_SCALES.get(metric.calculator)
    if wanted and not any(found.get(scale) for scale in wanted):
        labels = dict(Scale.choices)
        have = "; ".join(f"{n} on the {labels.get(scale, scale)} scale" for scale, n in sorted(found.items()))
        return (
            f"A {metric.get_calculator_display()} metric reads {', '.join(labels[w] for w in wanted)} scores, "
            f"but the scored responses{source} are all on another scale ({have}). "
            "Use a calculator for their scale (CSAT or mean for 1-5), or import scores on this one."
        )
    return ""


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
KDA_MIN_RESPONSES = drivers.MIN_ROWS
KDA_FIELD_SAMPLE = 500  # the latest responses of a source whose fields are offered
SCORE = "score"
GRANULARITIES = ("day", "week", "month")
PER_CUSTOMER = "customer"  # series joined on the customer_id dimension of their observations


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _analysis_answer(analysis: drivers.Analysis, frame: pd.DataFrame | None = None) -> dict:
    """The analysis as pages and the API show it; with ``frame`` (driver ratings 1-5), each driver's
    performance too (mean rating, % rated 4-5) and where it falls on importance × performance."""
    table = [
        {
            "driver": d.driver,
            "importance": d.importance,
            "share": d.share,
            "share_low": d.share_low,
            "share_high": d.share_high,
            "mean": d.mean,
        }
        for d in analysis.drivers
    ]
    if frame is not None:
        median_share = float(np.median([t["share"] for t in table]))
        median_perf = float(np.median([t["mean"] for t in table]))
        for t in table:
            t["top_two"] = float((frame[t["driver"]].dropna() >= 4).mean() * 100)
            important, weak = t["share"] >= median_share, t["mean"] < median_perf
            t["quadrant"] = (
                "Fix first" if important and weak else "Keep up" if important else "Watch" if weak else "Maintain"
            )
    return {
        "method": analysis.method,
        "method_name": drivers.METHODS[analysis.method],
        "outcome": analysis.outcome,
        "drivers": table,
        "r2": analysis.r2,
        "r2_low": analysis.r2_low,
        "r2_high": analysis.r2_high,
        "n": analysis.n,
        "resamples": analysis.resamples,
    }


def key_drivers(*, metric: Metric, method: str = drivers.LMG) -> dict:
    """Relative importance of each driver rating for the metric's score, with R², n and bootstrap
    intervals, and each driver's performance (mean rating and % rating 4-5), for its most recent
    responses."""
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
    frame = pd.DataFrame([{**ratings, SCORE: score} for score, ratings in rows])
    counts = frame.count()
    names = [c for c in frame.columns if c != SCORE and counts[c] >= KDA_MIN_RESPONSES]
    frame = frame[[*names, SCORE]].dropna()
    if len(frame) < KDA_MIN_RESPONSES or not names:
        return {"error": "Too few responses rate every driver to compare them."}
    names = names[: calculations.MAX_DRIVERS]
    try:
        analysis = drivers.analyse(frame, SCORE, names, method=method)
    except drivers.NotEnoughData as exc:
        return {"error": str(exc)}
    return _analysis_answer(analysis, frame)


def key_drivers_cached(*, metric: Metric, method: str = drivers.LMG) -> dict:
    """``key_drivers`` cached per metric settings, method and version of the feedback data (an
    import of responses bumps it), computed in one of a few slots under a statement timeout
    (cxgov/lib/heavy.py): raises ``heavy.AnalysisUnavailable`` when busy or too slow."""
    from metrics.services import _filters

    arguments = {
        "metric": metric.pk,
        "method": method,
        "calculator": metric.calculator,
        "source": metric.source,
        "filters": _filters(metric),
    }
    return heavy.cached("key-drivers", arguments, lambda: key_drivers(metric=metric, method=method))


def driver_data_choices() -> list[tuple[str, str]]:
    """What a key-driver analysis can read: each survey source's responses, or the observation
    series summed per day, week or month (two queries)."""
    from metrics.models import Observation

    sources = SurveyResponse.objects.order_by("source").values_list("source", flat=True).distinct()
    choices = [(f"responses:{s}", f"Responses of “{s}”") for s in sources]
    if Observation.objects.exists():
        choices += [(f"series:{g}", f"Observation series, joined per {g}") for g in GRANULARITIES]
        choices.append((f"series:{PER_CUSTOMER}", "Observation series, joined per customer (customer_id dimension)"))
    return choices


def driver_fields(*, data: str) -> list[str]:
    """The numeric fields of ``data`` (see ``driver_data_choices``) that can be an outcome or a driver:
    for responses the score, the driver ratings and numeric attributes of the latest responses;
    for series, the series keys (one query)."""
    from metrics.models import Observation

    kind, _, key = data.partition(":")
    if kind == "series":
        return list(Observation.objects.order_by("source").values_list("source", flat=True).distinct())
    names: dict[str, None] = {}
    rows = (
        SurveyResponse.objects.filter(source=key)
        .order_by("-responded_at")
        .values_list("score", "driver_ratings", "attributes")[:KDA_FIELD_SAMPLE]
    )
    for score, ratings, attributes in rows:
        if score is not None:
            names[SCORE] = None
        names.update(dict.fromkeys(k for k, v in (ratings or {}).items() if _number(v)))
        names.update(dict.fromkeys(k for k, v in (attributes or {}).items() if _number(v)))
    return sorted(names, key=lambda n: (n != SCORE, n.lower()))


def _driver_frame(data: str, columns: list[str]) -> pd.DataFrame:
    """One row per response (its numeric fields) or per period (each series' sum), one column per field."""
    from django.conf import settings
    from django.db.models.fields.json import KT
    from django.db.models.functions import Trunc

    from metrics.models import Observation

    kind, _, key = data.partition(":")
    if kind == "series":
        series = Observation.objects.filter(source__in=columns)
        if key == PER_CUSTOMER:
            series = series.filter(dimensions__has_key="customer_id").annotate(joined=KT("dimensions__customer_id"))
        else:
            series = series.annotate(joined=Trunc("observed_at", key, tzinfo=ZoneInfo(settings.TIME_ZONE)))
        rows = series.values_list("joined", "source").annotate(total=Sum("value")).order_by()
        frame = pd.DataFrame(list(rows), columns=["joined", "source", "total"])
        return frame.pivot(index="joined", columns="source", values="total").reindex(columns=columns)
    rows = (
        SurveyResponse.objects.filter(source=key)
        .order_by("-responded_at")
        .values_list("score", "driver_ratings", "attributes")[:KDA_MAX_RESPONSES]
    )
    records = []
    for score, ratings, attributes in rows:
        fields = {k: v for k, v in (attributes or {}).items() if _number(v)}
        fields.update(ratings or {})
        fields[SCORE] = score
        records.append([fields.get(c) for c in columns])
    return pd.DataFrame(records, columns=columns, dtype=float)


def driver_analysis(*, data: str, outcome: str, driver_names: list[str], method: str = drivers.LMG) -> dict:
    """Key-driver analysis of any numeric data: ``outcome`` on ``driver_names`` read as continuous
    numbers, over the responses of a source or the observation series joined per period or per
    customer (each series summed per customer_id dimension).
    The caller has checked the names against ``driver_fields``; "not enough data" is an answer."""
    driver_names = [d for d in dict.fromkeys(driver_names) if d != outcome]
    frame = _driver_frame(data, [outcome, *driver_names])
    try:
        analysis = drivers.analyse(frame, outcome, driver_names, method=method)
    except drivers.NotEnoughData as exc:
        return {"error": str(exc), "n": int(len(frame[[outcome, *driver_names]].dropna()))}
    return _analysis_answer(analysis)


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


def demo_summary() -> dict:
    """What the demo loaded, for its page: subscribers, reviews and how many reviews the demo linked."""
    from metrics.demo import REVIEWS_SOURCE

    customers = Customer.objects.aggregate(n=Count("pk"), left=Count("pk", filter=Q(ended_on__isnull=False)))
    reviews = SurveyResponse.objects.filter(source=REVIEWS_SOURCE).aggregate(
        n=Count("pk"), linked=Count("pk", filter=~Q(customer_id=""))
    )
    return {
        "customers": customers["n"],
        "left": customers["left"],
        "reviews": reviews["n"],
        "linked": reviews["linked"],
    }
