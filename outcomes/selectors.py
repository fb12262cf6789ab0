"""Reads for outcomes: categories with computed size and value, canvases with live measures, line of sight."""

from __future__ import annotations

import math

from django.conf import settings
from django.db.models import Count, F, Prefetch, Q, Sum

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


# --- The value ledger ------------------------------------------------------------------------------

LEDGER_TOP_ISSUES = 25


def at_risk_q() -> Q:
    """Business cases whose problem is still at risk: the issue is open and its fix was not verified
    effective (a verified effective fix counts as delivered, not at risk; a partial one stays at risk)."""
    from rootcause.models import CLOSED_STATES

    return ~Q(issue__state__in=CLOSED_STATES) & ~Q(issue__verdict="effective")


def ledger_settings() -> dict:
    """The ledger's currency, discount rate and costs per contact (two queries)."""
    from outcomes.models import ContactCost, LedgerSettings

    row = LedgerSettings.objects.filter(pk=1).first() or LedgerSettings(pk=1, currency=settings.CXGOV_CURRENCY)
    return {"settings": row, "costs": list(ContactCost.objects.order_by("channel"))}


def _quarter(year: int | None, quarter: int | None) -> str:
    return f"{year}-Q{quarter}" if year else "—"


LEDGER_FUNCTION = ("issue__function_id", "issue__function__name", "issue__function__customer_facing")
LEDGER_POINT = (
    "issue__decision_point_id",
    "issue__decision_point__rule",
    "issue__decision_point__kind",
    "issue__decision_point__workflow__name",
    "issue__decision_point__workflow__function__name",
    "issue__decision_point__workflow__function__customer_facing",
)
LEDGER_COUNTS = ("verified", "open", "open_unknown")


def _summed(rows: list[dict], name: str):
    """A sum over grouped rows: counts add up; amounts as floats, None where no row has one (as SQL's
    SUM over no rows)."""
    values = [r[name] for r in rows if r[name] is not None]
    if name in LEDGER_COUNTS:
        return sum(values)
    return math.fsum(values) if values else None


def _fold(rows: list[dict], keys: tuple[str, ...], sums) -> list[dict]:
    """Grouped rows summed again by fewer keys."""
    by_key: dict[tuple, list[dict]] = {}
    for row in rows:
        by_key.setdefault(tuple(row[k] for k in keys), []).append(row)
    return [
        {**dict(zip(keys, key, strict=True)), **{name: _summed(group, name) for name in sums}}
        for key, group in by_key.items()
    ]


