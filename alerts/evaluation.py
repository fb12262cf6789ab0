"""Rule conditions and the ok → firing → resolved state machine. Pure: no database.

``episodes`` walks a metric's complete periods in order (gaps included, as ``None``) and
returns every episode the rule would have had, applying the minimum duration (N consecutive
bad periods before firing) and hysteresis (a margin the value must clear, and M consecutive
clear periods, before resolving). Services compare the last of them with the database.

Each period's condition is one of: bad (counts towards firing), clear (counts towards
resolving), or neither (inside the hysteresis band: resets both streaks), or unknown (no value:
neither counts nor resets, except for the missing-data rule, for which no value is the condition).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

import numpy as np

from alerts import charts
from metrics.calculations import COUNT_CALCULATORS, PROPORTION_CALCULATORS, RATE_CALCULATORS, next_period

RAG_RANK = {"green": 0, "amber": 1, "red": 2}
# Which calculators take which charts is said once, in metrics.calculations (chart_kinds and the
# PROPORTION_, COUNT_ and RATE_CALCULATORS imported above).
LANEY_MIN_SAMPLE = 1000  # average sample size from which the auto chart is Laney's p′
CHART_PERIODS, PROVISIONAL_PERIODS = 10, 5  # the documented defaults (alerts.models)


class Point(NamedTuple):
    """A period's value (None: no value) and its sample size (a tuple: a metric has thousands)."""

    period: date
    value: float | None
    sample_size: int | None = None


@dataclass(frozen=True)
class Check:
    """A period's condition: ``bad`` / ``clear`` are True, False; both None when unknown."""

    bad: bool | None
    clear: bool | None
    note: str = ""
    limits: dict | None = None  # control charts: the centre and limits this period was judged with


UNKNOWN = Check(None, None)


@dataclass
class Episode:
    opened: int  # index of the period at which it fired
    resolved: int | None = None  # index of the period at which it resolved
    trigger: list[int] = field(default_factory=list)  # the bad periods that made it fire
    notes: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleSpec:
    """What the engine needs of a rule (the model, or anything with these attributes)."""

    kind: str
    min_periods: int = 1
    clear_periods: int = 1
    hysteresis: float = 0.0
    level: str = "red"
    comparison: str = "previous"
    change_mode: str = "absolute"
    change_limit: float | None = None
    chart: str = "auto"
    baseline_from: date | None = None
    baseline_to: date | None = None
    chart_periods: int = CHART_PERIODS
    provisional_periods: int = PROVISIONAL_PERIODS
    chart_tests: tuple[int, ...] = (1, 2, 3, 4)


class NotEnoughData(ValueError):
    """Too few periods to judge: ``have`` of the ``need`` the rule asks for."""

    def __init__(self, have: int, need: int, what: str = "periods with values in the baseline"):
        self.have, self.need = have, need
        super().__init__(f"cannot judge yet: {have} of {need} {what}")


@dataclass
class ControlChart:
    kind: str
    known: list[int]  # indices into the points that the chart covers
    result: charts.ChartResult
    base_count: int  # periods in the baseline
    need: int  # periods the rule wants for firm limits
    baseline: tuple[date, date]

    @property
    def provisional(self) -> bool:
        return self.base_count < self.need

    @property
    def scale(self) -> float:
        return 100 if self.kind in (charts.P_CHART, charts.LANEY) else 1

    def limits_at(self, j: int) -> dict:
        """The centre and 3σ limits at the chart's j-th point, in the metric's units."""
        low, high = self.result.limits.band(j, 3)
        return {
            "chart": self.kind,
            "centre": round(float(self.result.limits.centre) * self.scale, 6),
            "lower": round(float(low) * self.scale, 6),
            "upper": round(float(high) * self.scale, 6),
            "sigma_z": self.result.limits.sigma_z,
            "provisional": self.provisional,
            "periods": self.base_count,
            "needed": self.need,
            "baseline": [self.baseline[0].isoformat(), self.baseline[1].isoformat()],
        }


def value_unit(unit: str) -> str:
    """The unit written after a value: "72 %", "3.1 days" ("" without a unit)."""
    return f" {unit}" if unit else ""


