"""The money of an issue (the CX value ledger): plain functions, no database.

Every figure is a ``Figure``: its value (None when there is not enough data, never a silent zero),
a 95 % interval where the formula has one, the inputs it was computed from and its formula in
words, so a page can expand any number to what it is made of.

Intervals: the excess churn of customers who raised a sub-theme over those who did not is a
difference of two proportions with Newcombe's hybrid score interval (Newcombe 1998, method 10:
each proportion's Wilson interval combined), which keeps its coverage with small groups and rates
near 0 where the Wald interval does not. The value realised by a fix carries the interval of the
measured change (Newcombe again for a comment share, Welch's t for per-period values).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from metrics.calculations import Z95, lifetime_value, wilson

MIN_GROUP = 10  # customers in each group before an excess churn is computed
MIN_PERIODS = 2  # per window, for the interval of a change in per-period values


@dataclass(frozen=True)
class Figure:
    """One number of a business case, with what it is made of."""

    value: float | None
    formula: str
    inputs: dict = field(default_factory=dict)
    low: float | None = None
    high: float | None = None
    note: str = ""  # why there is no value, or what to read into it

    @property
    def known(self) -> bool:
        return self.value is not None

    def as_dict(self) -> dict:
        return {k: _finite(v) for k, v in asdict(self).items()}


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def missing(formula: str, note: str, **inputs) -> Figure:
    """A figure without enough data: it says why instead of showing zero."""
    return Figure(None, formula, inputs, note=note)


# --- differences of proportions --------------------------------------------------------------


def newcombe_difference(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float, float]:
    """p1 − p2 with Newcombe's hybrid score 95 % interval (method 10), as fractions."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = (x / 100 for x in wilson(k1, n1))
    l2, u2 = (x / 100 for x in wilson(k2, n2))
    diff = p1 - p2
    return diff, diff - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), diff + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


EXCESS_FORMULA = (
    "churn rate of customers who raised the sub-theme − churn rate of the other customers with a linked "
    "comment; 95 % interval: Newcombe's hybrid score interval (Wilson intervals of each rate combined)"
)


def excess_churn(*, churned_raised: int, raised: int, churned_other: int, other: int) -> Figure:
    """The excess churn (a fraction) of customers who raised the sub-theme over those who did not."""
    inputs = {
        "customers who raised it": raised,
        "churned, raised it": churned_raised,
        "other customers": other,
        "churned, others": churned_other,
    }
    if raised < MIN_GROUP or other < MIN_GROUP:
        return Figure(
            None,
            EXCESS_FORMULA,
            inputs,
            note=f"Not enough data: each group needs at least {MIN_GROUP} customers linked to comments "
            f"(raised it: {raised}, others: {other}).",
        )
    diff, low, high = newcombe_difference(churned_raised, raised, churned_other, other)
    inputs["churn rate, raised it"] = churned_raised / raised
    inputs["churn rate, others"] = churned_other / other
    note = "" if low > 0 else "The interval includes no excess churn: this may be chance."
    return Figure(diff, EXCESS_FORMULA, inputs, low, high, note)


# --- money -------------------------------------------------------------------------------------


def revenue_at_risk(*, customers: int, monthly_revenue: float | None) -> Figure:
    """Annual revenue of the active customers who raised the sub-theme."""
    formula = "monthly revenue of the active customers who raised the sub-theme × 12"
    inputs = {"active customers who raised it": customers, "their monthly revenue": monthly_revenue}
    if not customers or monthly_revenue is None:
        return Figure(None, formula, inputs, note="Not enough data: no comment on it is linked to an active customer.")
    return Figure(monthly_revenue * 12, formula, inputs)


def customer_lifetime_value(
    *, annual_margin: float | None, annual_churn: float | None, discount_rate: float, customers: int
) -> Figure:
    """Discounted lifetime value: annual margin × (1 + d) / (d + annual churn)."""
    formula = "average annual margin per customer × (1 + discount rate) / (discount rate + annual churn rate)"
    inputs = {
        "average annual margin (revenue where no margin is known)": annual_margin,
        "annual churn rate": annual_churn,
        "discount rate": discount_rate,
        "customers": customers,
    }
    if annual_margin is None or not customers:
        return Figure(None, formula, inputs, note="Not enough data: no customer with a revenue or margin.")
    value = lifetime_value(annual_margin, annual_churn or 0.0, discount_rate)
    if value is None:
        return Figure(None, formula, inputs, note="Not enough data: no customer churned in the last year.")
    return Figure(value, formula, inputs)


def expected_loss(*, affected: int, excess: Figure, clv: Figure) -> Figure:
    """Expected annual loss: affected customers × excess churn × lifetime value."""
    formula = "affected customers × excess churn × customer lifetime value (interval truncated at zero)"
    inputs = {"affected customers": affected, "excess churn": excess.value, "lifetime value": clv.value}
    if not excess.known:
        return Figure(None, formula, inputs, note=excess.note)
    if not clv.known:
        return Figure(None, formula, inputs, note=clv.note)
    if not affected:
        return Figure(None, formula, inputs, note="Not enough data: no affected active customer.")
    # A loss is never negative: customers who raised the problem churning less than the others is no
    # saving it makes. The estimate and its interval are truncated at zero, and the note says so.
    scale = affected * clv.value
    if excess.value <= 0:
        note = "No excess churn measured (those who raised it churned no more than the others): no expected loss."
        return Figure(0.0, formula, inputs, 0.0, max(excess.high, 0.0) * scale, note)
    return Figure(excess.value * scale, formula, inputs, max(excess.low, 0.0) * scale, excess.high * scale, excess.note)


