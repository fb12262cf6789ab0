"""When digests are due: local hours, weeks and months, across daylight-saving changes."""

from datetime import UTC, datetime

from digests.schedule import Plan, due_period, previous_due


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_daily_at_the_local_hour_across_the_spring_change_in_london():
    plan = Plan("daily", hour=8, time_zone="Europe/London")
    # Saturday 28 March 2026 is GMT: 08:00 local is 08:00 UTC.
    assert due_period(plan, utc(2026, 3, 28, 7, 59)) is None
    assert due_period(plan, utc(2026, 3, 28, 8, 0))[0] == "daily:2026-03-28"
    # Sunday 29 March 2026 the clocks go forward (BST): 08:00 local is 07:00 UTC.
    assert due_period(plan, utc(2026, 3, 29, 6, 59)) is None
    key, moment = due_period(plan, utc(2026, 3, 29, 7, 0))
    assert key == "daily:2026-03-29" and moment.hour == 8 and moment.utcoffset().total_seconds() == 3600


def test_an_hour_that_happens_twice_is_one_period():
    plan = Plan("daily", hour=1, time_zone="Europe/London")
    # 25 October 2026: 01:00-02:00 BST then 01:00-02:00 GMT again.
    keys = {due_period(plan, utc(2026, 10, 25, h, m))[0] for h in (0, 1, 2) for m in (0, 30)}
    assert keys == {"daily:2026-10-25"}
    assert due_period(plan, utc(2026, 10, 24, 22, 59))[0] == "daily:2026-10-24"  # 23:59 BST on the 24th
    assert due_period(plan, utc(2026, 10, 24, 23, 59)) is None  # 00:59 BST on the 25th: not yet 01:00


def test_an_hour_in_the_spring_gap_is_sent_just_after_it():
    plan = Plan("daily", hour=1, time_zone="Europe/London")  # 01:00-02:00 does not exist on 29 March 2026
    assert due_period(plan, utc(2026, 3, 29, 0, 59)) is None
    assert due_period(plan, utc(2026, 3, 29, 1, 0))[0] == "daily:2026-03-29"


def test_weekly_and_monthly_periods():
    weekly = Plan("weekly", weekday=0, hour=9, time_zone="America/New_York")
    # Wednesday 25 Nov 2026 in New York: the week began Monday 23rd; due since 09:00 EST (14:00 UTC).
    assert due_period(weekly, utc(2026, 11, 25, 12))[0] == "weekly:2026-11-23"
    assert due_period(weekly, utc(2026, 11, 23, 13, 59)) is None
    # Monday 04:00 UTC is still Sunday evening in New York: the previous week.
    assert due_period(weekly, utc(2026, 11, 23, 4))[0] == "weekly:2026-11-16"
    monthly = Plan("monthly", day_of_month=15, hour=8, time_zone="Asia/Singapore")
    assert due_period(monthly, utc(2026, 11, 14, 12))[0] == "monthly:2026-10-15"  # 20:00 SGT on the 14th
    assert due_period(monthly, utc(2026, 11, 14, 23, 59)) is None  # 07:59 SGT on the 15th
    assert due_period(monthly, utc(2026, 11, 15, 0, 0))[0] == "monthly:2026-11-15"  # 08:00 SGT
    assert due_period(Plan("off"), utc(2026, 11, 15)) is None


def test_a_first_digest_reports_from_the_previous_period():
    plan = Plan("weekly", weekday=0, hour=8, time_zone="UTC")
    assert previous_due(plan, utc(2026, 11, 25, 10)) == utc(2026, 11, 16, 8)