def change_unit(change_mode: str, unit: str) -> str:
    """The unit of a change: "%" when relative; when absolute, "points" on a metric measured in %
    (a CSAT drop from 80 % to 70 % is 10 points, not 10 %), otherwise the metric's own unit."""
    if change_mode == "percent":
        return "%"
    if unit.strip() in ("%", "percent", "pp", "points"):
        return " points"
    return value_unit(unit)


def shift_year(period: date, granularity: str) -> date:
    """The same period one year earlier: 52 weeks for weeks, the same day/month otherwise."""
    if granularity == "week":
        return period - timedelta(weeks=52)
    day = min(period.day, calendar.monthrange(period.year - 1, period.month)[1])
    return date(period.year - 1, period.month, day)


def period_of(day: date, granularity: str) -> date:
    """The first day of the period containing ``day`` (weeks start on Monday)."""
    if granularity == "day":
        return day
    if granularity == "week":
        return day - timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def complete_periods(first: date, today: date, granularity: str) -> list[date]:
    """Every period from the one containing ``first`` up to the last one that ended before
    ``today``'s period began (``today`` is the local date: the current period is never complete)."""
    current = period_of(today, granularity)
    periods, start = [], period_of(first, granularity)
    if granularity in ("day", "week"):  # a fixed step: by ordinal, without the calendar walk
        step = 1 if granularity == "day" else 7
        return [date.fromordinal(day) for day in range(start.toordinal(), current.toordinal(), step)]
    while start < current:
        periods.append(start)
        start = next_period(start, granularity)
    return periods


def chart_kind(rule: RuleSpec, calculator: str, points: list[Point]) -> str:
    if rule.chart != "auto":
        return rule.chart
    sizes = [p.sample_size for p in points if p.value is not None]
    if calculator in PROPORTION_CALCULATORS and sizes and all(sizes):
        return charts.LANEY if sum(sizes) / len(sizes) >= LANEY_MIN_SAMPLE else charts.P_CHART
    if calculator in COUNT_CALCULATORS:
        return charts.C_CHART
    if calculator in RATE_CALCULATORS and sizes and all(sizes):
        return charts.U_CHART
    return charts.INDIVIDUALS


def control_chart(rule: RuleSpec, calculator: str, points: list[Point]) -> ControlChart:
    """The chart of the known points, limits from the rule's baseline window (phase I) applied to
    every point (phase II). With fewer baseline periods than ``chart_periods`` but at least
    ``provisional_periods`` the limits are provisional.

    Raises NotEnoughData below the provisional minimum, ValueError when a p-chart lacks sample sizes."""
    kind = chart_kind(rule, calculator, points)
    proportions = kind in (charts.P_CHART, charts.LANEY)
    sized = proportions or kind == charts.U_CHART  # the chart needs each point's n (sample or units)
    known = [i for i, p in enumerate(points) if p.value is not None and (not sized or p.sample_size)]
    values = [points[i].value / 100 if proportions else points[i].value for i in known]
    in_base = [
        j
        for j, i in enumerate(known)
        if (rule.baseline_from is None or points[i].period >= rule.baseline_from)
        and (rule.baseline_to is None or points[i].period <= rule.baseline_to)
    ]
    need = max(rule.chart_periods, 2)
    if len(in_base) < max(min(rule.provisional_periods, need), 2):
        raise NotEnoughData(len(in_base), need)
    base = slice(in_base[0], in_base[-1] + 1)
    sizes = [points[i].sample_size for i in known] if sized else None
    tests = tuple(rule.chart_tests or ()) or (1,)
    result = charts.chart(kind, values, sizes, base, rules=tests)
    window = (points[known[in_base[0]]].period, points[known[in_base[-1]]].period)
    return ControlChart(kind, known, result, len(in_base), need, window)


def _signal_text(signal: charts.Signal, scale: float, unit: str) -> str:
    """A signal in the metric's own units (a p-chart works on 0-1, the metric shows %)."""
    name = charts.rule_name(signal.rule)
    if signal.value is None:
        return f"{name}: {signal.text}"
    side = "above the upper" if signal.value > signal.limit else "below the lower"
    return (
        f"{name}: {charts.RULES[signal.rule]}, {signal.value * scale:.4g}{unit} {side} "
        f"control limit {signal.limit * scale:.4g}{unit}"
    )