def failure_demand_cost(*, contacts: dict[str, float], costs: dict[str, float], currency: str) -> Figure:
    """Annual contacts the problem causes, per channel, × that channel's cost per contact.

    ``costs`` maps channel → cost; the "" entry is the cost of a channel without its own."""
    formula = "Σ over channels: contacts in the last 12 months × cost per contact of the channel"
    inputs: dict = {f"contacts via {channel or 'unknown channel'}": n for channel, n in sorted(contacts.items())}
    if not contacts or not sum(contacts.values()):
        return Figure(None, formula, inputs, note="Not enough data: no contact about it in the last 12 months.")
    unpriced = sorted(ch or "unknown channel" for ch in contacts if ch not in costs and "" not in costs)
    if unpriced:
        return Figure(
            None,
            formula,
            inputs,
            note=f"Not enough data: no cost per contact for {', '.join(unpriced)}; set it in the ledger's costs.",
        )
    total = 0.0
    for channel, n in contacts.items():
        cost = costs.get(channel, costs.get(""))
        inputs[f"cost per contact, {channel or 'unknown channel'} ({currency})"] = cost
        total += n * cost
    return Figure(total, formula, inputs)


def annual_cost(*, loss: Figure, failure: Figure) -> Figure:
    """What the problem costs a year: expected loss plus failure demand (each where known)."""
    formula = "expected annual loss + cost of failure demand (each where known)"
    inputs = {"expected annual loss": loss.value, "cost of failure demand": failure.value}
    if not loss.known and not failure.known:
        return Figure(None, formula, inputs, note="Not enough data: neither the loss nor the failure demand is known.")
    total = (loss.value or 0.0) + (failure.value or 0.0)
    if loss.low is None or loss.high is None:  # only the loss is uncertain: no interval without one
        return Figure(total, formula, inputs)
    return Figure(total, formula, inputs, loss.low + (failure.value or 0.0), loss.high + (failure.value or 0.0))


# --- verification ------------------------------------------------------------------------------


def share_change(tagged_before: int, n_before: int, tagged_after: int, n_after: int) -> tuple[float, float, float]:
    """The fall of a comment share (before − after, a fraction) with Newcombe's interval."""
    return newcombe_difference(tagged_before, n_before, tagged_after, n_after)


def mean_change(before: list[float], after: list[float], lower_is_better: bool) -> tuple[float, float, float] | None:
    """The improvement of per-period values (mean before − mean after when lower is better) with a
    Welch 95 % interval; None with fewer than ``MIN_PERIODS`` values in a window."""
    from scipy import stats

    if min(len(before), len(after)) < MIN_PERIODS:
        return None
    mb, ma = sum(before) / len(before), sum(after) / len(after)
    vb = sum((x - mb) ** 2 for x in before) / (len(before) - 1) / len(before)
    va = sum((x - ma) ** 2 for x in after) / (len(after) - 1) / len(after)
    change = (mb - ma) if lower_is_better else (ma - mb)
    se = math.sqrt(vb + va)
    if se == 0:
        return change, change, change
    dof = (vb + va) ** 2 / ((vb**2 / (len(before) - 1) if vb else 0) + (va**2 / (len(after) - 1) if va else 0))
    half = float(stats.t.ppf(0.975, dof)) * se
    return change, change - half, change + half


def value_realised(
    *, verdict: str, change: tuple[float, float, float] | None, baseline: float | None, cost: Figure, unit: str
) -> Figure:
    """Measured change × value per unit, where the value per unit is what the problem cost a year per
    unit of the measure at the baseline (annual cost / baseline). Effective and partial fixes add what
    was measured; a fix that was not effective adds nothing; an inconclusive one is not counted yet."""
    formula = "measured change × value per unit (annual cost of the problem / baseline value of the measure)"
    inputs = {"verdict": verdict, "baseline": baseline, "annual cost of the problem": cost.value, "unit": unit}
    if verdict == "not_effective":
        return Figure(0.0, formula, inputs, 0.0, 0.0, "Not effective: adds nothing to the ledger.")
    if verdict not in ("effective", "partial"):
        note = "Not verified yet." if not verdict else "Verification could not tell: too little data."
        return Figure(None, formula, inputs, note=note)
    if change is None:
        return Figure(None, formula, inputs, note="Not enough data: the measured change has no interval.")
    if not cost.known:
        return Figure(None, formula, inputs, note=cost.note or "Not enough data: the problem's cost is unknown.")
    if not baseline:
        return Figure(None, formula, inputs, note="Not enough data: the baseline is zero, so a unit has no value.")
    per_unit = cost.value / baseline
    inputs |= {"measured change": change[0], "value per unit": per_unit}
    note = "Partially effective: counts what was measured." if verdict == "partial" else ""
    return Figure(change[0] * per_unit, formula, inputs, change[1] * per_unit, change[2] * per_unit, note)


__all__ = ["Z95", "Figure", "missing"]
