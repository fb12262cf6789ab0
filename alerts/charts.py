"""Control charts: limits and Western Electric signals. Pure functions, numbers in, numbers out.

Conventions (checked against the NIST/SEMATECH e-Handbook examples in tests/test_charts.py):
- individuals chart: centre = mean, sigma = average moving range / 1.128 (d2 for n = 2);
- c-chart: centre = mean count c̄, sigma = √c̄;
- p-chart: centre p̄ = Σ defectives / Σ sample sizes, sigma_i = √(p̄(1 − p̄) / n_i);
- u-chart: centre ū = Σ events / Σ units, sigma_i = √(ū / n_i) (n_i the units of point i);
- Laney p′: sigma_i multiplied by σ_z, the average moving range of the points' z-scores / 1.128,
  which widens the limits when large samples make a plain p-chart flag every point.
A lower limit below zero is clipped at zero for counts and proportions.

A point exactly on a limit is NOT beyond it: every comparison is strict (``>``), so a point
equal to the upper control limit raises no "beyond 3σ" signal, and a point equal to the centre
line is on neither side (it interrupts a run of eight).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

D2 = 1.128  # E[moving range of two] / σ for normal data
INDIVIDUALS, C_CHART, P_CHART, LANEY, U_CHART = "individuals", "c", "p", "laney", "u"


@dataclass(frozen=True)
class Limits:
    """Centre line and one sigma per point (sigma varies with the sample size on a p-chart)."""

    centre: float
    sigmas: list[float]
    floor: float | None = None  # lower limits never go below this (0 for counts and proportions)
    ceiling: float | None = None  # upper limits never go above this (1 for proportions)
    sigma_z: float | None = None  # Laney's correction factor, when used

    def band(self, i: int, k: float) -> tuple[float, float]:
        """The lower and upper limits at k sigma for point i."""
        low, high = self.centre - k * self.sigmas[i], self.centre + k * self.sigmas[i]
        if self.floor is not None:
            low = max(low, self.floor)
        if self.ceiling is not None:
            high = min(high, self.ceiling)
        return low, high

    def lcl(self, i: int = 0) -> float:
        return self.band(i, 3)[0]

    def ucl(self, i: int = 0) -> float:
        return self.band(i, 3)[1]


def _average_moving_range(values: list[float]) -> float:
    if len(values) < 2:
        raise ValueError("a control chart needs at least two points")
    return sum(abs(b - a) for a, b in zip(values, values[1:], strict=False)) / (len(values) - 1)


def individuals_limits(values: list[float], baseline: list[float] | None = None) -> Limits:
    """Individuals (X) chart; limits from ``baseline`` (default: the values themselves)."""
    base = baseline if baseline is not None else values
    centre = sum(base) / len(base) if base else 0.0
    sigma = _average_moving_range(base) / D2
    return Limits(centre, [sigma] * len(values))


def c_limits(counts: list[float], baseline: list[float] | None = None) -> Limits:
    """c-chart for counts of events per period (Poisson)."""
    base = baseline if baseline is not None else counts
    if not base:
        raise ValueError("a control chart needs at least two points")
    centre = sum(base) / len(base)
    return Limits(centre, [math.sqrt(centre)] * len(counts), floor=0.0)


def u_limits(rates: list[float], units: list[float], baseline: tuple[list[float], list[float]] | None = None) -> Limits:
    """u-chart (Poisson) for events per unit with the units behind each point."""
    if any(n is None or n <= 0 for n in units):
        raise ValueError("every point of a u-chart needs its number of units above zero")
    base_u, base_n = baseline if baseline is not None else (rates, units)
    total = sum(base_n)
    if total <= 0:
        raise ValueError("a u-chart needs units")
    u_bar = sum(u * n for u, n in zip(base_u, base_n, strict=True)) / total
    return Limits(u_bar, [math.sqrt(u_bar / n) for n in units], floor=0.0)


def _p_bar(defectives: list[float], sizes: list[int]) -> float:
    total = sum(sizes)
    if total <= 0:
        raise ValueError("a p-chart needs sample sizes")
    return sum(defectives) / total


def p_limits(
    proportions: list[float],
    sizes: list[int],
    baseline: tuple[list[float], list[int]] | None = None,
    laney: bool = False,
) -> Limits:
    """p-chart (binomial) for proportions with sample sizes; ``laney`` applies Laney's p′ correction."""
    if any(n is None or n <= 0 for n in sizes):
        raise ValueError("every point of a p-chart needs a sample size above zero")
    base_p, base_n = baseline if baseline is not None else (proportions, sizes)
    p_bar = _p_bar([p * n for p, n in zip(base_p, base_n, strict=True)], base_n)
    spread = p_bar * (1 - p_bar)
    sigmas = [math.sqrt(spread / n) for n in sizes]
    if not laney:
        return Limits(p_bar, sigmas, floor=0.0, ceiling=1.0)
    base_sigmas = [math.sqrt(spread / n) for n in base_n]
    if spread == 0:
        return Limits(p_bar, sigmas, floor=0.0, ceiling=1.0, sigma_z=1.0)
    z = [(p - p_bar) / s for p, s in zip(base_p, base_sigmas, strict=True)]
    sigma_z = _average_moving_range(z) / D2
    return Limits(p_bar, [s * sigma_z for s in sigmas], floor=0.0, ceiling=1.0, sigma_z=sigma_z)


