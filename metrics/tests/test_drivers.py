"""Key-driver analysis on continuous data: Johnson's relative weights, LMG, R², n and bootstrap intervals."""

import numpy as np
import pandas as pd
import pytest

from metrics import drivers

# R's ``mtcars`` (public domain): mpg, cyl, disp, hp, gear of the 32 cars of the 1974 Motor Trend road tests.
MTCARS = [
    (21.0, 6, 160.0, 110, 4),
    (21.0, 6, 160.0, 110, 4),
    (22.8, 4, 108.0, 93, 4),
    (21.4, 6, 258.0, 110, 3),
    (18.7, 8, 360.0, 175, 3),
    (18.1, 6, 225.0, 105, 3),
    (14.3, 8, 360.0, 245, 3),
    (24.4, 4, 146.7, 62, 4),
    (22.8, 4, 140.8, 95, 4),
    (19.2, 6, 167.6, 123, 4),
    (17.8, 6, 167.6, 123, 4),
    (16.4, 8, 275.8, 180, 3),
    (17.3, 8, 275.8, 180, 3),
    (15.2, 8, 275.8, 180, 3),
    (10.4, 8, 472.0, 205, 3),
    (10.4, 8, 460.0, 215, 3),
    (14.7, 8, 440.0, 230, 3),
    (32.4, 4, 78.7, 66, 4),
    (30.4, 4, 75.7, 52, 4),
    (33.9, 4, 71.1, 65, 4),
    (21.5, 4, 120.1, 97, 3),
    (15.5, 8, 318.0, 150, 3),
    (15.2, 8, 304.0, 150, 3),
    (13.3, 8, 350.0, 245, 3),
    (19.2, 8, 400.0, 175, 3),
    (27.3, 4, 79.0, 66, 4),
    (26.0, 4, 120.3, 91, 5),
    (30.4, 4, 95.1, 113, 5),
    (15.8, 8, 351.0, 264, 5),
    (19.7, 6, 145.0, 175, 5),
    (15.0, 8, 301.0, 335, 5),
    (21.4, 4, 121.0, 109, 4),
]
# Published by R (lm, relaimpo's "lmg", Johnson's relative weights), see ../shared/data/README.md.
MTCARS_R2 = 0.7791896
MTCARS_JOHNSON = {"hp": 29.79691, "cyl": 29.32274, "disp": 28.50999, "gear": 12.37037}
MTCARS_LMG = {"cyl": 31.70628, "disp": 31.25036, "hp": 27.06824, "gear": 9.97512}


@pytest.fixture
def mtcars():
    return pd.DataFrame(MTCARS, columns=["mpg", "cyl", "disp", "hp", "gear"])


def test_johnsons_relative_weights_on_mtcars_match_the_published_figures(mtcars):
    result = drivers.analyse(mtcars, "mpg", ["cyl", "disp", "hp", "gear"], method=drivers.JOHNSON)
    assert result.n == 32
    assert result.r2 == pytest.approx(MTCARS_R2, abs=5e-8)
    assert [d.driver for d in result.drivers] == ["hp", "cyl", "disp", "gear"]
    for d in result.drivers:
        assert d.share == pytest.approx(MTCARS_JOHNSON[d.driver], abs=5e-6)
    assert sum(d.importance for d in result.drivers) == pytest.approx(result.r2)


def test_lmg_on_continuous_mtcars_matches_relaimpo(mtcars):
    result = drivers.analyse(mtcars, "mpg", ["cyl", "disp", "hp", "gear"], method=drivers.LMG)
    assert result.r2 == pytest.approx(MTCARS_R2, abs=5e-8)
    assert [d.driver for d in result.drivers] == ["cyl", "disp", "hp", "gear"]
    for d in result.drivers:
        assert d.share == pytest.approx(MTCARS_LMG[d.driver], abs=5e-6)


def test_every_importance_has_a_seeded_bootstrap_interval_around_it(mtcars):
    first = drivers.analyse(mtcars, "mpg", ["cyl", "disp", "hp", "gear"], method=drivers.JOHNSON, resamples=100)
    again = drivers.analyse(mtcars, "mpg", ["cyl", "disp", "hp", "gear"], method=drivers.JOHNSON, resamples=100)
    assert first == again  # same data, same seed: same intervals
    assert first.resamples == 100
    for d in first.drivers:
        assert d.share_low < d.share < d.share_high
    assert first.r2_low < first.r2 < first.r2_high


def test_the_bootstrap_draws_fewer_resamples_for_many_rows_or_many_lmg_drivers():
    assert drivers.resample_count(drivers.LMG, 4, rows=32) == drivers.BOOTSTRAP_RESAMPLES
    assert drivers.resample_count(drivers.LMG, 12, rows=32) == 128
    assert drivers.resample_count(drivers.JOHNSON, 12, rows=32) == drivers.BOOTSTRAP_RESAMPLES
    assert drivers.resample_count(drivers.JOHNSON, 4, rows=20_000) == 100
    assert drivers.resample_count(drivers.JOHNSON, 4, rows=10_000_000) == drivers.MIN_RESAMPLES


def test_too_few_complete_rows_is_not_enough_data(mtcars):
    mtcars.loc[:5, "hp"] = np.nan  # 26 complete rows left
    with pytest.raises(drivers.NotEnoughData, match="26 rows have the outcome and every driver; at least 30"):
        drivers.analyse(mtcars, "mpg", ["cyl", "disp", "hp", "gear"])


def test_a_driver_that_is_a_sum_of_others_has_no_johnson_weights(mtcars):
    mtcars["cyl_and_gear"] = mtcars["cyl"] + mtcars["gear"]
    with pytest.raises(drivers.NotEnoughData, match="exact combinations"):
        drivers.analyse(mtcars, "mpg", ["cyl", "gear", "cyl_and_gear"], method=drivers.JOHNSON)


def test_johnsons_weights_of_uncorrelated_drivers_are_their_squared_correlations():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=400), rng.normal(size=400)
    a -= a.mean()
    b = b - b.mean() - a * (a @ (b - b.mean())) / (a @ a)  # exactly orthogonal to a
    frame = pd.DataFrame({"a": a, "b": b, "y": 2 * a + b + rng.normal(size=400)})
    weights, r2 = drivers.relative_weights(frame, "y")
    corr = frame.corr()["y"]
    assert weights["a"] == pytest.approx(corr["a"] ** 2)
    assert weights["b"] == pytest.approx(corr["b"] ** 2)
