"""Daily rules across a daylight-saving change: a "day" is a day of the configured time zone
(TIME_ZONE, read through ``timezone.localdate``), so the 23-hour and 25-hour days are neither
skipped nor doubled, and a day is judged only once it has ended locally."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from alerts import evaluation, services
from alerts.models import Alert, Delivery
from alerts.tests.factories import add_values, metric_with, rule_on

pytestmark = pytest.mark.django_db

START = date(2026, 3, 20)


def _hours(first: datetime, last: datetime):
    at = first
    while at <= last:
        yield at
        at += timedelta(hours=1)


@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York"])
def test_last_complete_day_moves_once_per_local_midnight_across_dst(settings, monkeypatch, zone):
    settings.TIME_ZONE = zone
    seen = []
    # London springs forward on 29 March 2026 and falls back on 25 October; New York on 8 March / 1 November.
    for first in (datetime(2026, 3, 5, tzinfo=UTC), datetime(2026, 10, 22, tzinfo=UTC)):
        for at in _hours(first, first + timedelta(days=14)):
            monkeypatch.setattr(timezone, "now", lambda at=at: at)
            last = evaluation.complete_periods(date(2026, 1, 1), timezone.localdate(), "day")[-1]
            if not seen or seen[-1][0] != last:
                seen.append((last, timezone.localtime(at)))
        days = [d for d, _ in seen]
        assert days == [days[0] + timedelta(days=i) for i in range(len(days))]  # no day skipped or doubled
        # Each day became complete at the first hour after local midnight.
        assert all(local.hour == 0 for _, local in seen[1:])
        seen.clear()


def test_a_missing_data_rule_across_the_spring_change_fires_for_the_short_day_only(settings, monkeypatch, org):
    settings.TIME_ZONE = "Europe/London"
    metric = metric_with(org, [], start=START)
    rule_on(metric, kind="missing", min_periods=1, created=datetime(2026, 3, 20, 9, tzinfo=UTC))
    short_day = date(2026, 3, 29)  # 23 hours long in London
    for at in _hours(datetime(2026, 3, 21, 0, 30, tzinfo=UTC), datetime(2026, 4, 2, tzinfo=UTC)):
        monkeypatch.setattr(timezone, "now", lambda at=at: at)
        today = timezone.localdate()
        # The recalculation has written every finished day except the short one.
        days = (today - START).days
        add_values(metric, [None if START + timedelta(days=i) == short_day else 80 for i in range(days)], start=START)
        services.metric_evaluate(metric=metric)
    alert = Alert.objects.get()
    assert (alert.opened_period, alert.resolved_period) == (short_day, date(2026, 3, 30))
    assert Delivery.objects.filter(kind="fire").count() == 1 and Delivery.objects.filter(kind="resolve").count() == 1


def test_a_day_ends_at_local_midnight_not_utc_midnight(settings, monkeypatch):
    settings.TIME_ZONE = "Europe/London"
    # 23:30 UTC on 30 March is 00:30 on 31 March in London (summer time): the 30th is complete.
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 3, 30, 23, 30, tzinfo=UTC))
    assert evaluation.complete_periods(date(2026, 3, 28), timezone.localdate(), "day")[-1] == date(2026, 3, 30)
    settings.TIME_ZONE = "UTC"
    assert evaluation.complete_periods(date(2026, 3, 28), timezone.localdate(), "day")[-1] == date(2026, 3, 29)
