"""The bounds every write respects, whichever way it arrives (API, form, file import).

One place says what a date, an amount, a text, an identifier or a set of driver ratings may be,
so the strict serializers (``cxgov.lib.serializers``), the forms (``cxgov.lib.forms``) and the
file imports (``metrics.ingestion``) refuse the same things with the same messages. The rules
follow the field's type and name, so a field added later is bounded without anyone remembering.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils import timezone

EARLIEST = date(1900, 1, 1)
PLANNING_DAYS = 3653  # about ten years: due dates, verification windows and mutes plan ahead
TEXT_MAX = 10_000  # free text (comments, descriptions, notes) longer than this is refused, never cut
MAX_DRIVERS = 100  # driver ratings on one response
MAX_ATTRIBUTES = 100  # keys of a row's free-form attributes / dimensions
KEY_MAX = 100  # length of a driver or attribute name
ATTRIBUTE_VALUE_MAX = 1_000

# Dates that plan ahead may lie up to PLANNING_DAYS ahead. Every other date records something
# that happened (a response, a start, a baseline), so it may be at most the horizon past now:
# one response dated 2999 once put the North Star's latest period in 2999 and showed it at 0 %.
PLANNED_DATES = frozenset({"due_date", "due_on", "check_start", "check_end", "muted_until", "until"})
# Identifiers name rows in other systems and end up in URLs, exports and spreadsheets.
IDENTIFIERS = frozenset({"source", "external_id", "customer_id", "denominator_source"})
# Money that may be negative: a loss-making customer has a negative margin. Other amounts
# (revenue, cost per contact) may not.
SIGNED_MONEY = frozenset({"monthly_margin"})

# A spreadsheet formula (=SUM(...), +cmd|..., @HYPERLINK(...)) or markup: refused in names only.
FORMULA = re.compile(r"^\s*(?:[=+@]|-[^\s\d.]|-[\d.]+\s*[-+*/^&|(])")
NUMBER = re.compile(r"^\s*[-+]?\d[\d,.]*\s*$")
MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z!]")
NOT_AN_IDENTIFIER = re.compile(r"^[=+\-@\s]|[\x00-\x1f\x7f<>]|\s$")


def text_problem(value: str) -> str | None:
    """Why a text value (what a customer wrote, a label) may not be stored, or None.

    Text is kept as given: a comment may start with an @mention, a +44 number, = or -, and may
    contain markup (pages escape it, so it shows as text). Formula protection belongs to the
    exports (``cxgov.lib.spreadsheet``). Only a NUL character is refused: no database stores it."""
    if value and "\x00" in value:
        return "contains a NUL character (\\0), which cannot be stored; remove it"
    return None


def name_problem(value: str) -> str | None:
    """Why a name that becomes a column or a key elsewhere (a driver or attribute name) may not be
    one: a spreadsheet formula or markup, strict like an identifier; or None."""
    if text_problem(value):
        return text_problem(value)
    if not value or (value[0] not in "=+-@ \t" and "<" not in value):
        return None  # the common case, without a regular expression
    if FORMULA.match(value) and not NUMBER.match(value):
        return "looks like a spreadsheet formula; remove the leading =, +, - or @"
    if MARKUP.search(value):
        return "contains HTML markup (a tag such as <script> or <a>); send plain text"
    return None


def identifier_problem(value: str) -> str | None:
    """Why a value cannot be an identifier (a source, series key or external id), or None."""
    if not value or not NOT_AN_IDENTIFIER.search(value):
        return None
    return (
        f"“{value[:40]}” is not an identifier: it may not start with =, +, - or @ (a spreadsheet formula) or "
        "a space, end with a space, or contain control characters, < or >"
    )


def date_range(*, planned: bool = False) -> tuple[date, date]:
    """The first and last day a date may take today."""
    if planned:
        return EARLIEST, timezone.localdate() + timedelta(days=PLANNING_DAYS)
    return EARLIEST, timezone.localdate(timezone.now() + timedelta(days=settings.CXGOV_DATE_HORIZON_DAYS))


def date_checker(*, planned: bool = False):
    """A function telling why a date or date-time is out of bounds (or None), with today's limits
    worked out once, for checking many rows.

    A date-time is compared exactly with now plus the horizon (``CXGOV_DATE_HORIZON_DAYS``), a day
    with the day that falls in."""
    first, last = date_range(planned=planned)
    days = settings.CXGOV_DATE_HORIZON_DAYS
    latest = timezone.now() + timedelta(days=days) if not planned else None
    reach = "about ten years ahead" if planned else f"now plus {days} day{'s' if days != 1 else ''}"

    def check(value: date | datetime | None) -> str | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            if timezone.is_naive(value):
                value = timezone.make_aware(value)
            try:
                day = timezone.localdate(value)
            except OverflowError:  # year 1 or 9999 shifted past the calendar's ends
                day = value.date()
            late = value > latest if latest is not None else day > last
        else:
            day, late = value, value > last
        if day >= first and not late:
            return None
        return (
            f"{day.isoformat()} is out of range: dates must be between {first.isoformat()} and "
            f"{last.isoformat()} ({reach})."
        )

    return check


def date_problem(value: date | datetime | None, *, planned: bool = False) -> str | None:
    """Why a date or date-time is out of bounds, or None."""
    return date_checker(planned=planned)(value)


def money_problem(value, *, signed: bool = False) -> str | None:
    if value is None or signed or value >= 0:
        return None
    return f"{value} is negative; an amount of money here must be 0 or more."


def length_problem(value: str, limit: int = TEXT_MAX) -> str | None:
    if len(value) <= limit:
        return None
    return f"is {len(value):,} characters long; the limit is {limit:,}."


def _key_problem(key) -> str | None:
    if not isinstance(key, str) or not key.strip():
        return "names must be non-empty text"
    if len(key) > KEY_MAX:
        return f"“{key[:40]}…” is longer than {KEY_MAX} characters"
    problem = name_problem(key)
    return f"“{key[:40]}” {problem}" if problem else None


def driver_ratings_problem(value) -> str | None:
    """Why a response's driver ratings ({driver name: rating 1-5}) may not be stored, or None."""
    if value in (None, ""):
        return None
    if not isinstance(value, dict):
        return "Send an object of driver name: rating (1-5)."
    if len(value) > MAX_DRIVERS:
        return f"{len(value)} driver ratings; at most {MAX_DRIVERS} per response."
    for name, rating in value.items():
        problem = _key_problem(name)
        if problem:
            return f"Driver {problem}."
        if isinstance(rating, bool) or not isinstance(rating, int | float) or not 1 <= rating <= 5:
            return f"“{name}” must be a rating from 1 to 5."
    return None


