"""Rules judge history: the NIST/SEMATECH examples, loaded through the ingestion API as past data,
recalculated, then given a rule, alert exactly as published. Short series never read "OK"."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.urls import reverse

from alerts import services
from alerts.models import Alert, AlertRule, Delivery, Evaluation
from alerts.tests.factories import metric_with
from alerts.tests.test_charts import NIST_INDIVIDUALS, NIST_P, NIST_WAFER_DEFECTS
from metrics.models import Metric
from metrics.services import metric_recalculate

pytestmark = pytest.mark.django_db

START = date(2026, 1, 1)


def _day(i: int) -> date:
    return START + timedelta(days=i)


def _at(i: int, seconds: int = 0) -> str:
    return f"{_day(i).isoformat()}T12:{seconds // 60 % 60:02d}:{seconds % 60:02d}Z"


def _metric(org, **fields) -> Metric:
    defaults = {"kind": "output", "granularity": "day", "owning_function": org["billing"], "direction": "lower"}
    return Metric.objects.create(**{**defaults, **fields})


def _rule_through_api(org, api_for, metric, periods, **fields) -> list[tuple[date, date | None, bool]]:
    """Recalculate the loaded history, write a control rule through the API, run the evaluation it
    queues as the worker would, and return its episodes (opened, resolved, from history)."""
    metric_recalculate(metric=metric)
    Evaluation.objects.all().delete()  # the recalculation's evaluation: no rule yet
    body = {"metric": metric.pk, "name": "Out of control", "kind": "control", "severity": "critical", **fields}
    response = api_for(org["cx"]).post("/api/alert-rules/", body, format="json")
    assert response.status_code == 201, response.json()
    queued = Evaluation.objects.get(metric=metric)
    services.evaluation_run(evaluation_id=queued.pk, today=_day(periods))
    rule = AlertRule.objects.get(pk=response.json()["id"])
    return list(rule.alerts.order_by("opened_period").values_list("opened_period", "resolved_period", "from_history"))


def test_nist_c_chart_loaded_as_history_alerts_at_point_24_only(org, api_for):
    rows = [
        {"source": "wafer-defects", "external_id": f"{i}-{k}", "observed_at": _at(i, k), "value": 1}
        for i, defects in enumerate(NIST_WAFER_DEFECTS)
        for k in range(defects)
    ]
    assert api_for(org["cx"]).post("/api/ingest/observations/", rows, format="json").json() == {"written": 400}
    metric = _metric(org, name="Wafer defects", slug="wafer-defects", calculator="count", source="wafer-defects")
    episodes = _rule_through_api(org, api_for, metric, len(NIST_WAFER_DEFECTS), chart="c", chart_tests=[1])
    # Point 24 (31 defects) is beyond UCL 28; point 3 (28 defects) is ON the limit, not beyond.
    assert episodes == [(_day(23), _day(24), True)]
    alert = Alert.objects.get()
    assert alert.limits["centre"] == 16 and alert.limits["upper"] == 28 and alert.limits["chart"] == "c"
    assert "Western Electric rule 1" in alert.message and not Delivery.objects.exists() and not mail.outbox


def test_nist_p_chart_loaded_as_history_alerts_at_points_15_and_23_with_rule_1(org, api_for):
    rows = []
    for i, p in enumerate(NIST_P):
        bad = round(p * 50)
        for k in range(50):  # a "misregistration" is a top-two answer, so CSAT % is the proportion
            rows.append(
                {
                    "source": "wafers",
                    "external_id": f"{i}-{k}",
                    "responded_at": _at(i, k),
                    "score": 5 if k < bad else 1,
                    "scale": "csat",
                }
            )
    assert api_for(org["cx"]).post("/api/ingest/responses/", rows, format="json").json() == {"written": 1500}
    metric = _metric(org, name="Misregistered", slug="misregistered", calculator="csat", source="wafers", unit="%")
    episodes = _rule_through_api(org, api_for, metric, len(NIST_P), chart_tests=[1])
    assert episodes == [(_day(14), _day(15), True), (_day(22), _day(23), True)]
    first = Alert.objects.order_by("opened_period").first()
    assert first.limits["chart"] == "p"
    assert first.limits["centre"] == pytest.approx(23.1333, abs=1e-4)  # p̄ = 0.2313 in the handbook
    assert first.limits["upper"] == pytest.approx(41.02, abs=0.005)  # UCL 0.4102
    assert "44 % above the upper control limit" in first.message


def test_nist_individuals_chart_loaded_as_history_does_not_alert(org, api_for):
    rows = [
        {"source": "flow", "external_id": str(i), "observed_at": _at(i), "value": v}
        for i, v in enumerate(NIST_INDIVIDUALS)
    ]
    assert api_for(org["cx"]).post("/api/ingest/observations/", rows, format="json").json() == {"written": 10}
    metric = _metric(org, name="Flow rate", slug="flow-rate", calculator="sum", source="flow")
    assert _rule_through_api(org, api_for, metric, len(NIST_INDIVIDUALS), chart_tests=[1]) == []
    rule = AlertRule.objects.get()
    assert rule.verdict == "judged" and "10 periods" in rule.verdict_note


def test_an_episode_still_open_when_history_is_replayed_is_told_once(org):
    from alerts.tests.factories import rule_on

    metric = metric_with(org, [80, 70, 80, 70, 70])
    rule = rule_on(metric, level="red", subscribers=[org["cx"]])
    services.metric_evaluate(metric=metric, today=_day(5))
    services.rule_replay(user=org["cx"], rule=rule)
    services.metric_evaluate(metric=metric, today=_day(5))
    assert list(rule.alerts.order_by("opened_period").values_list("opened_period", "state", "from_history")) == [
        (_day(1), "resolved", True),
        (_day(3), "firing", False),
    ]
    assert sorted(Delivery.objects.values_list("recipient__username", flat=True)) == ["cx", "leader"]


SHARE = [4.0, 5.0, 4.5, 5.5, 4.0, 12.0, 13.0, 5.0, 4.5]  # a daily share of complaints with a two-day spike


@pytest.mark.parametrize("chart", ["auto", "p", "laney"])
def test_a_9_point_series_never_shows_ok_but_a_provisional_verdict(org, client, api_for, chart):
    metric = metric_with(org, SHARE, sizes=[400] * 9, name="Complaint share", slug="complaints", direction="lower")
    response = api_for(org["cx"]).post(
        "/api/alert-rules/",
        {"metric": metric.pk, "name": "Spike", "kind": "control", "chart": chart, "chart_tests": [1]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    services.metric_evaluate(metric=metric, today=_day(9))
    rule = AlertRule.objects.get()
    assert rule.verdict == "provisional" and rule.verdict_note.startswith("Provisional limits: 9 of 10 periods")
    api = api_for(org["leader"]).get(f"/api/alert-rules/{rule.pk}/").json()
    assert api["verdict"] == "provisional" and "9 of 10" in api["verdict_note"]
    client.force_login(org["leader"])
    page = client.get(reverse("alert-rules", args=[metric.slug])).content.decode()
    assert ">OK<" not in page and "9 of 10 periods" in page
    if chart == "p":  # the spike is beyond a p-chart's limits, judged provisionally and said so
        spike = Alert.objects.get()
        assert (spike.opened_period, spike.resolved_period) == (_day(5), _day(7))
        assert "provisional limits: 9 of 10 periods" in spike.message and spike.limits["provisional"]


def test_with_too_few_periods_a_rule_says_it_cannot_judge_yet(org, client, api_for):
    metric = metric_with(org, SHARE[:4], sizes=[400] * 4, name="Complaint share", slug="complaints")
    response = api_for(org["cx"]).post(
        "/api/alert-rules/",
        {"metric": metric.pk, "name": "Spike", "kind": "control", "chart_periods": 20, "provisional_periods": 8},
        format="json",
    )
    assert response.status_code == 201, response.json()
    services.metric_evaluate(metric=metric, today=_day(4))
    rule = AlertRule.objects.get()
    assert (rule.verdict, rule.verdict_note) == (
        "waiting",
        "Cannot judge yet: 4 of 20 periods with values in the baseline.",
    )
    client.force_login(org["cx"])
    page = client.get(reverse("alert-rules", args=[metric.slug])).content.decode()
    assert "Cannot judge yet: 4 of 20 periods" in page and ">OK<" not in page
    bad = api_for(org["cx"]).post(
        "/api/alert-rules/",
        {"metric": metric.pk, "name": "Bad", "kind": "control", "chart_periods": 4, "provisional_periods": 8},
        format="json",
    )
    assert bad.status_code == 400 and "chart_periods" in bad.json()
