"""Shares of comments corrected for a classifier's known errors: pure functions, no database.

Counting a model's tags (classify and count) is biased whenever the share in the comments differs
from the share in the labels it was evaluated on: a sub-theme with recall r and false-positive rate
f shows a raw share q = r·p + f·(1 − p) for a true share p. Adjusted classify-and-count (Forman
2008) inverts that: p = (q − f) / (r − f), clipped to [0, 1]. Its probabilistic form (Bella et al.
2010) uses mean probabilities in place of counts. The 95 % interval is a bootstrap over both
sources of error: the held-out comments the rates were measured on and the comments counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls

RESAMPLES = 1000
SEED = 20081


def adjusted(rate: float, tpr: float, fpr: float) -> float:
    """Adjusted classify-and-count: the true share from the observed rate and the error rates.

    A classifier no better than chance for the sub-theme (tpr ≤ fpr) cannot be inverted: the
    observed rate is returned as it is."""
    if tpr - fpr <= 0:
        return float(min(1.0, max(0.0, rate)))
    return float(min(1.0, max(0.0, (rate - fpr) / (tpr - fpr))))


def probabilistic(mean_probability: float, mean_p_positive: float, mean_p_negative: float) -> float:
    """Probabilistic ACC: the mean probability over the comments, corrected with the mean
    probability the model gave held-out positives and negatives."""
    return adjusted(mean_probability, mean_p_positive, mean_p_negative)


@dataclass(frozen=True)
class Estimate:
    share: float  # corrected share, 0..1
    low: float  # 95 % interval
    high: float
    raw: float  # the model's own share (classify and count)


def acc_interval(
    *,
    predicted: int,
    comments: int,
    tp: int,
    fn: int,
    fp: int,
    tn: int,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = 0.95,
) -> Estimate:
    """ACC for one sub-theme with a percentile bootstrap interval.

    ``predicted`` of ``comments`` carry the model's tag; tp/fn/fp/tn are its held-out cells. Each
    resample redraws the comments (the count is binomial) and the held-out set (its four cells are
    multinomial), which is what resampling rows with replacement does to these counts."""
    if comments <= 0:
        return Estimate(0.0, 0.0, 0.0, 0.0)
    held = tp + fn + fp + tn
    rate = predicted / comments
    tpr = tp / (tp + fn) if tp + fn else 0.0
    fpr = fp / (fp + tn) if fp + tn else 0.0
    share = adjusted(rate, tpr, fpr)
    if held == 0:
        return Estimate(share, 0.0, 1.0, rate)
    rng = np.random.default_rng(seed)
    q = rng.binomial(comments, rate, size=resamples) / comments
    cells = rng.multinomial(held, np.array([tp, fn, fp, tn]) / held, size=resamples)
    pos, neg = cells[:, 0] + cells[:, 1], cells[:, 2] + cells[:, 3]
    with np.errstate(divide="ignore", invalid="ignore"):
        tpr_b = np.where(pos > 0, cells[:, 0] / np.maximum(pos, 1), tpr)
        fpr_b = np.where(neg > 0, cells[:, 2] / np.maximum(neg, 1), fpr)
        gap = tpr_b - fpr_b
        est = np.where(gap > 0, (q - fpr_b) / np.where(gap > 0, gap, 1), q)
    est = np.clip(est, 0.0, 1.0)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(est, [tail, 100 - tail])
    return Estimate(share, float(min(low, share)), float(max(high, share)), rate)


MULTICLASS_RESAMPLES = 400  # each resample solves a small least-squares problem


def _solve(rates: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """The class shares p ≥ 0 with Σp = 1 that best explain the observed predicted shares
    (observed ≈ rates.T @ p in least squares; rates[i, j] = P(predicted j | true i))."""
    k = rates.shape[0]
    a = np.vstack([rates.T, np.full((1, k), 10.0)])  # the sum-to-one constraint, weighted heavily
    b = np.append(observed, 10.0)
    p, _ = nnls(a, b)
    total = p.sum()
    return p / total if total > 0 else np.full(k, 1.0 / k)


def multiclass_interval(
    *,
    predicted: list[int],
    confusion: list[list[int]],
    resamples: int = MULTICLASS_RESAMPLES,
    seed: int = SEED,
    level: float = 0.95,
) -> list[Estimate]:
    """ACC for a model that gives each comment one class (the last one "other": none of the
    modelled sub-themes). The observed shares of predicted classes are a mix of the true shares
    through the held-out confusion matrix (rows true, columns predicted); inverting it, with the
    shares kept ≥ 0 and adding up to one, undoes the confusions between sub-themes. Binary ACC per
    sub-theme would not: its false-positive rate depends on which other sub-themes are common.
    Bootstrap: each resample redraws the held-out comments (multinomial over the confusion cells)
    and the counted comments (multinomial over the predicted classes)."""
    counts = np.asarray(predicted, dtype=float)
    matrix = np.asarray(confusion, dtype=float)
    n, held, k = counts.sum(), matrix.sum(), len(counts)
    if n <= 0 or held <= 0:
        return [Estimate(0.0, 0.0, 1.0, float(c / n) if n else 0.0) for c in counts]

    def estimate(m: np.ndarray, q: np.ndarray) -> np.ndarray:
        rows = m.sum(axis=1)
        known = rows > 0  # classes the held-out comments have: the others get no share
        shares = np.zeros(k)
        shares[known] = _solve(m[known] / rows[known, None], q)
        return shares

    share = estimate(matrix, counts / n)
    rng = np.random.default_rng(seed)
    cells = rng.multinomial(int(held), matrix.ravel() / held, size=resamples).reshape(resamples, k, k)
    observed = rng.multinomial(int(n), counts / n, size=resamples) / n
    draws = np.array([estimate(cells[b], observed[b]) for b in range(resamples)])
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail], axis=0)
    return [
        Estimate(float(share[i]), float(min(low[i], share[i])), float(max(high[i], share[i])), float(counts[i] / n))
        for i in range(k)
    ]
