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

from metrics.calculations import MAX_DRIVERS, lmg_from_correlations

LMG, JOHNSON = "lmg", "johnson"
METHODS = {LMG: "LMG (average over orderings)", JOHNSON: "Johnson's relative weights"}
MIN_ROWS = 30  # fewer complete rows than this: "not enough data"
ROWS_PER_DRIVER = 5  # and at least this many rows per driver
BOOTSTRAP_RESAMPLES = 200
BOOTSTRAP_SEED = 20_26
# LMG solves 2^p regressions per resample: its resamples are cut so that p = 12 stays near a second.
LMG_SUBSET_BUDGET = 2**19
MIN_RESAMPLES = 20
ROW_BUDGET = 2_000_000  # rows resampled in all: 20,000 responses get 100 resamples


def _correlations(frame: pd.DataFrame, outcome: str, drivers: list[str]) -> np.ndarray:
    corr = np.corrcoef(frame[[outcome, *drivers]].to_numpy(dtype=float), rowvar=False)
    if np.isnan(corr).any():
        raise ValueError("a driver or the outcome does not vary, so its importance is undefined")
    return corr


def johnson_from_correlations(corr: np.ndarray) -> tuple[np.ndarray, float]:
    """Each driver's raw relative weight from the correlation matrix (outcome first), and R².

    With R_xx = Λ Λ (Λ the symmetric square root of the drivers' correlation matrix), the
    outcome is regressed on the orthogonal variables Z = X Λ⁻¹ (β = Λ⁻¹ r_xy) and driver j
    receives Σ_k λ_jk² β_k²; the weights add up to R²."""
    r_xx, r_xy = corr[1:, 1:], corr[1:, 0]
    eigenvalues, vectors = np.linalg.eigh(r_xx)
    if eigenvalues.min() <= 1e-10 * max(eigenvalues.max(), 1.0):
        raise ValueError("some drivers are exact combinations of others, so their weights are undefined")
    root = vectors @ np.diag(np.sqrt(eigenvalues)) @ vectors.T
    beta = np.linalg.solve(root, r_xy)
    raw = (root**2) @ (beta**2)
    return raw, float(raw.sum())


def relative_weights(frame: pd.DataFrame, outcome: str) -> tuple[dict[str, float], float]:
    """Johnson's relative weights: ({driver: raw weight}, R²); the raw weights add up to R²."""
    drivers = [c for c in frame.columns if c != outcome]
    if not drivers:
        raise ValueError("key-driver analysis needs at least one driver")
    raw, r2 = johnson_from_correlations(_correlations(frame, outcome, drivers))
    return dict(zip(drivers, (float(w) for w in raw), strict=True)), r2


MEASURES = {LMG: lmg_from_correlations, JOHNSON: johnson_from_correlations}


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


def resample_count(method: str, drivers: int, rows: int = 0, wanted: int = BOOTSTRAP_RESAMPLES) -> int:
    """How many bootstrap resamples to draw: ``wanted``, fewer for many rows or (LMG) many drivers,
    never fewer than MIN_RESAMPLES; the answer reports the number used."""
    count = min(wanted, ROW_BUDGET // max(rows, 1))
    if method == LMG:
        count = min(count, LMG_SUBSET_BUDGET // 2**drivers)
    return max(MIN_RESAMPLES, min(count, wanted))


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
        values, r2 = measure(_correlations(data, outcome, drivers))
    except ValueError as exc:
        raise NotEnoughData(str(exc).capitalize() + ".") from None
    parts = dict(zip(drivers, (float(v) for v in values), strict=True))
    shares = _shares(parts, r2, drivers)
    draws = resample_count(method, len(drivers), len(data), resamples) if resamples else 0
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
    (or drivers become collinear) are left out, not filled in: ``resamples`` reports those used."""
    if not draws:
        return np.empty((0, len(drivers))), np.empty(0)
    rng = np.random.default_rng(seed)
    table = data[[outcome, *drivers]].to_numpy(dtype=float)
    n = len(table)
    shares, r2s = [], []
    for _ in range(draws):
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.corrcoef(table[rng.integers(0, n, n)], rowvar=False)
        if np.isnan(corr).any():
            continue
        try:
            values, r2 = measure(corr)
        except (ValueError, np.linalg.LinAlgError):
            continue
        shares.append(values / r2 * 100 if r2 > 0 else np.zeros(len(drivers)))
        r2s.append(r2)
    return np.array(shares).reshape(-1, len(drivers)), np.array(r2s)