def ledger() -> dict:
    """Value delivered (what verified fixes realised) and value at risk (what open issues' problems cost a
    year), in total, by quarter, by owning function (non-customer-facing first) and by decision point,
    with the issues that weigh most. A fixed number of queries, whatever the number of issues."""
    from django.db.models.functions import ExtractQuarter, ExtractYear

    from outcomes.models import BusinessCase
    from rootcause.models import ISSUE_TEXT

    cases = BusinessCase.objects.order_by()
    open_q = at_risk_q()
    delivered_q = Q(value_realised__isnull=False)
    sums = {
        "delivered": Sum("value_realised", filter=delivered_q),
        "delivered_low": Sum("realised_low", filter=delivered_q),
        "delivered_high": Sum("realised_high", filter=delivered_q),
        "at_risk": Sum("value_at_risk", filter=open_q),
        "revenue_at_risk": Sum("revenue_at_risk", filter=open_q),
        "failure_cost": Sum("failure_cost", filter=open_q),
        "verified": Count("pk", filter=delivered_q),
        "open": Count("pk", filter=open_q),
        "open_unknown": Count("pk", filter=open_q & Q(value_at_risk__isnull=True)),
    }
    # One pass over the cases per (quarter verified, quarter opened): value delivered is counted in
    # the quarter its fix was verified, value at risk in the quarter its issue was opened.
    by_quarters = list(
        cases.filter(delivered_q | open_q)
        .annotate(
            vy=ExtractYear("issue__verified_at"),
            vq=ExtractQuarter("issue__verified_at"),
            cy=ExtractYear("issue__created_at"),
            cq=ExtractQuarter("issue__created_at"),
        )
        .values("vy", "vq", "cy", "cq")
        .annotate(**{name: sums[name] for name in ("delivered", "delivered_low", "delivered_high", "verified")})
        .annotate(at_risk=sums["at_risk"], open=sums["open"])
        .order_by()
    )
    names = ("delivered", "delivered_low", "delivered_high", "verified", "at_risk", "open")
    delivered_by_quarter = {
        _quarter(r["vy"], r["vq"]): r for r in _fold([r for r in by_quarters if r["verified"]], ("vy", "vq"), names)
    }
    risk_by_quarter = {
        _quarter(r["cy"], r["cq"]): r for r in _fold([r for r in by_quarters if r["open"]], ("cy", "cq"), names)
    }
    quarters = [
        {
            "quarter": key,
            "delivered": delivered_by_quarter.get(key, {}).get("delivered"),
            "delivered_low": delivered_by_quarter.get(key, {}).get("delivered_low"),
            "delivered_high": delivered_by_quarter.get(key, {}).get("delivered_high"),
            "verified": delivered_by_quarter.get(key, {}).get("verified", 0),
            "at_risk": risk_by_quarter.get(key, {}).get("at_risk"),
            "opened": risk_by_quarter.get(key, {}).get("open", 0),
        }
        for key in sorted(set(delivered_by_quarter) | set(risk_by_quarter), reverse=True)
    ]
    # One pass over the cases per (owning function, decision point); the functions' rows, the decision
    # points' and the totals are summed from it (three passes over the cases and their issues before).
    groups = list(cases.values(*LEDGER_FUNCTION, *LEDGER_POINT).annotate(**sums).order_by())
    functions = _fold(groups, LEDGER_FUNCTION, sums)
    totals = {name: _summed(groups, name) for name in sums}
    by_function = [
        {
            "function_id": r["issue__function_id"],
            "function": r["issue__function__name"],
            "customer_facing": r["issue__function__customer_facing"],
            **{k: r[k] for k in ("delivered", "delivered_low", "delivered_high", "at_risk", "verified", "open")},
        }
        for r in functions
    ]
    # Unowned issues last, then non-customer-facing functions before customer-facing ones.
    by_function.sort(key=lambda r: (r["function_id"] is None, bool(r["customer_facing"]), r["function"] or ""))
    shares = {}
    for kind in ("delivered", "at_risk"):
        owned = [r for r in by_function if r["function_id"] is not None and r[kind]]
        total = sum(r[kind] for r in owned)
        ncf = sum(r[kind] for r in owned if not r["customer_facing"])
        shares[kind] = ncf / total * 100 if total > 0 else None
    points = [g for g in groups if g["issue__decision_point_id"] is not None]
    by_decision_point = sorted(_fold(points, LEDGER_POINT, sums), key=lambda r: r["issue__decision_point__rule"])
    by_decision_point.sort(key=lambda r: -((r["delivered"] or 0) + (r["at_risk"] or 0)))
    # The first cases are chosen on the narrow case table alone, then read with their issue (sorting
    # every case joined to its issue's wide rows took most of the page's time at 10,000 issues).
    most_at_stake = (F("value_at_risk").desc(nulls_last=True), F("value_realised").desc(nulls_last=True), "-issue_id")
    first = BusinessCase.objects.order_by(*most_at_stake).values("pk")[:LEDGER_TOP_ISSUES]
    top = list(
        BusinessCase.objects.filter(pk__in=first)
        .select_related("issue", "issue__function", "issue__decision_point")
        .defer(*(f"issue__{name}" for name in ISSUE_TEXT))
        .order_by(*most_at_stake)
    )
    return {
        **ledger_settings(),
        "totals": totals,
        "ncf_share": shares,
        "quarters": quarters,
        "by_function": by_function,
        "by_decision_point": by_decision_point,
        "top": top,
    }


def ledger_headline() -> dict:
    """The ledger's headline numbers for the home page and the digest (two queries)."""
    from outcomes.models import BusinessCase

    open_q = at_risk_q()
    totals = BusinessCase.objects.aggregate(
        delivered=Sum("value_realised"),
        delivered_low=Sum("realised_low"),
        delivered_high=Sum("realised_high"),
        verified=Count("pk", filter=Q(value_realised__isnull=False)),
        at_risk=Sum("value_at_risk", filter=open_q),
        revenue_at_risk=Sum("revenue_at_risk", filter=open_q),
        open=Count("pk", filter=open_q),
        open_unknown=Count("pk", filter=open_q & Q(value_at_risk__isnull=True)),
    )
    return totals | {"currency": ledger_settings_currency()}


