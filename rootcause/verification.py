"""Did the fix work? Before/after comparisons with a significance test: plain functions, no database.

A result is *effective* when the measure improved significantly (one-sided, 5%) by at least the
expected relative improvement, *partial* when it improved significantly but by less, *not
effective* when there is enough data and no significant improvement, and *inconclusive* when the
windows hold too little data to tell: never a guess."""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

from scipy import stats

ALPHA = 0.05
MIN_COMMENTS = 30  # per window, for a comment share
MIN_EXPECTED = 5  # expected tagged and untagged comments per window (normal approximation)
MIN_PERIODS = 3  # per window, for a series or a metric


@dataclass(frozen=True)
class Result:
    verdict: str  # effective, partial, not_effective, inconclusive
    test: str
    baseline: float | None
    check: float | None
    improvement: float | None  # relative, percent; positive is better
    p_value: float | None
    n_baseline: int
    n_check: int
    reason: str

    def as_dict(self) -> dict:
        # JSON has no infinity: an improvement from exactly zero is stored as unknown.
        return {k: None if isinstance(v, float) and math.isinf(v) else v for k, v in asdict(self).items()}


def _relative(before: float, after: float, lower_is_better: bool) -> float:
    change = (before - after) if lower_is_better else (after - before)
    if before == 0:
        return math.inf if change > 0 else 0.0 if change == 0 else -math.inf
    return change / abs(before) * 100


def _verdict(p_value: float, improvement: float, expected: float) -> tuple[str, str]:
    if p_value >= ALPHA or improvement <= 0:
        return "not_effective", f"No significant improvement (p = {p_value:.3f}, needs < {ALPHA})."
    if improvement >= expected:
        return "effective", f"Improved by {improvement:.1f}% (expected {expected:.0f}%), p = {p_value:.3g}."
    return "partial", f"Improved significantly (p = {p_value:.3g}) but by {improvement:.1f}%, short of {expected:.0f}%."


def compare_shares(
    tagged_before: int, comments_before: int, tagged_after: int, comments_after: int, expected: float = 20.0
) -> Result:
    """A sub-theme's share of comments (lower is better): one-sided two-proportion z-test."""
    share_b = tagged_before / comments_before if comments_before else None
    share_a = tagged_after / comments_after if comments_after else None
    small = min(comments_before, comments_after) < MIN_COMMENTS
    if not small:
        pooled = (tagged_before + tagged_after) / (comments_before + comments_after)
        expected_counts = [n * q for n in (comments_before, comments_after) for q in (pooled, 1 - pooled)]
        small = min(expected_counts) < MIN_EXPECTED
    if small:
        return Result(
            "inconclusive",
            "two-proportion z-test",
            share_b,
            share_a,
            None,
            None,
            comments_before,
            comments_after,
            f"Too few comments to tell: each window needs at least {MIN_COMMENTS} comments and "
            f"{MIN_EXPECTED} expected with and without the sub-theme "
            f"(baseline {comments_before}, check {comments_after}).",
        )
    se = math.sqrt(pooled * (1 - pooled) * (1 / comments_before + 1 / comments_after))
    z = (share_b - share_a) / se if se else 0.0
    p_value = float(stats.norm.sf(z))
    improvement = _relative(share_b, share_a, lower_is_better=True)
    verdict, reason = _verdict(p_value, improvement, expected)
    return Result(
        verdict,
        "two-proportion z-test",
        share_b,
        share_a,
        improvement,
        p_value,
        comments_before,
        comments_after,
        reason,
    )


def compare_series(before: list[float], after: list[float], lower_is_better: bool, expected: float = 20.0) -> Result:
    """Per-period values of a series or a metric: one-sided Welch t-test on the means."""
    mean_b = sum(before) / len(before) if before else None
    mean_a = sum(after) / len(after) if after else None
    if min(len(before), len(after)) < MIN_PERIODS:
        return Result(
            "inconclusive",
            "Welch t-test",
            mean_b,
            mean_a,
            None,
            None,
            len(before),
            len(after),
            f"Too few periods to tell: each window needs at least {MIN_PERIODS} values "
            f"(baseline {len(before)}, check {len(after)}).",
        )
    if len(set(before)) == 1 and len(set(after)) == 1:
        # No variation at all: the difference is exact, not a sample.
        p_value = 0.0 if mean_a != mean_b else 1.0
    else:
        alternative = "less" if lower_is_better else "greater"
        with warnings.catch_warnings():  # one constant window is fine for Welch's test; scipy warns anyway
            warnings.simplefilter("ignore", RuntimeWarning)
            p_value = float(stats.ttest_ind(after, before, equal_var=False, alternative=alternative).pvalue)
    improvement = _relative(mean_b, mean_a, lower_is_better)
    verdict, reason = _verdict(p_value, improvement, expected)
    return Result(verdict, "Welch t-test", mean_b, mean_a, improvement, p_value, len(before), len(after), reason)
