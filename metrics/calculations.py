"""Metric formulas (DOMAIN.md, "Metric formulas we use"): pure functions, DataFrames in, numbers out.

Nothing here touches the database; ``metrics.services`` loads the rows and stores the results.
Every calculator returns one ``Result`` per (period, segment): the value, and where the
formula has them the sample size and a 95% confidence interval.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

Z95 = 1.959963984540054
ALL = ""  # the segment label of the whole population


@dataclass(frozen=True)
class Result:
    period: date
    segment: str
    value: float
    sample_size: int | None = None
    ci_low: float | None = None
    ci_high: float | None = None


def period_starts(timestamps: pd.Series, granularity: str, tz: str) -> pd.Series:
    """The first day of the period each timestamp falls in, in the organisation's time zone."""
    local = pd.to_datetime(timestamps, utc=True).dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()
    if granularity == "day":
        starts = local
    elif granularity == "week":
        starts = local - pd.to_timedelta(local.dt.day_of_week, unit="D")
    elif granularity == "month":
        starts = local.dt.to_period("M").dt.start_time
    elif granularity == "quarter":
        starts = local.dt.to_period("Q").dt.start_time
    else:
        raise ValueError(f"unknown granularity {granularity!r}")
    return starts.dt.date


def next_period(start: date, granularity: str) -> date:
    """The first day of the period after the one starting on ``start``."""
    if granularity == "day":
        return start + timedelta(days=1)
    if granularity == "week":
        return start + timedelta(days=7)
    months = 1 if granularity == "month" else 3
    year, month = divmod(start.year * 12 + start.month - 1 + months, 12)
    return date(year, month + 1, 1)


def period_start(day: date, granularity: str) -> date:
    """The first day of the period that contains ``day``."""
    return period_starts(pd.Series([pd.Timestamp(day, tz="UTC")]), granularity, "UTC").iloc[0]


# --- survey scores -----------------------------------------------------------------------


def nps_from_counts(n: int, promoters: int, detractors: int) -> tuple[float, int, float, float]:
    """Net Promoter Score: % promoters (9-10) − % detractors (0-6), with its 95% interval.

    The interval uses the variance of the promoter/detractor score (+1 / 0 / −1)."""
    p, d = promoters / n, detractors / n
    value = p - d
    half = Z95 * math.sqrt(max(p + d - value**2, 0.0) / n)
    return value * 100, n, (value - half) * 100, (value + half) * 100


def nps(scores: pd.Series) -> tuple[float, int, float, float]:
    s = scores.to_numpy(dtype=float)
    return nps_from_counts(len(s), int(np.count_nonzero(s >= 9)), int(np.count_nonzero(s <= 6)))


def wilson(successes: int, n: int) -> tuple[float, float]:
    """Wilson score interval for a proportion, in percent."""
    p = successes / n
    denominator = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denominator
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denominator
    return (centre - half) * 100, (centre + half) * 100


def csat_from_counts(n: int, top_two: int) -> tuple[float, int, float, float]:
    """CSAT: % of responses in the top two boxes (4 or 5) of a 1-5 scale, with a Wilson interval."""
    low, high = wilson(top_two, n)
    return top_two / n * 100, n, low, high


def csat(scores: pd.Series) -> tuple[float, int, float, float]:
    return csat_from_counts(len(scores), int((scores >= 4).sum()))


def mean_from_sums(n: int, total: float, squares: float) -> tuple[float, int, float | None, float | None]:
    """Mean score with a normal-approximation 95% interval (none for a single response)."""
    mean = total / n
    if n < 2:
        return mean, n, None, None
    variance = max((squares - n * mean * mean) / (n - 1), 0.0)
    half = Z95 * math.sqrt(variance / n)
    return mean, n, mean - half, mean + half


def mean_score(scores: pd.Series) -> tuple[float, int, float | None, float | None]:
    values = scores.to_numpy(dtype=float)
    return mean_from_sums(len(values), float(values.sum()), float((values * values).sum()))


def from_aggregates(calculator: str, row: dict) -> tuple[float, int, float | None, float | None]:
    """One period's value from database aggregates (n, promoters, detractors, top_two, total, squares)."""
    n = row["n"]
    if calculator == "nps":
        return nps_from_counts(n, row["promoters"], row["detractors"])
    if calculator == "csat":
        return csat_from_counts(n, row["top_two"])
    if calculator == "mean":
        return mean_from_sums(n, float(row["total"]), float(row["squares"]))
    raise ValueError(f"{calculator!r} is not a score calculator")


SCORE_CALCULATORS = {"nps": nps, "csat": csat, "mean": mean_score}


