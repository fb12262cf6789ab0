"""Shares of comments corrected for a classifier's known errors: pure functions, no database.

Counting a model's tags (classify and count) is biased: a sub-theme with recall r and
false-positive rate f shows a raw share q = r·p + f·(1 − p) for a true share p. Two corrections
use the held-out confusion matrix, each right under its own assumption:

- **Adjusted classify-and-count** (ACC, Forman 2008; Rogan and Gladen 1978 for one class) inverts
  the error rates: p = (q − f) / (r − f), clipped to [0, 1]. The rates hold when the comments' mix of
  sub-themes differs from the labels' (prior shift), so ACC follows a shift; but dividing by r − f (a
  matrix inverse for many classes) multiplies the noise of a small or weak evaluation: with 500
  labels of 13 product classes it put Blouses at 9 % and Knits at 26 % where the truth was 19 % and
  18 %. Where r − f is not clearly above 0 the rates cannot be inverted at all.
- **Predictive values** (PV; Marshall 1990): each predicted class is spread over the true classes
  as the held-out comments predicted so were: p = Σ_j q_j · P(true i | predicted j). No inverse, so
  little noise; but those proportions hold only while the mix of sub-themes is the labels' one
  (labels picked from the review queue, least sure first, are not a sample of that mix).

The data choose, per model: the correction with the smaller estimated mean squared error over the
sub-themes ACC can invert. ACC's is its bootstrap variance; PV's is its variance plus its squared
bias, estimated as the squared difference between the two less the variance of that difference.
The 95 % interval is a percentile bootstrap over both sources of error (the held-out comments the
rates were measured on, the comments counted); with PV it spans ACC's interval as well, as a shift
too small to tell may still be there. A sub-theme ACC cannot invert is given PV's estimate and the
interval [0, 1]: the model's errors say nothing about its share under a shift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls

RESAMPLES = 1000
MULTICLASS_RESAMPLES = 400  # each resample solves a small least-squares problem
SEED = 20081
UNINVERTIBLE = 0.025  # ACC cannot invert a sub-theme whose r − f is ≤ 0 in more of the resamples than this


def adjusted(rate: float, tpr: float, fpr: float) -> float:
    """Adjusted classify-and-count: the true share from the observed rate and the error rates.

    A classifier no better than chance for the sub-theme (tpr ≤ fpr) cannot be inverted: the
    observed rate is returned as it is."""
    if tpr - fpr <= 0:
        return float(min(1.0, max(0.0, rate)))
    return float(min(1.0, max(0.0, (rate - fpr) / (tpr - fpr))))


def probabilistic(mean_probability: float, mean_p_positive: float, mean_p_negative: float) -> float:
    """Probabilistic ACC (Bella et al. 2010): the mean probability over the comments, corrected with
    the mean probability the model gave held-out positives and negatives. Not used for the Pareto:
    a model tag keeps the probability of its own sub-theme only."""
    return adjusted(mean_probability, mean_p_positive, mean_p_negative)


def predictive(rate: float, tp: int, fn: int, fp: int, tn: int) -> float:
    """The share by predictive values: the tagged part times the held-out precision, plus the
    untagged part times the held-out share of positives among the untagged."""
    ppv = tp / (tp + fp) if tp + fp else 1.0
    missed = fn / (fn + tn) if fn + tn else 0.0
    return float(min(1.0, max(0.0, rate * ppv + (1 - rate) * missed)))


@dataclass(frozen=True)
class Estimate:
    share: float  # corrected share, 0..1
    low: float  # 95 % interval
    high: float
    raw: float  # the model's own share (classify and count)
    method: str = "pv"  # "acc" or "pv" (METHODS)


METHODS = {
    "acc": "adjusted classify-and-count (the sub-themes' mix differs from the labels': error rates inverted)",
    "pv": "predictive values (the sub-themes' mix is close to the labels' one: each predicted sub-theme spread as "
    "held-out comments were)",
}


def _choose(acc: np.ndarray, pv: np.ndarray, acc_draws: np.ndarray, pv_draws: np.ndarray, usable: np.ndarray) -> str:
    """The correction with the smaller estimated mean squared error over the usable columns
    (draws: resamples × columns)."""
    if not usable.any():
        return "pv"
    difference = (acc - pv)[usable]
    bias = np.maximum(difference**2 - (acc_draws - pv_draws)[:, usable].var(axis=0), 0.0)
    pv_error = (pv_draws[:, usable].var(axis=0) + bias).sum()
    acc_error = acc_draws[:, usable].var(axis=0).sum()
    return "acc" if acc_error < pv_error else "pv"


def _estimates(
    method: str | None,
    found: dict[str, np.ndarray],
    draws: dict[str, np.ndarray],
    usable: np.ndarray,
    raw: np.ndarray,
    level: float,
) -> list[Estimate]:
    method = method or _choose(found["acc"], found["pv"], draws["acc"], draws["pv"], usable)
    tail = (1 - level) / 2 * 100
    share = np.where(usable, found[method], found["pv"])
    low, high = np.percentile(draws["acc"], [tail, 100 - tail], axis=0)
    if method == "pv":  # a shift too small to tell may still be there: the interval covers ACC's too
        pv_low, pv_high = np.percentile(draws["pv"], [tail, 100 - tail], axis=0)
        low, high = np.minimum(low, pv_low), np.maximum(high, pv_high)
    low = np.where(usable, np.minimum(low, share), 0.0)
    high = np.where(usable, np.maximum(high, share), 1.0)
    return [
        Estimate(float(share[i]), float(low[i]), float(high[i]), float(raw[i]), method if usable[i] else "pv")
        for i in range(len(share))
    ]


def multilabel_intervals(
    *,
    predicted: list[int],
    comments: int,
    cells: list[tuple[int, int, int, int]],
    resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = 0.95,
    method: str | None = None,
) -> list[Estimate]:
    """Corrected shares of the sub-themes of a model that may give a comment several (one
    yes-or-no per sub-theme); ``method`` forces ACC or PV, else the data choose one for the model.

    ``predicted[i]`` of ``comments`` carry the model's tag of sub-theme i; ``cells[i]`` are its
    held-out (tp, fn, fp, tn). Each resample redraws the comments (the count is binomial) and the
    held-out set (the four cells are multinomial), which is what resampling rows does to these counts."""
    k = len(predicted)
    if comments <= 0 or k == 0:
        return [Estimate(0.0, 0.0, 0.0, 0.0) for _ in range(k)]
    rng = np.random.default_rng(seed)
    raw = np.clip(np.asarray(predicted, dtype=float), 0, comments) / comments
    found = {"acc": np.zeros(k), "pv": np.zeros(k)}
    draws = {"acc": np.zeros((resamples, k)), "pv": np.zeros((resamples, k))}
    usable = np.zeros(k, dtype=bool)
    for i, (tp, fn, fp, tn) in enumerate(cells):
        held = tp + fn + fp + tn
        tpr = tp / (tp + fn) if tp + fn else 0.0
        fpr = fp / (fp + tn) if fp + tn else 0.0
        found["acc"][i], found["pv"][i] = adjusted(raw[i], tpr, fpr), predictive(raw[i], tp, fn, fp, tn)
        if held == 0:
            draws["acc"][:, i] = draws["pv"][:, i] = raw[i]
            continue
        q = rng.binomial(comments, raw[i], size=resamples) / comments
        c_tp, c_fn, c_fp, c_tn = rng.multinomial(held, np.array([tp, fn, fp, tn]) / held, size=resamples).T
        tpr_b = np.where(c_tp + c_fn > 0, c_tp / np.maximum(c_tp + c_fn, 1), tpr)
        fpr_b = np.where(c_fp + c_tn > 0, c_fp / np.maximum(c_fp + c_tn, 1), fpr)
        gap = tpr_b - fpr_b
        usable[i] = tpr - fpr > 0 and np.mean(gap <= 0) <= UNINVERTIBLE
        draws["acc"][:, i] = np.clip(np.where(gap > 0, (q - fpr_b) / np.where(gap > 0, gap, 1), q), 0.0, 1.0)
        ppv_b = np.where(c_tp + c_fp > 0, c_tp / np.maximum(c_tp + c_fp, 1), 1.0)
        missed_b = np.where(c_fn + c_tn > 0, c_fn / np.maximum(c_fn + c_tn, 1), 0.0)
        draws["pv"][:, i] = np.clip(q * ppv_b + (1 - q) * missed_b, 0.0, 1.0)
    return _estimates(method, found, draws, usable, raw, level)


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
    """The corrected share of one sub-theme (``multilabel_intervals`` of one)."""
    return multilabel_intervals(
        predicted=[predicted],
        comments=comments,
        cells=[(tp, fn, fp, tn)],
        resamples=resamples,
        seed=seed,
        level=level,
        method=method,
    )[0]


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


def _gaps(m: np.ndarray) -> np.ndarray:
    """Each class's recall less its false-positive rate, one class against the rest (matrices:
    ... × k × k, rows true); a class absent from the held-out comments has none (-1)."""
    diagonal = np.diagonal(m, axis1=-2, axis2=-1)
    rows, cols = m.sum(axis=-1), m.sum(axis=-2)
    held = m.sum(axis=(-2, -1))[..., None]
    tpr = np.divide(diagonal, rows, out=np.zeros_like(diagonal, dtype=float), where=rows > 0)
    negatives = held - rows
    fpr = np.divide(cols - diagonal, negatives, out=np.zeros_like(diagonal, dtype=float), where=negatives > 0)
    return np.where(rows > 0, tpr - fpr, -1.0)


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
    shares spread over the true classes by the matrix's columns. A class ACC cannot tell from the
    rest (recall not clearly above its false-positive rate) gets PV's share and [0, 1].
    Bootstrap: each resample redraws the held-out comments (multinomial over the confusion cells)
    and the counted comments (multinomial over the predicted classes)."""
    counts = np.clip(np.asarray(predicted, dtype=float), 0, None)
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
    usable = (_gaps(matrix) > 0) & (np.mean(_gaps(cells) <= 0, axis=0) <= UNINVERTIBLE)
    return _estimates(method, found, draws, usable, q, level)
