"""Demo customer data from ../shared/data/: Loom & Thread's subscribers and their reviews.

The company is an online clothing retailer with a styling subscription. Its subscribers are
the rows of the telco churn file (contract = plan, tenure in months, monthly charges = the
monthly fee, churn = cancelled); its feedback is the clothing review file. The files carry no
dates and no link between them, so the demo derives them, deterministically, and says so on
the demo page (``/demo/``):

- **Snapshot.** The churn file is a snapshot taken on SNAPSHOT (31 Oct 2026).
- **Cancellations by month** (synthetic). The file only says whether a subscriber left, not
  when. Each one who left is given a month among the twelve up to SNAPSHOT by a hash of their
  id (``bucket``): they cancelled on the last day of that month and had subscribed ``tenure``
  months before it (on the 1st). Subscribers still with us subscribed ``tenure`` months before
  SNAPSHOT, as the file means. "Monthly churn rate" is then a real monthly series: those who
  cancelled in a month over those subscribed at its start. Counts by plan and in total are the
  file's own (1,869 left: 1,655 / 166 / 48 by plan).
- **Review dates** (synthetic). Reviews are spread evenly by row order over the twelve months
  up to SNAPSHOT.
- **Who wrote each review** (synthetic). A review is linked to one subscriber who was
  subscribed in the review's month, picked by a hash of the review's id among them, so
  revenue at risk has figures. The link is not in the data.
- **Output series** (derived from the above): boxes shipped (one box a month per subscriber
  subscribed during the month), new subscriptions and cancellations per month and plan, and
  reviews published per month and division.

The raw files are imported through the same service as an upload on the "Import data" page;
the saved column mappings are those the raw files need. Monthly margin is not in the data and
is left empty rather than invented.
"""

from __future__ import annotations

import csv
import hashlib
import tempfile
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from metrics import ingestion
from metrics.models import ImportMapping
from metrics.services import import_path

SNAPSHOT = date(2026, 10, 31)
CHURN_MONTHS = 12  # cancellations are spread over the twelve months up to SNAPSHOT
TELCO_FILE = "telco-customer-churn.csv"
REVIEWS_FILE = "womens-clothing-reviews-1k.csv"
REVIEWS_SOURCE = "clothing-reviews"
REVIEWS_FROM = SNAPSHOT - timedelta(days=365)

# The mappings the raw files need (saved for the upload page, as an upload would save them).
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
    dates_from=REVIEWS_FROM.isoformat(),
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
# What the demo imports: the raw files plus the derived columns described above.
SUBSCRIBED, CANCELLED, WRITER = "Subscribed on (demo)", "Cancelled on (demo)", "Subscriber (demo link)"
DEMO_TELCO_MAPPING = ingestion.Mapping(
    columns={
        "external_id": "customerID",
        "category": "Contract",
        "started_on": SUBSCRIBED,
        "ended_on": CANCELLED,
        "monthly_revenue": "MonthlyCharges",
    },
    date_formats={"started_on": "iso", "ended_on": "iso"},
)
DEMO_REVIEWS_MAPPING = ingestion.Mapping.from_json(
    REVIEWS_MAPPING.to_json() | {"columns": REVIEWS_MAPPING.columns | {"customer_id": WRITER}}
)
OUTPUT_SERIES = {
    "boxes-shipped": "Boxes shipped: subscribers subscribed during the month, by plan (one box each)",
    "subscriptions-started": "New subscriptions in the month, by plan",
    "cancellations": "Cancellations in the month, by plan",
    "reviews-published": "Reviews published in the month, by division",
}


def bucket(key: str, n: int) -> int:
    """A stable number in [0, n) for a key: the same on every machine and every run."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % n


def _month_shift(day: date, months: int) -> date:
    """The 1st of the month ``months`` after day's month (negative: before)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, 1)


def _month_end(first: date) -> date:
    return _month_shift(first, 1) - timedelta(days=1)