# --- which control charts suit which calculator --------------------------------------------------
# The one place that says it (alerts.evaluation and the alert-rule checks read it): proportions of
# a sample (stored in %, with n) take p and Laney p′ charts, counts per period a c-chart, rates
# per unit (n = the units) a u-chart; an individuals chart suits any series.
PROPORTION_CALCULATORS = frozenset({"csat", "churn", "proportion", "series_proportion"})
COUNT_CALCULATORS = frozenset({"count"})
RATE_CALCULATORS = frozenset({"rate"})


def chart_kinds(calculator: str) -> tuple[str, ...]:
    """The control-chart kinds (alerts.charts names) that suit a calculator's values, preferred first."""
    if calculator in PROPORTION_CALCULATORS:
        return ("p", "laney", "individuals")
    if calculator in COUNT_CALCULATORS:
        return ("c", "individuals")
    if calculator in RATE_CALCULATORS:
        return ("u", "individuals")
    return ("individuals",)


# --- proportions and rates ---------------------------------------------------------------------


def _as_number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def matches(values: pd.Series, wanted: list[str]) -> pd.Series:
    """Which values are one of ``wanted``: text compared without case or surrounding spaces,
    numbers as numbers (a field stored as 1.0 matches "1"), true/false as "true"/"false"."""
    text = values.map(lambda v: str(v).strip().casefold())
    hit = text.isin([w.strip().casefold() for w in wanted])
    numbers = [n for n in (_as_number(w) for w in wanted) if n is not None]
    if numbers:
        numeric = values.map(lambda v: v if isinstance(v, int | float) and not isinstance(v, bool) else None)
        hit |= pd.to_numeric(numeric, errors="coerce").isin(numbers)
    return hit


def proportion_metric(frame: pd.DataFrame, segment_by: str | None = None) -> list[Result]:
    """Percent of rows whose ``hit`` is true per period (and segment), with n and a Wilson interval.

    ``frame`` has ``period``, a boolean ``hit`` and the ``segment_by`` column."""
    results = []
    for period, segment, rows in _grouped(frame, segment_by):
        n, k = len(rows), int(rows["hit"].sum())
        low, high = wilson(k, n)
        results.append(Result(period, segment, k / n * 100, n, low, high))
    return results


def poisson_rate_interval(events: float, units: float) -> tuple[float, float]:
    """Exact (Garwood) 95% interval of a rate of ``events`` per unit over ``units`` units."""
    from scipy.stats import chi2

    low = chi2.ppf(0.025, 2 * events) / 2 if events > 0 else 0.0
    high = chi2.ppf(0.975, 2 * events + 2) / 2
    return float(low / units), float(high / units)


def _grouped(frame: pd.DataFrame, segment_by: str | None):
    """Yield (period, segment, rows) for the whole population and, if asked, per segment."""
    for period, rows in frame.groupby("period", sort=True):
        yield period, ALL, rows
        if segment_by:
            for segment, segment_rows in rows.groupby(segment_by, sort=True):
                if segment != "":
                    yield period, str(segment), segment_rows


def score_metric(frame: pd.DataFrame, calculator: str, segment_by: str | None = None) -> list[Result]:
    """NPS, CSAT, mean score or response count per period (and segment).

    ``frame`` has a ``period`` column, a ``score`` column and the ``segment_by`` column."""
    results = []
    for period, segment, rows in _grouped(frame, segment_by):
        if calculator == "count":
            results.append(Result(period, segment, float(len(rows)), len(rows)))
            continue
        value, n, low, high = SCORE_CALCULATORS[calculator](rows["score"])
        results.append(Result(period, segment, value, n, low, high))
    return results


# --- observations ------------------------------------------------------------------------------

TWO_SERIES_CALCULATORS = frozenset(
    {"ratio", "series_proportion", "rate", "share_of_wallet"}
)  # numerator and denominator series


