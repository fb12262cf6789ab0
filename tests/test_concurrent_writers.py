"""Writers that overlap: bulk ingests of the same external ids in different orders, and alert rules
saved while their metric recalculates. On PostgreSQL these used to deadlock and answer 500."""

import random
import threading
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.db import OperationalError, connection, connections

from alerts.models import AlertRule
from alerts.services import rule_save
from alerts.tests.factories import metric_with
from cxgov.lib import retry
from metrics import services
from metrics.models import Metric, MetricValue, Observation, SurveyResponse

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row-lock deadlocks need PostgreSQL (SQLite serialises writers); CI runs this file on PostgreSQL too",
)


def _in_threads(*functions):
    """Run the functions at the same moment, one thread each; return their results (or exceptions)."""
    start = threading.Barrier(len(functions))
    results: list = [None] * len(functions)

    def run(i, function):
        try:
            start.wait()
            results[i] = function()
        except Exception as exc:  # returned to the test, which asserts on it
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _rows(ids, value):
    base = datetime(2026, 10, 1, tzinfo=UTC)
    return [
        {
            "source": "calls",
            "external_id": f"c-{i:05d}",
            "observed_at": (base + timedelta(minutes=i)).isoformat(),
            "value": value,
        }
        for i in ids
    ]


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_overlapping_shuffled_bulk_ingests_both_succeed_with_the_right_rows(org, api_for):
    token_a, token_b = api_for(org["cx"]), api_for(org["admin"])
    for attempt in range(3):  # each round is a fresh chance for the two statements to cross
        ids_a, ids_b = list(range(0, 6000)), list(range(3000, 9000))
        random.Random(attempt).shuffle(ids_a)
        random.Random(attempt + 100).shuffle(ids_b)
        rows_a, rows_b = _rows(ids_a, 1 + attempt * 10), _rows(ids_b, 2 + attempt * 10)
        answers = _in_threads(
            lambda rows=rows_a: token_a.post("/api/ingest/observations/", rows, format="json"),
            lambda rows=rows_b: token_b.post("/api/ingest/observations/", rows, format="json"),
        )
        for answer in answers:
            assert not isinstance(answer, Exception), answer
            assert answer.status_code == 200, answer.content[:500]
            assert answer.json() == {"written": 6000}
        stored = dict(Observation.objects.filter(source="calls").values_list("external_id", "value"))
        assert len(stored) == 9000
        assert all(stored[f"c-{i:05d}"] == 1 + attempt * 10 for i in range(0, 3000))
        assert all(stored[f"c-{i:05d}"] == 2 + attempt * 10 for i in range(6000, 9000))
        # The overlap holds one batch's value or the other's, never a mixture inside a row.
        assert {stored[f"c-{i:05d}"] for i in range(3000, 6000)} <= {1 + attempt * 10, 2 + attempt * 10}


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_alert_rule_saved_while_its_metric_recalculates_is_saved(org):
    metric = metric_with(org, [70, 71, 69], source="pulse")
    rule = AlertRule.objects.create(metric=metric, name="Red", kind="threshold")
    computing = threading.Event()
    release = threading.Event()
    real_compute = services._compute

    def slow_compute(*args, **kwargs):
        computing.set()
        release.wait(10)
        return real_compute(*args, **kwargs)

    def recalculate():
        return services.metric_recalculate(metric=metric)

    def save_rule():
        computing.wait(10)  # the recalculation holds its metric lock now
        threading.Timer(2.0, release.set).start()  # let it finish while the rule save waits (or not)
        saved = rule_save(user=org["cx"], rule=AlertRule.objects.get(pk=rule.pk), fields={"severity": "critical"})
        release.set()
        return saved

    services._compute = slow_compute
    try:
        recalculated, saved = _in_threads(recalculate, save_rule)
    finally:
        services._compute = real_compute
    assert not isinstance(recalculated, Exception), recalculated
    assert not isinstance(saved, Exception), saved
    assert AlertRule.objects.get(pk=rule.pk).severity == "critical"

    created = _in_threads(
        lambda: services.metric_recalculate(metric=metric),
        lambda: rule_save(user=org["cx"], rule=AlertRule(metric=metric), fields={"name": "Target", "kind": "target"}),
    )
    assert not any(isinstance(result, Exception) for result in created), created
    assert AlertRule.objects.filter(metric=metric, name="Target").exists()


def _slow_compute(computing: threading.Event, release: threading.Event):
    real_compute = services._compute

    def slow(*args, **kwargs):
        computing.set()
        release.wait(10)
        return real_compute(*args, **kwargs)

    return mock.patch.object(services, "_compute", side_effect=slow)


