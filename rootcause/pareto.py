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


def pareto(values: dict[object, tuple[str, float]], cutoff: float = 80.0) -> list[ParetoRow]:
    """Rows sorted by value (then label); the vital few are the smallest set of top rows whose
    cumulative share reaches the cut-off (a row that brings it from 79.9% to past 80% is in)."""
    total = sum(v for _, v in values.values())
    if total <= 0:
        return []
    rows, running, reached = [], 0.0, False
    for key, (label, value) in sorted(values.items(), key=lambda item: (-item[1][1], item[1][0])):
        if value <= 0:
            continue
        running += value
        share, cumulative = value / total * 100, running / total * 100
        rows.append(ParetoRow(key, label, value, share, cumulative, not reached))
        # Compare in counts, not rounded percentages, so 79.99...% never passes as 80%.
        reached = reached or running * 100 >= cutoff * total
    return rows
