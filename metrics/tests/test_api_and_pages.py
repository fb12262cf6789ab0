"""Metric pages and API: who may define metrics, bulk ingestion, values, constant queries."""

from datetime import date

import pytest
from django.utils import timezone

from metrics import services
from metrics.models import Metric, MetricValue, SurveyResponse


@pytest.fixture
def metric(org):
    return Metric.objects.create(
        name="CSAT",
        slug="csat",
        calculator="csat",
        kind="outcome",
        granularity="month",
        target=80,
        amber_threshold=78,
        red_threshold=70,
        owning_function=org["billing"],
    )


def _response(i, score, when="2026-10-05T10:00:00Z", **extra):
    return {"source": "survey", "external_id": str(i), "responded_at": when, "score": score, "scale": "csat", **extra}


def test_bulk_ingest_is_idempotent_and_all_or_nothing(org, api_for):
    api = api_for(org["cx"])
    response = api.post("/api/ingest/responses/", [_response(1, 5), _response(2, 3)], format="json")
    assert response.json() == {"written": 2}
    response = api.post("/api/ingest/responses/", [_response(1, 4), _response(3, 9)], format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["rows"] == [{"row": 1, "errors": {"score": ["9 is outside the csat scale (1-5)."]}}]
    assert SurveyResponse.objects.get(external_id="1").score == 5  # nothing was written
    api.post("/api/ingest/responses/", [_response(1, 4)], format="json")
    assert SurveyResponse.objects.count() == 2
    assert SurveyResponse.objects.get(external_id="1").score == 4


def test_bulk_ingest_names_duplicates_and_bad_dates(org, api_for):
    api = api_for(org["admin"])
    response = api.post("/api/ingest/responses/", [_response(1, 5), _response(1, 4)], format="json")
    assert response.status_code == 400 and response.json()["rows"][0]["row"] == 1
    response = api.post("/api/ingest/responses/", [_response(1, 5, when="yesterday")], format="json")
    assert response.status_code == 400 and "responded_at" in response.json()["rows"][0]["errors"]
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize("username", ["leader", "stakeholder"])
def test_only_cx_and_administrators_push_data(org, api_for, username):
    response = api_for(org[username]).post("/api/ingest/responses/", [_response(1, 5)], format="json")
    assert response.status_code == 403


@pytest.mark.parametrize("username", ["cx", "leader", "stakeholder"])
def test_only_administrators_define_metrics(org, api_for, metric, username):
    api = api_for(org[username])
    assert api.get("/api/metrics/").status_code == 200
    assert api.patch("/api/metrics/csat/", {"target": 10}, format="json").status_code == 403
    assert api_for(org[username]).get("/metrics/csat/edit/").status_code in (302, 403)


def test_administrator_defines_metric_and_owner_becomes_accountable(org, api_for):
    response = api_for(org["admin"]).post(
        "/api/metrics/",
        {"name": "Billing NPS", "calculator": "nps", "kind": "outcome", "owning_function": org["logistics"].pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    metric = Metric.objects.get(slug="billing-nps")
    entry = org["logistics"].accountabilities.get(subject_id=metric.pk)
    assert entry.role == "A" and entry.subject == "Metric: Billing NPS"


def test_second_north_star_is_refused(org, api_for, metric):
    metric.north_star = True
    metric.save()
    response = api_for(org["admin"]).post(
        "/api/metrics/", {"name": "Other", "calculator": "nps", "kind": "outcome", "north_star": True}, format="json"
    )
    assert response.status_code == 400
    assert "at most one" in response.json()["north_star"][0]


def test_threshold_order_is_checked(org, api_for):
    response = api_for(org["admin"]).post(
        "/api/metrics/",
        {"name": "X", "calculator": "csat", "kind": "outcome", "amber_threshold": 70, "red_threshold": 80},
        format="json",
    )
    assert response.status_code == 400 and "red_threshold" in response.json()


def test_rag_status():
    higher = Metric(direction="higher", target=80, amber_threshold=78, red_threshold=70)
    assert [higher.rag(v) for v in (85, 78, 75, 70, 60)] == ["green", "green", "amber", "red", "red"]
    lower = Metric(direction="lower", target=10, amber_threshold=15, red_threshold=25)
    assert [lower.rag(v) for v in (5, 15, 20, 25, 30)] == ["green", "green", "amber", "red", "red"]
    assert Metric(direction="higher", target=50).rag(49) == "red"
    assert Metric(direction="higher").rag(49) is None


def test_failed_recalculation_is_visible(org, client_for, metric):
    services.metric_record_failure(metric_id=metric.pk, error="ZeroDivisionError: boom")
    html = client_for(org["stakeholder"]).get("/metrics/csat/").content.decode()
    assert "The last recalculation failed" in html and "boom" in html
    assert "Recalculation failed" in client_for(org["stakeholder"]).get("/metrics/").content.decode()
    health = client_for(org["stakeholder"]).get("/healthz").json()
    assert health["checks"]["metrics"] == {
        "ok": False,
        "error": "1 metric(s) failed to recalculate; see the metrics page",
    }


def test_values_are_filterable_in_the_api(org, api_for, metric):
    now = timezone.now()
    for month in (8, 9, 10):
        MetricValue.objects.create(metric=metric, period_start=date(2026, month, 1), value=month, computed_at=now)
    data = api_for(org["stakeholder"]).get("/api/metric-values/?metric_slug=csat&period_from=2026-09-01").json()
    assert [v["period_start"] for v in data["results"]] == ["2026-09-01", "2026-10-01"]


@pytest.mark.parametrize(
    ("url", "queries"), [("/metrics/", 4), ("/metrics/kpi-audit/", 4), ("/api/metrics/", 4), ("/api/metric-values/", 4)]
)
def test_metric_pages_keep_a_constant_number_of_queries(org, client_for, django_assert_num_queries, url, queries):
    client = client_for(org["admin"])
    now = timezone.now()
    for batch in range(2):
        for i in range(5):
            m = Metric.objects.create(
                name=f"M{batch}{i}",
                slug=f"m{batch}{i}",
                calculator="csat",
                kind="output",
                owning_function=org["billing"],
            )
            for month in range(1, 13):
                MetricValue.objects.create(metric=m, period_start=date(2026, month, 1), value=month, computed_at=now)
        with django_assert_num_queries(queries):
            assert client.get(url).status_code == 200


def test_kpi_audit_flags_functions_with_mostly_outputs(org, client_for):
    for i, kind in enumerate(["output", "output", "outcome"]):
        Metric.objects.create(
            name=f"L{i}", slug=f"l{i}", calculator="count", source="s", kind=kind, owning_function=org["logistics"]
        )
    Metric.objects.create(name="B", slug="b", calculator="csat", kind="outcome", owning_function=org["billing"])
    rows = {
        r["function"].slug: r for r in client_for(org["cx"]).get("/metrics/kpi-audit/").context["rows"] if r["function"]
    }
    assert rows["logistics"]["mostly_outputs"] and not rows["billing"]["mostly_outputs"]


def test_key_drivers_rank_what_moves_the_score(org, client_for, api_for):
    import numpy as np

    Metric.objects.create(name="Pulse", slug="pulse", calculator="mean", kind="outcome", source="pulse")
    rng = np.random.default_rng(7)
    rows = []
    for i in range(300):
        billing, delivery, app = (int(v) for v in rng.integers(1, 6, size=3))
        score = int(np.clip(round(0.6 * billing + 0.3 * delivery + rng.normal(0, 0.4)), 1, 5))
        rows.append(
            SurveyResponse(
                source="pulse",
                external_id=str(i),
                responded_at=timezone.now(),
                score=score,
                scale="csat",
                driver_ratings={"billing": billing, "delivery": delivery, "app": app},
            )
        )
    SurveyResponse.objects.bulk_create(rows)
    response = client_for(org["leader"]).get("/metrics/pulse/drivers/")
    drivers = response.context["analysis"]["drivers"]
    assert [d["driver"] for d in drivers] == ["billing", "delivery", "app"]
    assert sum(d["share"] for d in drivers) == pytest.approx(100)
    assert 0.5 < response.context["analysis"]["r2"] < 1
    api = api_for(org["stakeholder"]).get("/api/metrics/pulse/drivers/").json()
    assert api["drivers"][0]["driver"] == "billing" and api["n"] == 300


def test_key_drivers_are_cached_until_responses_change_and_answer_503_when_every_slot_is_busy(
    org, client_for, api_for, settings
):
    from unittest import mock

    from cxgov.lib import heavy
    from metrics import selectors

    Metric.objects.create(name="Pulse", slug="pulse", calculator="mean", kind="outcome", source="pulse")

    def response(i, billing):
        return SurveyResponse(
            source="pulse",
            external_id=str(i),
            responded_at=timezone.now(),
            score=billing,
            scale="csat",
            driver_ratings={"billing": billing, "delivery": (i * 7) % 5 + 1},
        )

    services.responses_upsert(responses=[response(i, i % 5 + 1) for i in range(60)])
    client = client_for(org["leader"])
    with mock.patch.object(selectors, "key_drivers", wraps=selectors.key_drivers) as computed:
        first = client.get("/metrics/pulse/drivers/").context["analysis"]
        assert api_for(org["stakeholder"]).get("/api/metrics/pulse/drivers/").json()["n"] == 60
        assert computed.call_count == 1  # the page computed it; the API read the cached answer
        assert client.get("/metrics/pulse/drivers/?method=johnson").status_code == 200
        assert computed.call_count == 2  # another method is its own entry
        # An import (through the service) changes the responses: computed again, with them.
        services.responses_upsert(responses=[response(100 + i, 3) for i in range(10)])
        assert client.get("/metrics/pulse/drivers/").context["analysis"]["n"] == first["n"] + 10
        assert computed.call_count == 3
    semaphore = heavy._semaphore()
    held = 0
    while semaphore.acquire(blocking=False):
        held += 1
    try:
        assert client.get("/metrics/pulse/drivers/").status_code == 200  # cached: no slot needed
        services.responses_upsert(responses=[response(200, 4)])
        page = client.get("/metrics/pulse/drivers/")
        assert page.status_code == 503 and page["Retry-After"]
        assert "Other analyses are running" in page.content.decode()
        api = api_for(org["stakeholder"]).get("/api/metrics/pulse/drivers/")
        assert api.status_code == 503 and "Other analyses are running" in api.json()["detail"]
    finally:
        for _ in range(held):
            semaphore.release()
    assert client.get("/metrics/pulse/drivers/").status_code == 200


def test_key_drivers_without_ratings_say_what_is_missing(org, client_for, metric):
    html = client_for(org["cx"]).get("/metrics/csat/drivers/").content.decode()
    assert "0 response(s) carry driver ratings; at least 30 are needed" in html


def test_deleting_a_metric_removes_its_schedule_and_register_entry(org, api_for):
    from django_celery_beat.models import PeriodicTask

    from cxgov.models import Accountability

    api = api_for(org["admin"])
    api.post(
        "/api/metrics/",
        {"name": "Gone", "calculator": "nps", "kind": "outcome", "owning_function": org["billing"].pk},
        format="json",
    )
    metric = Metric.objects.get(slug="gone")
    assert PeriodicTask.objects.filter(name=metric.schedule_name).exists()
    assert api.patch("/api/metrics/gone/", {"owning_function": None}, format="json").status_code == 200
    assert not Accountability.objects.filter(subject="Metric: Gone").exists()
    assert api.delete("/api/metrics/gone/").status_code == 204
    assert not PeriodicTask.objects.filter(name=metric.schedule_name).exists()
