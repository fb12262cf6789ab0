"""Each issue's business case, from the data: who raised the problem, what they bring in, how much
more they churn, what the contacts it causes cost and, once verified, what the fix realised.

The database is read here, in a fixed number of queries per issue; the arithmetic is in
``outcomes.value`` (pure). ``outcomes.services.business_case_refresh`` stores the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Max, Q, Sum

from metrics.models import Customer, Observation, SurveyResponse
from outcomes import value
from outcomes.models import ContactCost, LedgerSettings

YEAR = timedelta(days=365)


@dataclass
class Context:
    """What every business case of one run reads: the customers, the settings and the costs (read once)."""

    customers: dict[str, tuple]  # external id → (category, ended_on, monthly revenue, monthly margin)
    commenters: set[str]
    currency: str
    discount_rate: float
    costs: dict[str, float]
    annual_churn: float | None
    churn_inputs: dict = field(default_factory=dict)
    data_end: date | None = None


def settings_row() -> LedgerSettings:
    from django.conf import settings

    return LedgerSettings.objects.filter(pk=1).first() or LedgerSettings(pk=1, currency=settings.CXGOV_CURRENCY)


def load_context() -> Context:
    """Five queries, whatever the number of issues."""
    customers = {
        row[0]: row[1:]
        for row in Customer.objects.order_by().values_list(
            "external_id", "category", "ended_on", "monthly_revenue", "monthly_margin"
        )
    }
    commenters = set(
        SurveyResponse.objects.exclude(customer_id="")
        .exclude(comment="")
        .order_by()
        .values_list("customer_id", flat=True)
        .distinct()
    )
    commenters &= customers.keys()
    data_end = SurveyResponse.objects.aggregate(last=Max("responded_at"))["last"]
    ledger = settings_row()
    costs = {channel: float(cost) for channel, cost in ContactCost.objects.values_list("channel", "cost_per_contact")}
    annual_churn, churn_inputs = _annual_churn(customers)
    return Context(
        customers=customers,
        commenters=commenters,
        currency=ledger.currency,
        discount_rate=float(ledger.discount_rate) / 100,
        costs=costs,
        annual_churn=annual_churn,
        churn_inputs=churn_inputs,
        data_end=data_end.date() if data_end else None,
    )


def _annual_churn(customers: dict[str, tuple]) -> tuple[float | None, dict]:
    """Customers lost in the year up to the last churn date / customers active at that year's start."""
    ended = [row[1] for row in customers.values() if row[1] is not None]
    if not ended:
        return None, {"customers lost in the last year": 0}
    end = max(ended)
    start = end - YEAR
    at_start = sum(1 for row in customers.values() if row[1] is None or row[1] > start)
    lost = sum(1 for row in customers.values() if row[1] is not None and start < row[1] <= end)
    inputs = {"year ending": end.isoformat(), "customers at its start": at_start, "lost in it": lost}
    return (lost / at_start if at_start else None), inputs


def _money(x) -> float | None:
    return float(x) if x is not None else None


