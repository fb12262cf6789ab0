"""Demo customer data from ../shared/data/: telco customers and clothing-review feedback.

The files carry no dates for responses, and the telco file only a tenure in months and a
churn flag, so dates are assigned deterministically:
- the telco snapshot is taken on SNAPSHOT (the IBM sample describes customers who left
  "within the last month"): a customer started ``tenure`` months before it, and a churned
  customer's end date is spread over the snapshot's month by row order;
- review responses are spread evenly by row order over the twelve months up to SNAPSHOT.
Monthly margin is not in the data and is left empty rather than invented.
"""

from __future__ import annotations

import csv
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings

from metrics.models import Customer, Scale, SurveyResponse
from metrics.services import customers_upsert, responses_upsert

SNAPSHOT = date(2026, 10, 31)
TELCO_FILE = "telco-customer-churn.csv"
REVIEWS_FILE = "womens-clothing-reviews-1k.csv"
REVIEWS_SOURCE = "clothing-reviews"


def _months_before(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, 1)


def _decimal(raw: str) -> Decimal | None:
    try:
        return Decimal(raw.strip()) if raw.strip() else None
    except InvalidOperation:
        return None


def telco_customers(path: Path) -> list[Customer]:
    customers = []
    with path.open(newline="", encoding="utf-8") as handle:
        for index, row in enumerate(csv.DictReader(handle)):
            churned = row["Churn"].strip() == "Yes"
            customers.append(
                Customer(
                    external_id=row["customerID"],
                    category=row["Contract"],
                    started_on=_months_before(SNAPSHOT, int(row["tenure"])),
                    ended_on=SNAPSHOT.replace(day=1 + index % SNAPSHOT.day) if churned else None,
                    monthly_revenue=_decimal(row["MonthlyCharges"]),
                    attributes={
                        "payment_method": row["PaymentMethod"],
                        "internet_service": row["InternetService"],
                        "tenure_months": int(row["tenure"]),
                        "total_charges": row["TotalCharges"].strip() or None,
                    },
                )
            )
    return customers


def review_responses(path: Path) -> list[SurveyResponse]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    column = {name: i for i, name in enumerate(header)}
    start = datetime.combine(SNAPSHOT - timedelta(days=365), time(12), tzinfo=ZoneInfo(settings.TIME_ZONE))
    step = timedelta(days=365) / max(len(body), 1)
    responses = []
    for index, row in enumerate(body):
        responses.append(
            SurveyResponse(
                source=REVIEWS_SOURCE,
                external_id=row[0],
                responded_at=start + step * index,
                score=int(row[column["Rating"]]),
                scale=Scale.CSAT,
                comment=row[column["Review Text"]].strip(),
                segment=row[column["Division Name"]],
                channel="Online store",
                product=row[column["Class Name"]],
                touchpoint="Product review",
                attributes={
                    "title": row[column["Title"]].strip(),
                    "department": row[column["Department Name"]],
                    "age": int(row[column["Age"]]) if row[column["Age"]].strip() else None,
                    "recommended": row[column["Recommended IND"]] == "1",
                    "clothing_id": row[column["Clothing ID"]],
                },
            )
        )
    return responses


def load(*, stdout) -> None:
    """Load customers and feedback if the shared data folder is there; say so if not."""
    data_dir = Path(settings.SHARED_DATA_DIR)
    telco, reviews = data_dir / TELCO_FILE, data_dir / REVIEWS_FILE
    if not telco.exists() and not reviews.exists():
        stdout.write(f"Customer data: {data_dir} has no demo files; loaded the organisation alone.")
        return
    if telco.exists():
        n = customers_upsert(customers=telco_customers(telco))
        stdout.write(f"Customer data: {n} telco customers from {telco.name}.")
    else:
        stdout.write(f"Customer data: {telco} is missing; no customers loaded.")
    if reviews.exists():
        n = responses_upsert(responses=review_responses(reviews))
        stdout.write(f"Customer data: {n} review responses from {reviews.name}.")
    else:
        stdout.write(f"Customer data: {reviews} is missing; no feedback loaded.")
    load_metrics(stdout=stdout)


# name: (slug, calculator, kind, timing, direction, unit, source, segment_by, target, amber, red, owner, north star)
DEMO_METRICS = {
    "Online store review CSAT": (
        "review-csat",
        "csat",
        "outcome",
        "leading",
        "higher",
        "%",
        REVIEWS_SOURCE,
        "segment",
        80,
        78,
        72,
        "retail-sales",
        True,
    ),
    "Mean review rating": (
        "mean-review-rating",
        "mean",
        "outcome",
        "leading",
        "higher",
        "points",
        REVIEWS_SOURCE,
        "product",
        4.3,
        4.2,
        4.0,
        "product",
        False,
    ),
    "Monthly churn rate": (
        "monthly-churn",
        "churn",
        "business",
        "lagging",
        "lower",
        "%",
        "",
        "segment",
        10,
        15,
        25,
        "product",
        False,
    ),
    "Customer lifetime value": (
        "customer-lifetime-value",
        "clv",
        "business",
        "lagging",
        "higher",
        "$",
        "",
        "segment",
        None,
        None,
        None,
        "finance",
        False,
    ),
}


def load_metrics(*, stdout) -> None:
    """Define the demo metrics on the real data and compute their values now."""
    from cxgov.models import Function
    from cxgov.services import accountability_link
    from metrics.models import Metric
    from metrics.services import metric_recalculate, metric_schedule

    owners = {f.slug: f for f in Function.objects.filter(slug__in={v[11] for v in DEMO_METRICS.values()})}
    for name, (
        slug,
        calc,
        kind,
        timing,
        direction,
        unit,
        source,
        seg,
        target,
        amber,
        red,
        owner,
        star,
    ) in DEMO_METRICS.items():
        metric, _ = Metric.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "calculator": calc,
                "kind": kind,
                "timing": timing,
                "direction": direction,
                "unit": unit,
                "source": source,
                "segment_by": seg,
                "target": target,
                "amber_threshold": amber,
                "red_threshold": red,
                "owning_function": owners.get(owner),
                "north_star": star,
                "granularity": "month",
            },
        )
        if metric.owning_function_id:
            accountability_link(
                function=metric.owning_function, subject_object=metric, subject=f"Metric: {metric.name}"
            )
        metric_schedule(metric=metric)
        metric_recalculate(metric=metric)
    stdout.write(f"Metrics: {len(DEMO_METRICS)} demo metrics defined and recalculated.")
