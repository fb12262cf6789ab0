"""Reading and validating data files (CSV or XLSX) against a column mapping.

One path for every way data arrives from a file (the upload page and ``manage.py
import_data``): ``read_table`` opens the file and says precisely what is wrong with it,
``build_rows`` turns each row into a model instance through the mapping, or into errors
naming the row and column. Nothing here writes; ``metrics.services.import_run`` does.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import models
from django.utils.dateparse import parse_date

from cxgov.lib import bounds
from metrics import dates
from metrics.models import Customer, Observation, SurveyResponse

SCALE_BOUNDS = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
text_problem = bounds.text_problem  # the same rule as the API: text as written, only NUL refused

FIELDS = {
    "responses": {
        "required": ["external_id"],
        "optional": [
            "score",
            "responded_at",
            "scale",
            "customer_id",
            "comment",
            "segment",
            "channel",
            "product",
            "touchpoint",
        ],
    },
    "customers": {
        "required": ["external_id"],
        "optional": [
            "category",
            "started_on",
            "tenure_months",
            "ended_on",
            "churned",
            "monthly_revenue",
            "monthly_margin",
        ],
    },
    "observations": {
        "required": ["external_id", "observed_at", "value"],
        "optional": ["segment", "channel", "product", "touchpoint"],
    },
}
# Any field but the id can take one value for every row instead of a column (a comment-only
# source has no score column; a file of one brand has no brand column).
for _spec in FIELDS.values():
    _spec["constants"] = [name for name in _spec["required"] + _spec["optional"] if name != "external_id"]
LABELS = {
    "external_id": "External id",
    "score": "Score",
    "responded_at": "Responded at",
    "scale": "Scale",
    "customer_id": "Customer id",
    "comment": "Comment",
    "segment": "Segment / customer category",
    "channel": "Channel",
    "product": "Product",
    "touchpoint": "Touchpoint",
    "category": "Customer category",
    "started_on": "Start date",
    "tenure_months": "Tenure in months (before the snapshot date)",
    "ended_on": "End date (churned)",
    "churned": "Churned flag (Yes/1/true: left in the snapshot month)",
    "monthly_revenue": "Monthly revenue",
    "monthly_margin": "Monthly margin",
    "observed_at": "Observed at",
    "value": "Value",
}


# What each field takes, for the import page's guide and the downloadable templates.
HELP = {
    "external_id": "Your id of the row (response id, tweet id, customer id). Re-importing an id updates it.",
    "score": "A whole number on the scale. Leave it out for comments without a score (social media, complaints).",
    "responded_at": "When it was said. ISO, 24/02/2015, 2/24/2015 11:15 AM, Excel serial numbers or Unix seconds: "
    "the format is detected from the values. Without a date column, rows are spread over days you give.",
    "scale": "nps (0-10), csat (1-5) or ces (1-7); usually one value for every row.",
    "customer_id": "The customer's id, to link revenue and churn.",
    "comment": "The customer's words, kept exactly as written (@mentions, +44 numbers, = and - included).",
    "segment": "Customer category or segment.",
    "channel": "Where it came from (email survey, Twitter, store).",
    "product": "Product or brand.",
    "touchpoint": "The moment of the journey.",
    "category": "Customer category.",
    "started_on": "First day as a customer.",
    "tenure_months": "Months a customer before the snapshot date (instead of a start date).",
    "ended_on": "Last day, for customers who left.",
    "churned": "Yes/No: left in the snapshot month (instead of an end date).",
    "monthly_revenue": "Revenue per month (1,250.50 and 12,5 are read as people write them).",
    "monthly_margin": "Margin per month; may be negative.",
    "observed_at": "When the value was measured (any date format, as above).",
    "value": "The number.",
}
EXAMPLES = {
    "responses": {
        "external_id": "R-1001",
        "score": "3",
        "responded_at": "2026-10-01 14:30",
        "scale": "nps",
        "customer_id": "C-42",
        "comment": "@support my refund is 3 weeks late",
        "segment": "Consumer",
        "channel": "Email survey",
        "product": "Broadband",
        "touchpoint": "Billing",
    },
    "customers": {
        "external_id": "C-42",
        "category": "Consumer",
        "started_on": "2024-03-01",
        "tenure_months": "",
        "ended_on": "",
        "churned": "No",
        "monthly_revenue": "49.90",
        "monthly_margin": "12.40",
    },
    "observations": {
        "external_id": "2026-10-01-billing-calls",
        "observed_at": "2026-10-01",
        "value": "1250",
        "segment": "",
        "channel": "Phone",
        "product": "",
        "touchpoint": "Billing",
    },
}


# Text limits of the fields rows are written to (a longer value is reported, never cut).
MAX_LENGTHS = {
    kind: {
        f.name: f.max_length or bounds.TEXT_MAX
        for f in model._meta.get_fields()
        if getattr(f, "max_length", None) or isinstance(f, models.TextField)
    }
    for kind, model in (("responses", SurveyResponse), ("customers", Customer), ("observations", Observation))
}


class FileProblem(ValueError):
    """The file as a whole cannot be read; the message says what to fix."""


@dataclass
class Table:
    header: list[str]
    rows: Iterator[list[str]]
    delimiter: str | None = None


CELLS = "_cells"  # a built row's fingerprint of its cells (never written)
LABEL = "_label"  # a built response's label from the label column (becomes a sub-theme tag)
LABEL_MAX = 120  # a sub-theme's name
REFUSE = "refuse"
KEEP_LAST = "keep_last"
DUPLICATE_CHOICES = {
    REFUSE: "Refuse the file (nothing is written)",
    KEEP_LAST: "Keep the last row of each repeated id",
}


@dataclass
class Mapping:
    """Which column feeds which field, constant values, and how to date rows without dates."""

    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    drivers: dict[str, str] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)  # responses: other fields (numbers or categories)
    dates_from: str = ""  # responses without a date column: spread by row order over [from, to]
    dates_to: str = ""
    snapshot: str = ""  # customers: tenure and churn flags are relative to this day
    date_formats: dict[str, str] = field(default_factory=dict)  # field: a metrics.dates format; absent: detect
    time_zone: str = ""  # the zone of times written without one; blank: the site's
    duplicates: str = REFUSE  # rows repeating an id with other values: refuse the file, or keep the last
    filter_column: str = ""  # import only the rows whose value in this column is one of filter_values
    filter_values: list[str] = field(default_factory=list)
    label_column: str = ""  # responses: a column of labels (the company's own categories) ...
    label_driver: str = ""  # ... that become sub-themes under the key driver of this name

    @classmethod
    def from_json(cls, data: dict) -> Mapping:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


DATE_FIELDS = {
    "responses": ["responded_at"],
    "customers": ["started_on", "ended_on"],
    "observations": ["observed_at"],
}


def date_columns(kind: str, mapping: Mapping) -> dict[str, str]:
    """{field: column} of the mapped date columns whose format is to be detected."""
    return {
        name: mapping.columns[name]
        for name in DATE_FIELDS[kind]
        if mapping.columns.get(name) and not mapping.date_formats.get(name)
    }


def row_filter(table: Table, mapping: Mapping):
    """A test of a raw row against the mapping's row filter (None when there is none): the cell,
    trimmed and compared without regard to case, is one of the values."""
    if not mapping.filter_column:
        return None
    index = {column_label(i, h): i for i, h in enumerate(table.header)}
    if mapping.filter_column not in index:
        raise FileProblem(f"The file has no column “{mapping.filter_column}” to filter rows on.")
    position = index[mapping.filter_column]
    wanted = {v.strip().casefold() for v in mapping.filter_values}

    def keep(raw: list[str]) -> bool:
        return position < len(raw) and raw[position].strip().casefold() in wanted

    return keep


@dataclass
class Scan:
    """What one pass over a file found: rows, rows the filter keeps, repeated ids, date evidence."""

    total: int = 0  # rows with something in them
    kept: int = 0  # of those, rows the filter keeps
    exact_duplicates: int = 0  # rows identical to an earlier row
    conflicting_rows: int = 0  # rows repeating an earlier row's id with other values
    conflicting_ids: int = 0
    example: str = ""  # an id repeated with other values
    evidence: dict = field(default_factory=dict)
    labels: Counter = field(default_factory=Counter)  # label: rows (kept rows, from the label column)
    complete: bool = True  # False when only the first rows were read


def scan(kind: str, table: Table, mapping: Mapping, limit: int | None = None) -> Scan:
    """One pass over the rows (all, or the first ``limit``): how many have something in them and
    pass the row filter, the ids they repeat (exact copies of a row, or other values under one id),
    and the evidence of each date column whose format is to be detected."""
    found = Scan()
    wanted = date_columns(kind, mapping)
    index = {column_label(i, h): i for i, h in enumerate(table.header)}
    positions = {name: index[column] for name, column in wanted.items() if column in index}
    found.evidence = {name: dates.Evidence() for name in positions}
    keep = row_filter(table, mapping)
    id_position = index.get(mapping.columns.get("external_id", ""))
    label_position = index.get(mapping.label_column) if kind == "responses" and mapping.label_column else None
    seen: dict[str, int] = {}
    conflicting: set[str] = set()
    for row in table.rows:
        if not any(cell.strip() for cell in row):
            continue
        found.total += 1
        if keep and not keep(row):
            continue
        found.kept += 1
        for name, position in positions.items():
            if position < len(row):
                found.evidence[name].feed(row[position])
        if label_position is not None and label_position < len(row) and row[label_position].strip():
            found.labels[row[label_position].strip()] += 1
        if id_position is not None and id_position < len(row) and row[id_position].strip():
            key, digest = row[id_position].strip(), hash(tuple(cell.strip() for cell in row))
            earlier = seen.get(key)
            if earlier is None:
                seen[key] = digest
            elif earlier == digest:
                found.exact_duplicates += 1
            else:
                found.conflicting_rows += 1
                conflicting.add(key)
                found.example = found.example or key
        if limit and found.total >= limit:
            found.complete = False
            close = getattr(table.rows, "close", None)
            if close:
                close()
            break
    found.conflicting_ids = len(conflicting)
    return found


def resolve_formats(kind: str, mapping: Mapping, evidence: dict[str, dates.Evidence]) -> dict[str, str]:
    """Every mapped date field's format: the chosen one, else the detected one; raises FileProblem
    naming the column when its values cannot decide (the person importing chooses)."""
    formats = {name: mapping.date_formats[name] for name in DATE_FIELDS[kind] if mapping.date_formats.get(name)}
    for name, found in evidence.items():
        fmt, why = found.decide()
        if fmt is None:
            raise FileProblem(f"The date column “{mapping.columns[name]}” {why}.")
        formats[name] = fmt
    return formats


def time_zone(mapping: Mapping) -> ZoneInfo:
    try:
        return ZoneInfo(mapping.time_zone or settings.TIME_ZONE)
    except (ValueError, KeyError, ZoneInfoNotFoundError):
        raise FileProblem(f"“{mapping.time_zone}” is not a time zone (e.g. Europe/London, America/New_York).") from None


def column_label(index: int, name: str) -> str:
    """How a column is named to people: its header, or its position when the header is blank."""
    return name if name.strip() else f"column {index + 1} (no header)"


def read_table(path: Path, *, max_bytes: int | None = None, whole_file: bool = False) -> Table:
    """Open a CSV (any common delimiter, UTF-8 with or without BOM) or XLSX file; raise FileProblem
    with a precise message. ``whole_file`` (the upload) checks every byte of a CSV is UTF-8, not
    just the first 64 KB, so a bad character near the end is refused before the import starts."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise FileProblem("The uploaded file is no longer stored; upload it again.") from None
    limit = max_bytes if max_bytes is not None else settings.IMPORT_MAX_BYTES
    if size > limit:
        raise FileProblem(
            f"The file is {size / 1e6:.1f} MB; the limit is {limit / 1e6:.0f} MB. Split it, or send it through "
            "the bulk API or `manage.py import_data`."
        )
    if size == 0:
        raise FileProblem("The file is empty.")
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(b"PK\x03\x04"):
        return _read_xlsx(path)
    if whole_file:
        check_encoding(path)
    return _read_csv(path)


