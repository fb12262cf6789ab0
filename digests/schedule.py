"""When is a digest due? Plain functions on aware datetimes, no database.

A period is named by its first local day (``weekly:2026-11-23``); its digest is due from the
configured local hour of that day until the period ends. Comparing aware datetimes keeps the
local hour right across daylight-saving changes: a London 08:00 digest leaves at 08:00 UTC in
winter and 07:00 UTC in summer, and an hour that happens twice (clocks going back) is one period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from digests.models import Frequency


@dataclass(frozen=True)
class Plan:
    frequency: str
    weekday: int = 0
    day_of_month: int = 1
    hour: int = 8
    time_zone: str = "UTC"


def period_start(plan: Plan, local_day: date) -> date:
    """The first local day of the period that contains ``local_day``."""
    if plan.frequency == Frequency.DAILY:
        return local_day
    if plan.frequency == Frequency.WEEKLY:
        return local_day - timedelta(days=(local_day.weekday() - plan.weekday) % 7)
    if local_day.day >= plan.day_of_month:
        return local_day.replace(day=plan.day_of_month)
    previous = local_day.replace(day=1) - timedelta(days=1)
    return previous.replace(day=plan.day_of_month)


def due_at(plan: Plan, first_day: date) -> datetime:
    """The aware moment the digest of the period starting on ``first_day`` is due (an hour that does
    not exist that day, in a spring-forward gap, resolves to the moment just after the gap)."""
    zone = ZoneInfo(plan.time_zone)
    naive = datetime.combine(first_day, time(plan.hour))
    # Round-trip through UTC so a time inside a DST gap becomes a real instant.
    return naive.replace(tzinfo=zone).astimezone(ZoneInfo("UTC")).astimezone(zone)


def due_period(plan: Plan, now: datetime) -> tuple[str, datetime] | None:
    """(period key, due moment) if this plan's digest for the current period is due at ``now``."""
    if plan.frequency == Frequency.OFF:
        return None
    local = now.astimezone(ZoneInfo(plan.time_zone))
    first = period_start(plan, local.date())
    moment = due_at(plan, first)
    if now < moment:
        return None
    return f"{plan.frequency}:{first.isoformat()}", moment


def previous_due(plan: Plan, now: datetime) -> datetime:
    """The due moment of the period before the current one: where a first digest starts reporting."""
    local = now.astimezone(ZoneInfo(plan.time_zone))
    first = period_start(plan, local.date())
    return due_at(plan, period_start(plan, first - timedelta(days=1)))
