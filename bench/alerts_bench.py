"""Alert evaluation at scale: 1,000 rules over three years of daily values.

100 daily metrics with 1,096 values each (a seeded random walk around a target, with gaps and
shifts so that rules fire); ten rules per metric, two of each kind (threshold, target missed,
change, control chart, missing data). ``metric_evaluate`` runs per metric, first on 10 metrics
(100 rules) then on all 100 (1,000 rules), with the queries counted: queries per rule stay
constant, whatever the number of rules. The first run is a new rule's: it replays the whole
history (every past period judged, every past episode recorded). Then "replay history" is asked
of every rule and run again (nothing new to record), then a plain rerun. The baseline is one
hand-written SELECT per metric reading the same values, measured in the same run. The baseline and
the rerun are timed five times, the replay three (minimum and median; ratios of medians); the
first run once, since it records what it finds.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import date, timedelta

from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.models import Alert, AlertRule
from alerts.services import metric_evaluate
from cxgov.models import Function
from metrics.models import Metric, MetricValue

START = date(2023, 1, 1)
DAYS = 1096  # three years, one of them a leap year
TODAY = START + timedelta(days=DAYS)
RULES = [
    ("red", {"kind": "threshold", "level": "red", "hysteresis": 1}),
    ("amber for a week", {"kind": "threshold", "level": "amber", "min_periods": 7, "clear_periods": 3}),
    ("target missed 5 days", {"kind": "target", "min_periods": 5}),
    ("target missed 10 days", {"kind": "target", "min_periods": 10, "hysteresis": 0.5}),
    ("drop vs yesterday", {"kind": "change", "change_limit": 6}),
    ("drop vs last year", {"kind": "change", "comparison": "last_year", "change_mode": "percent", "change_limit": 8}),
    (
        "individuals chart, all tests",
        {"kind": "control", "chart": "individuals", "chart_tests": [1, 2, 3, 4, 5, 6, 7, 8]},
    ),
    (
        "phase I first year, rule 1",
        {"kind": "control", "chart": "individuals", "baseline_to": date(2023, 12, 31), "chart_tests": [1]},
    ),
    ("missing 2 days", {"kind": "missing", "min_periods": 2}),
    ("missing a week", {"kind": "missing", "min_periods": 7}),
]


def _metrics(count: int, seed: int = 5) -> list[Metric]:
    rng = random.Random(seed)
    owner, _ = Function.objects.get_or_create(slug="bench-alerts", defaults={"name": "Bench alerts"})
    metrics, values, rules = [], [], []
    now = timezone.now()
    for i in range(count):
        metric = Metric.objects.create(
            name=f"Alert bench {i:03d}", slug=f"alert-bench-{i:03d}", calculator="mean", kind="outcome",
            source="bench", granularity="day", target=80, amber_threshold=78, red_threshold=72, unit="points",
            owning_function=owner,
        )  # fmt: skip
        level = 80 + rng.uniform(-2, 3)
        for day in range(DAYS):
            level += rng.gauss(0, 0.6) + (80 - level) * 0.05
            if rng.random() < 0.003:
                level -= rng.uniform(4, 10)  # an incident
            if rng.random() < 0.01:
                continue  # a day without data
            values.append(
                MetricValue(metric=metric, period_start=START + timedelta(days=day), value=level, computed_at=now)
            )
        rules += [AlertRule(metric=metric, name=name, **fields) for name, fields in RULES]
        metrics.append(metric)
    MetricValue.objects.bulk_create(values, batch_size=5000)
    AlertRule.objects.bulk_create(rules, batch_size=1000)
    AlertRule.objects.filter(metric__in=metrics).update(created_at=timezone.make_aware(timezone.datetime(2023, 1, 1)))
    return metrics


def _baseline(metrics: list[Metric]) -> float:
    table = MetricValue._meta.db_table
    start = time.perf_counter()
    with connection.cursor() as cursor:
        for metric in metrics:
            cursor.execute(
                f"SELECT segment, period_start, value, sample_size FROM {table} "  # noqa: S608 - fixed names
                "WHERE metric_id = %s AND period_start < %s ORDER BY period_start",
                [metric.pk, TODAY],
            )
            cursor.fetchall()
    return time.perf_counter() - start


def _evaluate(metrics: list[Metric]) -> tuple[float, int]:
    reset_queries()  # the log keeps 9,000 queries: a full one would count none
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        for metric in metrics:
            metric_evaluate(metric=metric, today=TODAY)
        elapsed = time.perf_counter() - start
    return elapsed, len(queries)


REPEAT = 5  # the baseline, the replay and the rerun are timed this many times: minimum and median


def _timed(run, repeat: int = REPEAT) -> tuple[float, float, int]:
    """``run`` (returning seconds and queries) ``repeat`` times: minimum, median and the last count."""
    samples, queries = [], 0
    for _ in range(repeat):
        seconds, queries = run()
        samples.append(seconds)
    return min(samples), statistics.median(samples), queries


def bench_alerts(count: int = 100) -> list[tuple]:
    """Per subset (count // 10 metrics, then all): rules, the baseline (min, median), the first run
    (once: it records the history it judges), the replay and the rerun (min, median, queries)."""
    metrics = _metrics(count)
    rows = []
    for subset in (metrics[: count // 10], metrics):
        rules = len(subset) * len(RULES)
        base = _timed(lambda subset=subset: (_baseline(subset), 0))[:2]
        first, first_queries = _evaluate(subset)  # new rules: the whole history is replayed
        episodes = Alert.objects.filter(metric__in=subset).count()
        history = Alert.objects.filter(metric__in=subset, from_history=True).count()

        def replay(subset=subset):
            AlertRule.objects.filter(metric__in=subset).update(replay_pending=True)  # "replay history" on every rule
            return _evaluate(subset)

        replayed = _timed(replay, repeat=3)
        assert Alert.objects.filter(metric__in=subset).count() == episodes, "a replay recorded an episode twice"
        again = _timed(lambda subset=subset: _evaluate(subset))
        rows.append((rules, base, first, first_queries, episodes, history, replayed, again))
    return rows
