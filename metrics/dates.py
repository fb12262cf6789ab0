"""Dates as files carry them: each date column's format is worked out from its values.

Pure functions, no database. A column is ISO (2015-02-24, 2015-02-24T11:15:00+01:00), day-first
or month-first (24/02/2015, 2/24/2015 11:15, 24.02.2015 11:15 PM: the order is decided by a value
over 12 in one place or the other), Excel serial numbers (42059.47) or Unix seconds (1424776500).
A column whose every value reads both ways (03/04/2015) is undecided: the person importing it
chooses. Times may be 24-hour or 12-hour (AM/PM); a time without a zone is in the source's zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from dateutil.parser import isoparse

ISO = "iso"
DAY_FIRST = "dmy"
MONTH_FIRST = "mdy"
EXCEL = "excel"
UNIX = "unix"
FORMATS = {
    ISO: "ISO (2015-02-24 or 2015-02-24T11:15)",
    DAY_FIRST: "Day first (24/02/2015 or 24.02.2015 11:15)",
    MONTH_FIRST: "Month first (2/24/2015 11:15 AM)",
    EXCEL: "Excel serial number (42059.47)",
    UNIX: "Unix time in seconds (1424776500)",
}

ISO_SHAPE = re.compile(r"^\d{4}-?\d{2}-?\d{2}(?:[T ].*)?$")
PARTS = re.compile(
    r"^(?P<a>\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})"
    r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?$"
)
NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
EXCEL_EPOCH = datetime(1899, 12, 30)  # Excel's day 0 (it counts the 1900 leap day that never was)
# Serials between these read as dates from 1954 to 2064; Unix seconds from 2001 to 2033.
EXCEL_RANGE = (20_000, 60_000)
UNIX_RANGE = (1_000_000_000, 2_000_000_000)


@dataclass
class Evidence:
    """What a column's values say about its format, gathered one value at a time."""

    count: int = 0
    iso: int = 0
    numeric: int = 0  # a/b/year
    first_over_12: str = ""  # a value whose first part is over 12 (so day first)
    second_over_12: str = ""
    excel: int = 0
    unix: int = 0
    other: str = ""  # a value that fits no format
    example: str = ""
    twelve_hour: bool = False
    times: bool = False

    def feed(self, raw: str) -> None:
        value = raw.strip()
        if not value:
            return
        self.count += 1
        self.example = self.example or value
        if ISO_SHAPE.match(value):
            self.iso += 1
            self.times = self.times or len(value) > 10
            return
        match = PARTS.match(value)
        if match:
            self.numeric += 1
            a, b = int(match["a"]), int(match["b"])
            if a > 12 and not self.first_over_12:
                self.first_over_12 = value
            if b > 12 and not self.second_over_12:
                self.second_over_12 = value
            self.times = self.times or bool(match["hour"])
            self.twelve_hour = self.twelve_hour or bool(match["ampm"])
            return
        if NUMBER.match(value):
            number = float(value)
            if EXCEL_RANGE[0] <= number <= EXCEL_RANGE[1]:
                self.excel += 1
                return
            if UNIX_RANGE[0] <= number <= UNIX_RANGE[1]:
                self.unix += 1
                return
        self.other = self.other or value

    def decide(self) -> tuple[str | None, str]:
        """(format, why) or (None, the question to ask); an empty column is ISO by default."""
        if not self.count:
            return ISO, "no values"
        counts = {ISO: self.iso, "numeric": self.numeric, EXCEL: self.excel, UNIX: self.unix}
        ranked = sorted((n, k == ISO, k) for k, n in counts.items() if n)  # ISO, the default, wins a tie
        if not ranked:
            return None, f"“{self.other}” is not a date in any known format"
        if len(ranked) > 1 and ranked[-1][0] == ranked[-2][0] and not ranked[-1][1]:
            return None, f"mixes date formats evenly (e.g. “{self.example}”): choose the one to read"
        kind = ranked[-1][2]  # the values in another format are reported row by row
        if kind in (ISO, EXCEL, UNIX):
            return kind, f"values like “{self.example}”"
        if self.first_over_12 and self.second_over_12:
            return None, (
                f"has day-first (“{self.first_over_12}”) and month-first (“{self.second_over_12}”) values; "
                "choose the one to read"
            )
        if self.first_over_12:
            return DAY_FIRST, f"“{self.first_over_12}” can only be day first"
        if self.second_over_12:
            return MONTH_FIRST, f"“{self.second_over_12}” can only be month first"
        return None, f"every value reads day-first or month-first (e.g. “{self.example}”): choose which"

    def describe(self, fmt: str) -> str:
        """The format as the preview states it, with the kind of times the values carry."""
        text = FORMATS[fmt].split(" (")[0]
        if fmt in (DAY_FIRST, MONTH_FIRST) and self.times:
            text += ", 12-hour times (AM/PM)" if self.twelve_hour else ", 24-hour times"
        return text


def detect(values) -> tuple[str | None, str]:
    """The format of a column's values, or None and the question to ask."""
    evidence = Evidence()
    for value in values:
        evidence.feed(value)
    return evidence.decide()


def _year(text: str) -> int:
    if len(text) == 4:
        return int(text)
    two = int(text)
    return 2000 + two if two <= (date.today().year % 100) + 10 else 1900 + two


def parse(raw: str, fmt: str, tz: tzinfo) -> datetime | date | None:
    """A date or an aware date-time read in the given format, or None when the value is not one
    (30 February, 25 o'clock, text)."""
    value = raw.strip()
    try:
        if fmt == ISO:
            if not ISO_SHAPE.match(value):
                return None
            if len(value) in (8, 10):
                return isoparse(value).date()
            parsed = isoparse(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)
        if fmt in (DAY_FIRST, MONTH_FIRST):
            match = PARTS.match(value)
            if not match:
                return None
            a, b = int(match["a"]), int(match["b"])
            day, month = (a, b) if fmt == DAY_FIRST else (b, a)
            day_value = date(_year(match["year"]), month, day)
            if not match["hour"]:
                return day_value
            hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"] or 0)
            if match["ampm"]:
                if not 1 <= hour <= 12:
                    return None
                hour = hour % 12 + (12 if match["ampm"][0] in "Pp" else 0)
            return datetime.combine(day_value, time(hour, minute, second), tzinfo=tz)
        if fmt == EXCEL and NUMBER.match(value):
            serial = float(value)
            moment = EXCEL_EPOCH + timedelta(days=serial)
            return moment.date() if serial.is_integer() else moment.replace(tzinfo=tz)
        if fmt == UNIX and NUMBER.match(value):
            return datetime.fromtimestamp(float(value), tz=UTC)
    except (ValueError, OverflowError):
        return None
    return None


def example(fmt: str) -> str:
    return FORMATS.get(fmt, fmt)
