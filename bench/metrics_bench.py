"""Ingestion and recalculation at scale, each against a baseline measured in the same run.

- ingestion: ``import_path`` (every row checked, then idempotent upserts) of a generated CSV
  of review-shaped responses, against PostgreSQL ``COPY`` of the same file into a table of
  the same columns (on SQLite: one ``executemany`` INSERT of the parsed rows);
- recalculation: 50 metrics (NPS, CSAT and mean score; day to quarter; with and without
  filters and segment breakdowns) through ``metric_recalculate``, against hand-written SQL
  aggregates computing the same numbers, one per metric.
"""

from __future__ import annotations

import csv
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from bench.generate import DEPARTMENTS, DIVISIONS, CommentMaker
from metrics import ingestion
from metrics.models import Metric, MetricValue, SurveyResponse
from metrics.services import import_path, metric_recalculate

HEADER = ["id", "responded_at", "scale", "score", "comment", "division", "department"]
MAPPING = ingestion.Mapping(
    columns={
        "external_id": "id",
        "responded_at": "responded_at",
        "scale": "scale",
        "score": "score",
        "comment": "comment",
        "segment": "division",
        "product": "department",
    },
    constants={"channel": "Online store"},
)


def write_file(path: Path, n: int, seed: int = 11) -> int:
    """n responses over three years (two in three on the NPS scale, one in three CSAT), review-length
    comments (``CommentMaker``), segments and products as in the reviews; returns the number of
    distinct comments."""
    rng = random.Random(seed)
    comment, distinct = CommentMaker(rng), set()
    start = datetime(2023, 11, 1, tzinfo=UTC)  # three years up to 2026-11-01: none in the future
    step = timedelta(days=3 * 365) / n
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        for i in range(n):
            if i % 3:
                scale, score = "nps", min(10, max(0, int(rng.gauss(7.6, 2.2))))
                text = comment(1 + min(4, score // 2))
            else:
                scale, score = "csat", rng.choices([1, 2, 3, 4, 5], weights=[27, 72, 127, 228, 546])[0]
                text = comment(score)
            distinct.add(text)
            out.writerow(
                [
                    i,
                    (start + step * i).isoformat(timespec="seconds"),
                    scale,
                    score,
                    text,
                    rng.choice(DIVISIONS),
                    rng.choice(DEPARTMENTS),
                ]
            )
    return len(distinct)


# The columns of the survey CSV as a bare table: the baseline of the ingestion figures.
RESPONSE_COLUMNS = (
    "id text PRIMARY KEY, responded_at timestamp with time zone, scale text, "
    "score smallint, comment text, division text, department text"
)


def copy_baseline(path: Path, columns: str = RESPONSE_COLUMNS) -> float:
    """Seconds to load the CSV at ``path`` into a bare table of ``columns`` (COPY on PostgreSQL,
    executemany on SQLite): what any import of the same file cannot beat."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy")
        cursor.execute(f"CREATE TABLE bench_copy ({columns})")
    placeholders = ", ".join(["%s"] * len(columns.split(",")))
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with path.open("rb") as handle, cursor.copy("COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER)") as copy:
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
        else:
            with path.open(newline="") as handle:
                rows = csv.reader(handle)
                next(rows)
                cursor.executemany(f"INSERT INTO bench_copy VALUES ({placeholders})", rows)  # noqa: S608
    elapsed = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_copy")
    return elapsed


def copy_floor(path: Path) -> float | None:
    """Seconds to COPY the CSV at ``path`` straight into a copy of the real responses table, with its
    indexes, constraints and the import's constant columns as defaults: the true floor of an import
    (PostgreSQL only; None elsewhere)."""
    if connection.vendor != "postgresql":
        return None
    table = SurveyResponse._meta.db_table
    constants = {"source": "bench-floor", "channel": "Online store", "customer_id": "", "touchpoint": ""}
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_floor")
        cursor.execute(f"CREATE TABLE bench_floor (LIKE {table} INCLUDING ALL)")
        for column, value in constants.items():
            cursor.execute(f"ALTER TABLE bench_floor ALTER COLUMN {column} SET DEFAULT %s", [value])
        for column in ("driver_ratings", "attributes"):
            cursor.execute(f"ALTER TABLE bench_floor ALTER COLUMN {column} SET DEFAULT '{{}}'::jsonb")
    columns = "external_id, responded_at, scale, score, comment, segment, product"  # the CSV's order
    start = time.perf_counter()
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        path.open("rb") as handle,
        cursor.copy(f"COPY bench_floor ({columns}) FROM STDIN WITH (FORMAT csv, HEADER)") as copy,
    ):
        while chunk := handle.read(1 << 20):
            copy.write(chunk)
    elapsed = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_floor")
    return elapsed


def _delete_imported() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM metrics_surveyresponse WHERE source = 'bench-file'")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE metrics_surveyresponse")


def bench_ingestion(n: int, folder: Path, repeat: int = 3) -> list[tuple]:
    """(label, min seconds, median seconds, ratio of medians to the COPY baseline) over ``repeat``
    runs; each run imports the file into an empty source, then again unchanged."""
    path = folder / f"responses-reviews-{n}.csv"  # review-length comments (older files held 25 phrases)
    if not path.exists():
        write_file(path, n)
    times: dict[str, list[float]] = {"baseline": [], "floor": [], "first": [], "again": []}
    for _ in range(repeat):
        _delete_imported()
        times["baseline"].append(copy_baseline(path))
        floor = copy_floor(path)
        if floor is not None:
            times["floor"].append(floor)
        start = time.perf_counter()
        outcome = import_path(kind="responses", source="bench-file", path=path, mapping=MAPPING)
        times["first"].append(time.perf_counter() - start)
        assert outcome.written == n and not outcome.error_count, outcome.errors[:3]
        start = time.perf_counter()
        again = import_path(kind="responses", source="bench-file", path=path, mapping=MAPPING)
        times["again"].append(time.perf_counter() - start)
        assert again.written == n and not again.error_count
    assert SurveyResponse.objects.filter(source="bench-file").count() == n
    distinct = SurveyResponse.objects.filter(source="bench-file").values("comment").distinct().count()

    def row(label: str, key: str, against: str = "baseline") -> tuple:
        median = statistics.median(times[key])
        return (label, min(times[key]), median, median / statistics.median(times[against]))

    name = "COPY" if connection.vendor == "postgresql" else "executemany INSERT"
    rows = [row(f"{name} of the file ({n:,} rows, {distinct:,} distinct comments, baseline)", "baseline")]
    if times["floor"]:
        with connection.cursor() as cursor:
            indexes = len(connection.introspection.get_constraints(cursor, SurveyResponse._meta.db_table))
        rows.append(row(f"floor: COPY into the real table, its {indexes} indexes and constraints", "floor"))
    rows += [
        row(f"import_path: check every row, then write ({n:,} rows)", "first"),
        row("import_path again: nothing changed, nothing written", "again"),
    ]
    if times["floor"]:
        rows.append(row("  import_path against the floor", "first", "floor"))
        rows.append(row("  import_path again against the floor", "again", "floor"))
    return rows


def _metrics(count: int = 50) -> list[Metric]:
    """A spread of metric definitions over the benchmark's responses."""
    calculators, granularities = ["nps", "csat", "mean"], ["day", "week", "month", "quarter"]
    metrics = []
    for i in range(count):
        calc = calculators[i % 3]
        metrics.append(
            Metric.objects.create(
                name=f"Bench {i:02d}",
                slug=f"bench-{i:02d}",
                calculator=calc,
                kind="outcome",
                source="bench-file",
                granularity=granularities[(i // 3) % 4],
                filter_product=DEPARTMENTS[i % len(DEPARTMENTS)] if i % 5 == 4 else "",
                segment_by="segment" if i % 2 else "",
            )
        )
    return metrics


def _sql_for(metric: Metric) -> list[str]:
    """Hand-written SQL computing the same aggregates as the metric, overall and per segment."""
    tz = settings.TIME_ZONE
    scale = "AND scale = 'nps'" if metric.calculator == "nps" else ""
    scale = "AND scale = 'csat'" if metric.calculator == "csat" else scale
    product = f"AND product = '{metric.filter_product}'" if metric.filter_product else ""
    if connection.vendor == "postgresql":
        period = f"date_trunc('{metric.granularity}', responded_at AT TIME ZONE '{tz}')"
    else:
        period = {
            "day": "date(responded_at)",
            "week": "date(responded_at, 'weekday 0', '-6 days')",
            "month": "strftime('%Y-%m-01', responded_at)",
            "quarter": "strftime('%Y', responded_at) || '-' || "
            "((cast(strftime('%m', responded_at) as int) - 1) / 3 * 3 + 1)",
        }[metric.granularity]
    table = SurveyResponse._meta.db_table
    aggregates = (
        "count(*), sum(CASE WHEN score >= 9 THEN 1 ELSE 0 END), sum(CASE WHEN score <= 6 THEN 1 ELSE 0 END), "
        "sum(CASE WHEN score >= 4 THEN 1 ELSE 0 END), sum(score), sum(score * score)"
    )
    where = f"source = 'bench-file' {scale} {product}"
    queries = [f"SELECT {period}, {aggregates} FROM {table} WHERE {where} GROUP BY 1"]  # noqa: S608 - fixed values
    if metric.segment_by:
        queries.append(
            f"SELECT {period}, segment, {aggregates} FROM {table} WHERE {where} AND segment <> '' GROUP BY 1, 2"  # noqa: S608
        )
    return queries


def bench_recalculation() -> list[tuple]:
    metrics = _metrics()
    start = time.perf_counter()
    with connection.cursor() as cursor:
        for metric in metrics:
            for sql in _sql_for(metric):
                cursor.execute(sql)
                cursor.fetchall()
    baseline = time.perf_counter() - start
    start = time.perf_counter()
    for metric in metrics:
        metric_recalculate(metric=metric)
    ours = time.perf_counter() - start
    values = MetricValue.objects.filter(metric__in=metrics).count()
    return [
        (f"hand-written SQL aggregates for {len(metrics)} metrics (baseline)", baseline, 1.0),
        (f"metric_recalculate of the same {len(metrics)} metrics ({values:,} values stored)", ours, ours / baseline),
    ]