def series_metric(
    frame: pd.DataFrame,
    calculator: str,
    segment_by: str | None = None,
    *,
    denominator: pd.DataFrame | None = None,
    unit_cost: float | None = None,
) -> list[Result]:
    """Count, sum, ratio of two series, proportion of two series (numerator part of the denominator,
    in %, n = the denominator, Wilson interval), rate per unit (events / units, n = the units, exact
    Poisson interval), or cost of failure demand (volume × cost per contact)."""
    results = []
    if calculator in TWO_SERIES_CALCULATORS:
        assert denominator is not None
        numerators = {(p, s): rows["value"].sum() for p, s, rows in _grouped(frame, segment_by)}
        for period, segment, rows in _grouped(denominator, segment_by):
            below = float(rows["value"].sum())
            above = float(numerators.get((period, segment), 0.0))
            if below <= 0:
                continue
            if calculator == "ratio":
                results.append(Result(period, segment, above / below))
            elif calculator == "share_of_wallet":
                # Money over money (our sales / the customers' whole spend in the category): a share in %,
                # with no binomial interval, since a euro is not a trial.
                results.append(Result(period, segment, above / below * 100))
            elif calculator == "series_proportion":
                if not 0 <= above <= below:
                    raise ValueError(
                        f"on {period} the numerator ({above:g}) is not between 0 and the denominator ({below:g}): "
                        "a proportion counts part of a whole; use “Rate per unit” for events per unit"
                    )
                low, high = wilson(above, below)
                results.append(Result(period, segment, above / below * 100, max(round(below), 1), low, high))
            else:  # rate: events per unit, n = the units (a u-chart's sample size)
                if above < 0:
                    raise ValueError(f"on {period} the count of events is negative ({above:g})")
                low, high = poisson_rate_interval(above, below)
                results.append(Result(period, segment, above / below, max(round(below), 1), low, high))
        return results
    for period, segment, rows in _grouped(frame, segment_by):
        if calculator == "count":
            results.append(Result(period, segment, float(len(rows)), len(rows)))
        elif calculator == "sum":
            results.append(Result(period, segment, float(rows["value"].sum()), len(rows)))
        elif calculator == "failure_cost":
            results.append(Result(period, segment, float(rows["value"].sum()) * float(unit_cost or 0), len(rows)))
        else:
            raise ValueError(f"{calculator!r} is not a series calculator")
    return results


# --- customers ---------------------------------------------------------------------------------


def churn_rate(customers: pd.DataFrame, periods: list[tuple[date, date]], segment_by: str | None) -> list[Result]:
    """Customers lost in the period / customers at its start, in percent, with a Wilson interval.

    ``customers`` has ``started_on``, ``ended_on`` (NaT while active) and the segment column;
    ``periods`` lists (start, end) with ``end`` exclusive."""
    results = []
    started = pd.to_datetime(customers["started_on"])
    ended = pd.to_datetime(customers["ended_on"])
    for start, end in periods:
        s, e = pd.Timestamp(start), pd.Timestamp(end)
        at_start = customers[(started <= s) & (ended.isna() | (ended >= s))]
        lost = (pd.to_datetime(at_start["ended_on"]) < e) & pd.to_datetime(at_start["ended_on"]).notna()
        groups = [(ALL, at_start, lost)]
        if segment_by:
            for segment, rows in at_start.groupby(segment_by, sort=True):
                if segment == "":
                    continue  # uncategorised customers count in the total only
                groups.append((str(segment), rows, lost.loc[rows.index]))
        for segment, rows, lost_rows in groups:
            n = len(rows)
            if n == 0:
                continue
            k = int(lost_rows.sum())
            low, high = wilson(k, n)
            results.append(Result(start, segment, k / n * 100, n, low, high))
    return results


def lifetime_value(margin_per_period: float, churn_per_period: float, discount_rate: float = 0.0) -> float | None:
    """Customer lifetime value: margin × 1 / churn, or with a discount rate d: margin × (1 + d) / (d + churn).

    Churn and discount are fractions per period; no value when nobody churns."""
    if churn_per_period <= 0:
        return None
    if discount_rate:
        return margin_per_period * (1 + discount_rate) / (discount_rate + churn_per_period)
    return margin_per_period / churn_per_period


def annual_to_period_rate(annual_rate: float, months: float) -> float:
    """An annual discount rate as the rate of a period of ``months`` months: (1 + r)^(months / 12) − 1."""
    return (1 + annual_rate) ** (months / 12) - 1


# Business metrics: classified "business" in the KPI audit whatever their definition says.
BUSINESS_CALCULATORS = frozenset(
    {"cost_to_serve", "cost_to_acquire", "net_growth", "share_of_wallet", "clv_discounted"}
)


def customer_counts(customers: pd.DataFrame, periods: list[tuple[date, date]]) -> dict[date, dict[str, int]]:
    """Per period: customers active at some time in it, new (started in it), lost (ended in it) and at its start.

    ``customers`` has ``started_on`` and ``ended_on`` (NaT while active; no start date: a customer
    since before the data); ``periods`` lists (start, end), end exclusive."""
    started = pd.to_datetime(customers["started_on"])
    ended = pd.to_datetime(customers["ended_on"])
    counts = {}
    for start, end in periods:
        s, e = pd.Timestamp(start), pd.Timestamp(end)
        began_before_end = started.isna() | (started < e)
        counts[start] = {
            "active": int((began_before_end & (ended.isna() | (ended >= s))).sum()),
            "at_start": int(((started.isna() | (started <= s)) & (ended.isna() | (ended >= s))).sum()),
            "new": int(((started >= s) & (started < e)).sum()),
            "lost": int(((ended >= s) & (ended < e)).sum()),
        }
    return counts