def checks(rule: RuleSpec, metric, points: list[Point], granularity: str) -> list[Check]:
    """The condition of each period. ``metric`` gives ``rag(value)``, ``target``, ``direction``
    and ``calculator``."""
    sign = 1 if metric.direction == "higher" else -1
    unit = value_unit(getattr(metric, "unit", ""))
    kind = rule.kind
    if kind == "missing":
        return [Check(p.value is None, p.value is not None, "no value" if p.value is None else "") for p in points]
    if kind == "control":
        try:
            drawn = control_chart(rule, metric.calculator, points)
        except ValueError:
            return [UNKNOWN] * len(points)
        out = [UNKNOWN] * len(points)
        provisional = f" (provisional limits: {drawn.base_count} of {drawn.need} periods)" if drawn.provisional else ""
        for j, i in enumerate(drawn.known):
            found = drawn.result.at(j)
            note = "; ".join(_signal_text(s, drawn.scale, unit) for s in found)
            out[i] = Check(
                bool(found),
                not found,
                f"{drawn.kind} chart{provisional}, {note}" if found else "",
                drawn.limits_at(j) if found or j == 0 else None,  # kept where an alert may store them
            )
        return out
    by_period = {p.period: p.value for p in points}
    out = []
    for i, p in enumerate(points):
        v = p.value
        if v is None:
            out.append(UNKNOWN)
            continue
        if kind == "threshold":
            status = metric.rag(v)
            if status is None:
                out.append(UNKNOWN)
                continue
            bad = RAG_RANK[status] >= RAG_RANK[rule.level]
            clear = RAG_RANK[metric.rag(v - sign * rule.hysteresis)] < RAG_RANK[rule.level]
            out.append(Check(bad, clear, f"{v:.4g}{unit} is {status}"))
        elif kind == "target":
            if metric.target is None:
                out.append(UNKNOWN)
                continue
            gap = sign * (v - metric.target)
            out.append(Check(gap < 0, gap >= rule.hysteresis, f"{v:.4g}{unit} against target {metric.target:g}"))
        elif kind == "change":
            if rule.comparison == "previous":
                ref = points[i - 1].value if i else None
            else:
                ref = by_period.get(shift_year(p.period, granularity))
            if ref is None or (rule.change_mode == "percent" and ref == 0):
                out.append(UNKNOWN)
                continue
            change = v - ref if rule.change_mode == "absolute" else (v - ref) / abs(ref) * 100
            worse = -sign * change
            by = change_unit(rule.change_mode, getattr(metric, "unit", ""))
            out.append(
                Check(
                    worse >= rule.change_limit,
                    worse < rule.change_limit - rule.hysteresis,
                    f"{v:.4g}{unit}, {change:+.4g}{by} against {ref:.4g}{unit} "
                    f"(fires at {rule.change_limit:g}{by} worse)",
                )
            )
        else:
            raise ValueError(f"unknown rule kind {kind!r}")
    return out


def episodes(rule: RuleSpec, conditions: list[Check]) -> list[Episode]:
    """Walk the periods and return the episodes: fire after ``min_periods`` bad periods in a row,
    resolve after ``clear_periods`` clear ones in a row."""
    found: list[Episode] = []
    open_episode: Episode | None = None
    bad_run: list[int] = []
    clear_run = 0
    for i, check in enumerate(conditions):
        if check.bad is None:
            continue
        if open_episode is None:
            bad_run = [*bad_run, i] if check.bad else []
            if len(bad_run) >= rule.min_periods:
                trigger = bad_run[-rule.min_periods :]
                open_episode = Episode(opened=i, trigger=trigger, notes={j: conditions[j].note for j in trigger})
                found.append(open_episode)
                bad_run, clear_run = [], 0
        else:
            clear_run = clear_run + 1 if check.clear else 0
            if clear_run >= rule.clear_periods:
                open_episode.resolved = i
                open_episode.notes[i] = check.note
                open_episode, clear_run = None, 0
    return found


