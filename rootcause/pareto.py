"""Pareto analysis of sub-themes: sorted counts, shares, cumulative shares and the vital few."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ParetoRow:
    key: object
    label: str
    value: float
    share: float  # percent of the total
    cumulative: float  # percent, including this row
    vital: bool


def ranked(values: dict[object, tuple[str, float]]) -> list[object]:
    """The keys in Pareto order: largest value first, ties by label; rows of zero left out."""
    items = sorted(values.items(), key=lambda item: (-item[1][1], item[1][0]))
    return [key for key, (_, value) in items if value > 0]


def pareto(
    values: dict[object, tuple[str, float]],
    cutoff: float = 80.0,
    *,
    total: float | None = None,
    covered: list[float] | None = None,
) -> list[ParetoRow]:
    """Rows sorted by value (then label); the vital few are the smallest set of top rows whose
    cumulative share reaches the cut-off (a row that brings it from 79.9% to past 80% is in).

    By default the total is the sum of the values. Comments are counted otherwise: a comment with
    several sub-themes counts in each row's value but once in ``total`` (the comments that carry a
    sub-theme), and ``covered[i]`` is how many comments the first i + 1 rows cover together, so
    shares may add up to more than 100% while the cumulative share never passes it."""
    order = ranked(values)
    if total is None:
        total = sum(v for _, v in values.values())
    if total <= 0:
        return []
    rows, running, reached = [], 0.0, False
    for i, key in enumerate(order):
        label, value = values[key]
        running = covered[i] if covered is not None else running + value
        share, cumulative = value / total * 100, running / total * 100
        rows.append(ParetoRow(key, label, value, share, cumulative, not reached))
        # Compare in counts, not rounded percentages, so 79.99...% never passes as 80%.
        reached = reached or running * 100 >= cutoff * total
    return rows
