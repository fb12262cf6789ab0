"""Evaluating rules: episodes fire once and resolve cleanly; each recipient is told once per
episode and kind; duplicates, retries and failures change nothing twice."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts import evaluation, services
from alerts.models import Alert, AlertEvent, AlertRule, AlertState, Delivery, Evaluation, FailureNotice
from alerts.tests.factories import add_values, day, metric_with, rule_on
from cxgov.lib import outbox
from cxgov.models import Email
from metrics.models import MetricValue

pytestmark = pytest.mark.django_db


def _evaluate(metric, today):
    return services.metric_evaluate(metric=metric, today=today)


def test_red_value_fires_once_tells_owner_and_subscriber_once_and_resolves_once(org, settings):
    org["leader"].email = "leader@example.com"
    org["leader"].save()
    org["cx"].email = "cx@example.com"
    org["cx"].save()
    metric = metric_with(org, [80, 81, 70.5])
    rule = rule_on(metric, level="red", subscribers=[org["cx"]], name="CSAT turns red")
    _evaluate(metric, day(3))
    _evaluate(metric, day(3))  # a second evaluation of the same data changes nothing
    alert = Alert.objects.get()
    assert alert.state == AlertState.FIRING and alert.opened_period == day(2)
    assert "CSAT turns red" in alert.message and "70.5 % is red" in alert.message
    assert alert.values == [{"period": "2026-01-03", "value": 70.5, "sample_size": None, "note": "70.5 % is red"}]
    assert sorted(Delivery.objects.values_list("recipient__username", "kind")) == [("cx", "fire"), ("leader", "fire")]
    assert outbox.send_due() == 2 and outbox.send_due() == 0
    assert sorted(m.to[0] for m in mail.outbox) == ["cx@example.com", "leader@example.com"]
    message = mail.outbox[0]
    assert "CSAT turns red" in message.subject and "70.50 %" in message.body
    html = message.alternatives[0][0]
    assert message.alternatives[0][1] == "text/html" and "70.5 % is red" in html
    assert f"{settings.SITE_URL}/alerts/{alert.pk}/" in message.body
    assert f"/rootcause/issues/new/?metric={alert.metric_id}&period=" in message.body

    add_values(metric, [79], start=day(3))
    _evaluate(metric, day(4))
    _evaluate(metric, day(4))
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED and alert.resolved_period == day(3)
    assert Delivery.objects.filter(kind="resolve").count() == 2
    outbox.send_due()
    assert len(mail.outbox) == 4 and "Resolved" in mail.outbox[-1].subject
    assert list(AlertEvent.objects.values_list("kind", flat=True)) == ["fired", "resolved"]
    assert rule.alerts.count() == 1


def test_a_value_hovering_at_the_red_threshold_makes_one_episode_not_a_stream(org):
    wobble = [80, 80] + [71.9, 72.1, 71.8, 72.3, 72.0, 71.7, 72.4, 71.9] * 3 + [79, 80]
    metric = metric_with(org, wobble)
    # Without hysteresis the pure engine would flap: one episode per dip.
    flappy = evaluation.RuleSpec(kind="threshold", level="red")
    points = [evaluation.Point(day(i), v) for i, v in enumerate(wobble)]
    assert len(evaluation.episodes(flappy, evaluation.checks(flappy, metric, points, "day"))) > 5

    rule_on(metric, level="red", hysteresis=3)
    for today in range(1, len(wobble) + 1):  # evaluated after every daily recalculation
        _evaluate(metric, day(today))
    alert = Alert.objects.get()
    assert alert.opened_period == day(2) and alert.resolved_period == day(len(wobble) - 2)
    assert Delivery.objects.filter(kind="fire").count() == 1 and Delivery.objects.filter(kind="resolve").count() == 1


def test_minimum_duration_waits_for_consecutive_bad_periods(org):
    metric = metric_with(org, [80, 70, 80, 70, 70, 70])
    rule_on(metric, level="red", min_periods=3)
    _evaluate(metric, day(5))
    assert not Alert.objects.exists()
    _evaluate(metric, day(6))
    alert = Alert.objects.get()
    assert alert.opened_period == day(5) and [v["period"] for v in alert.values] == [
        "2026-01-04",
        "2026-01-05",
        "2026-01-06",
    ]


def test_target_missed_for_n_consecutive_periods(org):
    metric = metric_with(org, [81, 79, 79.5, 80, 79, 78, 77], granularity="month", start=date(2025, 1, 1))
    rule_on(metric, kind="target", min_periods=3, created=None)
    _evaluate(metric, date(2025, 8, 15))
    alert = Alert.objects.get()
    assert alert.opened_period == date(2025, 7, 1)
    assert "against target 80" in alert.message


def test_change_against_previous_period_and_same_period_last_year(org):
    metric = metric_with(org, [80, 79, 74], start=date(2026, 1, 1), granularity="month")
    rule_on(metric, kind="change", change_limit=4, name="drop vs previous")
    rule_on(
        metric, kind="change", change_limit=10, change_mode="percent", comparison="last_year", name="drop vs last year"
    )
    add_values(metric, [90, 85, 84], start=date(2025, 1, 1))
    _evaluate(metric, date(2026, 4, 2))
    fired = dict(Alert.objects.filter(state="firing").values_list("rule__name", "opened_period"))
    # 74 vs 79 is -5 (fires at 4); vs March 2025 (84) it is -11.9% (fires at 10%); Feb: -7.1%, no.
    assert fired == {"drop vs previous": date(2026, 3, 1), "drop vs last year": date(2026, 3, 1)}
    assert "-11.9%" in Alert.objects.get(rule__name="drop vs last year", state="firing").message


def test_improvement_is_not_a_worsening_change(org):
    metric = metric_with(org, [70, 80], start=date(2026, 1, 1), granularity="month")
    rule_on(metric, kind="change", change_limit=4)
    _evaluate(metric, date(2026, 3, 2))
    assert not Alert.objects.exists()


def test_control_chart_rule_fires_on_a_shift_and_names_the_western_electric_rule(org):
    stable = [50.1, 49.8, 50.3, 49.9, 50.2, 49.7, 50.0, 50.4, 49.6, 50.1, 49.9, 50.2]
    metric = metric_with(
        org,
        [*stable, 47.0],
        calculator="mean",
        source="s",
        target=None,
        amber_threshold=None,
        red_threshold=None,
        unit="points",
    )
    rule_on(metric, kind="control", chart="individuals", baseline_to=day(11))
    _evaluate(metric, day(13))
    alert = Alert.objects.get()
    assert alert.opened_period == day(12)
    assert "individuals chart, Western Electric rule 1: one point beyond 3σ" in alert.message
    assert alert.limits["lower"] == pytest.approx(48.93, abs=0.005) and not alert.limits["provisional"]


def test_a_new_rule_records_past_episodes_as_history_untold_and_tells_the_open_one_once(org):
    metric = metric_with(org, [70, 80, 80, 70, 70])
    rule_on(metric, level="red")
    _evaluate(metric, day(5))
    _evaluate(metric, day(5))  # replaying is done once
    past, current = Alert.objects.order_by("opened_period")
    assert (past.opened_period, past.resolved_period, past.state, past.from_history) == (
        day(0),
        day(1),
        "resolved",
        True,
    )
    assert "Recorded from history" in past.message and not past.deliveries.exists()
    assert (current.opened_period, current.state, current.from_history) == (day(3), "firing", False)
    assert list(Delivery.objects.values_list("alert_id", "kind")) == [(current.pk, "fire")]
    assert len(mail.outbox) + Email.objects.filter(status="sent").count() <= 1


def test_muted_rule_records_the_episode_but_tells_nobody(org):
    metric = metric_with(org, [80, 70])
    rule = rule_on(metric, level="red", muted_until=day(5))
    _evaluate(metric, day(2))
    alert = Alert.objects.get()
    assert not Delivery.objects.exists()
    assert "muted" in alert.events.last().note
    assert rule.alerts.count() == 1


def test_missing_data_for_n_periods(org):
    metric = metric_with(org, [80, 80, None, None, None])
    rule_on(metric, kind="missing", min_periods=3)
    _evaluate(metric, day(4))
    assert not Alert.objects.exists()
    _evaluate(metric, day(5))
    assert Alert.objects.get().opened_period == day(4)
    add_values(metric, [80], start=day(5))
    _evaluate(metric, day(6))
    assert Alert.objects.get().state == AlertState.RESOLVED


def test_two_evaluations_deciding_at_once_record_one_episode(org):
    """Even if two workers both decided to open the same episode, the constraints keep one."""
    metric = metric_with(org, [80, 70])
    rule = rule_on(metric, level="red")
    _evaluate(metric, day(2))
    alert = Alert.objects.get()
    points = [evaluation.Point(day(i), v) for i, v in enumerate([80, 70])]
    episode = evaluation.Episode(opened=1, trigger=[1])
    services._fire(rule, metric, org["leader"], points, episode, alert.fired_at, day(2))  # the loser's insert
    assert Alert.objects.count() == 1 and Delivery.objects.count() == 1
    with pytest.raises(Exception):  # noqa: B017 - the database refuses a second firing episode
        Alert.objects.create(
            rule=rule, metric=metric, severity="warning", opened_period=day(9), message="x", fired_at=alert.fired_at
        )


def test_duplicate_requests_coalesce_and_a_claimed_evaluation_runs_once(
    org, django_capture_on_commit_callbacks, sent_tasks
):
    metric = metric_with(org, [80, 70])
    rule_on(metric, level="red")
    with django_capture_on_commit_callbacks(execute=True):
        first = services.evaluation_request(metric_id=metric.pk)
        assert services.evaluation_request(metric_id=metric.pk) is None  # one queued per metric
    assert sent_tasks == [("alerts.evaluate", {"evaluation_id": first.pk})]
    assert services.evaluation_run(evaluation_id=first.pk, today=day(2)).status == "done"
    assert services.evaluation_run(evaluation_id=first.pk, today=day(2)) is None  # redelivered message
    assert Alert.objects.count() == 1 and Delivery.objects.count() == 1


def test_recalculation_queues_an_evaluation(org, django_capture_on_commit_callbacks, sent_tasks):
    from metrics.services import metric_recalculate

    metric = metric_with(org, [])
    rule_on(metric, level="red")
    with django_capture_on_commit_callbacks(execute=True):
        metric_recalculate(metric=metric)
    queued = Evaluation.objects.get()
    assert sent_tasks == [("alerts.evaluate", {"evaluation_id": queued.pk})]


def test_failed_evaluation_is_recorded_shown_on_health_and_told_to_administrators_once(org, client, monkeypatch):
    from cxgov.services import heartbeat_record

    org["admin"].email = "admin@example.com"
    org["admin"].save()
    heartbeat_record(name="worker")
    heartbeat_record(name="beat")
    metric = metric_with(org, [80, 70])
    rule_on(metric, level="red")

    def broken(**kwargs):
        raise RuntimeError("values table unreadable")

    monkeypatch.setattr(services, "metric_evaluate", broken)
    for _ in range(2):  # two failing runs in a row: the administrators hear once
        job = services.evaluation_request(metric_id=metric.pk)
        with pytest.raises(RuntimeError):
            services.evaluation_run(evaluation_id=job.pk)
        services.evaluation_record_failure(
            evaluation_id=job.pk, error="RuntimeError: values table unreadable", final=False
        )
        services.evaluation_record_failure(
            evaluation_id=job.pk, error="RuntimeError: values table unreadable", final=True
        )
        services.evaluation_record_failure(
            evaluation_id=job.pk, error="RuntimeError: values table unreadable", final=True
        )
    assert FailureNotice.objects.count() == 1
    outbox.send_due()
    assert [m.to for m in mail.outbox] == [["admin@example.com"]]
    assert "values table unreadable" in mail.outbox[0].body and mail.outbox[0].alternatives
    health = client.get("/healthz")
    assert health.status_code == 503
    assert "alert evaluation failed" in health.json()["checks"]["alerts"]["error"]

    monkeypatch.undo()
    job = services.evaluation_request(metric_id=metric.pk)
    services.evaluation_run(evaluation_id=job.pk, today=day(2))
    assert client.get("/healthz").json()["checks"]["alerts"] == {"ok": True}


def test_stuck_evaluation_is_sent_again_once(org, settings, django_capture_on_commit_callbacks, sent_tasks):
    from django.utils import timezone

    metric = metric_with(org, [80, 70])
    rule_on(metric, level="red")
    job = Evaluation.objects.create(
        metric=metric, status="running", requested_at=timezone.now(), updated_at=timezone.now() - timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.evaluations_requeue_stuck() == 1
        assert services.evaluations_requeue_stuck() == 0  # a second beat finds nothing to do
    assert sent_tasks == [("alerts.evaluate", {"evaluation_id": job.pk})]
    job.refresh_from_db()
    assert job.status == "retry"
    assert services.evaluation_run(evaluation_id=job.pk, today=day(2)).status == "done"


def test_a_notice_whose_email_failed_is_sent_once_when_mail_is_back(org, smtp):
    org["leader"].email = "leader@example.com"
    org["leader"].save()
    metric = metric_with(org, [80, 70])
    rule_on(metric, level="red")
    smtp.stop()
    _evaluate(metric, day(2))  # evaluating needs no mail server: the email waits in the outbox
    assert outbox.send_due() == 0
    delivery = Delivery.objects.select_related("email").get()
    assert delivery.email.status == "waiting" and "Connection refused" in delivery.email.error
    smtp.start()
    Email.objects.update(next_attempt_at=timezone.now())  # its back-off has passed
    assert outbox.send_due() == 1 and outbox.send_due() == 0
    assert [m["To"] for m in smtp.messages] == ["leader@example.com"]


def test_values_of_the_current_period_are_not_judged_until_it_is_complete(org):
    metric = metric_with(org, [80, 80, 60])
    rule_on(metric, level="red")
    _evaluate(metric, day(2))  # the 60 is today's partial value
    assert not Alert.objects.exists()
    assert MetricValue.objects.filter(period_start=day(2)).exists()


def test_email_text_parts_are_plain_and_the_html_part_is_escaped(org):
    org["leader"].email = "leader@example.com"
    org["leader"].save()
    metric = metric_with(org, [80, 70], name="Invoices & <credit> notes")
    rule_on(metric, level="red", name="<b>Red</b>")
    _evaluate(metric, day(2))
    outbox.send_due()
    message = mail.outbox[0]
    assert message.subject == "[cxgov] Warning: <b>Red</b> fired on Invoices & <credit> notes"
    assert "Invoices & <credit> notes" in message.body
    html = message.alternatives[0][0]
    assert "&lt;b&gt;Red&lt;/b&gt;" in html and "Invoices &amp; &lt;credit&gt; notes" in html and "<b>Red" not in html


def test_switching_a_rule_off_closes_its_open_episode_quietly(org):
    metric = metric_with(org, [80, 70])
    rule = rule_on(metric, level="red")
    _evaluate(metric, day(2))
    services.rule_save(user=org["cx"], rule=rule, fields={"active": False})
    alert = Alert.objects.get()
    assert alert.state == AlertState.RESOLVED and "switched off" in alert.events.last().note
    assert not Delivery.objects.filter(kind="resolve").exists()


def test_blank_settings_of_other_kinds_take_their_defaults(org):
    metric = metric_with(org, [80, 70])
    rule = services.rule_save(
        user=org["admin"],
        rule=AlertRule(metric=metric),
        fields={"name": "Red", "kind": "threshold", "level": "", "chart": "", "comparison": "", "change_mode": ""},
    )
    assert (rule.level, rule.chart, rule.comparison, rule.change_mode) == ("red", "auto", "previous", "absolute")


def test_old_successful_evaluations_are_forgotten_failures_kept(org):
    from django.utils import timezone

    metric = metric_with(org, [80])
    old = timezone.now() - timedelta(days=40)
    for status in ("done", "failed"):
        Evaluation.objects.create(metric=metric, status=status, requested_at=old, updated_at=old, finished_at=old)
    assert services.evaluations_prune() == 1
    assert list(Evaluation.objects.values_list("status", flat=True)) == ["failed"]


def test_revised_values_that_move_the_start_of_the_trouble_do_not_reopen_the_episode(org):
    metric = metric_with(org, [80, 80, 70, 70])
    rule = rule_on(metric, level="red")
    _evaluate(metric, day(4))
    assert Alert.objects.get().opened_period == day(2)
    MetricValue.objects.filter(metric=metric, period_start=day(2)).update(value=79)  # revised: red from day 3
    _evaluate(metric, day(4))
    alert = Alert.objects.get()
    assert alert.state == AlertState.FIRING and alert.opened_period == day(2)
    assert Delivery.objects.count() == 1
    # A backfill in which it cleared and fired again is two episodes, each told once.
    add_values(metric, [80, 70], start=day(4))
    MetricValue.objects.filter(metric=metric, period_start=day(3)).update(value=70)
    _evaluate(metric, day(6))
    assert list(rule.alerts.order_by("opened_period").values_list("opened_period", "resolved_period")) == [
        (day(2), day(4)),
        (day(5), None),
    ]
    assert sorted(Delivery.objects.values_list("kind", flat=True)) == ["fire", "fire", "resolve"]


def test_people_told_it_fired_are_told_it_resolved_even_when_muted(org):
    metric = metric_with(org, [80, 81, 70.5])
    rule = rule_on(metric, level="red")
    _evaluate(metric, day(3))
    AlertRule.objects.filter(pk=rule.pk).update(muted_until=day(30))
    add_values(metric, [79], start=day(3))
    _evaluate(metric, day(4))
    assert sorted(Delivery.objects.values_list("kind", flat=True)) == ["fire", "resolve"]


def test_a_notice_whose_worker_died_mid_send_is_sent_later(org):
    org["leader"].email = "leader@example.com"
    org["leader"].save()
    metric = metric_with(org, [80, 81, 70.5])
    rule_on(metric, level="red")
    _evaluate(metric, day(3))
    Email.objects.update(status="sending", attempts=1, next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert outbox.send_due() == 1 and len(mail.outbox) == 1
    Email.objects.update(status="sending", next_attempt_at=timezone.now() + timedelta(minutes=5))  # being sent now
    assert outbox.send_due() == 0


def test_pruning_old_successes_does_not_bring_old_failures_back(org):
    from django.utils import timezone

    from alerts.models import EvaluationStatus
    from alerts.selectors import evaluation_problems

    metric = metric_with(org, [80])
    long_ago = timezone.now() - timedelta(days=60)
    Evaluation.objects.create(
        metric=metric,
        status=EvaluationStatus.FAILED,
        error="boom",
        requested_at=long_ago,
        updated_at=long_ago,
        finished_at=long_ago,
    )
    Evaluation.objects.create(
        metric=metric,
        status=EvaluationStatus.DONE,
        requested_at=long_ago,
        updated_at=long_ago,
        finished_at=long_ago + timedelta(hours=1),
    )
    assert evaluation_problems() == (0, 0)
    services.evaluations_prune()
    assert evaluation_problems() == (0, 0) and not Evaluation.objects.exists()


def test_alert_emails_that_could_not_be_sent_show_on_the_health_page(org):
    org["leader"].email = "leader@example.com"
    org["leader"].save()
    metric = metric_with(org, [80, 81, 70.5])
    rule_on(metric, level="red")
    _evaluate(metric, day(3))
    assert outbox.health()["ok"] is True
    Email.objects.update(status="failed", error="SMTPDataError: (550, b'No such user')")
    health = outbox.health()
    assert health["ok"] is False and "1 email(s) failed for good" in health["error"]


def test_out_of_range_rule_settings_get_a_clear_error(org):
    from django.core.exceptions import ValidationError

    metric = metric_with(org, [80])
    rule = rule_on(metric, level="red", name="Red")
    with pytest.raises(ValidationError) as error:
        services.rule_save(user=org["cx"], rule=AlertRule.objects.get(pk=rule.pk), fields={"min_periods": 0})
    assert "out of range" in str(error.value) and "already has a rule" not in str(error.value)


def test_a_rule_switched_off_and_on_while_the_trouble_lasts_fires_a_new_episode(org):
    metric = metric_with(org, [80, 81, 70.5, 70.1])
    rule = rule_on(metric, level="red")
    _evaluate(metric, day(4))
    first = Alert.objects.get()
    services.rule_save(user=org["cx"], rule=AlertRule.objects.get(pk=rule.pk), fields={"active": False})
    services.rule_save(user=org["cx"], rule=AlertRule.objects.get(pk=rule.pk), fields={"active": True})
    _evaluate(metric, day(4))
    _evaluate(metric, day(4))  # once
    first.refresh_from_db()
    again = Alert.objects.exclude(pk=first.pk).get()
    assert first.state == AlertState.RESOLVED and again.state == AlertState.FIRING
    assert again.opened_period == day(3)  # the latest complete period, after the first episode's opening
    assert Delivery.objects.filter(alert=again, kind="fire").count() == 1


def test_a_rule_that_reads_what_it_read_last_time_is_not_judged_again(org, monkeypatch):
    metric = metric_with(org, [80, 81, 70.5])
    rule = rule_on(metric, level="red", name="CSAT turns red")
    judged = []
    checks = evaluation.checks_array

    def counting(rule_, *args, **kwargs):
        judged.append(rule_.pk)
        return checks(rule_, *args, **kwargs)

    monkeypatch.setattr(evaluation, "checks_array", counting)
    _evaluate(metric, day(3))
    assert judged == [rule.pk] and Alert.objects.get().state == AlertState.FIRING
    _evaluate(metric, day(3))
    assert judged == [rule.pk]  # nothing it reads changed: skipped, and the alert goes on
    # A new period, a revised value, a changed rule or metric, a replay asked: judged again.
    add_values(metric, [79], start=day(3))
    _evaluate(metric, day(4))
    assert len(judged) == 2 and Alert.objects.get().state == AlertState.RESOLVED
    MetricValue.objects.filter(metric=metric, period_start=day(3)).update(value=60)
    _evaluate(metric, day(4))
    assert len(judged) == 3
    assert list(Alert.objects.order_by("pk").values_list("state", flat=True)) == ["resolved", "firing"]
    AlertRule.objects.filter(pk=rule.pk).update(hysteresis=2)
    _evaluate(metric, day(4))
    assert len(judged) == 4
    metric.red_threshold = 50
    metric.save()
    _evaluate(metric, day(4))
    assert len(judged) == 5
    assert list(Alert.objects.order_by("pk").values_list("state", flat=True)) == ["resolved", "resolved"]
    _evaluate(metric, day(4))
    assert len(judged) == 5
    AlertRule.objects.filter(pk=rule.pk).update(replay_pending=True)
    _evaluate(metric, day(4))
    assert len(judged) == 6


def test_a_rerun_with_nothing_new_reads_no_value(org, monkeypatch):
    """The locks (metric, then rules) and, on PostgreSQL, a fingerprint of the rules' values; no
    value is sent or judged. A value revised in place is seen by the fingerprint and judged."""
    metric = metric_with(org, [80, 81, 70.5, 79])
    rule_on(metric, level="red", name="CSAT turns red")
    rule_on(metric, kind="change", change_limit=5, name="Drop")
    judged = []
    checks = evaluation.checks_array

    def counting(rule_, *args, **kwargs):
        judged.append(rule_.pk)
        return checks(rule_, *args, **kwargs)

    assert _evaluate(metric, day(4)) == 2
    with CaptureQueriesContext(connection) as queries:
        assert _evaluate(metric, day(4)) == 2
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    if connection.vendor == "postgresql":
        assert "sha256" in sql and "period_start, value" not in sql  # the fingerprint, not the rows
    monkeypatch.setattr(evaluation, "checks_array", counting)
    _evaluate(metric, day(4))
    assert judged == []
    MetricValue.objects.filter(metric=metric, period_start=day(3)).update(sample_size=12)
    _evaluate(metric, day(4))
    assert len(judged) == 2  # both rules read that period
    _evaluate(metric, day(4))
    assert len(judged) == 2


def test_a_change_of_the_sites_time_zone_that_moves_a_rules_first_period_is_judged(org, settings, monkeypatch):
    """A rule created before its segment's first value starts its walk on its local creation day."""
    settings.TIME_ZONE = "UTC"
    metric = metric_with(org, [], start=date(2026, 1, 1))
    # Created 2 Jan 01:00 UTC: 2 Jan in UTC, 1 Jan in New York.
    rule = rule_on(metric, kind="missing", min_periods=5, created=datetime(2026, 1, 2, 1, tzinfo=UTC))
    periods = []
    checks = evaluation.checks_array

    def counting(rule_, metric_, points, *args, **kwargs):
        periods.append(len(points))
        return checks(rule_, metric_, points, *args, **kwargs)

    monkeypatch.setattr(evaluation, "checks_array", counting)
    services.metric_evaluate(metric=metric, today=day(6))  # before 7 Jan: 2-6 Jan, 5 periods
    assert periods == [5]
    settings.TIME_ZONE = "America/New_York"
    services.metric_evaluate(metric=metric, today=day(6))  # now 1-6 Jan
    assert periods == [5, 6] and Alert.objects.filter(rule=rule).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks across two connections")