def compute(issue, context: Context) -> dict:
    """The business case of one issue: its figures (as dicts) and the columns the ledger adds up."""
    from rootcause.models import CommentTag, Verdict

    raised: set[str] = set()
    if issue.sub_theme_id:
        raised = (
            set(
                CommentTag.objects.filter(sub_theme_id=issue.sub_theme_id, rejected=False)
                .exclude(response__customer_id="")
                .order_by()
                .values_list("response__customer_id", flat=True)
                .distinct()
            )
            & context.customers.keys()
        )
    active = [cid for cid in raised if context.customers[cid][1] is None]
    revenues = [_money(context.customers[cid][2]) for cid in active]
    monthly = sum(r for r in revenues if r is not None) if any(r is not None for r in revenues) else None
    by_category: dict[str, dict] = {}
    for cid in active:
        category, _, revenue, _ = context.customers[cid]
        row = by_category.setdefault(category or "", {"customers": 0, "annual_revenue": 0.0})
        row["customers"] += 1
        row["annual_revenue"] += (_money(revenue) or 0.0) * 12

    at_risk = value.revenue_at_risk(customers=len(active), monthly_revenue=monthly)
    others = context.commenters - raised
    excess = value.excess_churn(
        churned_raised=sum(1 for cid in raised if context.customers[cid][1] is not None),
        raised=len(raised),
        churned_other=sum(1 for cid in others if context.customers[cid][1] is not None),
        other=len(others),
    )
    margins = [
        _money(context.customers[cid][3])
        if context.customers[cid][3] is not None
        else _money(context.customers[cid][2])
        # the affected customers' margin; with nobody affected, every customer's (the figure still informs)
        for cid in (active or raised or context.customers)
    ]
    margins = [m for m in margins if m is not None]
    clv = value.customer_lifetime_value(
        annual_margin=sum(margins) / len(margins) * 12 if margins else None,
        annual_churn=context.annual_churn,
        discount_rate=context.discount_rate,
        customers=len(margins),
    )
    clv.inputs.update(context.churn_inputs)
    loss = value.expected_loss(affected=len(active), excess=excess, clv=clv)
    failure = value.failure_demand_cost(
        contacts=_contacts(issue, context), costs=context.costs, currency=context.currency
    )
    cost = value.annual_cost(loss=loss, failure=failure)
    realised = _realised(issue, cost, Verdict)
    figures = {
        "revenue_at_risk": at_risk,
        "excess_churn": excess,
        "lifetime_value": clv,
        "expected_loss": loss,
        "failure_cost": failure,
        "annual_cost": cost,
        "value_realised": realised,
    }
    return {
        "figures": {name: f.as_dict() for name, f in figures.items()} | {"currency": context.currency},
        "affected_customers": len(active),
        "revenue_at_risk": at_risk.value,
        "expected_loss": loss.value,
        "failure_cost": failure.value,
        "value_at_risk": cost.value,
        "value_realised": realised.value,
        "realised_low": realised.low,
        "realised_high": realised.high,
        "by_category": by_category,
    }


def _contacts(issue, context: Context) -> dict[str, float]:
    """Contacts the problem caused in the 12 months up to the data's end, per channel: its failure-demand
    series when the issue names one, else the comments raising its sub-theme."""
    if issue.measure_series:
        last = Observation.objects.filter(source=issue.measure_series).aggregate(last=Max("observed_at"))["last"]
        if last is None:
            return {}
        rows = (
            Observation.objects.filter(source=issue.measure_series, observed_at__gt=last - YEAR)
            .values_list("channel")
            .annotate(n=Sum("value"))
            .order_by()
        )
        return {channel: _whole(float(n)) for channel, n in rows}
    if not issue.sub_theme_id or context.data_end is None:
        return {}
    rows = (
        SurveyResponse.objects.filter(
            Q(tags__sub_theme_id=issue.sub_theme_id, tags__rejected=False),
            responded_at__date__gt=context.data_end - YEAR,
        )
        .values_list("channel")
        .annotate(n=Count("pk", distinct=True))
        .order_by()
    )
    return dict(rows)


def _whole(x: float) -> float | int:
    return int(x) if x.is_integer() else x


def _realised(issue, cost: value.Figure, Verdict) -> value.Figure:
    from rootcause import selectors

    verification = issue.verification or {}
    windows = verification.get("windows")
    baseline = verification.get("baseline")
    change = None
    unit = ""
    if issue.verdict in (Verdict.EFFECTIVE, Verdict.PARTIAL) and windows:
        days = tuple(date.fromisoformat(d) for d in windows)
        if issue.measure_kind == "share" and issue.sub_theme_id:
            (kb, nb), (ka, na) = selectors.share_counts(issue.sub_theme_id, days)
            if nb and na:
                change = value.share_change(kb, nb, ka, na)
            unit = "share of comments (fraction)"
        elif issue.measure_kind in ("series", "metric"):
            before, after = selectors.measure_values(issue, days)
            lower = issue.measure_kind == "series" or (issue.metric is not None and issue.metric.direction == "lower")
            change = value.mean_change(before, after, lower)
            unit = "per-period value of the measure"
    return value.value_realised(verdict=issue.verdict, change=change, baseline=baseline, cost=cost, unit=unit)
