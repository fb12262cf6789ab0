"""Reads for outcomes: categories with computed size and value, canvases with live measures, line of sight."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, Sum

from cxgov.models import Function
from metrics import selectors as metric_selectors
from metrics.models import Customer, Kind, Metric
from outcomes.models import Canvas, CanvasState, CustomerCategory, MomentOfTruth

LIVE_STATES = (CanvasState.APPROVED, CanvasState.DRAFT)


def category_list() -> list[CustomerCategory]:
    """Categories with their customers and revenue share computed from the customer data, their
    current canvas, and the checks the product makes (no canvas, no outcome measure, all outputs)."""
    categories = list(CustomerCategory.objects.order_by("name"))
    sizes = dict(
        Customer.objects.filter(ended_on__isnull=True).values_list("category").annotate(n=Count("pk")).order_by()
    )
    revenue = dict(
        Customer.objects.filter(ended_on__isnull=True)
        .values_list("category")
        .annotate(total=Sum("monthly_revenue"))
        .order_by()
    )
    total_revenue = sum(float(v or 0) for v in revenue.values()) or None
    canvases = {
        c.category_id: c
        for c in Canvas.objects.filter(state__in=LIVE_STATES)
        .prefetch_related(Prefetch("measures", queryset=Metric.objects.only("pk", "kind", "name")))
        .order_by("category_id", "state")  # "approved" sorts before "draft"
    }
    for category in categories:
        category.customers = sizes.get(category.data_category, 0)
        category.revenue = float(revenue.get(category.data_category) or 0)
        category.revenue_share = category.revenue / total_revenue * 100 if total_revenue else None
        category.canvas = canvases.get(category.pk)
        category.flags = canvas_flags(category.canvas) if category.canvas else ["No canvas yet"]
    return categories


def canvas_flags(canvas: Canvas) -> list[str]:
    """What is wrong with a canvas's measures (uses prefetched measures)."""
    kinds = [m.kind for m in canvas.measures.all()]
    if Kind.OUTCOME not in kinds:
        return ["No outcome measure"] + (["All measures are outputs"] if kinds and set(kinds) == {Kind.OUTPUT} else [])
    return []


def canvas_detail(*, category_slug: str, version: int | None = None) -> tuple[CustomerCategory, Canvas | None, list]:
    """A category's canvas (the approved one, else the draft, or a given version), its live
    measures (latest value, RAG, trend) and all its versions."""
    category = CustomerCategory.objects.get(slug=category_slug)
    versions = list(Canvas.objects.filter(category=category).order_by("-version").only("pk", "version", "state"))
    qs = Canvas.objects.filter(category=category).prefetch_related(
        "needs",
        Prefetch("moments", queryset=MomentOfTruth.objects.prefetch_related("functions")),
        "accountable_functions",
        Prefetch("measures", queryset=Metric.objects.select_related("owning_function")),
    )
    if version:
        canvas = qs.filter(version=version).first()
    else:
        canvas = qs.filter(state=CanvasState.APPROVED).first() or qs.filter(state=CanvasState.DRAFT).first()
    if canvas is not None:
        live = {m.pk: m for m in metric_selectors.metric_list() if m.pk in {x.pk for x in canvas.measures.all()}}
        canvas.live_measures = [live.get(m.pk, m) for m in canvas.measures.all()]
        canvas.flags = canvas_flags(canvas)
    return category, canvas, versions


def north_star_line_of_sight() -> dict:
    """The North Star, its trend, and the approved canvases that use it with their measures and
    accountable functions."""
    star = next((m for m in metric_selectors.metric_list() if m.north_star), None)
    if star is None:
        return {"star": None}
    canvases = list(
        Canvas.objects.filter(state=CanvasState.APPROVED, measures=star)
        .select_related("category")
        .prefetch_related(
            Prefetch("measures", queryset=Metric.objects.select_related("owning_function")),
            Prefetch("accountable_functions", queryset=Function.objects.order_by("customer_facing", "name")),
        )
        .order_by("category__name")
    )
    _attach_issues(canvases)
    return {"star": star, "canvases": canvases}


def _attach_issues(canvases: list[Canvas], function_id: int | None = None) -> None:
    """Each canvas's open issues (and their overdue action items) that touch its measures."""
    from rootcause.selectors import open_issues_for_metrics

    measure_ids = {m.pk for canvas in canvases for m in canvas.measures.all()}
    issues = open_issues_for_metrics(measure_ids, function_id=function_id) if measure_ids else []
    for canvas in canvases:
        ids = {m.pk for m in canvas.measures.all()}
        canvas.open_issues = [issue for issue in issues if issue.metric_id in ids]
        canvas.overdue_count = sum(len(issue.overdue_items) for issue in canvas.open_issues)


def function_line_of_sight(*, function: Function) -> list[Canvas]:
    """Approved canvases the function is accountable for or acts in, with their measures and the
    function's own open issues (and overdue action items) that touch them."""
    canvases = list(
        Canvas.objects.filter(state=CanvasState.APPROVED)
        .filter(Q(accountable_functions=function) | Q(moments__functions=function))
        .distinct()
        .select_related("category")
        .prefetch_related("measures")
        .order_by("category__name")
    )
    _attach_issues(canvases, function_id=function.pk)
    return canvases
