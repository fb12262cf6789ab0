"""Control-chart limits and signals against the NIST/SEMATECH e-Handbook's worked examples
(section 6.3.2.2 individuals chart, 6.3.3.1 c-chart, 6.3.3.2 p-chart), plus the Western
Electric rules and Laney's p′ correction. A point exactly on a limit is not beyond it."""

import math

import pytest

from alerts import charts

# NIST 6.3.2.2: flow rate of the first ten batches of a new process.
NIST_INDIVIDUALS = [49.6, 47.6, 49.9, 51.3, 47.8, 51.2, 52.6, 52.4, 53.6, 52.1]
# NIST 6.3.3.1: defects on each of 25 wafers.
NIST_WAFER_DEFECTS = [
    16,
    14,
    28,
    16,
    12,
    20,
    10,
    12,
    10,
    17,
    19,
    17,
    14,
    16,
    15,
    13,
    14,
    16,
    11,
    20,
    11,
    19,
    16,
    31,
    13,
]
# NIST 6.3.3.2: proportion of the 50 chips on each of 30 wafers with a misregistration.
NIST_P = [
    0.24, 0.30, 0.16, 0.20, 0.08, 0.14, 0.32, 0.18, 0.28, 0.20,
    0.10, 0.12, 0.34, 0.24, 0.44, 0.16, 0.20, 0.10, 0.26, 0.22,
    0.40, 0.36, 0.48, 0.30, 0.18, 0.24, 0.14, 0.26, 0.18, 0.12,
]  # fmt: skip


def test_individuals_chart_matches_nist_flow_rate_example():
    limits = charts.individuals_limits(NIST_INDIVIDUALS)
    assert limits.centre == pytest.approx(50.81)
    assert limits.sigmas[0] * charts.D2 == pytest.approx(1.8778, abs=1e-4)  # average moving range
    assert limits.ucl() == pytest.approx(55.80, abs=0.005)
    assert limits.lcl() == pytest.approx(45.82, abs=0.005)
    assert charts.western_electric(NIST_INDIVIDUALS, limits, rules=(1,)) == []


def test_c_chart_matches_nist_wafer_example_and_a_point_on_the_limit_is_not_beyond_it():
    result = charts.chart(charts.C_CHART, NIST_WAFER_DEFECTS, rules=(1,))
    assert result.limits.centre == 16
    assert result.limits.ucl() == 28 and result.limits.lcl() == 4
    # Wafer 3 has exactly 28 defects, on the upper limit: not a signal. Wafer 24 (31) is beyond it.
    assert NIST_WAFER_DEFECTS[2] == result.limits.ucl()
    assert [(s.index + 1, s.rule) for s in result.signals] == [(24, 1)]


def test_p_chart_matches_nist_misregistration_example():
    sizes = [50] * len(NIST_P)
    result = charts.chart(charts.P_CHART, NIST_P, sizes, rules=(1,))
    assert result.limits.centre == pytest.approx(0.2313, abs=5e-5)
    assert result.limits.ucl() == pytest.approx(0.4102, abs=5e-5)
    assert result.limits.lcl() == pytest.approx(0.0524, abs=5e-5)
    assert [s.index + 1 for s in result.signals] == [15, 23]  # 0.44 and 0.48


def test_p_chart_point_exactly_on_the_upper_limit_is_not_a_signal():
    # Limits from the 30 published wafers; a 31st wafer lands exactly on the upper limit.
    base = slice(0, len(NIST_P))
    limits = charts.p_limits(NIST_P, [50] * len(NIST_P))
    for value, signals in ((limits.ucl(), []), (math.nextafter(limits.ucl(), 1.0), [30])):
        values = [*NIST_P, value]
        result = charts.chart(charts.P_CHART, values, [50] * len(values), baseline=base, rules=(1,))
        assert [s.index for s in result.signals if s.index == 30] == signals


def test_p_chart_limits_vary_with_the_sample_size():
    limits = charts.p_limits([0.1, 0.2, 0.15], [100, 400, 25])
    p_bar = (10 + 80 + 3.75) / 525
    assert limits.centre == pytest.approx(p_bar)
    assert limits.ucl(1) == pytest.approx(p_bar + 3 * math.sqrt(p_bar * (1 - p_bar) / 400))
    assert limits.lcl(2) == 0.0  # clipped