def subscriber_dates(customer_id: str, tenure: int, churned: bool) -> tuple[date, date | None]:
    """When a subscriber of the churn file subscribed and (if they left) cancelled: see the module."""
    if not churned:
        return _month_shift(SNAPSHOT, -tenure), None
    month = _month_shift(SNAPSHOT, -bucket(f"cancel:{customer_id}", CHURN_MONTHS))
    return _month_shift(month, -tenure), _month_end(month)


def review_day(index: int, total: int) -> date:
    """The day the import gives the index-th review (0-based) when it spreads them by row order."""
    start = datetime.combine(REVIEWS_FROM, time(12))
    return (start + (SNAPSHOT - REVIEWS_FROM) / max(total, 1) * index).date()


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    return rows[0], [row for row in rows[1:] if any(cell.strip() for cell in row)]


def _write(path: Path, header: list[str], rows: list[list]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def derive_subscribers(path: Path) -> tuple[list[str], list[list[str]], list[tuple[str, str, date, date | None]]]:
    """The churn file with its subscribe and cancel dates; and (id, plan, subscribed, cancelled) rows."""
    header, rows = _read(path)
    at = {name: header.index(name) for name in ("customerID", "tenure", "Churn", "Contract")}
    subscribers, out = [], []
    for row in rows:
        started, ended = subscriber_dates(
            row[at["customerID"]], int(row[at["tenure"]]), row[at["Churn"]].strip().lower() == "yes"
        )
        subscribers.append((row[at["customerID"]], row[at["Contract"]], started, ended))
        out.append([*row, started.isoformat(), ended.isoformat() if ended else ""])
    return [*header, SUBSCRIBED, CANCELLED], out, subscribers


def review_writers(review_ids: list[str], subscribers: list[tuple[str, str, date, date | None]]) -> list[str]:
    """For each review (in file order), the subscriber the demo says wrote it: one subscribed during
    the review's month, picked by a hash of the review id among them (sorted by id)."""
    by_month: dict[date, list[str]] = {}
    writers = []
    for index, review_id in enumerate(review_ids):
        month = review_day(index, len(review_ids)).replace(day=1)
        if month not in by_month:
            by_month[month] = sorted(
                sid
                for sid, _plan, started, ended in subscribers
                if started <= month and (ended is None or ended >= month)
            )
        pool = by_month[month]
        writers.append(pool[bucket(f"review:{review_id}", len(pool))] if pool else "")
    return writers


def output_series(subscribers, review_months: list[tuple[date, str]]) -> dict[str, list[list]]:
    """Monthly counts (rows: external id, observed at, value, segment) over the churn window."""
    months = [_month_shift(SNAPSHOT, -k) for k in reversed(range(CHURN_MONTHS))]
    counts = {name: Counter() for name in OUTPUT_SERIES}
    for _sid, plan, started, ended in subscribers:
        for month in months:
            if started <= _month_end(month) and (ended is None or ended >= month):
                counts["boxes-shipped"][month, plan] += 1
        if started >= months[0]:
            counts["subscriptions-started"][started.replace(day=1), plan] += 1
        if ended is not None:
            counts["cancellations"][ended.replace(day=1), plan] += 1
    for month, division in review_months:
        counts["reviews-published"][month, division or "Unknown"] += 1
    return {
        name: [
            [f"{month:%Y-%m}/{segment}", f"{_month_end(month).isoformat()}T12:00:00", n, segment]
            for (month, segment), n in sorted(counts[name].items())
        ]
        for name in OUTPUT_SERIES
    }


SERIES_MAPPING = ingestion.Mapping(
    columns={"external_id": "id", "observed_at": "observed_at", "value": "value", "segment": "segment"},
)


def _import(kind: str, source: str, path: Path, mapping: ingestion.Mapping, stdout, *, saved=None) -> None:
    """Save the raw file's mapping (as the upload page would) and import through the same service."""
    if saved is not None:
        ImportMapping.objects.update_or_create(kind=kind, source=source, defaults={"mapping": saved.to_json()})
    outcome = import_path(kind=kind, source=source, path=path, mapping=mapping)
    if outcome.error_count:
        raise CommandError(f"{path.name}: {outcome.error_count} problem(s), first: {outcome.errors[0]}")
    if stdout is not None:
        stdout.write(f"Customer data: {outcome.written} {kind} from {path.name}.")


def load(*, stdout) -> None:
    """Load subscribers and reviews if the shared data folder is there; say so if not."""
    data_dir = Path(settings.SHARED_DATA_DIR)
    telco, reviews = data_dir / TELCO_FILE, data_dir / REVIEWS_FILE
    if not telco.exists() and not reviews.exists():
        stdout.write(f"Customer data: {data_dir} has no demo files; loaded the organisation alone.")
        return
    subscribers: list = []
    review_months: list[tuple[date, str]] = []
    with tempfile.TemporaryDirectory(prefix="cxgov-demo-") as tmp:
        work = Path(tmp)
        if telco.exists():
            header, rows, subscribers = derive_subscribers(telco)
            _import(
                "customers",
                "",
                _write(work / TELCO_FILE, header, rows),
                DEMO_TELCO_MAPPING,
                stdout,
                saved=TELCO_MAPPING,
            )
        else:
            stdout.write(f"Customer data: {telco} is missing; no subscribers loaded.")
        if reviews.exists():
            header, rows = _read(reviews)
            writers = review_writers([row[0] for row in rows], subscribers)
            division = header.index("Division Name")
            review_months = [(review_day(i, len(rows)).replace(day=1), row[division]) for i, row in enumerate(rows)]
            _import(
                "responses",
                REVIEWS_SOURCE,
                _write(
                    work / REVIEWS_FILE, [*header, WRITER], [[*row, w] for row, w in zip(rows, writers, strict=True)]
                ),
                DEMO_REVIEWS_MAPPING,
                stdout,
                saved=REVIEWS_MAPPING,
            )
        else:
            stdout.write(f"Customer data: {reviews} is missing; no feedback loaded.")
        for source, rows in output_series(subscribers, review_months).items():
            if rows:
                path = _write(work / f"{source}.csv", ["id", "observed_at", "value", "segment"], rows)
                _import("observations", source, path, SERIES_MAPPING, None)
    load_metrics(stdout=stdout)


def _metric(slug, calculator, kind, timing, direction, unit, owner, **extra) -> dict:
    return {
        "slug": slug,
        "calculator": calculator,
        "kind": kind,
        "timing": timing,
        "direction": direction,
        "unit": unit,
        "owner": owner,
        **extra,
    }


# Every function owns at least one metric; a mix of outcome, output and business metrics, so the KPI
# audit has something to say (Customer Care, Fulfilment, IT and Marketing measure only outputs).
DEMO_METRICS = {
    "Happy with what arrived (review CSAT)": _metric(
        "review-csat",
        "csat",
        "outcome",
        "leading",
        "higher",
        "%",
        "styling",
        source=REVIEWS_SOURCE,
        segment_by="segment",
        target=80,
        amber=78,
        red=72,
        north_star=True,
        description="Share of reviews rating the item 4 or 5 of 5: subscribers who got something they keep.",
    ),
    "Mean rating of dresses": _metric(
        "dress-rating",
        "mean",
        "outcome",
        "leading",
        "higher",
        "points",
        "sizing-product",
        source=REVIEWS_SOURCE,
        filter_product="Dresses",
        target=4.3,
        amber=4.2,
        red=4.0,
    ),
    "Knits CSAT": _metric(
        "knits-csat",
        "csat",
        "outcome",
        "leading",
        "higher",
        "%",
        "procurement",
        source=REVIEWS_SOURCE,
        filter_product="Knits",
        target=80,
        amber=75,
        red=70,
    ),
    "Reviews not recommending the item": _metric(
        "reviews-not-recommending",
        "proportion",
        "outcome",
        "leading",
        "lower",
        "%",
        "merchandising",
        source=REVIEWS_SOURCE,
        segment_by="segment",
        target=15,
        amber=20,
        red=25,
        condition=("recommended", "0"),
    ),
    "Reviews of 1 or 2 stars": _metric(
        "low-star-reviews",
        "proportion",
        "outcome",
        "leading",
        "lower",
        "%",
        "returns",
        source=REVIEWS_SOURCE,
        target=8,
        amber=10,
        red=12,
        condition=("score", "1, 2"),
        description="Items a subscriber will most likely send back.",
    ),
    "Monthly churn rate": _metric(
        "monthly-churn",
        "churn",
        "business",
        "lagging",
        "lower",
        "%",
        "billing",
        segment_by="segment",
        target=2.5,
        amber=2.75,
        red=3,
        description="Subscribers who cancelled in the month / subscribed at its start (demo: cancel months "
        "assigned by a hash of the subscriber id; see the demo page).",
    ),
    "Month-to-month plan churn": _metric(
        "monthly-plan-churn",
        "churn",
        "business",
        "lagging",
        "lower",
        "%",
        "credit-collections",
        filter_segment="Month-to-month",
        target=3.5,
        amber=4,
        red=5,
    ),
    "Annual plan churn": _metric(
        "annual-plan-churn",
        "churn",
        "business",
        "lagging",
        "lower",
        "%",
        "legal-compliance",
        filter_segment="One year",
        target=1,
        amber=1.2,
        red=1.5,
    ),
    "Subscriber lifetime value": _metric(
        "customer-lifetime-value",
        "clv",
        "business",
        "lagging",
        "higher",
        "$",
        "finance",
        segment_by="segment",
    ),
    "Revenue at risk from unhappy reviewers": _metric(
        "revenue-at-risk",
        "revenue_at_risk",
        "business",
        "leading",
        "lower",
        "$",
        "cx-office",
        source=REVIEWS_SOURCE,
        segment_by="segment",
        description="Monthly fees of current subscribers who rated an item 1 or 2 in the month.",
    ),
    "Boxes shipped": _metric(
        "boxes-shipped",
        "sum",
        "output",
        "lagging",
        "higher",
        "boxes",
        "fulfilment",
        source="boxes-shipped",
        segment_by="segment",
    ),
    "Cancellations handled": _metric(
        "cancellations-handled",
        "sum",
        "output",
        "lagging",
        "lower",
        "cancellations",
        "customer-care",
        source="cancellations",
        segment_by="segment",
    ),
    "New subscriptions": _metric(
        "new-subscriptions",
        "sum",
        "output",
        "lagging",
        "higher",
        "subscriptions",
        "marketing",
        source="subscriptions-started",
        segment_by="segment",
    ),
    "Reviews published": _metric(
        "reviews-published",
        "sum",
        "output",
        "lagging",
        "higher",
        "reviews",
        "it",
        source="reviews-published",
        segment_by="segment",
    ),
}


def load_metrics(*, stdout) -> None:
    """Define the demo metrics on the real data and compute their values now."""
    from cxgov.models import Function
    from cxgov.services import accountability_link
    from metrics.models import Metric
    from metrics.services import metric_recalculate, metric_schedule

    owners = {f.slug: f for f in Function.objects.filter(slug__in={m["owner"] for m in DEMO_METRICS.values()})}
    for name, spec in DEMO_METRICS.items():
        spec = dict(spec)
        slug, owner = spec.pop("slug"), spec.pop("owner")
        condition = spec.pop("condition", None)
        defaults = {
            "name": name,
            "granularity": "month",
            "amber_threshold": spec.pop("amber", None),
            "red_threshold": spec.pop("red", None),
            "owning_function": owners.get(owner),
            **spec,
        }
        if condition:
            defaults["condition_field"], defaults["condition_values"] = condition
        metric, _ = Metric.objects.get_or_create(slug=slug, defaults=defaults)
        if metric.owning_function_id:
            accountability_link(
                function=metric.owning_function, subject_object=metric, subject=f"Metric: {metric.name}"
            )
        metric_schedule(metric=metric)
        metric_recalculate(metric=metric)
    stdout.write(f"Metrics: {len(DEMO_METRICS)} demo metrics defined and recalculated.")
