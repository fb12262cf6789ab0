"""Key-driver analysis on any numeric data: pure functions, DataFrame in, numbers out.

The outcome and the drivers are read as continuous numbers (a survey score, a rating, a
spend, a handle time...). Two measures of each driver's part of R² are offered:

- LMG (Lindeman, Merenda and Gold, 1980): the driver's contribution averaged over every order
  in which drivers can enter the regression (``calculations.relative_importance``);
- Johnson's relative weights (Johnson, 2000): regress the outcome on the orthogonal
  counterparts of the drivers and share each counterpart's contribution back to the drivers
  through their loadings. Close to LMG and cheap for many drivers.

Both add up to R². Each importance comes with a percentile bootstrap interval (seeded, with a
bounded number of resamples), so a page can say how sure it is; R² and the number of rows
say how much there is to be sure about.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from metrics.calculations import MAX_DRIVERS, relative_importance

LMG, JOHNSON = "lmg", "johnson"
METHODS = {LMG: "LMG (average over orderings)", JOHNSON: "Johnson's relative weights"}
MIN_ROWS = 30  # fewer complete rows than this: "not enough data"
ROWS_PER_DRIVER = 5  # and at least this many rows per driver
BOOTSTRAP_RESAMPLES = 200
BOOTSTRAP_SEED = 20_26
# LMG visits 2^p subsets per resample: its resamples are cut so that p = 12 stays within seconds.
LMG_SUBSET_BUDGET = 2**15
MIN_RESAMPLES = 20


def _correlations(frame: pd.DataFrame, outcome: str, drivers: list[str]) -> np.ndarray:
    corr = np.corrcoef(frame[[outcome, *drivers]].to_numpy(dtype=float), rowvar=False)
    if np.isnan(corr).any():
        raise ValueError("a driver or the outcome does not vary, so its importance is undefined")
    return corr


def relative_weights(frame: pd.DataFrame, outcome: str) -> tuple[dict[str, float], float]:
    """Johnson's relative weights: ({driver: raw weight}, R²); the raw weights add up to R².

    With R_xx = Λ Λ (Λ the symmetric square root of the drivers' correlation matrix), the
    outcome is regressed on the orthogonal variables Z = X Λ⁻¹ (β = Λ⁻¹ r_xy) and driver j
    receives Σ_k λ_jk² β_k²."""
    drivers = [c for c in frame.columns if c != outcome]
    if not drivers:
        raise ValueError("key-driver analysis needs at least one driver")
    corr = _correlations(frame, outcome, drivers)
    r_xx, r_xy = corr[1:, 1:], corr[1:, 0]
    eigenvalues, vectors = np.linalg.eigh(r_xx)
    if eigenvalues.min() <= 1e-10 * max(eigenvalues.max(), 1.0):
        raise ValueError("some drivers are exact combinations of others, so their weights are undefined")
    root = vectors @ np.diag(np.sqrt(eigenvalues)) @ vectors.T
    beta = np.linalg.solve(root, r_xy)
    raw = (root**2) @ (beta**2)
    return dict(zip(drivers, (float(w) for w in raw), strict=True)), float(raw.sum())


MEASURES = {LMG: relative_importance, JOHNSON: relative_weights}


@dataclass(frozen=True)
class DriverImportance:
    driver: str
    importance: float  # the driver's part of R²
    share: float  # percent of R² (all drivers add up to 100)
    share_low: float | None = None  # 95% bootstrap interval of the share
    share_high: float | None = None
    mean: float = 0.0


@dataclass(frozen=True)
class Analysis:
    method: str
    outcome: str
    n: int
    r2: float
    drivers: list[DriverImportance] = field(default_factory=list)
    r2_low: float | None = None
    r2_high: float | None = None
    resamples: int = 0  # bootstrap resamples the intervals come from (0: none)


class NotEnoughData(ValueError):
    """The data cannot support the analysis; the message says what is missing."""


def minimum_rows(drivers: int) -> int:
    return max(MIN_ROWS, ROWS_PER_DRIVER * drivers)


def resample_count(method: str, drivers: int, wanted: int = BOOTSTRAP_RESAMPLES) -> int:
    """How many bootstrap resamples to draw: ``wanted``, fewer for LMG with many drivers."""
    if method == LMG:
        return max(MIN_RESAMPLES, min(wanted, LMG_SUBSET_BUDGET // 2**drivers))
    return wanted


def analyse(
    frame: pd.DataFrame,
    outcome: str,
    drivers: list[str],
    *,
    method: str = LMG,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> Analysis:
    """Each driver's share of the explained variance of ``outcome`` on the complete rows of ``frame``,
    with R², n and percentile bootstrap intervals (``resamples`` draws from a generator seeded
    with ``seed``, so the same data gives the same intervals). Raises NotEnoughData."""
    if method not in MEASURES:
        raise ValueError(f"unknown method {method!r} ({', '.join(METHODS)})")
    drivers = [d for d in dict.fromkeys(drivers) if d != outcome]
    if not drivers:
        raise NotEnoughData("Choose at least one driver other than the outcome.")
    if len(drivers) > MAX_DRIVERS:
        raise NotEnoughData(f"{len(drivers)} drivers; at most {MAX_DRIVERS} can be compared at once.")
    data = frame[[outcome, *drivers]].apply(pd.to_numeric, errors="coerce").dropna()
    needed = minimum_rows(len(drivers))
    if len(data) < needed:
        raise NotEnoughData(
            f"{len(data)} rows have the outcome and every driver; at least {needed} are needed "
            f"for {len(drivers)} driver(s)."
        )
    measure = MEASURES[method]
    try:
        parts, r2 = measure(data[[*drivers, outcome]], outcome)
    except ValueError as exc:
        raise NotEnoughData(str(exc).capitalize() + ".") from None
    shares = _shares(parts, r2, drivers)
    draws = resample_count(method, len(drivers), resamples) if resamples else 0
    boot_shares, boot_r2 = _bootstrap(data, outcome, drivers, measure, draws, seed)
    rows = []
    for j, driver in enumerate(drivers):
        low = high = None
        if len(boot_r2):
            low, high = (float(x) for x in np.percentile(boot_shares[:, j], [2.5, 97.5]))
        rows.append(DriverImportance(driver, parts[driver], shares[j], low, high, float(data[driver].mean())))
    rows.sort(key=lambda d: -d.share)
    r2_low = r2_high = None
    if len(boot_r2):
        r2_low, r2_high = (float(x) for x in np.percentile(boot_r2, [2.5, 97.5]))
    return Analysis(method, outcome, len(data), r2, rows, r2_low, r2_high, len(boot_r2))


def _shares(parts: dict[str, float], r2: float, drivers: list[str]) -> np.ndarray:
    values = np.array([parts[d] for d in drivers])
    return values / r2 * 100 if r2 > 0 else np.zeros(len(drivers))


def _bootstrap(data, outcome, drivers, measure, draws, seed) -> tuple[np.ndarray, np.ndarray]:
    """Shares and R² of ``draws`` resamples of the rows; resamples in which a column does not vary
    are skipped (they are counted out of the result, not filled in)."""
    if not draws:
        return np.empty((0, len(drivers))), np.empty(0)
    rng = np.random.default_rng(seed)
    table = data[[*drivers, outcome]].to_numpy(dtype=float)
    n = len(table)
    shares, r2s = [], []
    for _ in range(draws):
        sample = pd.DataFrame(table[rng.integers(0, n, n)], columns=[*drivers, outcome])
        try:
            parts, r2 = measure(sample, outcome)
        except (ValueError, np.linalg.LinAlgError):
            continue
        shares.append(_shares(parts, r2, drivers))
        r2s.append(r2)
    return np.array(shares).reshape(-1, len(drivers)), np.array(r2s)