def verdict(rule: RuleSpec, metric, points: list[Point], conditions: list[Check]) -> tuple[str, str]:
    """Whether the rule could judge the data, never a silent "OK": ``waiting`` ("cannot judge
    yet: N of M periods"), ``provisional`` (a control chart on fewer periods than it wants), or
    ``judged``; with the text to show."""
    if rule.kind == "control":
        limits = next((c.limits for c in conditions if c.limits), None)
        if limits is None:  # the chart could not be drawn: say why
            try:
                control_chart(rule, metric.calculator, points)
            except NotEnoughData as short:
                return "waiting", f"Cannot judge yet: {short.have} of {short.need} periods with values in the baseline."
            except ValueError as problem:
                return "waiting", f"Cannot judge yet: {problem}."
            return "waiting", "Cannot judge yet: no period with a value."
        chart, (start, end) = limits["chart"], limits["baseline"]
        if limits["provisional"]:
            return "provisional", (
                f"Provisional limits: {limits['periods']} of {limits['needed']} periods "
                f"({chart} chart, baseline {start} to {end})."
            )
        return "judged", f"{chart} chart, limits from {limits['periods']} periods, {start} to {end}."
    judged = getattr(conditions, "judged", None)
    if judged is None:
        judged = sum(1 for c in conditions if c.bad is not None)
    if rule.kind == "missing":
        return ("judged", "") if points else ("waiting", "Cannot judge yet: no complete period.")
    if judged == 0:
        if rule.kind == "change":
            return "waiting", "Cannot judge yet: 0 of 2 periods with values to compare."
        if rule.kind == "target" and getattr(metric, "target", None) is None:
            return "waiting", "Cannot judge: the metric has no target."
        return "waiting", "Cannot judge yet: 0 of 1 periods with a value."
    return "judged", f"{judged} period{'s' if judged != 1 else ''} judged."


# --- The same evaluation over numpy arrays ------------------------------------------------------------
#
# ``checks`` and ``episodes`` above walk the periods one by one and are kept as the reference:
# tests/test_vectorised.py compares them with what follows over many random series. Here each
# rule's conditions are two boolean arrays (bad, clear) and a mask of the judged periods; the
# notes and limits an alert stores are written only for the periods it stores (``Conditions``);
# the episodes come from run lengths, one step per episode, not per period.


class Series(list):
    """A metric's points (a list of ``Point``) with their values as arrays, built once per walk
    and shared by the rules on it."""

    def __init__(self, points):
        super().__init__(points)
        self.values = np.array([np.nan if p.value is None else p.value for p in self], dtype=float)
        self.has = np.array([p.value is not None for p in self], dtype=bool)
        self.sizes = np.array([np.nan if p.sample_size is None else p.sample_size for p in self], dtype=float)
        self._year_ago: dict[str, np.ndarray] = {}

    def year_ago(self, granularity: str) -> np.ndarray:
        """The index of the same period a year earlier (``shift_year``), -1 when it is not a point."""
        if granularity not in self._year_ago:
            days = np.array([p.period for p in self], dtype="datetime64[D]")
            if granularity == "week":
                ago = days - np.timedelta64(52 * 7, "D")
            else:  # the same day of the same month a year earlier, the month's last day at most
                months = days.astype("datetime64[M]")
                earlier = months - np.timedelta64(12, "M")
                length = (earlier + np.timedelta64(1, "M")).astype("datetime64[D]") - earlier.astype("datetime64[D]")
                offset = np.minimum(days - months.astype("datetime64[D]"), length - np.timedelta64(1, "D"))
                ago = earlier.astype("datetime64[D]") + offset
            found = np.searchsorted(days, ago) if len(days) else np.zeros(0, dtype=np.int64)
            inside = found < len(days)
            found[inside & (days[np.minimum(found, max(len(days) - 1, 0))] != ago)] = -1
            found[~inside] = -1
            self._year_ago[granularity] = found.astype(np.int64)
        return self._year_ago[granularity]


class Notes(Mapping):
    """An episode's notes (period index → the condition's note), written when first read: a rerun
    that records nothing new formats none."""

    def __init__(self, conditions: Conditions, indices: list[int]):
        self._conditions, self._indices, self._notes = conditions, list(indices), None

    def _all(self) -> dict[int, str]:
        if self._notes is None:
            self._notes = {j: self._conditions[j].note for j in self._indices}
        return self._notes

    def __getitem__(self, i: int) -> str:
        return self._all()[i]

    def __iter__(self):
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._indices)

    def add(self, i: int) -> None:
        self._indices.append(i)
        self._notes = None


def as_series(points) -> Series:
    return points if isinstance(points, Series) else Series(points)


