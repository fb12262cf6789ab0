"""Any proportion or rate: the share of responses whose field has a value ("sentiment is negative",
"category is X"), the proportion of two series (part / whole) and the rate per unit of two series
(events / units), each with its n and interval, so p, Laney p′ and u-charts can judge them."""

from datetime import date

import pandas as pd
import pytest
from django.core.exceptions import ValidationError

from metrics import calculations, services
from metrics.models import Metric


def _define(org, **fields):
    return services.metric_save(
        user=org["admin"], metric=Metric(), fields={"kind": "outcome", "granularity": "day", **fields}
    )


def _values(metric):
    return [(v.period_start, round(v.value, 4), v.sample_size) for v in metric.values.order_by("period_start")]


def test_matching_reads_text_without_case_and_numbers_as_numbers():
    values = pd.Series(["Negative", " negative ", "positive", 1.0, 0.0, True, "1"])
    assert calculations.matches(values, ["negative"]).tolist() == [True, True, False, False, False, False, False]
    assert calculations.matches(values, ["1"]).tolist() == [False, False, False, True, False, False, True]
    assert calculations.matches(values, ["true"]).tolist() == [False, False, False, False, False, True, False]


def test_a_proportion_has_its_sample_size_and_a_wilson_interval():
    frame = pd.DataFrame({"period": [date(2026, 10, 1)] * 20, "hit": [True] * 5 + [False] * 15})
    (result,) = calculations.proportion_metric(frame)
    assert (result.value, result.sample_size) == (25.0, 20)
    assert (result.ci_low, result.ci_high) == pytest.approx(calculations.wilson(5, 20))


def test_a_rate_per_unit_has_an_exact_poisson_interval():
    low, high = calculations.poisson_rate_interval(10, 1000)
    # Garwood's interval for 10 events: 4.795 to 18.390.
    assert (low * 1000, high * 1000) == pytest.approx((4.7954, 18.3904), abs=1e-4)
    assert calculations.poisson_rate_interval(0, 100)[0] == 0.0


def test_share_of_negative_comments_is_a_proportion_of_the_responses_that_have_a_sentiment(org, api_for):
    rows = []
    for day, sentiments in ((1, ["negative", "positive", "Negative", "neutral"]), (2, ["positive", "negative"])):
        for i, sentiment in enumerate(sentiments):
            rows.append(
                {
                    "source": "reviews",
                    "external_id": f"{day}-{i}",
                    "responded_at": f"2026-10-0{day}T10:00:00Z",
                    "comment": "…",
                    "attributes": {"sentiment": sentiment},
                }
            )
    rows.append({"source": "reviews", "external_id": "2-x", "responded_at": "2026-10-02T11:00:00Z", "comment": "…"})
    assert api_for(org["cx"]).post("/api/ingest/responses/", rows, format="json").status_code == 200
    metric = _define(
        org,
        name="Negative share",
        calculator="proportion",
        source="reviews",
        condition_field="sentiment",
        condition_values="negative",
        unit="%",
    )
    services.metric_recalculate(metric=metric)
    # The response without a sentiment is outside the sample, not a "no".
    assert _values(metric) == [(date(2026, 10, 1), 50.0, 4), (date(2026, 10, 2), 50.0, 2)]
    first = metric.values.order_by("period_start").first()
    assert (first.ci_low, first.ci_high) == pytest.approx(calculations.wilson(2, 4))


def test_category_is_x_reads_a_response_field_and_several_values_count(org, api_for):
    rows = [
        {"source": "s", "external_id": str(i), "responded_at": "2026-10-01T10:00:00Z", "comment": "c", "channel": ch}
        for i, ch in enumerate(["phone", "email", "chat", "phone", ""])
    ]
    api_for(org["cx"]).post("/api/ingest/responses/", rows, format="json")
    metric = _define(
        org, name="Voice share", calculator="proportion", condition_field="channel", condition_values="phone, chat"
    )
    services.metric_recalculate(metric=metric)
    assert _values(metric) == [(date(2026, 10, 1), 75.0, 4)]


def test_a_proportion_of_two_series_is_the_part_over_the_whole_with_n(org, api_for):
    api = api_for(org["cx"])
    for source, values in (("defects", [3, 5]), ("inspected", [100, 250])):
        rows = [
            {"source": source, "external_id": str(d), "observed_at": f"2026-10-0{d + 1}T10:00:00Z", "value": v}
            for d, v in enumerate(values)
        ]
        assert api.post("/api/ingest/observations/", rows, format="json").status_code == 200
    metric = _define(
        org, name="Defect rate", calculator="series_proportion", source="defects", denominator_source="inspected"
    )
    services.metric_recalculate(metric=metric)
    assert _values(metric) == [(date(2026, 10, 1), 3.0, 100), (date(2026, 10, 2), 2.0, 250)]
    assert calculations.chart_kinds(metric.calculator)[0] == "p"


def test_a_part_larger_than_its_whole_is_refused_with_the_period(org, api_for):
    api = api_for(org["cx"])
    api.post(
        "/api/ingest/observations/",
        [{"source": "part", "external_id": "1", "observed_at": "2026-10-01T10:00:00Z", "value": 7}],
        format="json",
    )
    api.post(
        "/api/ingest/observations/",
        [{"source": "whole", "external_id": "1", "observed_at": "2026-10-01T10:00:00Z", "value": 5}],
        format="json",
    )
    metric = _define(org, name="Odd", calculator="series_proportion", source="part", denominator_source="whole")
    with pytest.raises(ValueError, match="on 2026-10-01 the numerator \\(7\\) is not between 0 and the denominator"):
        services.metric_recalculate(metric=metric)


