"""Shares of comments corrected for a classifier's known errors: pure functions, no database.

Counting a model's tags (classify and count) is biased: a sub-theme with recall r and
false-positive rate f shows a raw share q = r·p + f·(1 − p) for a true share p. Two corrections
use the held-out confusion matrix, and each is right under its own assumption:

- **Adjusted classify-and-count** (ACC, Forman 2008; Rogan and Gladen 1978 for one class) inverts
  the error rates: p = (q − f) / (r − f), clipped to [0, 1]. The rates hold when the comments' mix of
  sub-themes differs from the labels' (prior shift), so ACC is unbiased there; but dividing by
  r − f (a matrix inverse for many classes) multiplies the noise of a small or weak evaluation: with
  500 labels of 13 product classes it put Blouses at 9 % and Knits at 26 % where the truth was 19 %
  and 18 %.
- **Predictive values** (PV; Marshall 1990): each predicted class is spread over the true classes
  as the held-out comments predicted so were: p = Σ_j q_j · P(true i | predicted j). No inverse, so
  little noise; but those proportions hold only while the mix of sub-themes is the labels' one.

Which holds is tested on the data: the comments' mix has shifted from the labels' when, for some
sub-theme, the two estimates differ by more than their bootstrap says chance would (a percentile
interval of the difference, Bonferroni over the sub-themes, that leaves out 0). Then ACC is used;
otherwise PV. The 95 % interval is a bootstrap over both sources of error: the held-out comments
the rates were measured on and the comments counted; with PV it spans ACC's interval as well, as a
shift too small to detect may still be there (the point estimate is steady, the interval honest).
ACC's probabilistic form (Bella et al. 2010) uses mean probabilities in place of counts.
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
    method: str = "acc"  # "acc" or "pv" (METHODS)


METHODS = {
    "acc": "adjusted classify-and-count (the sub-themes' mix differs from the labels': error rates inverted)",
    "pv": "predictive values (the sub-themes' mix is the labels' one: each predicted sub-theme spread as held-out "
    "comments were)",
}


def _shifted(acc: np.ndarray, pv: np.ndarray, acc_draws: np.ndarray, pv_draws: np.ndarray, level: float) -> bool:
    """Whether the two estimates differ by more than chance: for some column the percentile
    interval of the bootstrap difference (Bonferroni over the columns) leaves out 0."""
    difference = np.atleast_2d((acc_draws - pv_draws).T).T  # resamples × columns
    if not difference.size:
        return False
    tail = (1 - level) / 2 / difference.shape[1] * 100
    low, high = np.percentile(difference, [tail, 100 - tail], axis=0)
    observed = np.atleast_1d(acc - pv)
    return bool(np.any(((low > 0) | (high < 0)) & (np.abs(observed) > 1e-12)))


def _interval(draws: np.ndarray, share, level: float):
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail], axis=0)
    return np.minimum(low, share), np.maximum(high, share)


def predictive(rate: float, tp: int, fn: int, fp: int, tn: int) -> float:
    """The share by predictive values: the tagged part times the held-out precision, plus the
    untagged part times the held-out share of positives among the untagged."""
    ppv = tp / (tp + fp) if tp + fp else 1.0
    missed = fn / (fn + tn) if fn + tn else 0.0
    return float(min(1.0, max(0.0, rate * ppv + (1 - rate) * missed)))


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
    method: str | None = None,
) -> Estimate:
    """The corrected share of one sub-theme (ACC or PV, see the module) with a percentile bootstrap
    interval; ``method`` forces one, else the data choose.

    ``predicted`` of ``comments`` carry the model's tag; tp/fn/fp/tn are its held-out cells. Each
    resample redraws the comments (the count is binomial) and the held-out set (its four cells are
    multinomial), which is what resampling rows with replacement does to these counts."""
    if comments <= 0:
        return Estimate(0.0, 0.0, 0.0, 0.0)
    held = tp + fn + fp + tn
    rate = predicted / comments
    tpr = tp / (tp + fn) if tp + fn else 0.0
    fpr = fp / (fp + tn) if fp + tn else 0.0
    acc, pv = adjusted(rate, tpr, fpr), predictive(rate, tp, fn, fp, tn)
    if held == 0:
        return Estimate(acc, 0.0, 1.0, rate)
    rng = np.random.default_rng(seed)
    q = rng.binomial(comments, rate, size=resamples) / comments
    cells = rng.multinomial(held, np.array([tp, fn, fp, tn]) / held, size=resamples)
    c_tp, c_fn, c_fp, c_tn = (cells[:, i] for i in range(4))
    pos, neg = c_tp + c_fn, c_fp + c_tn
    with np.errstate(divide="ignore", invalid="ignore"):
        tpr_b = np.where(pos > 0, c_tp / np.maximum(pos, 1), tpr)
        fpr_b = np.where(neg > 0, c_fp / np.maximum(neg, 1), fpr)
        gap = tpr_b - fpr_b
        acc_b = np.clip(np.where(gap > 0, (q - fpr_b) / np.where(gap > 0, gap, 1), q), 0.0, 1.0)
        ppv_b = np.where(c_tp + c_fp > 0, c_tp / np.maximum(c_tp + c_fp, 1), 1.0)
        missed_b = np.where(c_fn + c_tn > 0, c_fn / np.maximum(c_fn + c_tn, 1), 0.0)
        pv_b = np.clip(q * ppv_b + (1 - q) * missed_b, 0.0, 1.0)
    if method is None:
        method = "acc" if _shifted(np.array([acc]), np.array([pv]), acc_b[:, None], pv_b[:, None], level) else "pv"
    share = acc if method == "acc" else pv
    low, high = _interval(acc_b, share, level)
    if method == "pv":  # a shift too small to detect may still be there: the interval covers ACC's too
        pv_low, pv_high = _interval(pv_b, share, level)
        low, high = min(low, pv_low), max(high, pv_high)
    return Estimate(share, float(low), float(high), rate, method)


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


def _given_predicted(m: np.ndarray) -> np.ndarray:
    """P(true i | predicted j) from a confusion matrix (rows true, columns predicted); a class the
    held-out comments were never predicted as keeps its own comments."""
    m = np.asarray(m, dtype=float)
    col = m.sum(axis=0)
    given = np.divide(m, col, out=np.zeros_like(m), where=col > 0)
    never = col == 0
    given[:, never] = np.eye(m.shape[0])[:, never]
    return given


def multiclass_interval(
    *,
    predicted: list[int],
    confusion: list[list[int]],
    resamples: int = MULTICLASS_RESAMPLES,
    seed: int = SEED,
    level: float = 0.95,
    method: str | None = None,
) -> list[Estimate]:
    """Corrected shares for a model that gives each comment one class (the last one "other": none of
    the modelled sub-themes); ``method`` forces ACC or PV, else the data choose (module docstring).

    ACC: the observed shares of predicted classes are a mix of the true shares through the
    held-out confusion matrix (rows true, columns predicted); inverting it, with the shares kept ≥ 0
    and adding up to one, undoes the confusions between sub-themes (binary ACC per sub-theme would
    not: its false-positive rate depends on which other sub-themes are common). PV: the predicted
    shares spread over the true classes by the matrix's columns.
    Bootstrap: each resample redraws the held-out comments (multinomial over the confusion cells)
    and the counted comments (multinomial over the predicted classes)."""
    counts = np.asarray(predicted, dtype=float)
    matrix = np.asarray(confusion, dtype=float)
    n, held, k = counts.sum(), matrix.sum(), len(counts)
    if n <= 0 or held <= 0:
        return [Estimate(0.0, 0.0, 1.0, float(c / n) if n else 0.0) for c in counts]

    def acc(m: np.ndarray, q: np.ndarray) -> np.ndarray:
        rows = m.sum(axis=1)
        known = rows > 0  # classes the held-out comments have: the others get no share
        shares = np.zeros(k)
        shares[known] = _solve(m[known] / rows[known, None], q)
        return shares

    q = counts / n
    rng = np.random.default_rng(seed)
    cells = rng.multinomial(int(held), matrix.ravel() / held, size=resamples).reshape(resamples, k, k)
    observed = rng.multinomial(int(n), q, size=resamples) / n
    found = {"acc": acc(matrix, q), "pv": _given_predicted(matrix) @ q}
    draws = {
        "acc": np.array([acc(cells[b], observed[b]) for b in range(resamples)]),
        "pv": np.einsum("bij,bj->bi", np.array([_given_predicted(c) for c in cells]), observed),
    }
    if method is None:
        method = "acc" if _shifted(found["acc"], found["pv"], draws["acc"], draws["pv"], level) else "pv"
    share = found[method]
    low, high = _interval(draws["acc"], share, level)
    if method == "pv":  # a shift too small to detect may still be there: the interval covers ACC's too
        pv_low, pv_high = _interval(draws["pv"], share, level)
        low, high = np.minimum(low, pv_low), np.maximum(high, pv_high)
    return [Estimate(float(share[i]), float(low[i]), float(high[i]), float(counts[i] / n), method) for i in range(k)]
