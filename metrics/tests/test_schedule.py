"""A metric's recalculation schedule set on its page (administrators): an interval or a cron
expression in a time zone, previewed in plain language with the next runs, stored in
django-celery-beat through the service; errors name the field."""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from metrics import schedules, services
from metrics.models import Metric


@pytest.fixture
def metric(org):
    metric = services.metric_save(
        user=org["admin"], metric=Metric(), fields={"name": "CSAT", "calculator": "csat", "kind": "outcome"}
    )
    return metric


def _task(metric) -> PeriodicTask:
    return PeriodicTask.objects.select_related("interval", "crontab").get(name=metric.schedule_name)


def test_a_new_metric_is_recalculated_hourly_and_its_page_says_so_with_the_form(org, client_for, metric):
    html = client_for(org["admin"]).get("/metrics/csat/").content.decode()
    assert 'id="schedule-summary">Every hour' in html
    assert 'id="schedule-form"' in html and "/admin/django_celery_beat" not in html
    assert 'name="cron"' in html and 'data-show-when="kind" data-show-value="cron"' in html
    assert html.count("<li><time datetime=") == 3  # the next three runs


def test_only_administrators_see_or_change_the_schedule(org, client_for, metric):
    cx = client_for(org["cx"])
    assert 'id="schedule-form"' not in cx.get("/metrics/csat/").content.decode()
    assert cx.get("/metrics/csat/schedule/").status_code == 403
    assert cx.post("/metrics/csat/schedule/", {"kind": "interval", "every": 2, "period": "hours"}).status_code == 403
    assert cx.get("/metrics/csat/schedule/preview/", {"kind": "cron", "cron": "0 6 * * *"}).status_code == 403
    with pytest.raises(PermissionDenied):
        services.metric_schedule_set(user=org["leader"], metric=metric, kind="interval", every=2, period="hours")
    assert _task(metric).interval.every == 1


def test_saving_a_cron_expression_stores_a_crontab_in_its_time_zone(org, client_for, metric):
    response = client_for(org["admin"]).post(
        "/metrics/csat/schedule/",
        {"kind": "cron", "cron": " 0  6 * * 1-5 ", "timezone": "Europe/Paris", "enabled": "on", "every": ""},
    )
    assert response.status_code == 302 and response["Location"] == "/metrics/csat/#schedule"
    task = _task(metric)
    assert task.interval is None and task.enabled
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("0", "6", "1-5")
    assert str(task.crontab.timezone) == "Europe/Paris"
    assert task.task == "metrics.recalculate" and f'"metric_id": {metric.pk}' in task.kwargs
    page = client_for(org["admin"]).get("/metrics/csat/").content.decode()
    assert "Schedule saved: CSAT is recalculated at 06:00 AM, Monday through Friday." in page
    assert 'value="0 6 * * 1-5"' in page and "<option selected>Europe/Paris</option>" in page
    assert 'name="kind" value="cron" id="id_kind_1" checked' in page