def ledger_settings_currency() -> str:
    from outcomes.models import LedgerSettings

    return LedgerSettings.objects.filter(pk=1).values_list("currency", flat=True).first() or settings.CXGOV_CURRENCY


def export_rows():
    """Every issue's business case, one row each, for CSV and XLSX (values only: the exports guard formulas)."""
    from outcomes.models import BusinessCase

    yield [
        "Issue",
        "Title",
        "State",
        "Owning function",
        "Customer-facing",
        "Decision point",
        "Opened",
        "Verified",
        "Verdict",
        "Affected customers",
        "Revenue at risk (a year)",
        "Excess churn",
        "Excess churn, 95% low",
        "Excess churn, 95% high",
        "Expected annual loss",
        "Cost of failure demand (a year)",
        "Value at risk (a year)",
        "Value realised",
        "Value realised, 95% low",
        "Value realised, 95% high",
        "Currency",
        "Not enough data",
    ]
    rows = (
        BusinessCase.objects.order_by("issue_id")
        .values_list(
            "issue_id",
            "issue__title",
            "issue__state",
            "issue__function__name",
            "issue__function__customer_facing",
            "issue__decision_point__rule",
            "issue__created_at",
            "issue__verified_at",
            "issue__verdict",
            "affected_customers",
            "revenue_at_risk",
            "figures",
            "expected_loss",
            "failure_cost",
            "value_at_risk",
            "value_realised",
            "realised_low",
            "realised_high",
        )
        .iterator(chunk_size=2000)
    )
    for row in rows:
        (pk, title, state, function, facing, rule, opened, verified, verdict, affected, revenue, figures, *money) = row
        excess = figures.get("excess_churn", {})
        unknown = "; ".join(
            f"{name.replace('_', ' ')}: {f.get('note')}"
            for name, f in figures.items()
            if isinstance(f, dict) and f.get("value") is None and f.get("note")
        )
        yield [
            pk,
            title,
            state,
            function or "",
            "" if function is None else ("yes" if facing else "no"),
            rule or "",
            opened.date().isoformat() if opened else "",
            verified.date().isoformat() if verified else "",
            verdict,
            affected,
            revenue,
            excess.get("value"),
            excess.get("low"),
            excess.get("high"),
            *money,
            figures.get("currency", ""),
            unknown,
        ]


def triple_crown(*, data_category: str) -> dict:
    """A customer category's triple crown from the ledger's numbers: cost to serve (the cost-to-serve
    metric's latest value, and the failure demand its customers' problems cause), service (open issues
    its customers raised, fixes verified) and revenue (revenue at risk, expected loss, value delivered).
    Money of an issue is apportioned by the category's share of the issue's affected customers. Three
    queries, whatever the number of issues."""
    from metrics.models import MetricValue
    from outcomes.models import BusinessCase
    from rootcause.models import CLOSED_STATES

    crown = {
        "currency": ledger_settings_currency(),
        "customers": 0,
        "open_issues": 0,
        "verified": 0,
        "failure_cost": None,
        "revenue_at_risk": None,
        "expected_loss": None,
        "delivered": None,
        "cost_to_serve": None,
    }

    def add(key, amount):
        if amount is not None:
            crown[key] = (crown[key] or 0.0) + amount

    rows = BusinessCase.objects.values_list(
        "by_category",
        "affected_customers",
        "failure_cost",
        "expected_loss",
        "value_realised",
        "issue__state",
        "issue__verdict",
    )
    for by_category, affected, failure, loss, realised, state, verdict in rows:
        mine = (by_category or {}).get(data_category)
        if not mine or not affected:
            continue
        share = mine["customers"] / affected
        if realised is not None:
            crown["verified"] += 1
            add("delivered", realised * share)
        if state in CLOSED_STATES or verdict == "effective":
            continue
        crown["open_issues"] += 1
        crown["customers"] += mine["customers"]
        add("revenue_at_risk", mine["annual_revenue"])
        add("expected_loss", None if loss is None else loss * share)
        add("failure_cost", None if failure is None else failure * share)
    latest = (
        MetricValue.objects.filter(metric__calculator="cost_to_serve", metric__active=True, segment="")
        .select_related("metric")
        .order_by("-period_start", "metric__name")
        .first()
    )
    if latest is not None:
        crown["cost_to_serve"] = {"value": latest.value, "period": latest.period_start, "metric": latest.metric}
    return crown
