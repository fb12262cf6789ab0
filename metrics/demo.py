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
