"""Importing real exports at scale: a social-listening-shaped CSV of labelled comments (no score,
US dates detected from the values, exact duplicate rows, a reason label per negative row that
becomes a sub-theme), through ``import_path``, against PostgreSQL ``COPY`` of the same file into
a table of the same columns (on SQLite: one ``executemany`` INSERT of the parsed rows)."""

from __future__ import annotations

import csv
import random
import time
from datetime import datetime, timedelta
from pathlib import Path

from django.db import connection

from bench.metrics_bench import copy_baseline
from metrics import ingestion
from metrics.models import SurveyResponse
from metrics.services import import_path
from rootcause.models import CommentTag

HEADER = ["tweet_id", "airline", "airline_sentiment", "negativereason", "text", "tweet_created"]
REASONS = ["Customer Service Issue", "Late Flight", "Can't Tell", "Cancelled Flight", "Lost Luggage", "Bad Flight"]
TEXTS = [
    "@{brand} {reason} again #fail http://t.co/{n}",
    "+44 20 7946 {n4} is the only number and nobody answers @{brand}",
    "=) thanks @{brand} for nothing",
    "- seat broken, - no wifi #{brand}",
]
MAPPING = ingestion.Mapping(
    columns={"external_id": "tweet_id", "comment": "text", "responded_at": "tweet_created", "segment": "airline"},
    constants={"channel": "Twitter"},
    time_zone="America/New_York",
    duplicates=ingestion.KEEP_LAST,
    label_column="negativereason",
    label_driver="Airline complaints",
)
DUPLICATE_EVERY = 250  # one exact copy of a row every this many rows, as the real export has


def write_file(path: Path, n: int, seed: int = 14) -> int:
    """n distinct tweets (plus exact copies); returns how many carry a label."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1)
    step = timedelta(days=700) / n
    labelled = 0
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        previous = None
        for i in range(n):
            brand = rng.choice(["united", "virginamerica", "usairways", "delta"])
            sentiment = rng.choice(["negative", "negative", "neutral", "positive"])
            reason = rng.choice(REASONS) if sentiment == "negative" else ""
            labelled += bool(reason)
            when = start + step * i
            row = [
                str(570_000_000_000_000_000 + i),
                brand,
                sentiment,
                reason,
                rng.choice(TEXTS).format(brand=brand, reason=reason or "ok", n=i, n4=f"{i % 10000:04d}"),
                f"{when.month}/{when.day}/{when.year} {when.hour}:{when.minute:02d}",
            ]
            out.writerow(row)
            if previous and i % DUPLICATE_EVERY == 0:
                out.writerow(previous)
            previous = row
    return labelled


SOCIAL_COLUMNS = "tweet_id text, airline text, sentiment text, reason text, body text, created text"


def bench_labelled_import(n: int, folder: Path) -> list[tuple]:
    path = folder / f"social-{n}.csv"
    labelled = write_file(path, n)
    baseline = copy_baseline(path, SOCIAL_COLUMNS)
    start = time.perf_counter()
    outcome = import_path(kind="responses", source="bench-social", path=path, mapping=MAPPING)
    ours = time.perf_counter() - start
    assert outcome.written == n and not outcome.error_count, outcome.errors[:3]
    assert outcome.collapsed == (n - 1) // DUPLICATE_EVERY, outcome.notes()
    assert SurveyResponse.objects.filter(source="bench-social", score__isnull=True).count() == n
    tags = CommentTag.objects.filter(response__source="bench-social", origin="imported").count()
    assert tags == labelled == outcome.labelled["tagged"], (tags, labelled, outcome.labelled)
    name = "COPY" if connection.vendor == "postgresql" else "executemany INSERT"
    return [
        (f"{name} of the file ({n:,} rows, baseline)", baseline, n / baseline, 1.0),
        (
            f"import_path: dates detected, duplicates, labels → {labelled:,} tags ({n:,} rows)",
            ours,
            n / ours,
            ours / baseline,
        ),
    ]