NOT_UTF8 = "Save it as “CSV UTF-8” and upload it again."
SAMPLE_BYTES = 64 * 1024


def check_encoding(path: Path) -> None:
    """Raise FileProblem naming the first byte (and its line) that is not UTF-8 text."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    line = 1
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            try:
                line += decoder.decode(chunk).count("\n")
            except UnicodeDecodeError as exc:
                line += exc.object.count(b"\n", 0, exc.start)
                raise FileProblem(
                    f"The file is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} on line {line}). {NOT_UTF8}"
                ) from None
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise FileProblem(f"The file is not UTF-8 text (it ends in the middle of a character). {NOT_UTF8}") from None


def _read_csv(path: Path) -> Table:
    with path.open("rb") as handle:
        sample_bytes = handle.read(SAMPLE_BYTES)
        whole = not handle.read(1)
    try:
        sample = sample_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if whole or exc.start < len(sample_bytes) - 4:  # not just a character cut at the sample's end
            raise FileProblem(
                f"The file is not UTF-8 text (byte 0x{sample_bytes[exc.start]:02x} at position {exc.start}). {NOT_UTF8}"
            ) from None
        sample = sample_bytes[: exc.start].decode("utf-8-sig")
    if "\x00" in sample:
        raise FileProblem("The file is not a CSV text file or an XLSX workbook.")
    first_line = sample.splitlines()[0] if sample.splitlines() else ""
    try:
        delimiter = csv.Sniffer().sniff(first_line, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    handle = path.open(newline="", encoding="utf-8-sig")

    def rows() -> Iterator[list[str]]:
        with handle:
            reader = csv.reader(handle, delimiter=delimiter)
            try:
                next(reader, None)
                yield from reader
            except UnicodeDecodeError as exc:
                raise FileProblem(
                    f"The file is not UTF-8 text after line {reader.line_num} (byte 0x{exc.object[exc.start]:02x}). "
                    f"{NOT_UTF8}"
                ) from None
            except csv.Error as exc:
                raise FileProblem(f"Line {reader.line_num} is not valid CSV: {exc}.") from None

    header = next(csv.reader(io.StringIO(first_line), delimiter=delimiter), [])
    if not header:
        handle.close()
        raise FileProblem("The file has no header row.")
    return Table([h.strip() for h in header], rows(), delimiter)


def has_data_rows(table: Table) -> bool:
    """Whether the file has a row with something in it after its header (reads only up to it)."""
    rows = table.rows
    try:
        return any(any(cell.strip() for cell in row) for row in rows)
    finally:
        close = getattr(rows, "close", None)
        if close:
            close()


NO_ROWS = "The file has a header but no data rows: there is nothing to import."


def _read_xlsx(path: Path) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for broken workbooks
        raise FileProblem(f"The workbook could not be read ({type(exc).__name__}).") from None
    sheet = workbook.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    header = next(values, None)
    if not header:
        raise FileProblem("The first sheet has no header row.")

    def cell(value) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    def rows() -> Iterator[list[str]]:
        try:
            for row in values:
                yield [cell(v) for v in row]
        finally:
            workbook.close()

    return Table([cell(h).strip() for h in header], rows())


def missing_columns(table: Table, mapping: Mapping) -> list[str]:
    """Mapped columns that the file does not have."""
    present = {column_label(i, h) for i, h in enumerate(table.header)}
    wanted = [
        *mapping.columns.values(),
        *mapping.drivers.values(),
        *mapping.fields.values(),
        mapping.filter_column,
        mapping.label_column,
    ]
    return sorted({c for c in wanted if c and c not in present})


def _text(value: str, column: str, errors: list) -> str:
    problem = text_problem(value)
    if problem:
        errors.append((column, problem))
    return value


def _format_hint(fmt: str) -> str:
    return dates.FORMATS[fmt] if fmt != dates.ISO else "use YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM]"


def _when(raw: str, column: str, errors: list, tz: ZoneInfo, check, fmt: str = dates.ISO) -> datetime | None:
    parsed = dates.parse(raw, fmt, tz) if raw.strip() else None
    if parsed is None:
        errors.append((column, f"“{raw}” is not a date ({_format_hint(fmt)})"))
        return None
    if not isinstance(parsed, datetime):
        parsed = datetime.combine(parsed, time(12), tzinfo=tz)
    problem = check(parsed)
    if problem:
        errors.append((column, problem))
        return None
    return parsed


def _day(raw: str, column: str, errors: list, check, fmt: str = dates.ISO) -> date | None:
    """A calendar day; a date-time cell (2024-01-05T00:00:00, 1/5/2024 0:00) counts as its day."""
    parsed = dates.parse(raw, fmt, UTC)
    if parsed is None:
        errors.append((column, f"“{raw}” is not a date ({_format_hint(fmt) if fmt != dates.ISO else 'YYYY-MM-DD'})"))
        return None
    day = parsed.date() if isinstance(parsed, datetime) else parsed
    problem = check(day)
    if problem:
        errors.append((column, problem))
        return None
    return day


def _identifier(value: str, column: str, errors: list) -> str:
    problem = bounds.identifier_problem(value)
    if problem:
        errors.append((column, problem))
    return value


THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")


def _number(raw: str, column: str, errors: list, *, whole: bool = False) -> Decimal | int | None:
    if whole and raw.isascii() and raw.isdigit():
        return int(raw)
    text = raw.strip()
    if text == "":
        return None
    if THOUSANDS.match(text):
        text = text.replace(",", "")  # 1,250 or 1,250.50
    elif text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")  # a decimal comma: 12,5
    try:
        number = Decimal(text) if text.isascii() else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        errors.append((column, f"“{raw}” is not a number"))
        return None
    if whole and number != number.to_integral_value():
        errors.append((column, f"“{raw}” is not a whole number"))
        return None
    if abs(number) >= 10**10:
        errors.append((column, f"“{raw}” is too large"))
        return None
    return int(number) if whole else number


def build_rows(
    kind: str, source: str, table: Table, mapping: Mapping, total: int | None = None, formats: dict | None = None
):
    """Yield (line number, row, errors) for each data row; line 2 is the first data row.

    ``formats`` gives each date field's format (``resolve_formats``); a field without one is ISO.
    The row (a dict of field values) is built even when it has errors, so duplicates are still
    found; it must not be written unless its errors are empty."""
    build = row_builder(kind, source, table.header, mapping, total, formats)
    for number, raw in enumerate(table.rows, start=2):
        built = build(number, raw)
        if built is not None:
            yield number, *built


def row_builder(
    kind: str, source: str, header: list[str], mapping: Mapping, total: int | None = None, formats: dict | None = None
):
    """The per-row check of ``build_rows`` after its one-off checks of the mapping (which raise
    FileProblem): ``build(line, raw)`` gives (row, errors), or None for a row the filter leaves out
    or a blank one."""
    tz = time_zone(mapping)
    unknown = sorted(set(mapping.date_formats.values()) - dates.FORMATS.keys())
    if unknown:
        raise FileProblem(f"“{unknown[0]}” is not a date format ({', '.join(dates.FORMATS)}).")
    formats = {**dict.fromkeys(DATE_FIELDS[kind], dates.ISO), **mapping.date_formats, **(formats or {})}
    check_date = bounds.date_checker()
    problem = bounds.identifier_problem(source)
    if problem:
        raise FileProblem(f"The source {problem}.")
    if kind == "responses" and bool(mapping.label_column) != bool(mapping.label_driver.strip()):
        raise FileProblem("A label column needs the key driver its labels belong to, and the other way round.")
    if len(mapping.drivers) > bounds.MAX_DRIVERS:
        raise FileProblem(f"{len(mapping.drivers)} driver rating columns; at most {bounds.MAX_DRIVERS}.")
    index = {column_label(i, h): i for i, h in enumerate(header)}
    spread = None
    if kind == "responses" and not (mapping.columns.get("responded_at") or mapping.constants.get("responded_at")):
        start, end = parse_date(mapping.dates_from or ""), parse_date(mapping.dates_to or "")
        if not (start and end and start <= end and total):
            raise FileProblem("There is no date column: give the first and last day to spread the rows over.")
        problem = check_date(start) or check_date(end)
        if problem:
            raise FileProblem(f"The days to spread the rows over: {problem}")
        spread = (datetime.combine(start, time(12), tzinfo=tz), (end - start) / max(total, 1))
    snapshot = parse_date(mapping.snapshot or "") if kind == "customers" else None
    if snapshot and check_date(snapshot):
        raise FileProblem(f"The snapshot date: {check_date(snapshot)}")
    spec = FIELDS[kind]
    names = spec["required"] + spec["optional"]
    # Where each field comes from, worked out once: (position in the row, or None for a constant).
    positions = [(name, index[mapping.columns[name]]) for name in names if mapping.columns.get(name)]
    constants = {name: mapping.constants.get(name, "") for name in names if not mapping.columns.get(name)}
    labels = {name: mapping.columns.get(name) or name for name in names}
    keep = row_filter(Table(header, iter(())), mapping)

    def build(number: int, raw: list[str]) -> tuple[dict, list] | None:
        if keep and not keep(raw):
            return None
        errors: list[tuple[str, str]] = []
        width = len(raw)
        values = dict(constants)
        for name, position in positions:
            values[name] = raw[position].strip() if position < width else ""
        if not any(values.get(name) for name, _ in positions) and not any(cell.strip() for cell in raw):
            return None
        external_id = _identifier(values["external_id"], labels["external_id"], errors)
        if not external_id:
            errors.append((labels["external_id"], "is empty"))
        if kind == "responses":
            instance = _response(
                source,
                external_id,
                values,
                labels,
                errors,
                tz,
                mapping,
                raw,
                index,
                spread,
                number,
                check_date,
                formats,
            )
        elif kind == "customers":
            instance = _customer(external_id, values, labels, errors, snapshot, check_date, formats)
        else:
            instance = _observation(source, external_id, values, labels, errors, tz, check_date, formats)
        for name, limit in MAX_LENGTHS[kind].items():
            value = instance.get(name)
            problem = bounds.length_problem(value, limit) if isinstance(value, str) else None
            if problem:
                errors.append((labels.get(name, name), problem))
        instance[CELLS] = hash(tuple(cell.strip() for cell in raw))  # tells an exact copy of a row
        return instance, errors

    return build


def _response(source, external_id, get, col, errors, tz, mapping, raw, index, spread, number, check_date, formats):
    scale = (get["scale"] or "").lower()
    score = _number(get["score"], col["score"], errors, whole=True) if get["score"] else None
    if score is not None or scale:
        if scale not in SCALE_BOUNDS:
            errors.append((col["scale"], f"“{scale}” is not a scale (nps, csat or ces)"))
        elif score is not None:
            low, high = SCALE_BOUNDS[scale]
            if not low <= score <= high:
                errors.append((col["score"], f"{score} is outside the {scale} scale ({low}-{high})"))
    attributes = _fields(mapping, raw, index, errors)
    if score is None and not get["score"] and not get["comment"] and not attributes:
        errors.append(
            (col["score"], "is empty and so is the comment: a response needs a score, a comment or another field")
        )
    if spread:
        try:
            when = spread[0] + spread[1] * (number - 2)
        except OverflowError:  # blank lines push the line numbers past the rows counted: past year 9999
            when = None
            errors.append((col["external_id"], f"row {number} falls past the last date to spread the rows over"))
        else:  # within the days given, unless blank lines push it on (maybe into the future)
            problem = check_date(when)
            if problem:
                errors.append((col["external_id"], f"row {number} would be dated {problem}"))
                when = None
    else:
        when = _when(get["responded_at"], col["responded_at"], errors, tz, check_date, formats["responded_at"])
    drivers = {}
    for name, column in mapping.drivers.items():
        value = _number(raw[index[column]] if index[column] < len(raw) else "", column, errors)
        if value is not None:
            if not 1 <= value <= 5:
                errors.append((column, f"{value} is outside the driver rating scale (1-5)"))
            drivers[name] = float(value)
    texts = {
        name: _text(get[name], col[name], errors) for name in ("comment", "segment", "channel", "product", "touchpoint")
    }
    texts["customer_id"] = _identifier(get["customer_id"], col["customer_id"], errors)
    label = ""
    if mapping.label_column:
        position = index[mapping.label_column]
        label = _text(raw[position].strip() if position < len(raw) else "", mapping.label_column, errors)
        problem = bounds.length_problem(label, LABEL_MAX)
        if problem:
            errors.append((mapping.label_column, f"{problem} (a sub-theme's name)"))
    return dict(
        _label=label,
        source=source,
        external_id=external_id,
        responded_at=when,
        score=int(score) if score is not None else None,
        scale=scale if scale in SCALE_BOUNDS else "",
        driver_ratings=drivers,
        attributes=attributes,
        **texts,
    )


def _fields(mapping: Mapping, raw: list[str], index: dict[str, int], errors: list) -> dict:
    """The response's other fields: a number where the cell reads as one (a spend, a handle time,
    a yes/no written 1/0), else its text (a category, "negative"); empty cells are left out."""
    values = {}
    for name, column in mapping.fields.items():
        cell = (raw[index[column]] if index[column] < len(raw) else "").strip()
        if not cell:
            continue
        number = _number(cell, column, scratch := [])
        values[name] = float(number) if not scratch and number is not None else _text(cell, column, errors)
    problem = bounds.attributes_problem(values)
    if problem:
        errors.append((", ".join(mapping.fields.values()), problem))
    return values


def _customer(external_id, get, col, errors, snapshot, check_date, formats):
    started = ended = None
    if get["started_on"]:
        started = _day(get["started_on"], col["started_on"], errors, check_date, formats["started_on"])
    elif get["tenure_months"]:
        months = _number(get["tenure_months"], col["tenure_months"], errors, whole=True)
        if months is not None and snapshot is None:
            errors.append((col["tenure_months"], "needs the snapshot date the tenure counts back from"))
        elif months is not None and months < 0:
            errors.append((col["tenure_months"], f"{months} is negative"))
        elif months is not None:
            year, month = divmod(snapshot.year * 12 + snapshot.month - 1 - int(months), 12)
            if year < bounds.EARLIEST.year:
                errors.append((col["tenure_months"], f"{months} months before the snapshot is before 1900"))
            else:
                started = date(year, month + 1, 1)
    if get["ended_on"]:
        ended = _day(get["ended_on"], col["ended_on"], errors, check_date, formats["ended_on"])
    elif get["churned"]:
        flag = get["churned"].lower()
        if flag not in {"yes", "no", "1", "0", "true", "false", "y", "n"}:
            errors.append((col["churned"], f"“{get['churned']}” is not a yes/no flag"))
        elif flag in {"yes", "1", "true", "y"}:
            if snapshot is None:
                errors.append((col["churned"], "needs the snapshot date (churned customers left in its month)"))
            else:
                ended = snapshot
    revenue = _number(get["monthly_revenue"], col["monthly_revenue"], errors)
    problem = bounds.money_problem(revenue)
    if problem:
        errors.append((col["monthly_revenue"], problem))
    margin = _number(get["monthly_margin"], col["monthly_margin"], errors)  # may be negative: a loss
    problem = bounds.end_problem(started, ended)
    if problem:
        errors.append((col["ended_on"] if get["ended_on"] else col["churned"], problem))
    category = _text(get["category"], col["category"], errors)
    return {
        "external_id": external_id,
        "category": category,
        "started_on": started,
        "ended_on": ended,
        "monthly_revenue": revenue,
        "monthly_margin": margin,
    }


def _observation(source, external_id, get, col, errors, tz, check_date, formats):
    when = _when(get["observed_at"], col["observed_at"], errors, tz, check_date, formats["observed_at"])
    value = _number(get["value"], col["value"], errors)
    if value is None and not any(c == col["value"] for c, _ in errors):
        errors.append((col["value"], "is empty"))
    texts = {name: _text(get[name], col[name], errors) for name in ("segment", "channel", "product", "touchpoint")}
    return dict(
        source=source,
        external_id=external_id,
        observed_at=when or datetime(1970, 1, 1, tzinfo=UTC),
        value=float(value) if value is not None else 0.0,
        **texts,
    )