def _csat_metric():
    SurveyResponse.objects.bulk_create(
        SurveyResponse(
            source="pulse",
            external_id=str(i),
            responded_at=datetime(2026, 9 + i % 2, 10, tzinfo=UTC),
            score=i % 5 + 1,
            scale="csat",
        )
        for i in range(20)
    )
    return Metric.objects.create(name="CSAT", slug="csat", calculator="csat", kind="outcome", source="pulse")


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_deleting_a_metric_while_its_first_recalculation_runs_waits_and_removes_everything(org, api_for):
    metric = _csat_metric()
    api = api_for(org["admin"])
    computing, release = threading.Event(), threading.Event()

    def delete():
        computing.wait(10)  # the recalculation holds its metric and is about to store values
        threading.Timer(1.5, release.set).start()
        return api.delete(f"/api/metrics/{metric.slug}/")

    with _slow_compute(computing, release):
        recalculated, deleted = _in_threads(lambda: services.metric_recalculate(metric=metric), delete)
    assert recalculated == 2
    assert not isinstance(deleted, Exception), deleted
    assert deleted.status_code == 204, deleted.content[:500]
    assert not Metric.objects.exists() and not MetricValue.objects.exists()


@pytest.mark.django_db
def test_recalculating_a_metric_deleted_meanwhile_stops_quietly(org):
    metric = _csat_metric()
    services.metric_delete(user=org["admin"], metric=Metric.objects.get(pk=metric.pk))
    with mock.patch.object(services, "metric_record_failure") as failure:
        assert services.metric_recalculate(metric=metric) == 0
        from metrics.tasks import recalculate

        assert recalculate.apply(args=(metric.pk,)).get() == 0
    failure.assert_not_called()
    assert not MetricValue.objects.exists()


class _DeadlockDetected(Exception):
    sqlstate = "40P01"  # what psycopg's DeadlockDetected carries


def _deadlock(*args, **kwargs):
    error = OperationalError("deadlock detected")
    error.__cause__ = _DeadlockDetected()
    raise error


@pytest.fixture
def no_back_off(monkeypatch):
    monkeypatch.setattr(retry.time, "sleep", lambda seconds: None)


@pytest.mark.django_db
def test_a_bulk_ingest_that_loses_one_race_is_written_on_the_next_try(org, api_for, no_back_off):
    real_write = services._write_rows
    calls = []

    def lose_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            _deadlock()
        return real_write(*args, **kwargs)

    with mock.patch.object(services, "_write_rows", side_effect=lose_once):
        answer = api_for(org["cx"]).post("/api/ingest/observations/", _rows([1, 2], 5), format="json")
    assert answer.status_code == 200 and answer.json() == {"written": 2}
    assert len(calls) == 2 and Observation.objects.count() == 2


@pytest.mark.django_db
def test_a_bulk_ingest_that_keeps_losing_races_answers_503_with_retry_after(org, api_for, no_back_off):
    with mock.patch.object(services, "_write_rows", side_effect=_deadlock) as write:
        answer = api_for(org["cx"]).post("/api/ingest/observations/", _rows([1, 2], 5), format="json")
    assert answer.status_code == 503
    assert answer["Retry-After"] == str(retry.RETRY_AFTER_SECONDS)
    assert answer.json() == {"detail": retry.Busy.default_detail}
    assert write.call_count == retry.ATTEMPTS and not Observation.objects.exists()


@pytest.mark.django_db
def test_a_rule_form_that_keeps_losing_races_answers_503_not_500(org, client_for, no_back_off):
    metric = metric_with(org, [70, 71], source="pulse")
    with mock.patch("alerts.services._rule_save", side_effect=_deadlock):
        page = client_for(org["cx"]).post(
            f"/alerts/metric/{metric.slug}/new/",
            {
                "name": "Red",
                "kind": "threshold",
                "severity": "warning",
                "level": "red",
                "min_periods": 1,
                "clear_periods": 1,
                "hysteresis": 0,
            },
        )
    assert page.status_code == 503 and page["Retry-After"] == str(retry.RETRY_AFTER_SECONDS)
    assert "nothing was written" in page.content.decode()
    assert not AlertRule.objects.exists()


def test_only_lost_races_count_as_transient():
    assert retry.is_transient(OperationalError("database is locked"))
    assert not retry.is_transient(OperationalError("no such table: metrics_metric"))
    try:
        _deadlock()
    except OperationalError as exc:
        assert retry.is_transient(exc)
