"""The value ledger's part of the demo: its settings, the business metrics and their cost series, then
every issue's business case, all derived from whatever customers and feedback the demo loaded.

What is real and what is synthetic (the demo says so as it loads, and the metrics' descriptions
repeat it): customers, their revenue, tenure and churn come from the shared churn file, comments and
their sub-themes from the shared review file, and the link between a comment and a customer is the
demo's (``SurveyResponse.customer_id``). The costs are not in either file, so they are synthetic: the
cost per contact of each channel (typical published figures for retail contact centres), the monthly
cost of serving customers (a fixed share of their revenue) and the cost of acquiring them (a fixed
multiple of a new customer's monthly revenue). Nothing here hard-codes a result: every figure is
computed by the same services as in production.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from metrics import calculations
from metrics.models import Customer, Metric, Observation, SurveyResponse
from metrics.services import metric_recalculate
from outcomes import services
from outcomes.models import ContactCost, LedgerSettings

CURRENCY = "USD"  # the churn file's monthly charges are in US dollars
DISCOUNT_RATE = Decimal("8.00")  # % a year
# Synthetic: what one contact costs by channel ("" is any other channel).
CONTACT_COSTS = {"phone": Decimal("6.50"), "email": Decimal("4.00"), "chat": Decimal("3.00"), "": Decimal("2.50")}
SERVICE_COST_SHARE = 0.18  # synthetic: serving customers costs 18 % of their monthly revenue
ACQUISITION_MONTHS = 2.0  # synthetic: acquiring a customer costs two months of their revenue
SERVICE_SERIES = "demo-service-costs"
ACQUISITION_SERIES = "demo-acquisition-costs"
SYNTHETIC = "Synthetic demo costs (the shared data has none); computed by the real formula."

BUSINESS_METRICS = [
    # name, slug, calculator, source, extra fields
    ("Cost to serve per customer", "cost-to-serve", "cost_to_serve", SERVICE_SERIES, {"direction": "lower"}),
    ("Cost to acquire a customer", "cost-to-acquire", "cost_to_acquire", ACQUISITION_SERIES, {"direction": "lower"}),
    ("Net customer growth", "net-customer-growth", "net_growth", "", {}),
    ("Discounted customer lifetime value", "discounted-clv", "clv_discounted", "", {"discount_rate": 8.0}),
]


def load(*, stdout) -> None:
    with transaction.atomic():
        LedgerSettings.objects.get_or_create(pk=1, defaults={"currency": CURRENCY, "discount_rate": DISCOUNT_RATE})
        # A cost for each channel the data names (as it spells it), and one for any other channel.
        named = {
            c.casefold(): c for c in SurveyResponse.objects.order_by().values_list("channel", flat=True).distinct()
        }
        for channel, cost in CONTACT_COSTS.items():
            if channel == "" or channel in named:
                ContactCost.objects.get_or_create(channel=named.get(channel, ""), defaults={"cost_per_contact": cost})
        written = _cost_series()
    stdout.write(
        f"Value ledger: {CURRENCY}, lifetime value discounted at {DISCOUNT_RATE}% a year; "
        f"{written} synthetic cost observations. Synthetic: costs per contact, service and acquisition costs. "
        "Real: customers, revenue and churn (churn file), comments and sub-themes (review file); "
        "the demo links comments to customers."
    )
    if not Customer.objects.exists():
        stdout.write("Value ledger: no customers, so business cases will say there is not enough data.")
    for name, slug, calculator, source, extra in BUSINESS_METRICS:
        metric, _ = Metric.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "kind": "business",
                "timing": "lagging",
                "calculator": calculator,
                "source": source,
                "granularity": "month",
                "unit": CURRENCY if calculator != "net_growth" else "customers",
                "description": SYNTHETIC if source else "From the churn file's customers.",
                **extra,
            },
        )
        metric_recalculate(metric=metric)
    cases = services.business_cases_refresh()
    stdout.write(f"Value ledger: {cases} business cases computed from the data.")


def _months(first: date, last: date) -> list[tuple[date, date]]:
    periods, start = [], calculations.period_start(first, "month")
    while start <= last:
        end = calculations.next_period(start, "month")
        periods.append((start, end))
        start = end
    return periods


def _cost_series() -> int:
    """Monthly service and acquisition costs over the year of churn the customers show, upserted on
    their external ids (a second load changes nothing)."""
    ended = Customer.objects.exclude(ended_on=None).order_by("-ended_on").values_list("ended_on", flat=True).first()
    if ended is None:
        return 0
    rows = list(Customer.objects.values_list("started_on", "ended_on", "monthly_revenue"))
    average = Customer.objects.aggregate(total=Sum("monthly_revenue"))["total"] or 0
    average = float(average) / max(len(rows), 1)
    first = date(ended.year - 1, ended.month, 1)
    observations = []
    for start, end in _months(first, ended):
        active = sum(
            float(rev or 0)
            for began, left, rev in rows
            if (began is None or began < end) and (left is None or left >= start)
        )
        new = sum(1 for began, _, _ in rows if began is not None and start <= began < end)
        at = datetime(start.year, start.month, 15, 12, tzinfo=UTC)
        observations.append(
            Observation(
                source=SERVICE_SERIES,
                external_id=f"{start:%Y-%m}",
                observed_at=at,
                value=round(active * SERVICE_COST_SHARE, 2),
                dimensions={"synthetic": True},
            )
        )
        if new:
            observations.append(
                Observation(
                    source=ACQUISITION_SERIES,
                    external_id=f"{start:%Y-%m}",
                    observed_at=at,
                    value=round(new * average * ACQUISITION_MONTHS, 2),
                    dimensions={"synthetic": True},
                )
            )
    Observation.objects.bulk_create(
        observations,
        update_conflicts=True,
        unique_fields=["source", "external_id"],
        update_fields=["observed_at", "value", "dimensions"],
    )
    return len(observations)