class Conditions(Sequence):
    """Each period's ``Check``, as ``checks`` returns them, written on demand from the arrays."""

    def __init__(self, bad: np.ndarray, clear: np.ndarray, known: np.ndarray, check):
        self.bad, self.clear, self.known = bad, clear, known
        self.judged = int(known.sum())
        self._check = check
        self._made: dict[int, Check] = {}

    def __len__(self) -> int:
        return len(self.known)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not self.known[i]:
            return UNKNOWN
        if i not in self._made:
            self._made[i] = self._check(i)
        return self._made[i]


def _rag_ranks(metric, values: np.ndarray) -> np.ndarray | None:
    """``RAG_RANK[metric.rag(v)]`` of each value (-1 for NaN or no status); None when the metric
    has no RAG status at all. ``Metric.rag``'s arithmetic over arrays; anything else that has a ``rag`` is asked
    value by value."""
    from metrics.models import Metric

    if not isinstance(metric, Metric) or type(metric).rag is not Metric.rag:
        ranks = np.full(len(values), -1, dtype=np.int8)
        for i, v in enumerate(values.tolist()):
            status = metric.rag(v) if v == v else None  # NaN: no value
            if status is not None:
                ranks[i] = RAG_RANK[status]
        return ranks
    sign = 1 if metric.direction == "higher" else -1
    green_from = metric.amber_threshold if metric.amber_threshold is not None else metric.target
    if green_from is None:
        return None
    fallback = 1 if metric.red_threshold is not None or metric.amber_threshold is not None else 2
    ranks = np.full(len(values), fallback, dtype=np.int8)
    if metric.red_threshold is not None:
        ranks[sign * (values - metric.red_threshold) <= 0] = 2
    ranks[sign * (values - green_from) >= 0] = 0
    ranks[np.isnan(values)] = -1
    return ranks


def control_chart_array(rule: RuleSpec, calculator: str, series: Series) -> ControlChart:
    """``control_chart`` over arrays: the same chart, limits and signals."""
    kind = chart_kind(rule, calculator, series)
    proportions = kind in (charts.P_CHART, charts.LANEY)
    sized = proportions or kind == charts.U_CHART
    usable = series.has
    if sized:  # ``not p.sample_size``: None and 0 are out, anything else (even negative) is in
        usable = series.has & ~np.isnan(series.sizes) & (series.sizes != 0)
    known = np.flatnonzero(usable)
    values = series.values[known] / 100 if proportions else series.values[known]
    in_base = np.ones(len(known), dtype=bool)
    if rule.baseline_from is not None or rule.baseline_to is not None:
        periods = [series[i].period for i in known.tolist()]
        in_base = np.array(
            [
                (rule.baseline_from is None or p >= rule.baseline_from)
                and (rule.baseline_to is None or p <= rule.baseline_to)
                for p in periods
            ],
            dtype=bool,
        )
    base_index = np.flatnonzero(in_base)
    need = max(rule.chart_periods, 2)
    if len(base_index) < max(min(rule.provisional_periods, need), 2):
        raise NotEnoughData(len(base_index), need)
    base = slice(int(base_index[0]), int(base_index[-1]) + 1)
    sizes = series.sizes[known] if sized else None
    tests = tuple(rule.chart_tests or ()) or (1,)
    limits = charts.limits_array(kind, values, sizes, base)
    result = charts.signals_array(values, limits, tests)
    window = (series[int(known[base_index[0]])].period, series[int(known[base_index[-1]])].period)
    return ControlChart(kind, known.tolist(), result, len(base_index), need, window)


