"""u-charts for rates per unit, and which chart kinds suit which calculator (one mapping, in
metrics.calculations, read by the rule engine and the rule checks)."""

import math

import pytest

from alerts import charts, evaluation
from metrics import calculations

# Montgomery, Introduction to Statistical Quality Control (Example "nonconformities in personal
# computers"): 20 samples of 5 computers each, 193 nonconformities in all; published ū = 1.93,
# UCL = 3.79, LCL = 0.07 and no point out of control.
PC_NONCONFORMITIES = [10, 12, 8, 14, 10, 16, 11, 7, 10, 15, 9, 5, 7, 11, 12, 6, 8, 10, 7, 5]


def test_u_chart_of_the_personal_computer_example_has_the_published_limits():
    rates = [x / 5 for x in PC_NONCONFORMITIES]
    result = charts.chart(charts.U_CHART, rates, [5] * 20)
    assert result.limits.centre == pytest.approx(1.93)
    assert round(result.limits.ucl(), 2) == 3.79
    assert round(result.limits.lcl(), 2) == 0.07
    assert [s for s in result.signals if s.rule == 1] == []


def test_u_chart_limits_narrow_as_the_units_grow_and_a_point_on_the_limit_is_not_beyond_it():
    limits = charts.u_limits([0.02, 0.03, 0.025], [100, 400, 200])
    ucl = [limits.ucl(i) for i in range(3)]
    assert ucl[1] < ucl[2] < ucl[0]
    u_bar = (2 + 12 + 5) / 700
    assert limits.centre == pytest.approx(u_bar)
    assert ucl[0] == pytest.approx(u_bar + 3 * math.sqrt(u_bar / 100))
    on_limit = charts.western_electric([ucl[0], 0.03, 0.025], limits, rules=(1,))
    assert on_limit == []


def test_u_chart_needs_the_units_of_every_point():
    with pytest.raises(ValueError, match="units above zero"):
        charts.u_limits([0.1, 0.2], [10, 0])


@pytest.mark.parametrize(
    ("calculator", "kinds"),
    [
        ("csat", ("p", "laney", "individuals")),
        ("churn", ("p", "laney", "individuals")),
        ("proportion", ("p", "laney", "individuals")),
        ("series_proportion", ("p", "laney", "individuals")),
        ("count", ("c", "individuals")),
        ("rate", ("u", "individuals")),
        ("nps", ("individuals",)),
        ("ratio", ("individuals",)),
    ],
)
def test_each_calculator_names_the_charts_that_suit_it(calculator, kinds):
    assert calculations.chart_kinds(calculator) == kinds


def test_the_automatic_chart_follows_the_calculator():
    rule = evaluation.RuleSpec(kind="control")
    points = [evaluation.Point(None, 10.0, 200) for _ in range(12)]  # type: ignore[arg-type]
    assert evaluation.chart_kind(rule, "proportion", points) == charts.P_CHART
    assert evaluation.chart_kind(rule, "series_proportion", points) == charts.P_CHART
    assert evaluation.chart_kind(rule, "rate", points) == charts.U_CHART
    unsized = [evaluation.Point(None, 10.0) for _ in range(12)]  # type: ignore[arg-type]
    assert evaluation.chart_kind(rule, "rate", unsized) == charts.INDIVIDUALS


def test_every_chart_the_calculators_name_can_be_chosen_on_a_rule():
    from alerts.models import ChartKind

    named = {
        kind
        for calculator in ("csat", "proportion", "count", "rate", "nps")
        for kind in calculations.chart_kinds(calculator)
    }
    assert named <= set(ChartKind.values)  # a rate's u-chart was reachable only through "automatic"
    rule = evaluation.RuleSpec(kind="control", chart=ChartKind.U)
    assert evaluation.chart_kind(rule, "rate", [evaluation.Point(None, 1.5, 40) for _ in range(12)]) == charts.U_CHART  # type: ignore[arg-type]
