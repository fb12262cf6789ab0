"""Two recalculations of one metric at once, recalculation of only the touched periods, series metrics."""

import threading
from datetime import UTC, date, datetime

import pytest
from django.db import connections

from metrics import services
from metrics.models import Customer, Metric, MetricValue, Observation, SurveyResponse


def _responses(month_scores):
    SurveyResponse.objects.bulk_create(
        SurveyResponse(
            source="pulse",
            external_id=f"{m}-{i}",
            responded_at=datetime(2026, m, 10, tzinfo=UTC),
            score=s,
            scale="csat",
            segment="A" if i % 2 else "B",
        )
        for m, scores in month_scores.items()
        for i, s in enumerate(scores)
    )


@pytest.mark.django_db(transaction=True)
def test_two_recalculations_at_once_leave_one_correct_set():
    _responses({9: [5, 4, 1, 2], 10: [5, 5, 5, 1]})
    metric = Metric.objects.create(
        name="C", slug="c", calculator="csat", kind="outcome", source="pulse", segment_by="segment"
    )
    errors = []

    def run():
        try:
            services.metric_recalculate(metric=metric)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    values = {(v.period_start.month, v.segment): v.value for v in MetricValue.objects.filter(metric=metric)}
    assert values == {(9, ""): 50.0, (9, "A"): 50.0, (9, "B"): 50.0, (10, ""): 75.0, (10, "A"): 50.0, (10, "B"): 100.0}


@pytest.mark.django_db
def test_new_data_queues_only_the_periods_it_touches(django_capture_on_commit_callbacks, sent_tasks):
    metric = Metric.objects.create(name="C", slug="c", calculator="csat", kind="outcome", source="pulse")
    Metric.objects.create(name="Other", slug="o", calculator="csat", kind="outcome", source="elsewhere")
    with django_capture_on_commit_callbacks(execute=True):
        services.responses_upsert(
            responses=[
                SurveyResponse(
                    source="pulse",
                    external_id="x",
                    responded_at=datetime(2026, 10, 3, tzinfo=UTC),
                    score=5,
                    scale="csat",
                ),
                SurveyResponse(
                    source="pulse",
                    external_id="y",
                    responded_at=datetime(2026, 10, 20, tzinfo=UTC),
                    score=2,
                    scale="csat",
                ),
            ]
        )
    assert [kwargs for name, kwargs in sent_tasks if name == "metrics.recalculate"] == [
        {"metric_id": metric.pk, "period_from": "2026-10-03", "period_to": "2026-10-20"}
    ]


@pytest.mark.django_db
def test_recalculating_a_window_leaves_other_periods_alone():
    _responses({9: [5, 1], 10: [5, 5]})
    metric = Metric.objects.create(name="C", slug="c", calculator="csat", kind="outcome", source="pulse")
    services.metric_recalculate(metric=metric)
    september = MetricValue.objects.get(metric=metric, period_start=date(2026, 9, 1))
    SurveyResponse.objects.filter(external_id="10-1").update(score=1)
    services.metric_recalculate(metric=metric, period_from=date(2026, 10, 5), period_to=date(2026, 10, 5))
    assert MetricValue.objects.get(metric=metric, period_start=date(2026, 9, 1)).computed_at == september.computed_at
    assert MetricValue.objects.get(metric=metric, period_start=date(2026, 10, 1)).value == 50.0


@pytest.mark.django_db
def test_series_metrics_ratio_and_failure_cost():
    stamp = datetime(2026, 10, 5, tzinfo=UTC)
    Observation.objects.bulk_create(
        [
            Observation(source="failure-contacts", external_id=str(i), observed_at=stamp, value=v)
            for i, v in enumerate([30, 10])
        ]
        + [Observation(source="all-contacts", external_id="t", observed_at=stamp, value=160)]
    )
    ratio = Metric.objects.create(
        name="Share",
        slug="share",
        calculator="ratio",
        kind="output",
        source="failure-contacts",
        denominator_source="all-contacts",
    )
    cost = Metric.objects.create(
        name="Cost",
        slug="cost",
        calculator="failure_cost",
        kind="business",
        source="failure-contacts",
        unit_cost="4.50",
    )
    services.metric_recalculate(metric=ratio)
    services.metric_recalculate(metric=cost)
    assert MetricValue.objects.get(metric=ratio).value == pytest.approx(0.25)
    assert MetricValue.objects.get(metric=cost).value == pytest.approx(180.0)


@pytest.mark.django_db
def test_revenue_at_risk_sums_dissatisfied_active_customers(org, client_for):
    Customer.objects.bulk_create(
        [
            Customer(external_id="c1", category="Month-to-month", monthly_revenue=50, started_on=date(2025, 1, 1)),
            Customer(external_id="c2", category="Month-to-month", monthly_revenue=70, started_on=date(2025, 1, 1)),
            Customer(
                external_id="c3",
                category="One year",
                monthly_revenue=90,
                started_on=date(2025, 1, 1),
                ended_on=date(2026, 10, 2),
            ),
        ]
    )
    now = datetime(2026, 10, 10, tzinfo=UTC)
    SurveyResponse.objects.bulk_create(
        [
            SurveyResponse(source="s", external_id="1", customer_id="c1", responded_at=now, score=3, scale="nps"),
            SurveyResponse(source="s", external_id="2", customer_id="c2", responded_at=now, score=9, scale="nps"),
            SurveyResponse(source="s", external_id="3", customer_id="c3", responded_at=now, score=1, scale="csat"),
        ]
    )
    rows = client_for(org["stakeholder"]).get("/metrics/business-impact/").context["rows"]
    by_category = {r["category"]: r["revenue_at_risk"] for r in rows}
    assert by_category["All customers"] == 50.0 and by_category["Month-to-month"] == 50.0