@pytest.mark.django_db(transaction=True)
def test_an_evaluation_claimed_while_its_recalculation_commits_judges_the_new_values(org, monkeypatch):
    """A recalculation holds the metric's lock while it writes, and its request for an evaluation
    is folded into one already queued; that evaluation, claimed before the recalculation commits,
    waits for it and judges its values (nothing else would until the next recalculation)."""
    import threading

    from django.db import transaction

    from alerts.models import AlertState
    from metrics.models import Metric

    monkeypatch.setattr(services.dispatch, "enqueue", lambda *a, **k: None)  # no broker here
    metric = metric_with(org, [80, 81, 79])
    rule_on(metric, level="red", name="CSAT turns red")
    services.metric_evaluate(metric=metric, today=day(3))
    assert not Alert.objects.exists()
    queued = services.evaluation_request(metric_id=metric.pk)  # from an earlier recalculation, not run yet
    writing, release, result = threading.Event(), threading.Event(), {}

    def recalculation():  # as metrics.services.metric_recalculate does it
        try:
            with transaction.atomic():
                Metric.objects.select_for_update(no_key=True).get(pk=metric.pk)
                MetricValue.objects.filter(metric=metric, period_start=day(2)).update(value=60)  # red now
                result["request"] = services.evaluation_request(metric_id=metric.pk)
                writing.set()
                release.wait(10)
        finally:
            connection.close()

    def worker():
        try:
            services.evaluation_run(evaluation_id=queued.pk, today=day(3))
        finally:
            connection.close()

    recalc = threading.Thread(target=recalculation)
    recalc.start()
    assert writing.wait(10)
    evaluating = threading.Thread(target=worker)
    evaluating.start()
    evaluating.join(1)  # it waits for the metric's lock
    release.set()
    recalc.join()
    evaluating.join()
    assert result["request"] is None  # folded into the queued one
    assert Alert.objects.filter(state=AlertState.FIRING).exists()