def test_a_rate_per_unit_keeps_the_units_as_its_n(org, api_for):
    api = api_for(org["cx"])
    for source, values in (("complaints", [4, 9]), ("orders", [800, 1500])):
        rows = [
            {"source": source, "external_id": str(d), "observed_at": f"2026-10-0{d + 1}T10:00:00Z", "value": v}
            for d, v in enumerate(values)
        ]
        api.post("/api/ingest/observations/", rows, format="json")
    metric = _define(
        org, name="Complaints per order", calculator="rate", source="complaints", denominator_source="orders"
    )
    services.metric_recalculate(metric=metric)
    assert _values(metric) == [(date(2026, 10, 1), 0.005, 800), (date(2026, 10, 2), 0.006, 1500)]
    assert calculations.chart_kinds(metric.calculator)[0] == "u"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"calculator": "proportion", "condition_values": "negative"}, "condition_field", "needs the field"),
        ({"calculator": "proportion", "condition_field": "sentiment"}, "condition_values", "values that count"),
        ({"calculator": "proportion", "condition_field": "a__b", "condition_values": "x"}, "condition_field", "cannot"),
        ({"calculator": "rate", "source": "complaints"}, "denominator_source", "the units"),
        ({"calculator": "series_proportion", "source": "defects"}, "denominator_source", "the whole"),
    ],
)
def test_an_incomplete_proportion_or_rate_names_what_is_missing(org, fields, field, message):
    with pytest.raises(ValidationError) as caught:
        _define(org, name="Incomplete", **fields)
    assert message in " ".join(caught.value.message_dict[field])


def test_a_p_chart_rule_is_accepted_on_any_proportion(org):
    from alerts.models import AlertRule
    from alerts.services import rule_save

    metric = _define(org, name="Negative", calculator="proportion", condition_field="sentiment", condition_values="n")
    rule = rule_save(
        user=org["admin"],
        rule=AlertRule(metric=metric),
        fields={"name": "Negative share out of control", "kind": "control", "chart": "p"},
    )
    assert rule.chart == "p"


def test_the_metric_page_says_what_a_proportion_counts(org, client_for):
    _define(org, name="Negative", calculator="proportion", condition_field="sentiment", condition_values="negative")
    page = client_for(org["leader"]).get("/metrics/negative/").content.decode()
    assert '<span id="metric-condition">sentiment is negative</span>' in page


def test_nist_p_chart_as_two_series_alerts_at_points_15_and_23_without_invented_responses(org, api_for):
    from alerts.models import Alert
    from alerts.tests.test_charts import NIST_P
    from alerts.tests.test_history_and_nist import _at, _day, _rule_through_api

    rows = [
        row
        for i, p in enumerate(NIST_P)
        for row in (
            {"source": "misregistered", "external_id": str(i), "observed_at": _at(i), "value": round(p * 50)},
            {"source": "inspected", "external_id": str(i), "observed_at": _at(i), "value": 50},
        )
    ]
    assert api_for(org["cx"]).post("/api/ingest/observations/", rows, format="json").json() == {"written": 60}
    metric = Metric.objects.create(
        name="Misregistered wafers",
        slug="misregistered",
        kind="output",
        granularity="day",
        direction="lower",
        unit="%",
        calculator="series_proportion",
        source="misregistered",
        denominator_source="inspected",
        owning_function=org["billing"],
    )
    episodes = _rule_through_api(org, api_for, metric, len(NIST_P), chart_tests=[1])
    assert [(opened, resolved) for opened, resolved, _ in episodes] == [(_day(14), _day(15)), (_day(22), _day(23))]
    first = Alert.objects.order_by("opened_period").first()
    assert first.limits["chart"] == "p"  # chosen automatically for a proportion
    assert first.limits["centre"] == pytest.approx(23.1333, abs=1e-4)
    assert first.limits["upper"] == pytest.approx(41.02, abs=0.005)


def test_a_rate_per_unit_is_judged_on_a_u_chart(org, api_for):
    from alerts.models import Alert
    from alerts.tests.test_history_and_nist import _at, _day, _rule_through_api
    from alerts.tests.test_u_chart import PC_NONCONFORMITIES

    counts = [*PC_NONCONFORMITIES, 25]  # the 21st sample of 5 computers: 5 nonconformities per computer
    rows = [
        row
        for i, count in enumerate(counts)
        for row in (
            {"source": "nonconformities", "external_id": str(i), "observed_at": _at(i), "value": count},
            {"source": "computers", "external_id": str(i), "observed_at": _at(i), "value": 5},
        )
    ]
    api_for(org["cx"]).post("/api/ingest/observations/", rows, format="json")
    metric = Metric.objects.create(
        name="Nonconformities per computer",
        slug="nonconformities",
        kind="output",
        granularity="day",
        direction="lower",
        unit="per computer",
        calculator="rate",
        source="nonconformities",
        denominator_source="computers",
        owning_function=org["billing"],
    )
    episodes = _rule_through_api(org, api_for, metric, len(counts), chart_tests=[1])
    assert [opened for opened, _, _ in episodes] == [_day(20)]
    alert = Alert.objects.get()
    u_bar = sum(counts) / (5 * len(counts))
    assert alert.limits["chart"] == "u"
    assert alert.limits["centre"] == pytest.approx(u_bar)
    assert alert.limits["upper"] == pytest.approx(u_bar + 3 * (u_bar / 5) ** 0.5)