@dataclass(frozen=True)
class Signal:
    """A Western Electric rule broken at a point (the last point of the pattern)."""

    index: int
    rule: int
    text: str
    value: float | None = None  # rule 1: the point and the limit it went past
    limit: float | None = None


@dataclass
class ChartResult:
    limits: Limits
    signals: list[Signal] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_index: dict[int, list[Signal]] = {}
        for s in self.signals:
            self._by_index.setdefault(s.index, []).append(s)

    def at(self, index: int) -> list[Signal]:
        return self._by_index.get(index, [])


RULES = {
    1: "one point beyond 3σ",
    2: "2 of 3 points beyond 2σ on one side",
    3: "4 of 5 points beyond 1σ on one side",
    4: "8 points in a row on one side of the centre line",
    # Nelson's further tests (his rules 3, 4, 7 and 8), numbered on from Western Electric's.
    5: "6 points in a row steadily rising or falling",
    6: "14 points in a row alternating up and down",
    7: "15 points in a row within 1σ of the centre line",
    8: "8 points in a row beyond 1σ, on either side",
}
WESTERN_ELECTRIC = (1, 2, 3, 4)


def rule_name(number: int) -> str:
    """How a message names a test: "Western Electric rule 2", "Nelson test 5"."""
    return f"Western Electric rule {number}" if number in WESTERN_ELECTRIC else f"Nelson test {number}"


def _side(value: float, limits: Limits, i: int, k: float) -> int:
    """+1 above centre + kσ, −1 below centre − kσ, 0 otherwise (on a limit is not beyond it)."""
    high = limits.centre + k * limits.sigmas[i]
    low = limits.centre - k * limits.sigmas[i]
    if value > high:
        return 1
    if value < low:
        return -1
    return 0


def western_electric(values: list[float], limits: Limits, rules: tuple[int, ...] = WESTERN_ELECTRIC) -> list[Signal]:
    """Every point at which one of the Western Electric rules is broken.

    Rule 1 uses the (possibly clipped) 3σ limits; zone rules 2-3 use centre ± kσ on the side
    of the pattern; rule 4 counts points strictly above or strictly below the centre line."""
    signals = []
    beyond = {k: [_side(v, limits, i, k) for i, v in enumerate(values)] for k in (1, 2)}
    centre_side = [(v > limits.centre) - (v < limits.centre) for v in values]
    for i, value in enumerate(values):
        if 1 in rules:
            low, high = limits.band(i, 3)
            if value > high or value < low:
                limit = high if value > high else low
                signals.append(
                    Signal(i, 1, f"{RULES[1]}: {value:.4g} {'>' if value > high else '<'} {limit:.4g}", value, limit)
                )
        for rule, k, window, needed in ((2, 2, 3, 2), (3, 1, 5, 4)):
            if rule in rules and i + 1 >= window:
                recent = beyond[k][i + 1 - window : i + 1]
                for side in (1, -1):
                    if recent.count(side) >= needed and beyond[k][i] == side:
                        signals.append(Signal(i, rule, f"{RULES[rule]} ({'above' if side > 0 else 'below'})"))
        if 4 in rules and i >= 7:
            run = centre_side[i - 7 : i + 1]
            if run[0] != 0 and all(s == run[0] for s in run):
                signals.append(Signal(i, 4, f"{RULES[4]} ({'above' if run[0] > 0 else 'below'})"))
        if 5 in rules and i >= 5:
            steps = [b - a for a, b in zip(values[i - 5 : i], values[i - 4 : i + 1], strict=True)]
            if all(d > 0 for d in steps) or all(d < 0 for d in steps):
                signals.append(Signal(i, 5, f"{RULES[5]} ({'rising' if steps[0] > 0 else 'falling'})"))
        if 6 in rules and i >= 13:
            steps = [b - a for a, b in zip(values[i - 13 : i], values[i - 12 : i + 1], strict=True)]
            turns = all(d != 0 for d in steps) and all(
                (a > 0) != (b > 0) for a, b in zip(steps, steps[1:], strict=False)
            )
            if turns:
                signals.append(Signal(i, 6, RULES[6]))
        hugging = (
            7 in rules
            and i >= 14
            and all(abs(values[j] - limits.centre) < limits.sigmas[j] for j in range(i - 14, i + 1))
        )
        if hugging:
            signals.append(Signal(i, 7, RULES[7]))
        if 8 in rules and i >= 7 and all(beyond[1][j] != 0 for j in range(i - 7, i + 1)):
            signals.append(Signal(i, 8, RULES[8]))
    return signals


