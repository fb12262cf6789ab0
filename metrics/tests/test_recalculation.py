"""Recalculation against the facts of ../shared/data/README.md, upserts and failures."""

from datetime import date

import pytest
from django.core.management import call_command

from metrics import services
from metrics.models import Metric, MetricValue


@pytest.fixture(scope="module")
def demo_data(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
        yield
        call_command("flush", interactive=False, verbosity=0)


def _metric(**fields):
    defaults = {"kind": "outcome", "granularity": "month"}
    return Metric.objects.create(**{**defaults, **fields})


@pytest.mark.django_db
def test_review_csat_matches_the_published_774_percent(demo_data):
    metric = _metric(name="T review CSAT", slug="t-review-csat", calculator="csat", source="clothing-reviews")
    services.metric_recalculate(metric=metric)
    values = MetricValue.objects.filter(metric=metric, segment="")
    assert values.count() == 13  # twelve months of reviews, starting mid-month
    top_two = sum(v.value / 100 * v.sample_size for v in values)
    assert sum(v.sample_size for v in values) == 1000
    assert top_two == pytest.approx(774)


@pytest.mark.django_db
def test_telco_churn_is_a_monthly_series_that_adds_up_to_the_published_figures_by_contract(demo_data):
    metric = _metric(name="T churn", slug="t-churn", calculator="churn", kind="business", segment_by="segment")
    services.metric_recalculate(metric=metric)
    values = MetricValue.objects.filter(metric=metric)
    # The demo spreads the cancellations over the twelve months up to its snapshot (31 Oct 2026).
    assert sorted({v.period_start for v in values}) == [
        date(2025, 11 + m, 1) if m < 2 else date(2026, m - 1, 1) for m in range(12)
    ]

    def lost_in(value):
        return round(value.value / 100 * value.sample_size)

    def lost(segment):
        return sum(round(v.value / 100 * v.sample_size) for v in values if v.segment == segment)

    assert lost("") == 1869
    assert (lost("Month-to-month"), lost("One year"), lost("Two year")) == (1655, 166, 48)
    october = {v.segment: v for v in values if v.period_start == date(2026, 10, 1)}
    # A month's churn, not the year's 26.5 %: 155 of the 5,329 subscribers active at October's start.
    assert (october[""].sample_size, lost_in(october[""])) == (5329, 155)
    assert october[""].value == pytest.approx(100 * 155 / 5329)
    assert october["Month-to-month"].value > october["One year"].value > october["Two year"].value


@pytest.mark.django_db
def test_recalculating_twice_upserts(demo_data):
    metric = _metric(name="T mean", slug="t-mean", calculator="mean", source="clothing-reviews", granularity="quarter")
    services.metric_recalculate(metric=metric)
    first = list(MetricValue.objects.filter(metric=metric).values_list("period_start", "segment", "value"))
    services.metric_recalculate(metric=metric)
    assert list(MetricValue.objects.filter(metric=metric).values_list("period_start", "segment", "value")) == first
    mean = sum(v * n for v, n in MetricValue.objects.filter(metric=metric).values_list("value", "sample_size")) / 1000
    assert mean == pytest.approx(4.194)


@pytest.mark.django_db
def test_segment_breakdown_and_filters(demo_data):
    metric = _metric(
        name="Dresses CSAT",
        slug="t-dresses",
        calculator="csat",
        source="clothing-reviews",
        filter_product="Dresses",
        segment_by="segment",
        granularity="quarter",
    )
    services.metric_recalculate(metric=metric)
    segments = set(MetricValue.objects.filter(metric=metric).values_list("segment", flat=True))
    assert segments == {"", "General", "General Petite"}