def per_customer(costs: pd.DataFrame, counts: dict[date, dict[str, int]], denominator: str) -> list[Result]:
    """Cost per customer per period: the period's total cost (``costs`` has ``period`` and ``value``) over
    its customers of one kind (``active`` for cost to serve, ``new`` for cost to acquire); n = those
    customers. A period with costs but no such customers has no value (never a division by zero)."""
    totals = costs.groupby("period")["value"].sum() if not costs.empty else pd.Series(dtype=float)
    results = []
    for period, total in totals.items():
        n = counts.get(period, {}).get(denominator, 0)
        if n > 0:
            results.append(Result(period, ALL, float(total) / n, n))
    return results


def net_growth(counts: dict[date, dict[str, int]]) -> list[Result]:
    """Net customer growth per period: new customers − lost customers; n = customers at the start."""
    return [
        Result(period, ALL, float(c["new"] - c["lost"]), c["at_start"])
        for period, c in sorted(counts.items())
        if c["at_start"] or c["new"]
    ]


def revenue_at_risk(
    customers: pd.DataFrame, at_risk_ids: set[str], segment_by: str | None
) -> list[tuple[str, float, int]]:
    """Monthly revenue of the customers in a risk group (e.g. detractors), overall and per segment."""
    active = customers["ended_on"].isna() if "ended_on" in customers else True
    group = customers[customers["external_id"].isin(at_risk_ids) & active]
    rows = [(ALL, float(group["monthly_revenue"].sum()), len(group))]
    if segment_by:
        for segment, seg in group.groupby(segment_by, sort=True):
            if segment == "":
                continue
            rows.append((str(segment), float(seg["monthly_revenue"].sum()), len(seg)))
    return rows


# --- key-driver analysis -----------------------------------------------------------------------

MAX_DRIVERS = 12  # the Shapley decomposition visits 2^p subsets


@functools.cache
def _subsets(p: int) -> tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """Every subset of p drivers as a bit mask 0 .. 2^p − 1, each one's size, and per size the
    masks with their members' positions (worked out once per p)."""
    masks = np.arange(2**p)
    bits = (masks[:, None] >> np.arange(p)) & 1
    sizes = bits.sum(axis=1)
    groups = []
    for size in range(1, p + 1):
        chosen = masks[sizes == size]
        groups.append((chosen, np.nonzero(bits[chosen])[1].reshape(len(chosen), size)))
    return masks, sizes, groups


def subset_r_squared(corr: np.ndarray) -> np.ndarray:
    """R² of the outcome (row and column 0 of ``corr``) on every subset of the drivers, indexed
    by the subset's bit mask; the subsets of one size are solved together in one batched call."""
    p = corr.shape[0] - 1
    r_xx, r_xy = corr[1:, 1:], corr[1:, 0]
    r2 = np.zeros(2**p)
    for chosen, members in _subsets(p)[2]:
        a = r_xx[members[:, :, None], members[:, None, :]]
        b = r_xy[members][:, :, None]
        try:
            solution = np.linalg.solve(a, b)
        except np.linalg.LinAlgError:  # collinear drivers: the least-squares answer, as lstsq gives
            solution = np.linalg.pinv(a) @ b
        r2[chosen] = np.einsum("ck,ck->c", b[:, :, 0], solution[:, :, 0])
    return r2


def lmg_from_correlations(corr: np.ndarray) -> tuple[np.ndarray, float]:
    """Each driver's LMG share of R² from the correlation matrix (outcome first), and R²."""
    p = corr.shape[0] - 1
    r2 = subset_r_squared(corr)
    masks, sizes, _ = _subsets(p)
    weights = np.array([math.factorial(k) * math.factorial(p - k - 1) / math.factorial(p) for k in range(p)])
    parts = np.empty(p)
    for j in range(p):
        without = masks[(masks >> j & 1) == 0]
        parts[j] = np.sum(weights[sizes[without]] * (r2[without | 1 << j] - r2[without]))
    return parts, float(r2[-1])


def relative_importance(frame: pd.DataFrame, outcome: str) -> tuple[dict[str, float], float]:
    """Each driver's share of R² by averaging its contribution over all orderings (the "LMG"
    measure of Lindeman, Merenda and Gold, 1980; a Shapley decomposition of R²).

    Returns ({driver: contribution to R²}, R²); the contributions add up to R²."""
    drivers = [c for c in frame.columns if c != outcome]
    if not drivers or len(drivers) > MAX_DRIVERS:
        raise ValueError(f"key-driver analysis needs 1 to {MAX_DRIVERS} drivers, got {len(drivers)}")
    corr = np.corrcoef(frame[[outcome, *drivers]].to_numpy(dtype=float), rowvar=False)
    if np.isnan(corr).any():
        raise ValueError("a driver or the outcome does not vary, so its importance is undefined")
    parts, r2 = lmg_from_correlations(corr)
    return dict(zip(drivers, (float(x) for x in parts), strict=True)), r2