def test_saving_an_interval_replaces_the_crontab_and_reuses_shared_rows(org, metric):
    services.metric_schedule_set(user=org["admin"], metric=metric, kind="cron", cron="30 2 * * *", tz="UTC")
    services.metric_schedule_set(user=org["admin"], metric=metric, kind="interval", every=3, period="hours")
    again = services.metric_schedule_set(user=org["admin"], metric=metric, kind="interval", every=3, period="hours")
    assert again.crontab is None and (again.interval.every, again.interval.period) == (3, "hours")
    assert IntervalSchedule.objects.filter(every=3, period="hours").count() == 1  # safe to repeat
    assert PeriodicTask.objects.filter(name=metric.schedule_name).count() == 1
    off = services.metric_schedule_set(
        user=org["admin"], metric=metric, kind="interval", every=1, period="days", enabled=False
    )
    assert not off.enabled


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "cron", "cron": "0 25 * * *"}, "cron", "The hour part “25” is not valid: it takes 0-23"),
        ({"kind": "cron", "cron": "0 6 * *"}, "cron", "A cron expression has five parts"),
        ({"kind": "cron", "cron": "0 0 31 2 *"}, "cron", "day_of_month '31' never occurs in month_of_year '2'"),
        ({"kind": "interval", "every": 0, "period": "hours"}, "every", "from 1 to 8784 hours"),
        ({"kind": "interval", "every": 2, "period": "minutes"}, "every", "At least every 5 minutes"),
        ({"kind": "interval", "every": 2, "period": "weeks"}, "period", "Choose minutes, hours or days"),
        ({"kind": "interval", "every": 2, "period": "hours", "tz": "Mars/Base"}, "timezone", "“Mars/Base” is not a"),
        ({"kind": "solar"}, "kind", "Choose an interval or a cron expression"),
    ],
)
def test_bad_schedules_are_refused_naming_the_field(org, metric, data, field, message):
    with pytest.raises(ValidationError) as caught:
        services.metric_schedule_set(user=org["admin"], metric=metric, **data)
    assert message in " ".join(caught.value.message_dict[field])
    assert _task(metric).interval.every == 1 and _task(metric).crontab is None  # unchanged


def test_the_page_shows_a_bad_cron_expression_next_to_its_field(org, client_for, metric):
    response = client_for(org["admin"]).post(
        "/metrics/csat/schedule/", {"kind": "cron", "cron": "0 6 * * 9", "timezone": "UTC", "enabled": "on"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="cron-error">The day of week part “9” is not valid' in html and 'aria-invalid="true"' in html
    assert _task(metric).crontab is None


def test_preview_describes_the_schedule_and_its_next_three_runs(org, client_for, metric):
    admin = client_for(org["admin"])
    html = admin.get(
        "/metrics/csat/schedule/preview/", {"kind": "cron", "cron": "*/15 9-17 * * 1-5", "timezone": "Asia/Tokyo"}
    ).content.decode()
    assert "Every 15 minutes, between 09:00 AM and 05:59 PM, Monday through Friday" in html
    assert html.count("Asia/Tokyo</li>") == 3
    shown = re.findall(r'<time datetime="[0-9-]+T(\d\d:\d\d):00\+09:00">[^<]*, (\d\d:\d\d)</time>', html)
    assert len(shown) == 3 and all(a == b for a, b in shown)  # the chosen zone's wall clock, not the server's
    bad = admin.get("/metrics/csat/schedule/preview/", {"kind": "interval", "every": "x", "period": "hours"})
    assert "Give a whole number" in bad.content.decode() and 'data-field="every"' in bad.content.decode()


def test_next_runs_follow_celery_in_the_chosen_time_zone():
    now = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)  # Friday; Paris moves to summer time on Sunday 29 March
    runs = schedules.check(kind="cron", cron="0 6 * * *", tz="Europe/Paris").next_runs(now=now)
    paris = ZoneInfo("Europe/Paris")
    assert runs == [datetime(2026, 3, d, 6, 0, tzinfo=paris) for d in (28, 29, 30)]
    assert [r.utcoffset().total_seconds() / 3600 for r in runs] == [1, 2, 2]
    hourly = schedules.check(kind="interval", every=90, period="minutes", tz="UTC")
    last = datetime(2026, 3, 27, 11, 0, tzinfo=UTC)
    assert [r.strftime("%H:%M") for r in hourly.next_runs(now=now, last_run_at=last)] == ["12:30", "14:00", "15:30"]


def test_schedules_saved_by_older_versions_read_back(org, metric):
    task = _task(metric)
    task.interval = IntervalSchedule.objects.create(every=3600, period="seconds")
    task.save()
    assert schedules.from_task(_task(metric)) == schedules.Schedule(kind="interval", tz="UTC", every=1, period="hours")
    assert CrontabSchedule.objects.count() == 0
