"""Demo customer data from ../shared/data/: telco customers and clothing-review feedback.

Both files go through the same import service and saved column mappings as an upload on
the "Import data" page. The files carry no dates for responses, and the telco file only a
tenure in months and a churn flag, so the mappings date them deterministically:
- the telco snapshot is SNAPSHOT (the IBM sample describes customers who left "within the
  last month"): a customer started ``tenure`` months before it (on the 1st of that month),
  and a churned customer left on SNAPSHOT;
- review responses are spread evenly by row order over the twelve months up to SNAPSHOT.
Monthly margin is not in the data and is left empty rather than invented.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from metrics import ingestion
from metrics.models import ImportMapping
from metrics.services import import_path

SNAPSHOT = date(2026, 10, 31)
TELCO_FILE = "telco-customer-churn.csv"
REVIEWS_FILE = "womens-clothing-reviews-1k.csv"
REVIEWS_SOURCE = "clothing-reviews"


REVIEWS_MAPPING = ingestion.Mapping(
    columns={
        "external_id": "column 1 (no header)",
        "score": "Rating",
        "comment": "Review Text",
        "segment": "Division Name",
        "product": "Class Name",
    },
    constants={"scale": "csat", "channel": "Online store", "touchpoint": "Product review"},
    # Numbers a key-driver analysis or a proportion can read (Recommended IND is 1 or 0).
    fields={"age": "Age", "recommended": "Recommended IND"},
    dates_from=(SNAPSHOT - timedelta(days=365)).isoformat(),
    dates_to=SNAPSHOT.isoformat(),
)
TELCO_MAPPING = ingestion.Mapping(
    columns={
        "external_id": "customerID",
        "category": "Contract",
        "tenure_months": "tenure",
        "churned": "Churn",
        "monthly_revenue": "MonthlyCharges",
    },
    snapshot=SNAPSHOT.isoformat(),
)


def _import(kind: str, source: str, path: Path, mapping: ingestion.Mapping, stdout) -> None:
    """Save the mapping (as the upload page would) and import the file through the same service."""
    ImportMapping.objects.update_or_create(kind=kind, source=source, defaults={"mapping": mapping.to_json()})
    outcome = import_path(kind=kind, source=source, path=path, mapping=mapping)
    if outcome.error_count:
        raise CommandError(f"{path.name}: {outcome.error_count} problem(s), first: {outcome.errors[0]}")
    stdout.write(f"Customer data: {outcome.written} {kind} from {path.name}.")


def load(*, stdout) -> None:
    """Load customers and feedback if the shared data folder is there; say so if not."""
    data_dir = Path(settings.SHARED_DATA_DIR)
    telco, reviews = data_dir / TELCO_FILE, data_dir / REVIEWS_FILE
    if not telco.exists() and not reviews.exists():
        stdout.write(f"Customer data: {data_dir} has no demo files; loaded the organisation alone.")
        return
    if telco.exists():
        _import("customers", "", telco, TELCO_MAPPING, stdout)
    else:
        stdout.write(f"Customer data: {telco} is missing; no customers loaded.")
    if reviews.exists():
        _import("responses", REVIEWS_SOURCE, reviews, REVIEWS_MAPPING, stdout)
    else:
        stdout.write(f"Customer data: {reviews} is missing; no feedback loaded.")
    load_metrics(stdout=stdout)


# name: (slug, calculator, kind, timing, direction, unit, source, segment_by, target, amber, red, owner, north star)
# A proportion's condition (field, values that count) is in DEMO_CONDITIONS.
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
    "Reviews not recommending": (
        "reviews-not-recommending",
        "proportion",
        "outcome",
        "leading",
        "lower",
        "%",
        REVIEWS_SOURCE,
        "segment",
        15,
        20,
        25,
        "retail-sales",
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
DEMO_CONDITIONS = {"reviews-not-recommending": ("recommended", "0")}


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
                **dict(zip(("condition_field", "condition_values"), DEMO_CONDITIONS.get(slug, ()), strict=False)),
            },
        )
        if metric.owning_function_id:
            accountability_link(
                function=metric.owning_function, subject_object=metric, subject=f"Metric: {metric.name}"
            )
        metric_schedule(metric=metric)
        metric_recalculate(metric=metric)
    stdout.write(f"Metrics: {len(DEMO_METRICS)} demo metrics defined and recalculated.")