def attributes_problem(value) -> str | None:
    """Why free-form attributes ({name: text, number, true/false or null}) may not be stored, or None."""
    if value in (None, ""):
        return None
    if not isinstance(value, dict):
        return "Send an object of name: value."
    if len(value) > MAX_ATTRIBUTES:
        return f"{len(value)} attributes; at most {MAX_ATTRIBUTES}."
    for name, item in value.items():
        problem = _key_problem(name)
        if problem:
            return f"Attribute {problem}."
        if isinstance(item, str):
            problem = length_problem(item, ATTRIBUTE_VALUE_MAX) or text_problem(item)
            if problem:
                return f"“{name}” {problem}"
        elif isinstance(item, float) and not math.isfinite(item):
            return f"“{name}” must be a finite number."
        elif item is not None and not isinstance(item, bool | int | float):
            return f"“{name}” must be text, a number, true/false or null (not a list or an object)."
    return None


def _raise(problem: str | None, code: str) -> None:
    if problem:
        raise ValidationError(problem, code=code)


# Django validators (forms and DRF fields run them alike).


def validate_date(value) -> None:
    _raise(date_problem(value), "date_out_of_range")


def validate_planned_date(value) -> None:
    _raise(date_problem(value, planned=True), "date_out_of_range")


def validate_money(value) -> None:
    _raise(money_problem(value), "negative_money")


def validate_identifier(value) -> None:
    _raise(identifier_problem(value or ""), "not_an_identifier")


class TextLengthValidator(MaxLengthValidator):
    """Django's validator (so the OpenAPI schema shows the maxLength) with a message giving the
    length sent."""

    def __call__(self, value) -> None:
        _raise(length_problem(value or "", self.limit_value), "too_long")


validate_text_length = TextLengthValidator(TEXT_MAX)


def validate_driver_ratings(value) -> None:
    _raise(driver_ratings_problem(value), "bad_driver_ratings")


def validate_attributes(value) -> None:
    _raise(attributes_problem(value), "bad_attributes")


def end_problem(start, end) -> str | None:
    """Why an end cannot follow a start (both given and the end earlier), or None."""
    if start is None or end is None or end >= start:
        return None
    return f"The end ({end.isoformat()}) is before the start ({start.isoformat()})."


# Start and end fields that come in pairs: the end may not be before the start.
PAIRS = (
    ("started_on", "ended_on"),
    ("baseline_start", "baseline_end"),
    ("check_start", "check_end"),
    ("baseline_from", "baseline_to"),
    ("dates_from", "dates_to"),
    ("period_from", "period_to"),
    ("start", "end"),
)


def validators_for(name: str, kind: str) -> list:
    """The shared validators a writable field gets from its name and kind ("date", "datetime",
    "decimal", "text" for unbounded text, "char" for text with its own limit, "json")."""
    found = []
    if kind in ("date", "datetime"):
        found.append(validate_planned_date if name in PLANNED_DATES else validate_date)
    elif kind == "decimal" and name not in SIGNED_MONEY:
        found.append(validate_money)
    elif kind in ("text", "char"):
        if kind == "text":
            found.append(validate_text_length)
        if name in IDENTIFIERS:
            found.append(validate_identifier)
    elif kind == "json":
        if name == "driver_ratings":
            found.append(validate_driver_ratings)
        elif name in ("attributes", "dimensions"):
            found.append(validate_attributes)
    return found


def pair_errors(values: dict) -> dict[str, str]:
    """{end field: message} for every start/end pair in ``values`` whose end is before its start."""
    errors = {}
    for start, end in PAIRS:
        problem = end_problem(values.get(start), values.get(end))
        if problem:
            errors[end] = problem
    return errors
