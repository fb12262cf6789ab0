"""A metric's recalculation schedule as an administrator writes it: "every N minutes/hours/days" or a
cron expression in a time zone. Checked here (each error names its field), described in plain
language (cron-descriptor, as django-celery-beat does) and previewed as the next run times that
celery's own schedule classes compute, so the preview is what beat will do. No database access:
``metrics.services.metric_schedule_set`` stores what this checks."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

from cron_descriptor import FormatException, MissingFieldException, WrongArgumentException, get_description
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone as djtz

INTERVAL, CRON = "interval", "cron"
KINDS = ((INTERVAL, "Every N minutes, hours or days"), (CRON, "A cron expression"))
PERIODS = (("minutes", "minutes"), ("hours", "hours"), ("days", "days"))
_PERIOD_DELTA = {"minutes": "minutes", "hours": "hours", "days": "days"}
MIN_MINUTES = 5  # a recalculation reads the metric's whole history: not more often than this
MAX_EVERY = {"minutes": 60 * 24 * 31, "hours": 24 * 366, "days": 366}
CRON_PARTS = ("minute", "hour", "day of month", "month", "day of week")
_CRON_RANGES = ("0-59", "0-23", "1-31", "1-12 or jan-dec", "0-6 (Sunday = 0) or sun-sat")


@dataclass(frozen=True)
class Schedule:
    """A checked schedule: ``kind`` is "interval" (``every`` ``period``) or "cron" (``cron``, five
    parts), both read in ``tz`` (the times shown; a cron expression's wall clock)."""

    kind: str
    tz: str
    every: int | None = None
    period: str | None = None
    cron: str = ""

    @property
    def cron_parts(self) -> dict[str, str]:
        minute, hour, day_of_month, month_of_year, day_of_week = self.cron.split()
        return {
            "minute": minute,
            "hour": hour,
            "day_of_month": day_of_month,
            "month_of_year": month_of_year,
            "day_of_week": day_of_week,
        }

    def celery_schedule(self):
        """The celery schedule beat will run (django-celery-beat's time-zone-aware crontab)."""
        from celery.schedules import schedule as every_schedule
        from django_celery_beat.tzcrontab import TzAwareCrontab

        if self.kind == INTERVAL:
            return every_schedule(timedelta(**{_PERIOD_DELTA[self.period]: self.every}))
        return TzAwareCrontab(**self.cron_parts, tz=zoneinfo.ZoneInfo(self.tz))

    def describe(self) -> str:
        if self.kind == INTERVAL:
            unit = self.period[:-1] if self.every == 1 else self.period
            return f"Every {unit}" if self.every == 1 else f"Every {self.every} {unit}"
        try:
            return get_description(self.cron)
        except (FormatException, MissingFieldException, WrongArgumentException):
            return self.cron

    def next_runs(self, *, count: int = 3, last_run_at: datetime | None = None, now: datetime | None = None):
        """The next ``count`` run times after ``now`` in the schedule's time zone. An interval counts
        from the last run (as beat does), a cron expression from the wall clock."""
        tz = zoneinfo.ZoneInfo(self.tz)
        now = (now or djtz.now()).astimezone(tz)
        runs: list[datetime] = []
        if self.kind == INTERVAL:
            step = timedelta(**{_PERIOD_DELTA[self.period]: self.every})
            at = (last_run_at.astimezone(tz) + step) if last_run_at else now
            at = max(at, now)
            for _ in range(count):
                runs.append(at)
                at += step
            return runs
        crontab = self.celery_schedule()
        at = now
        for _ in range(count):
            start, delta, _now = crontab.remaining_delta(at, tz=tz)
            at = (start + delta).astimezone(tz)
            runs.append(at)
        return runs


def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


def check(*, kind: str, every=None, period: str = "", cron: str = "", tz: str = "") -> Schedule:
    """A ``Schedule`` from what was typed, or ``ValidationError`` naming each wrong field."""
    errors: dict[str, str] = {}
    tz = (tz or settings.TIME_ZONE).strip()
    if tz not in zoneinfo.available_timezones():
        errors["timezone"] = f"“{tz}” is not a time zone name; choose one such as Europe/Paris or UTC."
    if kind == INTERVAL:
        if period not in MAX_EVERY:
            errors["period"] = "Choose minutes, hours or days."
        try:
            every = int(every)
        except (TypeError, ValueError):
            errors["every"] = "Give a whole number (e.g. 1 for every hour)."
        else:
            if period in MAX_EVERY:
                if every < 1 or every > MAX_EVERY[period]:
                    errors["every"] = f"Give a whole number from 1 to {MAX_EVERY[period]} {period}."
                elif period == "minutes" and every < MIN_MINUTES:
                    errors["every"] = (
                        f"At least every {MIN_MINUTES} minutes: each recalculation reads the metric's whole history."
                    )
        if errors:
            raise ValidationError(errors)
        return Schedule(kind=INTERVAL, tz=tz, every=every, period=period)
    if kind != CRON:
        raise ValidationError({"kind": "Choose an interval or a cron expression."})
    cron = " ".join((cron or "").split())
    parts = cron.split(" ") if cron else []
    if len(parts) != 5:
        errors["cron"] = (
            f"A cron expression has five parts (minute hour day-of-month month day-of-week, e.g. “0 6 * * 1-5”); "
            f"this one has {len(parts)}."
        )
    else:
        from django_celery_beat.validators import (
            day_of_month_validator,
            day_of_week_validator,
            hour_validator,
            minute_validator,
            month_of_year_validator,
        )

        validators = (
            minute_validator,
            hour_validator,
            day_of_month_validator,
            month_of_year_validator,
            day_of_week_validator,
        )
        for name, allowed, validate, value in zip(CRON_PARTS, _CRON_RANGES, validators, parts, strict=True):
            try:
                validate(value)
            except (ValidationError, ValueError):
                errors["cron"] = (
                    f"The {name} part “{value}” is not valid: it takes {allowed}, *, lists, ranges and /steps."
                )
                break
    if errors:
        raise ValidationError(errors)
    schedule = Schedule(kind=CRON, tz=tz, cron=cron)
    try:  # celery parses it too (beat would): refuse what it cannot run
        schedule.celery_schedule()
    except ValueError as exc:
        raise ValidationError({"cron": f"Celery cannot run “{cron}”: {str(exc).rstrip('.')}."}) from None
    return schedule


def from_task(task) -> Schedule | None:
    """The ``Schedule`` a django-celery-beat ``PeriodicTask`` holds (None for kinds not edited here)."""
    if task is None:
        return None
    if task.interval_id:
        interval = task.interval
        if interval.period == "seconds" and interval.every % 60 == 0:  # older rows: 3600 seconds → 60 minutes
            every, period = interval.every // 60, "minutes"
            if every % 60 == 0:
                every, period = every // 60, "hours"
        else:
            every, period = interval.every, interval.period
        if period not in MAX_EVERY:
            return None
        return Schedule(kind=INTERVAL, tz=settings.TIME_ZONE, every=every, period=period)
    if task.crontab_id:
        c = task.crontab
        cron = " ".join((c.minute, c.hour, c.day_of_month, c.month_of_year, c.day_of_week))
        return Schedule(kind=CRON, tz=str(c.timezone), cron=cron)
    return None
