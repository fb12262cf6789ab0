"""The formulas, against hand-computed cases (no database)."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from metrics import calculations


@pytest.mark.parametrize(
    ("score", "kind"),
    [(0, "detractor"), (6, "detractor"), (7, "passive"), (8, "passive"), (9, "promoter"), (10, "promoter")],
)
def test_nps_boundaries(score, kind):
    value, n, _, _ = calculations.nps(pd.Series([score]))
    assert n == 1
    assert value == {"detractor": -100.0, "passive": 0.0, "promoter": 100.0}[kind]


def test_nps_hand_computed_with_interval():
    # 5 promoters, 3 passives, 2 detractors: NPS = 50% - 20% = 30.
    # Variance of the +1/0/-1 score: 0.5 + 0.2 - 0.3² = 0.61; half-width 1.96 * sqrt(0.061) = 0.48408.
    value, n, low, high = calculations.nps(pd.Series([10, 9, 9, 10, 9, 7, 8, 8, 3, 6]))
    assert (value, n) == (pytest.approx(30.0), 10)
    assert low == pytest.approx(30 - 48.408, abs=0.01)
    assert high == pytest.approx(30 + 48.408, abs=0.01)


def test_csat_is_top_two_box_with_wilson_interval():
    value, n, low, high = calculations.csat(pd.Series([5, 4, 3, 2, 1, 4, 5, 5]))
    assert (value, n) == (62.5, 8)
    # Wilson 95% for 5/8, computed by hand: 30.57% .. 86.32%.
    assert low == pytest.approx(30.57, abs=0.01)
    assert high == pytest.approx(86.32, abs=0.01)


def test_mean_score_interval():
    value, n, low, high = calculations.mean_score(pd.Series([1, 2, 3, 4, 5]))
    assert (value, n) == (3.0, 5)
    # sd = 1.5811; 1.96 * 1.5811 / sqrt(5) = 1.3859
    assert (low, high) == (pytest.approx(1.6141, abs=1e-3), pytest.approx(4.3859, abs=1e-3))


def test_periods_follow_the_local_calendar():
    stamps = pd.Series(pd.to_datetime(["2026-03-29T23:30:00Z", "2026-12-31T23:30:00Z"], utc=True))
    # 23:30 UTC on 31 December is already 1 January in Berlin.
    assert list(calculations.period_starts(stamps, "day", "Europe/Berlin")) == [date(2026, 3, 30), date(2027, 1, 1)]
    assert list(calculations.period_starts(stamps, "week", "UTC")) == [date(2026, 3, 23), date(2026, 12, 28)]
    assert list(calculations.period_starts(stamps, "quarter", "UTC")) == [date(2026, 1, 1), date(2026, 10, 1)]


def test_churn_rate_counts_customers_at_the_start_of_the_period():
    customers = pd.DataFrame(
        {
            "started_on": pd.to_datetime(["2025-01-01", "2025-06-01", "2026-10-01", "2026-10-15", "2024-01-01"]),
            "ended_on": pd.to_datetime(["2026-10-10", None, None, "2026-10-20", "2026-09-30"]),
            "category": ["a", "a", "b", "b", "b"],
        }
    )
    (overall, seg_a, seg_b) = calculations.churn_rate(customers, [(date(2026, 10, 1), date(2026, 11, 1))], "category")
    # At the start of October: the first three (the fourth started later, the fifth had left).
    assert (overall.value, overall.sample_size) == (pytest.approx(100 / 3), 3)
    assert (seg_a.segment, seg_a.value) == ("a", 50.0)
    assert (seg_b.segment, seg_b.value) == ("b", 0.0)


def test_lifetime_value_simple_and_discounted():
    assert calculations.lifetime_value(30.0, 0.05) == pytest.approx(600.0)
    assert calculations.lifetime_value(30.0, 0.05, discount_rate=0.01) == pytest.approx(30 * 1.01 / 0.06)
    assert calculations.lifetime_value(30.0, 0.0) is None


def test_ratio_and_failure_cost():
    frame = pd.DataFrame({"period": [date(2026, 1, 1)] * 2, "value": [30.0, 10.0]})
    denominator = pd.DataFrame({"period": [date(2026, 1, 1)], "value": [160.0]})
    (ratio,) = calculations.series_metric(frame, "ratio", denominator=denominator)
    assert ratio.value == pytest.approx(0.25)
    (cost,) = calculations.series_metric(frame, "failure_cost", unit_cost=4.5)
    assert cost.value == pytest.approx(180.0)


def test_relative_importance_splits_r2_exactly():
    rng = np.random.default_rng(4)
    x1, x2, x3 = rng.normal(size=(3, 400))
    frame = pd.DataFrame({"y": 2 * x1 + x2 + 0.5 * (x1 + x3) + rng.normal(size=400), "a": x1, "b": x2, "c": x1 + x3})
    shares, r2 = calculations.relative_importance(frame, "y")
    ols = np.linalg.lstsq(np.column_stack([np.ones(400), x1, x2, x1 + x3]), frame["y"], rcond=None)
    fitted = np.column_stack([np.ones(400), x1, x2, x1 + x3]) @ ols[0]
    assert r2 == pytest.approx(np.corrcoef(fitted, frame["y"])[0, 1] ** 2)
    assert sum(shares.values()) == pytest.approx(r2)
    assert shares["a"] > shares["c"] > shares["b"] > 0


def test_relative_importance_of_uncorrelated_drivers_is_their_squared_correlation():
    # Orthogonal drivers (a 2x2 design, each cell twice): LMG equals each driver's own r².
    frame = pd.DataFrame({"a": [1, 1, -1, -1] * 2, "b": [1, -1, 1, -1] * 2, "y": [5, 3, 2, 1, 6, 2, 2, 0]})
    shares, r2 = calculations.relative_importance(frame, "y")
    for driver in ("a", "b"):
        assert shares[driver] == pytest.approx(np.corrcoef(frame[driver], frame["y"])[0, 1] ** 2)
    assert r2 == pytest.approx(shares["a"] + shares["b"])


def test_relative_importance_two_drivers_matches_the_closed_form():
    # For two predictors LMG_1 = (r1² + R² - r2²) / 2, with R² = (r1² + r2² - 2 r1 r2 r12) / (1 - r12²).
    frame = pd.DataFrame({"y": [3, 5, 4, 6, 8, 7, 9, 6], "a": [1, 2, 2, 3, 4, 4, 5, 3], "b": [2, 2, 3, 3, 3, 5, 4, 2]})
    c = frame.corr()
    r1, r2_, r12 = c.loc["y", "a"], c.loc["y", "b"], c.loc["a", "b"]
    full = (r1**2 + r2_**2 - 2 * r1 * r2_ * r12) / (1 - r12**2)
    shares, r2 = calculations.relative_importance(frame, "y")
    assert r2 == pytest.approx(full)
    assert shares["a"] == pytest.approx((r1**2 + full - r2_**2) / 2)
    assert shares["b"] == pytest.approx((r2_**2 + full - r1**2) / 2)


def test_relative_importance_matches_relaimpo_on_a_published_example():
    """pingouin's "mediation" data set, whose lmg values from R's relaimpo (calc.relimp, type "lmg")
    are published in pingouin's test suite: X 0.05778011, M 0.31521913 for lm(Y ~ X + M)."""
    import zipfile
    from pathlib import Path

    wheels = sorted((Path(__file__).resolve().parents[2] / "var" / "testdata").glob("pingouin-0.7.0-*.whl"))
    if not wheels:
        pytest.fail("var/testdata/pingouin-0.7.0-*.whl is missing: bin/test downloads it (pip download --no-deps).")
    with zipfile.ZipFile(wheels[0]) as wheel, wheel.open("pingouin/datasets/mediation.csv") as handle:
        data = pd.read_csv(handle)
    shares, r2 = calculations.relative_importance(data[["X", "M", "Y"]], "Y")
    assert shares["X"] == pytest.approx(0.05778011, abs=1e-8)
    assert shares["M"] == pytest.approx(0.31521913, abs=1e-8)
    assert r2 == pytest.approx(shares["X"] + shares["M"])