def chart(
    kind: str,
    values: list[float],
    sizes: list[int] | None = None,
    baseline: slice | None = None,
    rules: tuple[int, ...] = WESTERN_ELECTRIC,
) -> ChartResult:
    """Limits and signals of a chart of ``kind`` over ``values``; limits from ``values[baseline]``.

    For p and Laney charts ``values`` are proportions (0-1) and ``sizes`` their sample sizes; for a
    u-chart ``values`` are events per unit and ``sizes`` the units."""
    base = baseline or slice(None)
    if kind == INDIVIDUALS:
        limits = individuals_limits(values, values[base])
    elif kind == C_CHART:
        limits = c_limits(values, values[base])
    elif kind == U_CHART:
        if sizes is None:
            raise ValueError("a u-chart needs the units of each point")
        limits = u_limits(values, sizes, (values[base], sizes[base]))
    elif kind in (P_CHART, LANEY):
        if sizes is None:
            raise ValueError("a p-chart needs sample sizes")
        limits = p_limits(values, sizes, (values[base], sizes[base]), laney=kind == LANEY)
    else:
        raise ValueError(f"unknown chart {kind!r}")
    return ChartResult(limits, western_electric(values, limits, rules))


# --- The same charts over numpy arrays --------------------------------------------------------------
#
# ``western_electric`` above walks the points one by one and is kept as the reference (the tests
# compare the two over many random series). ``signals_array`` finds the same signals with array
# operations: each test is a mask over the points, a rolling count over a window where the test
# needs one. Every comparison and every arithmetic step is the reference's, in the same order, so
# the masks are the same bit for bit (sums of many values stay Python's left-to-right ``sum``).


def _rolling_count(mask: np.ndarray, window: int) -> np.ndarray:
    """How many of the ``window`` points ending at each point hold (0 before the window is full)."""
    out = np.zeros(len(mask), dtype=np.int64)
    if len(mask) >= window:
        total = np.concatenate(([0], np.cumsum(mask, dtype=np.int64)))
        out[window - 1 :] = total[window:] - total[:-window]
    return out


def _all_of(mask: np.ndarray, window: int) -> np.ndarray:
    return _rolling_count(mask, window) == window


@dataclass
class ArraySignals:
    """The signals of a chart as one boolean mask per test (and the side or direction where the
    message names one); ``at(i)`` builds the reference's ``Signal`` objects for one point."""

    values: np.ndarray
    limits: Limits
    masks: dict[int, np.ndarray]
    sides: dict[int, np.ndarray]
    low: np.ndarray
    high: np.ndarray

    @property
    def any(self) -> np.ndarray:
        found = np.zeros(len(self.values), dtype=bool)
        for mask in self.masks.values():
            found |= mask
        return found

    def at(self, i: int) -> list[Signal]:
        found = []
        for rule in sorted(self.masks):
            if not self.masks[rule][i]:
                continue
            if rule == 1:
                value = float(self.values[i])
                high, low = float(self.high[i]), float(self.low[i])
                limit = high if value > high else low
                found.append(
                    Signal(i, 1, f"{RULES[1]}: {value:.4g} {'>' if value > high else '<'} {limit:.4g}", value, limit)
                )
            elif rule in (2, 3, 4):
                side = "above" if self.sides[rule][i] > 0 else "below"
                found.append(Signal(i, rule, f"{RULES[rule]} ({side})"))
            elif rule == 5:
                found.append(Signal(i, 5, f"{RULES[5]} ({'rising' if self.sides[5][i] > 0 else 'falling'})"))
            else:
                found.append(Signal(i, rule, RULES[rule]))
        return found


