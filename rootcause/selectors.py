"""Reads for root-cause work: the taxonomy with counts, the untagged queue, Pareto analyses."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db.models import Count, DecimalField, F, OuterRef, Prefetch, QuerySet, Subquery, Sum, Window
from django.db.models.functions import Coalesce, RowNumber

from metrics.models import Customer, SurveyResponse
from rootcause.models import CommentTag, DecisionPoint, KeyDriver, ParetoSnapshot, SubTheme, Workflow
from rootcause.pareto import ParetoRow, pareto

SAMPLES = 3


def taxonomy() -> list[KeyDriver]:
    """Key drivers with their sub-themes and how many comments carry each."""
    counts = dict(CommentTag.objects.filter(rejected=False).values_list("sub_theme").annotate(n=Count("pk")).order_by())
    drivers = list(KeyDriver.objects.prefetch_related("sub_themes__suggested_function").order_by("name"))
    for driver in drivers:
        for theme in driver.sub_themes.all():
            theme.comment_count = counts.get(theme.pk, 0)
    return drivers


def untagged_comments() -> QuerySet[SurveyResponse]:
    """Comments no sub-theme applies to (rejected tags do not count)."""
    return (
        SurveyResponse.objects.exclude(comment="")
        .exclude(tags__rejected=False)
        .order_by("-responded_at", "pk")
        .only("pk", "source", "external_id", "responded_at", "score", "scale", "comment", "segment", "product")
    )


def responses_for(
    *,
    start: date | None = None,
    end: date | None = None,
    segment: str = "",
    channel: str = "",
    product: str = "",
    dissatisfied_only: bool = False,
) -> QuerySet[SurveyResponse]:
    """The responses a Pareto analysis looks at."""
    qs = SurveyResponse.objects.exclude(comment="")
    if start:
        qs = qs.filter(responded_at__date__gte=start)
    if end:
        qs = qs.filter(responded_at__date__lte=end)
    for name, value in (("segment", segment), ("channel", channel), ("product", product)):
        if value:
            qs = qs.filter(**{name: value})
    if dissatisfied_only:
        from metrics.services import DISSATISFIED

        qs = qs.filter(DISSATISFIED)
    return qs


def pareto_analysis(
    *, responses: QuerySet[SurveyResponse], weight_by_revenue: bool = False, cutoff: float = 80.0
) -> dict:
    """Comments per sub-theme (or their customers' monthly revenue), the Pareto rows, and sample
    verbatims for each sub-theme: a fixed number of queries whatever the data."""
    tags = CommentTag.objects.filter(rejected=False, response__in=responses.values("pk"))
    if weight_by_revenue:
        revenue = Customer.objects.filter(external_id=OuterRef("response__customer_id")).values("monthly_revenue")[:1]
        totals = tags.values("sub_theme").annotate(
            v=Coalesce(Sum(Subquery(revenue, output_field=DecimalField())), 0, output_field=DecimalField())
        )
    else:
        totals = tags.values("sub_theme").annotate(v=Count("pk"))
    values = {row["sub_theme"]: float(row["v"]) for row in totals.order_by()}
    themes = {t.pk: t for t in SubTheme.objects.filter(pk__in=values).select_related("driver", "suggested_function")}
    rows: list[ParetoRow] = pareto({pk: (str(themes[pk]), v) for pk, v in values.items()}, cutoff=cutoff)
    samples = defaultdict(list)
    sampled = (
        tags.annotate(rank=Window(RowNumber(), partition_by=[F("sub_theme_id")], order_by=F("response_id").desc()))
        .filter(rank__lte=SAMPLES)
        .values_list("sub_theme_id", "response__comment", "response__score", "response__scale")
    )
    for theme_id, comment, score, scale in sampled:
        samples[theme_id].append({"comment": comment, "score": score, "scale": scale})
    return {
        "rows": [{"row": r, "theme": themes[r.key], "samples": samples.get(r.key, [])} for r in rows],
        "comments": responses.count(),
        "tagged": responses.filter(tags__rejected=False).distinct().count(),
        "cutoff": cutoff,
        "weighted": weight_by_revenue,
    }


def pareto_comparison(*, filters: dict, current_vital: set[str]) -> dict | None:
    """The latest snapshot saved with the same filters, and which sub-themes entered or left the
    vital few since then (None when there is no earlier snapshot)."""
    previous = ParetoSnapshot.objects.filter(filters=filters).order_by("-created_at", "-pk").first()
    if previous is None:
        return None
    before = previous.vital_labels
    return {"snapshot": previous, "entered": sorted(current_vital - before), "left": sorted(before - current_vital)}


def decision_point_register(*, function_id: int | None = None, kind: str = "") -> list[Workflow]:
    """Workflows with their owning function and decision points, non-customer-facing owners first."""
    points = DecisionPoint.objects.order_by("rule")
    if kind:
        points = points.filter(kind=kind)
    workflows = Workflow.objects.select_related("function").prefetch_related(
        Prefetch("decision_points", queryset=points)
    )
    if function_id:
        workflows = workflows.filter(function_id=function_id)
    return list(workflows.order_by("function__customer_facing", "function__name", "name"))