def checks_array(rule: RuleSpec, metric, points, granularity: str) -> Conditions:
    """``checks`` over arrays: the same condition for every period (a ``Conditions``)."""
    series = as_series(points)
    n = len(series)
    v, has = series.values, series.has
    sign = 1 if metric.direction == "higher" else -1
    unit = value_unit(getattr(metric, "unit", ""))
    kind = rule.kind
    nothing = np.zeros(n, dtype=bool)
    if kind == "missing":
        every = np.ones(n, dtype=bool)
        return Conditions(~has, has, every, lambda i: checks(rule, metric, [series[i]], granularity)[0])
    if kind == "control":
        try:
            drawn = control_chart_array(rule, metric.calculator, series)
        except ValueError:
            return Conditions(nothing, nothing, nothing, None)
        known = np.zeros(n, dtype=bool)
        found = np.zeros(n, dtype=bool)
        index = np.array(drawn.known, dtype=np.int64)
        known[index] = True
        found[index] = drawn.result.any
        provisional = f" (provisional limits: {drawn.base_count} of {drawn.need} periods)" if drawn.provisional else ""
        position = {i: j for j, i in enumerate(drawn.known)}

        def control_check(i: int) -> Check:
            j = position[i]
            signals = drawn.result.at(j)
            note = "; ".join(_signal_text(s, drawn.scale, unit) for s in signals)
            return Check(
                bool(signals),
                not signals,
                f"{drawn.kind} chart{provisional}, {note}" if signals else "",
                drawn.limits_at(j) if signals or j == 0 else None,
            )

        return Conditions(found, ~found, known, control_check)
    if kind == "threshold":
        ranks = _rag_ranks(metric, v)
        if ranks is None:
            return Conditions(nothing, nothing, nothing, None)
        level = RAG_RANK[rule.level]
        relaxed = _rag_ranks(metric, v - sign * rule.hysteresis)
        bad, clear = ranks >= level, relaxed < level
        known = has & (ranks >= 0)
    elif kind == "target":
        if metric.target is None:
            return Conditions(nothing, nothing, nothing, None)
        gap = sign * (v - metric.target)
        bad, clear, known = gap < 0, gap >= rule.hysteresis, has.copy()
    elif kind == "change":
        if rule.comparison == "previous":
            ref = np.concatenate(([np.nan], v[:-1]))[:n]
        else:
            ago = series.year_ago(granularity)
            ref = np.where(ago >= 0, v[np.maximum(ago, 0)] if n else v, np.nan)
        known = has & ~np.isnan(ref)
        if rule.change_mode == "percent":
            known &= ref != 0
        with np.errstate(divide="ignore", invalid="ignore"):
            change = v - ref if rule.change_mode == "absolute" else (v - ref) / np.abs(ref) * 100
        worse = -sign * change
        bad, clear = worse >= rule.change_limit, worse < rule.change_limit - rule.hysteresis
    else:
        raise ValueError(f"unknown rule kind {kind!r}")

    def check(i: int) -> Check:
        return checks(rule, metric, series[max(i - 1, 0) : i + 1] if kind == "change" else [series[i]], granularity)[-1]

    if kind == "change" and rule.comparison != "previous":

        def check(i: int) -> Check:  # noqa: F811 - the year-ago point is the reference
            ago = int(series.year_ago(granularity)[i])
            return checks(rule, metric, [series[ago], series[i]], granularity)[-1]

    return Conditions(bad & known, clear & known, known, check)


def episodes_array(rule: RuleSpec, conditions: Conditions) -> list[Episode]:
    """``episodes`` from run lengths: fire where ``min_periods`` bad judged periods in a row end,
    resolve where ``clear_periods`` clear ones in a row end after it opened; one step per episode."""
    judged = np.flatnonzero(conditions.known)  # unknown periods neither count nor reset
    if not len(judged):
        return []
    bad = conditions.bad[judged]
    clear = conditions.clear[judged]
    fire_at = np.flatnonzero(_run_lengths(bad) >= rule.min_periods)
    resolve_at = np.flatnonzero(_run_lengths(clear) >= rule.clear_periods)
    found, start = [], 0
    while True:
        # A run counts from ``start`` (the first period after the last episode resolved).
        k = np.searchsorted(fire_at, start + rule.min_periods - 1)
        if k == len(fire_at):
            return found
        opened = int(fire_at[k])
        trigger = judged[opened - rule.min_periods + 1 : opened + 1].tolist()
        episode = Episode(opened=int(judged[opened]), trigger=trigger, notes=Notes(conditions, trigger))
        found.append(episode)
        k = np.searchsorted(resolve_at, opened + rule.clear_periods)
        if k == len(resolve_at):
            return found
        resolved = int(resolve_at[k])
        episode.resolved = int(judged[resolved])
        episode.notes.add(episode.resolved)
        start = resolved + 1


def _run_lengths(mask: np.ndarray) -> np.ndarray:
    """At each position, how many positions in a row up to it hold (0 where it does not)."""
    count = np.cumsum(mask, dtype=np.int64)
    resets = np.where(~mask, count, 0)
    return count - np.maximum.accumulate(resets)