def signals_array(values: np.ndarray, limits: Limits, rules: tuple[int, ...] = WESTERN_ELECTRIC) -> ArraySignals:
    """``western_electric`` over arrays: the same signals at the same points."""
    n = len(values)
    sigmas = np.asarray(limits.sigmas, dtype=float)
    centre = limits.centre
    low3, high3 = centre - 3 * sigmas, centre + 3 * sigmas
    if limits.floor is not None:
        low3 = np.maximum(low3, limits.floor)
    if limits.ceiling is not None:
        high3 = np.minimum(high3, limits.ceiling)
    masks: dict[int, np.ndarray] = {}
    sides: dict[int, np.ndarray] = {}

    def beyond(k: int) -> np.ndarray:
        return (values > centre + k * sigmas).astype(np.int8) - (values < centre - k * sigmas).astype(np.int8)

    if 1 in rules:
        masks[1] = (values > high3) | (values < low3)
    for rule, k, window, needed in ((2, 2, 3, 2), (3, 1, 5, 4)):
        if rule in rules:
            side = beyond(k)
            up = (_rolling_count(side == 1, window) >= needed) & (side == 1)
            down = (_rolling_count(side == -1, window) >= needed) & (side == -1)
            masks[rule], sides[rule] = up | down, np.where(up, 1, -1)
    if 4 in rules:
        centre_side = (values > centre).astype(np.int8) - (values < centre).astype(np.int8)
        up, down = _all_of(centre_side == 1, 8), _all_of(centre_side == -1, 8)
        masks[4], sides[4] = up | down, np.where(up, 1, -1)
    steps = np.diff(values)  # steps[t] = values[t + 1] - values[t]
    if 5 in rules:
        rising, falling = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        rising[1:], falling[1:] = _all_of(steps > 0, 5), _all_of(steps < 0, 5)
        masks[5], sides[5] = rising | falling, np.where(rising, 1, -1)
    if 6 in rules:
        found = np.zeros(n, dtype=bool)
        if n >= 14:
            nonzero = _all_of(steps != 0, 13)  # at t: steps t-12..t
            turns = (steps[:-1] > 0) != (steps[1:] > 0)  # turns[t]: between steps t and t + 1
            alternating = _all_of(turns, 12)  # at t: turns t-11..t, i.e. steps t-11..t+1
            found[13:] = nonzero[12:] & alternating[11:]
        masks[6] = found
    if 7 in rules:
        masks[7] = _all_of(np.abs(values - centre) < sigmas, 15)
    if 8 in rules:
        masks[8] = _all_of(beyond(1) != 0, 8)
    return ArraySignals(values, limits, masks, sides, low3, high3)


def _sqrt(values: np.ndarray) -> np.ndarray:
    """``math.sqrt`` of each: a negative one (negative counts or proportions) is refused as it is."""
    if np.any(values < 0):
        raise ValueError("math domain error")
    return np.sqrt(values)


def limits_array(kind: str, values: np.ndarray, sizes: np.ndarray | None, baseline: slice) -> Limits:
    """``chart``'s limits with the per-point arithmetic over arrays; the sums over the baseline stay
    Python's, in the same order, so the limits are the same numbers."""
    base = values[baseline]
    if kind == INDIVIDUALS:
        if len(base) < 2:
            raise ValueError("a control chart needs at least two points")
        centre = sum(base.tolist()) / len(base) if len(base) else 0.0
        sigma = sum(np.abs(np.diff(base)).tolist()) / (len(base) - 1) / D2
        return Limits(centre, np.full(len(values), sigma))
    if kind == C_CHART:
        if not len(base):
            raise ValueError("a control chart needs at least two points")
        centre = sum(base.tolist()) / len(base)
        return Limits(centre, np.full(len(values), math.sqrt(centre)), floor=0.0)
    if sizes is None:
        raise ValueError(
            "a p-chart needs sample sizes" if kind != U_CHART else "a u-chart needs the units of each point"
        )
    if kind == U_CHART:
        if np.any(~(sizes > 0)):
            raise ValueError("every point of a u-chart needs its number of units above zero")
        base_n = sizes[baseline]
        total = sum(base_n.tolist())
        if total <= 0:
            raise ValueError("a u-chart needs units")
        u_bar = sum((base * base_n).tolist()) / total
        return Limits(u_bar, _sqrt(u_bar / sizes), floor=0.0)
    if kind not in (P_CHART, LANEY):
        raise ValueError(f"unknown chart {kind!r}")
    if np.any(~(sizes > 0)):
        raise ValueError("every point of a p-chart needs a sample size above zero")
    base_n = sizes[baseline]
    total = sum(base_n.tolist())
    if total <= 0:
        raise ValueError("a p-chart needs sample sizes")
    p_bar = sum((base * base_n).tolist()) / total
    spread = p_bar * (1 - p_bar)
    sigmas = _sqrt(spread / sizes)
    if kind == P_CHART:
        return Limits(p_bar, sigmas, floor=0.0, ceiling=1.0)
    if spread == 0:
        return Limits(p_bar, sigmas, floor=0.0, ceiling=1.0, sigma_z=1.0)
    z = (base - p_bar) / _sqrt(spread / base_n)
    if len(z) < 2:
        raise ValueError("a control chart needs at least two points")
    sigma_z = sum(np.abs(np.diff(z)).tolist()) / (len(z) - 1) / D2
    return Limits(p_bar, sigmas * sigma_z, floor=0.0, ceiling=1.0, sigma_z=sigma_z)
