"""Every formula of the value ledger on hand-computed cases, intervals and "not enough data" included."""

import math

import pytest
from scipy import stats

from outcomes import value


def test_newcombe_difference_matches_newcombes_published_example():
    # Newcombe (1998), Statistics in Medicine 17:873, table II: 56/70 − 48/80, method 10 → 0.0524 to 0.3339.
    diff, low, high = value.newcombe_difference(56, 70, 48, 80)
    assert diff == pytest.approx(0.2)
    assert low == pytest.approx(0.0524, abs=5e-5)
    assert high == pytest.approx(0.3339, abs=5e-5)


def test_newcombe_difference_hand_computed_from_wilson_limits():
    # 20/50 − 30/250: Wilson limits 0.27608..0.53819 and 0.08536..0.16614 (scipy's Wilson agrees).
    w1 = stats.binomtest(20, 50).proportion_ci(method="wilson")
    w2 = stats.binomtest(30, 250).proportion_ci(method="wilson")
    diff, low, high = value.newcombe_difference(20, 50, 30, 250)
    assert diff == pytest.approx(0.28)
    assert low == pytest.approx(0.28 - math.hypot(0.4 - w1.low, w2.high - 0.12))
    assert high == pytest.approx(0.28 + math.hypot(w1.high - 0.4, 0.12 - w2.low))
    assert (round(low, 4), round(high, 4)) == (0.1478, 0.4225)


def test_excess_churn_with_interval():
    f = value.excess_churn(churned_raised=20, raised=50, churned_other=30, other=250)
    assert f.value == pytest.approx(0.28)
    assert (round(f.low, 4), round(f.high, 4)) == (0.1478, 0.4225)
    assert f.inputs["churn rate, raised it"] == pytest.approx(0.4)
    assert f.note == ""


def test_excess_churn_says_when_the_interval_includes_no_excess():
    f = value.excess_churn(churned_raised=3, raised=20, churned_other=2, other=20)
    assert f.value == pytest.approx(0.05)
    assert f.low < 0 < f.high
    assert "chance" in f.note


@pytest.mark.parametrize("raised,other", [(9, 500), (500, 9), (0, 0)])
def test_excess_churn_needs_ten_customers_in_each_group(raised, other):
    f = value.excess_churn(churned_raised=min(raised, 3), raised=raised, churned_other=min(other, 3), other=other)
    assert f.value is None and not f.known
    assert f.note.startswith("Not enough data")
    assert f.as_dict()["value"] is None


def test_revenue_at_risk_is_annual_and_not_zero_without_customers():
    assert value.revenue_at_risk(customers=3, monthly_revenue=150.0).value == 1800.0
    empty = value.revenue_at_risk(customers=0, monthly_revenue=None)
    assert empty.value is None and "Not enough data" in empty.note


def test_lifetime_value_discounted_and_undiscounted():
    # 600 a year, 20 % churn: 600 / 0.2 = 3000; discounted at 10 %: 600 × 1.1 / 0.3 = 2200.
    assert value.customer_lifetime_value(annual_margin=600, annual_churn=0.2, discount_rate=0, customers=5).value == (
        pytest.approx(3000)
    )
    f = value.customer_lifetime_value(annual_margin=600, annual_churn=0.2, discount_rate=0.1, customers=5)
    assert f.value == pytest.approx(2200)
    nobody_left = value.customer_lifetime_value(annual_margin=600, annual_churn=0.0, discount_rate=0, customers=5)
    assert nobody_left.value is None and "churned" in nobody_left.note


def test_expected_loss_is_affected_times_excess_times_lifetime_value_with_the_interval():
    excess = value.excess_churn(churned_raised=20, raised=50, churned_other=30, other=250)
    clv = value.Figure(2200.0, "clv")
    loss = value.expected_loss(affected=30, excess=excess, clv=clv)
    assert loss.value == pytest.approx(30 * 0.28 * 2200)
    assert loss.low == pytest.approx(30 * excess.low * 2200)
    assert loss.high == pytest.approx(30 * excess.high * 2200)


