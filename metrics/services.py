"""Writes of customer data; idempotent on external ids (re-sending updates, never duplicates)."""

from collections.abc import Iterable

from django.db import transaction

from metrics.models import Customer, SurveyResponse

_CUSTOMER_FIELDS = ["category", "started_on", "ended_on", "monthly_revenue", "monthly_margin", "attributes"]
_RESPONSE_FIELDS = [
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
]


@transaction.atomic
def customers_upsert(*, customers: Iterable[Customer], batch_size: int = 1000) -> int:
    """Insert or update customers by external id; returns how many were written."""
    rows = list(customers)
    for row in rows:
        row.full_clean(validate_unique=False, validate_constraints=False)
    Customer.objects.bulk_create(
        rows,
        batch_size=batch_size,
        update_conflicts=True,
        unique_fields=["external_id"],
        update_fields=_CUSTOMER_FIELDS,
    )
    return len(rows)


@transaction.atomic
def responses_upsert(*, responses: Iterable[SurveyResponse], batch_size: int = 1000) -> int:
    """Insert or update survey responses by (source, external id); returns how many were written."""
    rows = list(responses)
    for row in rows:
        row.full_clean(validate_unique=False, validate_constraints=False)
    SurveyResponse.objects.bulk_create(
        rows,
        batch_size=batch_size,
        update_conflicts=True,
        unique_fields=["source", "external_id"],
        update_fields=_RESPONSE_FIELDS,
    )
    return len(rows)
