"""Business metrics: cost to serve, cost to acquire, net growth, share of wallet and discounted
lifetime value, on hand-computed cases; classified "business" in the KPI audit."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd
import pytest
from django.core.exceptions import ValidationError

from metrics import calculations, selectors, services
from metrics.models import Customer, Metric, MetricValue, Observation

OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)
PERIODS = [(OCT, NOV), (NOV, date(2026, 12, 1))]


def _customers():
    # a: since before, still here; b: lost 15 Oct; c: new 5 Oct; d: new 3 Nov, lost 20 Nov; e: no start date.
    return pd.DataFrame(
        {
            "started_on": [date(2026, 1, 1), date(2026, 1, 1), date(2026, 10, 5), date(2026, 11, 3), None],
            "ended_on": [None, date(2026, 10, 15), None, date(2026, 11, 20), None],
        }
    )


def test_customer_counts_per_period():
    counts = calculations.customer_counts(_customers(), PERIODS)
    assert counts[OCT] == {"active": 4, "at_start": 3, "new": 1, "lost": 1}  # a, b, c, e active; a, b, e at start
    assert counts[NOV] == {"active": 4, "at_start": 3, "new": 1, "lost": 1}  # a, c, d, e; a, c, e at start


def test_cost_to_serve_and_cost_to_acquire_per_customer():
    counts = calculations.customer_counts(_customers(), PERIODS)
    costs = pd.DataFrame({"period": [OCT, OCT, NOV], "value": [300.0, 100.0, 200.0]})
    serve = calculations.per_customer(costs, counts, "active")
    assert [(r.period, r.value, r.sample_size) for r in serve] == [(OCT, 100.0, 4), (NOV, 50.0, 4)]
    acquire = calculations.per_customer(costs, counts, "new")
    assert [(r.value, r.sample_size) for r in acquire] == [(400.0, 1), (200.0, 1)]


def test_cost_per_customer_without_customers_has_no_value():
    costs = pd.DataFrame({"period": [OCT], "value": [300.0]})
    assert calculations.per_customer(costs, {OCT: {"active": 0, "new": 0}}, "new") == []


def test_net_growth_is_new_minus_lost():
    counts = calculations.customer_counts(_customers(), PERIODS)
    counts[NOV]["new"] = 4
    assert [(r.value, r.sample_size) for r in calculations.net_growth(counts)] == [(0.0, 3), (3.0, 3)]


def test_share_of_wallet_is_a_percentage_of_two_series_without_a_binomial_interval():
    ours = pd.DataFrame({"period": [OCT], "value": [250.0]})
    whole = pd.DataFrame({"period": [OCT, OCT], "value": [600.0, 400.0]})
    (r,) = calculations.series_metric(ours, "share_of_wallet", denominator=whole)
    assert r.value == pytest.approx(25.0)
    assert r.ci_low is None and r.sample_size is None


def test_discounted_lifetime_value():
    # 50 a month, 2 % monthly churn, 10 % a year discount → monthly d = 1.1^(1/12) − 1 = 0.007974.
    d = calculations.annual_to_period_rate(0.10, 1)
    assert d == pytest.approx(0.0079741404)
    assert calculations.lifetime_value(50, 0.02, d) == pytest.approx(50 * (1 + d) / (d + 0.02))
    assert calculations.lifetime_value(50, 0.02, d) == pytest.approx(1801.6, abs=0.1)  # 50.3987 / 0.0279741
    assert calculations.lifetime_value(50, 0.0, d) is None


# --- recalculation from the database ------------------------------------------------------------


@pytest.fixture
def shop(db):
    Customer.objects.bulk_create(
        [
            Customer(external_id="a", started_on=date(2026, 1, 1), monthly_revenue=Decimal(50)),
            Customer(
                external_id="b", started_on=date(2026, 1, 1), ended_on=date(2026, 10, 15), monthly_revenue=Decimal(50)
            ),
            Customer(external_id="c", started_on=date(2026, 10, 5), monthly_revenue=Decimal(50)),
        ]
    )
    for i, (day, amount) in enumerate([(3, 300.0), (20, 150.0)]):
        Observation.objects.create(
            source="service-costs",
            external_id=str(i),
            observed_at=datetime(2026, 10, day, 12, tzinfo=UTC),
            value=amount,
        )


def _metric(**fields):
    metric = Metric(name=fields["slug"], kind="business", granularity="month", **fields)
    return metric


def test_cost_to_serve_metric_recalculates(shop, org):
    metric = services.metric_save(
        user=org["admin"],
        metric=Metric(),
        fields={
            "name": "Cost to serve",
            "slug": "cts",
            "kind": "business",
            "calculator": "cost_to_serve",
            "source": "service-costs",
            "granularity": "month",
        },
    )
    services.metric_recalculate(metric=metric)
    (value,) = MetricValue.objects.filter(metric=metric)
    assert (value.period_start, value.value, value.sample_size) == (OCT, 150.0, 3)  # 450 / 3 active


def test_cost_to_acquire_and_net_growth_recalculate(shop):
    acquire = Metric.objects.create(
        name="CAC", slug="cac", kind="business", calculator="cost_to_acquire", source="service-costs"
    )
    services.metric_recalculate(metric=acquire)
    assert [(v.period_start, v.value) for v in MetricValue.objects.filter(metric=acquire)] == [(OCT, 450.0)]
    growth = Metric.objects.create(name="Growth", slug="growth", kind="business", calculator="net_growth")
    services.metric_recalculate(metric=growth)
    assert MetricValue.objects.get(metric=growth, period_start=OCT).value == 0.0  # c joined, b left
    assert MetricValue.objects.get(metric=growth, period_start=date(2026, 1, 1)).value == 2.0


def test_discounted_lifetime_value_metric_uses_its_discount_rate(shop):
    metric = Metric.objects.create(
        name="dCLV", slug="dclv", kind="business", calculator="clv_discounted", discount_rate=10.0
    )
    services.metric_recalculate(metric=metric)
    october = MetricValue.objects.get(metric=metric, period_start=OCT, segment="")
    d = calculations.annual_to_period_rate(0.10, 1)
    assert october.value == pytest.approx(50 * (1 + d) / (d + 0.5))  # 1 of the 2 at the start churned


def test_business_calculators_must_be_classified_business(org):
    with pytest.raises(ValidationError) as caught:
        services.metric_save(
            user=org["admin"],
            metric=Metric(),
            fields={
                "name": "Growth",
                "slug": "growth",
                "kind": "output",
                "calculator": "net_growth",
                "granularity": "month",
            },
        )
    assert "kind" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.metric_save(
            user=org["admin"],
            metric=Metric(),
            fields={
                "name": "dCLV",
                "slug": "dclv",
                "kind": "business",
                "calculator": "clv_discounted",
                "granularity": "month",
            },
        )
    assert "discount_rate" in caught.value.message_dict


def test_business_metrics_count_as_business_in_the_kpi_audit(org):
    for slug, calculator, extra in [
        ("cts", "cost_to_serve", {"source": "costs"}),
        ("sow", "share_of_wallet", {"source": "ours", "denominator_source": "all"}),
    ]:
        services.metric_save(
            user=org["admin"],
            metric=Metric(),
            fields={
                "name": slug,
                "slug": slug,
                "kind": "business",
                "calculator": calculator,
                "granularity": "month",
                "owning_function": org["billing"],
                **extra,
            },
        )
    (billing,) = [row for row in selectors.kpi_audit() if row["function"] == org["billing"]]
    assert billing["mix"]["business"] == 2
