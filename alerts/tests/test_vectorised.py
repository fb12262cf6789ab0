"""The array evaluation (``checks_array``, ``episodes_array``, ``charts.signals_array``) against
the period-by-period reference (``checks``, ``episodes``, ``charts.western_electric``): the same
condition, note and limits for every period and the same episodes, over many random series and
rules (every kind, every chart and test, phase I baselines, provisional limits, gaps, ties on the
centre line and on limits), and over the NIST examples."""

import random
from datetime import date, timedelta

import numpy as np
import pytest

from alerts import charts, evaluation
from alerts.tests.test_charts import NIST_INDIVIDUALS, NIST_P, NIST_WAFER_DEFECTS
from metrics.models import Metric

START = date(2024, 1, 1)


def _series(rng: random.Random, n: int, kind: str) -> list[evaluation.Point]:
    """A random walk with gaps, repeats (ties), shifts, integers and, for proportions and rates,
    sample sizes (some missing or zero)."""
    level, points = rng.uniform(20, 80), []
    step = rng.choice([0.5, 2, 6])
    for i in range(n):
        level += rng.gauss(0, step)
        if rng.random() < 0.03:
            level += rng.choice([-1, 1]) * rng.uniform(5, 20)  # a shift
        value = level
        roll = rng.random()
        if roll < 0.06:
            value = None
        elif roll < 0.15 and points and points[-1].value is not None:
            value = points[-1].value  # a repeat: a step of zero, a tie
        elif roll < 0.25:
            value = round(level)
        if kind in ("p", "laney") and value is not None:
            value = min(max(value, 0), 100)
        if kind == "c" and value is not None:
            value = max(round(value), 0)
        size = None
        if kind in ("p", "laney", "u", "auto"):
            size = rng.choice([None, 0, rng.randint(1, 60), rng.randint(50, 3000)]) if rng.random() < 0.1 else None
            size = size if size is not None or rng.random() < 0.1 else rng.randint(20, 2000)
        points.append(evaluation.Point(START + timedelta(days=i), value, size))
    return points


def _metric(rng: random.Random) -> Metric:
    target = rng.choice([None, 50.0, 60.0, rng.uniform(20, 80)])
    amber = rng.choice([None, target, rng.uniform(20, 80)])
    red = rng.choice([None, rng.uniform(10, 70)])
    return Metric(
        name="m",
        calculator=rng.choice(["mean", "csat", "count", "nps", "proportion", "rate"]),
        direction=rng.choice(["higher", "lower"]),
        target=target,
        amber_threshold=amber,
        red_threshold=red,
        unit=rng.choice(["", "%", "points"]),
        granularity="day",
    )


def _rule(rng: random.Random, n: int) -> evaluation.RuleSpec:
    kind = rng.choice(["threshold", "target", "change", "change", "control", "control", "control", "missing"])
    chart_periods = rng.choice([2, 5, 10, 20, 30])
    base_from = START + timedelta(days=rng.randint(0, n)) if rng.random() < 0.3 else None
    base_to = START + timedelta(days=rng.randint(0, n)) if rng.random() < 0.4 else None
    return evaluation.RuleSpec(
        kind=kind,
        min_periods=rng.randint(1, 5),
        clear_periods=rng.randint(1, 4),
        hysteresis=rng.choice([0.0, 0.5, 1, 3]),
        level=rng.choice(["red", "amber"]),
        comparison=rng.choice(["previous", "last_year"]),
        change_mode=rng.choice(["absolute", "percent"]),
        change_limit=rng.choice([1, 2.5, 5, 10]),
        chart=rng.choice(["auto", "individuals", "c", "p", "laney", "u"]),
        baseline_from=base_from,
        baseline_to=base_to,
        chart_periods=chart_periods,
        provisional_periods=rng.randint(2, chart_periods),
        chart_tests=tuple(sorted(rng.sample(range(1, 9), rng.randint(1, 8)))),
    )


def _same(rule, metric, points, granularity="day"):
    reference = evaluation.checks(rule, metric, points, granularity)
    arrays = evaluation.checks_array(rule, metric, points, granularity)
    assert len(arrays) == len(reference)
    for i, (want, got) in enumerate(zip(reference, arrays, strict=True)):
        assert (got.bad, got.clear, got.note, got.limits) == (want.bad, want.clear, want.note, want.limits), (i, rule)
    assert list(arrays) == reference
    want_episodes = evaluation.episodes(rule, reference)
    got_episodes = evaluation.episodes_array(rule, arrays)
    assert got_episodes == want_episodes, rule
    assert evaluation.verdict(rule, metric, points, arrays) == evaluation.verdict(rule, metric, points, reference)
    return want_episodes