def test_laney_widens_limits_when_large_samples_overdisperse():
    # Monthly CSAT from 20,000 answers each: real month-to-month variation far exceeds binomial noise.
    proportions = [0.80, 0.82, 0.79, 0.81, 0.83, 0.78, 0.80, 0.82, 0.81, 0.79, 0.80, 0.84]
    sizes = [20_000] * len(proportions)
    plain = charts.chart(charts.P_CHART, proportions, sizes)
    laney = charts.chart(charts.LANEY, proportions, sizes)
    assert len(plain.signals) > 4  # the plain p-chart cries wolf
    assert laney.limits.sigma_z > 5
    assert [s for s in laney.signals if s.rule == 1] == []


def test_laney_sigma_z_by_hand():
    p, n = [0.1, 0.3, 0.2], [100, 100, 100]
    p_bar, sigma = 0.2, math.sqrt(0.2 * 0.8 / 100)
    z = [(x - p_bar) / sigma for x in p]
    sigma_z = (abs(z[1] - z[0]) + abs(z[2] - z[1])) / 2 / 1.128
    limits = charts.p_limits(p, n, laney=True)
    assert limits.sigma_z == pytest.approx(sigma_z)
    assert limits.ucl() == pytest.approx(p_bar + 3 * sigma * sigma_z)


def _limits(centre=0.0, sigma=1.0, n=20):
    return charts.Limits(centre, [sigma] * n)


@pytest.mark.parametrize(
    ("values", "rule", "at"),
    [
        ([0, 0, 3.5], 1, [2]),
        ([0, 0, -3.01], 1, [2]),
        ([0, 2.5, 0.5, 2.2], 2, [3]),  # 2 of 3 beyond 2σ above
        ([0, -2.1, -2.2], 2, [2]),
        ([1.5, 1.2, 0.3, 1.1, 1.4], 3, [4]),  # 4 of 5 beyond 1σ
        ([0.1, 0.2, 0.3, 0.1, 0.5, 0.2, 0.1, 0.4], 4, [7]),  # 8 in a row above
        ([-0.1] * 9, 4, [7, 8]),
    ],
)
def test_western_electric_rules(values, rule, at):
    signals = charts.western_electric(values, _limits(n=len(values)), rules=(rule,))
    assert [s.index for s in signals] == at


@pytest.mark.parametrize(
    ("values", "rule"),
    [
        ([0, 0, 3.0], 1),  # exactly on 3σ
        ([0, 2.0, 2.0], 2),  # exactly on 2σ twice
        ([1.0, 1.0, 1.0, 1.0, 1.0], 3),  # exactly on 1σ four times and more
        ([0.1, 0.2, 0.3, 0.0, 0.5, 0.2, 0.1, 0.4], 4),  # a point on the centre line breaks the run
        ([0, 2.5, 0.5, -2.2], 2),  # beyond 2σ but on opposite sides
    ],
)
def test_points_on_a_limit_or_on_opposite_sides_are_not_signals(values, rule):
    assert charts.western_electric(values, _limits(n=len(values)), rules=(rule,)) == []


def test_too_few_points_or_missing_sample_sizes_are_refused_clearly():
    with pytest.raises(ValueError, match="at least two points"):
        charts.individuals_limits([1.0])
    with pytest.raises(ValueError, match="sample size"):
        charts.p_limits([0.1, 0.2], [10, 0])


def test_p_chart_limits_stay_between_zero_and_one():
    limits = charts.p_limits([1.0, 0.5, 0.9], [2, 2, 2])
    assert limits.ucl() == 1.0 and limits.lcl() == 0.0


def test_on_the_textbook_p_chart_rule_1_alone_flags_15_and_23_and_all_four_rules_add_22_and_24():
    sizes = [50] * len(NIST_P)
    flagged = {s.index + 1 for s in charts.chart(charts.P_CHART, NIST_P, sizes, rules=(1,)).signals}
    assert flagged == {15, 23}
    everything = {s.index + 1 for s in charts.chart(charts.P_CHART, NIST_P, sizes).signals}
    assert {22, 24} <= everything - flagged


@pytest.mark.parametrize(
    ("values", "test", "at"),
    [
        ([5, 1, 2, 3, 4, 5, 6, 9, 3], 5, 6),  # six points steadily rising (the sixth is index 6)
        ([0, 1] * 7 + [0], 6, 13),  # fourteen points alternating up and down
        ([0.1, -0.1] * 8, 7, 14),  # fifteen points hugging the centre line
        ([2, -2] * 5, 8, 7),  # eight points beyond 1σ on both sides, none near the centre
    ],
)
def test_nelson_tests_5_to_8_fire_where_their_pattern_completes(values, test, at):
    limits = charts.Limits(0.0, [1.0] * len(values))
    found = charts.western_electric(values, limits, rules=(test,))
    assert found and found[0].index == at and found[0].rule == test
    assert charts.rule_name(test) == f"Nelson test {test}"
