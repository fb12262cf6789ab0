"""Pareto figures against hand-computed data."""

import pytest

from rootcause.pareto import pareto


def test_counts_shares_cumulative_and_vital_few():
    rows = pareto({"a": ("Billing errors", 50), "b": ("Late delivery", 30), "c": ("App", 15), "d": ("Other", 5)})
    assert [(r.label, r.value, r.share, r.cumulative, r.vital) for r in rows] == [
        ("Billing errors", 50, 50.0, 50.0, True),
        ("Late delivery", 30, 30.0, 80.0, True),  # reaches exactly 80%: the vital few stop here
        ("App", 15, 15.0, 95.0, False),
        ("Other", 5, 5.0, 100.0, False),
    ]


def test_a_top_set_at_79_9_percent_needs_one_more():
    rows = pareto({"a": ("A", 500), "b": ("B", 299), "c": ("C", 101), "d": ("D", 100)})
    assert [round(r.cumulative, 1) for r in rows] == [50.0, 79.9, 90.0, 100.0]
    assert [r.vital for r in rows] == [True, True, True, False]


def test_ties_sort_by_label_and_the_cut_off_is_configurable():
    rows = pareto({"x": ("Zeta", 10), "y": ("Alpha", 10), "z": ("Mid", 5)}, cutoff=40)
    assert [r.label for r in rows] == ["Alpha", "Zeta", "Mid"]
    assert [r.vital for r in rows] == [True, False, False]


def test_empty_or_zero_gives_no_rows():
    assert pareto({}) == []
    assert pareto({"a": ("A", 0)}) == []


@pytest.mark.parametrize("cutoff", [100.0])
def test_a_cut_off_of_100_takes_every_theme(cutoff):
    assert all(r.vital for r in pareto({"a": ("A", 3), "b": ("B", 1)}, cutoff=cutoff))