@pytest.mark.parametrize("seed", range(40))
def test_array_evaluation_is_the_loop_evaluation_on_random_series(seed):
    rng = random.Random(seed)
    fired = 0
    for _ in range(25):
        n = rng.choice([0, 1, 3, 9, 16, 40, 120, 400, 800])
        rule = _rule(rng, n)
        points = _series(rng, n, rule.chart)
        fired += len(_same(rule, _metric(rng), points))
    assert fired > 0  # the series are rough enough for rules to fire


@pytest.mark.parametrize("tests", [(1,), (1, 2, 3, 4), tuple(range(1, 9))])
def test_array_signals_are_the_loop_signals_on_the_nist_examples(tests):
    individuals = charts.individuals_limits(NIST_INDIVIDUALS)
    wafers = charts.c_limits(NIST_WAFER_DEFECTS)
    sizes = [50] * len(NIST_P)
    proportions = charts.p_limits(NIST_P, sizes)
    cases = [
        (NIST_INDIVIDUALS, individuals, charts.INDIVIDUALS, None),
        (NIST_WAFER_DEFECTS, wafers, charts.C_CHART, None),
        (NIST_P, proportions, charts.P_CHART, sizes),
        (NIST_P, charts.p_limits(NIST_P, sizes, laney=True), charts.LANEY, sizes),
    ]
    for values, limits, kind, n in cases:
        array = np.array(values, dtype=float)
        drawn = charts.limits_array(kind, array, None if n is None else np.array(n, dtype=float), slice(None))
        assert (drawn.centre, list(drawn.sigmas), drawn.sigma_z) == (limits.centre, limits.sigmas, limits.sigma_z)
        want = charts.western_electric(values, limits, tests)
        got = charts.signals_array(array, drawn, tests)
        assert [s for i in range(len(values)) for s in got.at(i)] == want
        assert np.flatnonzero(got.any).tolist() == sorted({s.index for s in want})
    # The textbook p-chart: rule 1 alone flags wafers 15 and 23 (indices 14 and 22).
    got = charts.signals_array(
        np.array(NIST_P),
        charts.limits_array(charts.P_CHART, np.array(NIST_P), np.array(sizes, dtype=float), slice(None)),
        (1,),
    )
    assert np.flatnonzero(got.any).tolist() == [14, 22]


def test_nist_series_as_metric_values_give_the_same_episodes():
    """The NIST examples as daily metric values, with the rules of the NIST tests."""
    for values, chart, calculator, size in (
        (NIST_INDIVIDUALS, "individuals", "mean", None),
        (NIST_WAFER_DEFECTS, "c", "count", None),
        ([p * 100 for p in NIST_P], "p", "csat", 50),
        ([p * 100 for p in NIST_P], "auto", "csat", 50),
    ):
        points = [evaluation.Point(START + timedelta(days=i), v, size) for i, v in enumerate(values)]
        metric = Metric(name="nist", calculator=calculator, direction="lower", granularity="day", unit="")
        for tests in ((1,), (1, 2, 3, 4), tuple(range(1, 9))):
            for baseline_to in (None, START + timedelta(days=6), START + timedelta(days=1)):
                rule = evaluation.RuleSpec(kind="control", chart=chart, chart_tests=tests, baseline_to=baseline_to)
                _same(rule, metric, points)


def test_a_metric_like_object_with_its_own_rag_is_asked_value_by_value():
    class Fake:
        direction, unit, target, calculator = "higher", "", 50, "mean"

        def rag(self, value):
            return None if value == 13 else ("green" if value >= 50 else "red")

    points = [evaluation.Point(START + timedelta(days=i), v) for i, v in enumerate([60, 40, 13, 45, 70, None, 30])]
    episodes = _same(evaluation.RuleSpec(kind="threshold", min_periods=2), Fake(), points)
    assert [(e.opened, e.resolved) for e in episodes] == [(3, 4)]


@pytest.mark.parametrize("granularity", ["week", "month", "quarter"])
def test_year_on_year_change_finds_the_same_period_a_year_earlier(granularity):
    rng = random.Random(granularity)
    periods = evaluation.complete_periods(date(2019, 2, 26), date(2026, 3, 1), granularity)
    fired = 0
    for _ in range(20):
        values = _series(rng, len(periods), "individuals")
        points = [evaluation.Point(period, p.value) for period, p in zip(periods, values, strict=True)]
        rule = evaluation.RuleSpec(
            kind="change", comparison="last_year", change_mode=rng.choice(["absolute", "percent"]), change_limit=2
        )
        fired += len(_same(rule, _metric(rng), points, granularity))
    assert fired > 0
    series = evaluation.Series(points)
    ago = series.year_ago(granularity)
    for i, p in enumerate(points):
        earlier = evaluation.shift_year(p.period, granularity)
        assert (points[ago[i]].period == earlier) if ago[i] >= 0 else earlier not in periods