def test_expected_loss_is_never_negative():
    # 2/20 − 6/20 = −0.20: those who raised it churned less; the loss is zero, the interval truncated.
    excess = value.excess_churn(churned_raised=2, raised=20, churned_other=6, other=20)
    assert excess.value == pytest.approx(-0.2) and excess.high > 0
    loss = value.expected_loss(affected=10, excess=excess, clv=value.Figure(1000.0, "clv"))
    assert (loss.value, loss.low) == (0.0, 0.0) and loss.high == pytest.approx(excess.high * 10 * 1000)
    assert "No excess churn measured" in loss.note
    positive = value.expected_loss(
        affected=10,
        excess=value.excess_churn(churned_raised=3, raised=20, churned_other=2, other=20),
        clv=value.Figure(1000.0, "clv"),
    )
    assert positive.value == pytest.approx(500) and positive.low == 0.0


def test_expected_loss_passes_on_why_it_is_unknown():
    excess = value.excess_churn(churned_raised=1, raised=4, churned_other=30, other=250)
    loss = value.expected_loss(affected=4, excess=excess, clv=value.Figure(2200.0, "clv"))
    assert loss.value is None and loss.note == excess.note


def test_failure_demand_cost_per_channel():
    f = value.failure_demand_cost(
        contacts={"phone": 120, "chat": 40}, costs={"phone": 6.5, "chat": 2.0}, currency="EUR"
    )
    assert f.value == pytest.approx(120 * 6.5 + 40 * 2.0)  # 860
    assert f.inputs["cost per contact, phone (EUR)"] == 6.5


def test_failure_demand_cost_uses_the_default_cost_for_other_channels():
    f = value.failure_demand_cost(contacts={"phone": 10, "": 5}, costs={"phone": 6.0, "": 1.0}, currency="EUR")
    assert f.value == pytest.approx(65)


def test_failure_demand_cost_not_enough_data():
    assert value.failure_demand_cost(contacts={}, costs={"phone": 6}, currency="EUR").value is None
    unpriced = value.failure_demand_cost(contacts={"phone": 10, "web": 3}, costs={"phone": 6}, currency="EUR")
    assert unpriced.value is None and "web" in unpriced.note


def test_annual_cost_adds_what_is_known():
    loss = value.Figure(1000.0, "", low=400.0, high=1600.0)
    fail = value.Figure(200.0, "")
    both = value.annual_cost(loss=loss, failure=fail)
    assert (both.value, both.low, both.high) == (1200.0, 600.0, 1800.0)
    only_failure = value.annual_cost(loss=value.missing("", "no"), failure=fail)
    assert only_failure.value == 200.0 and only_failure.low is None  # nothing uncertain: no interval
    assert value.annual_cost(loss=value.missing("", "no"), failure=value.missing("", "no")).value is None


def test_mean_change_welch_interval_hand_computed():
    # means 12 → 8 (lower is better): change 4; each variance of the mean 4/3, se 1.633, 4 degrees of freedom.
    change, low, high = value.mean_change([10, 12, 14], [6, 8, 10], lower_is_better=True)
    half = stats.t.ppf(0.975, 4) * math.sqrt(8 / 3)
    assert change == pytest.approx(4)
    assert (low, high) == (pytest.approx(4 - half), pytest.approx(4 + half))
    ci = stats.ttest_ind([10, 12, 14], [6, 8, 10], equal_var=False).confidence_interval()
    assert (low, high) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert value.mean_change([1], [1, 2], lower_is_better=True) is None


def test_value_realised_effective_partial_not_effective_and_inconclusive():
    cost = value.Figure(10000.0, "")
    change = (0.05, 0.02, 0.08)  # the share fell 5 points (2 to 8)
    effective = value.value_realised(verdict="effective", change=change, baseline=0.20, cost=cost, unit="share")
    assert effective.value == pytest.approx(2500)  # 0.05 × 10000 / 0.20
    assert (effective.low, effective.high) == (pytest.approx(1000), pytest.approx(4000))
    partial = value.value_realised(verdict="partial", change=change, baseline=0.20, cost=cost, unit="share")
    assert partial.value == pytest.approx(2500) and "Partially" in partial.note
    nothing = value.value_realised(verdict="not_effective", change=change, baseline=0.20, cost=cost, unit="share")
    assert nothing.value == 0.0
    unsure = value.value_realised(verdict="inconclusive", change=None, baseline=0.2, cost=cost, unit="share")
    assert unsure.value is None and "too little data" in unsure.note
    unverified = value.value_realised(verdict="", change=None, baseline=None, cost=cost, unit="")
    assert unverified.value is None


def test_value_realised_without_a_cost_is_not_zero():
    f = value.value_realised(
        verdict="effective", change=(0.05, 0.02, 0.08), baseline=0.2, cost=value.missing("", "no cost known"), unit=""
    )
    assert f.value is None and f.note == "no cost known"
