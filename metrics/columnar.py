"""Column-wise checks of a survey-response file: the fast path of ``import_path``.

The per-row checks (``ingestion.row_builder``) look at one cell at a time in Python; at 100,000
rows they were two thirds of an import's time, most of it parsing dates one by one. Here whole
columns are checked at once and every row is found either *clean* (each of its values is one the
per-row checks accept as it is, in the plainest form: an ISO date, a whole score in its scale's
range, an identifier of ordinary characters) or *doubtful* (anything else: a day-first date, a
score of "7.0", a space inside an id, a time that a clock change skips). Clean rows get their
stored values here; doubtful rows go through the per-row checks, which accept or refuse them with
the messages they always gave. So a file of ordinary rows is checked column by column and an odd
row is judged exactly as before (``metrics/tests/test_columnar.py`` holds the two paths equal).

Responses only (customers and observations go row by row), on PostgreSQL (``import_path``).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_date

from cxgov.lib import bounds
from metrics import dates
from metrics.ingestion import (
    CELLS,
    DATE_FIELDS,
    FIELDS,
    LABEL,
    LABEL_MAX,
    MAX_LENGTHS,
    SCALE_BOUNDS,
    Mapping,
    Table,
    column_label,
    row_filter,
)

# The plainest ISO forms; dateutil reads many more (2024-W01, 20240105, 24:00), which go row by row.
# ([0-9], not \d: \d takes every script's digits, and the per-row checks refuse those.)
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
ISO_LOCAL = re.compile(ISO_DAY.pattern + r"[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?")
ISO_ZONED = re.compile(ISO_LOCAL.pattern + r"(?:Z|[+-][0-9]{2}:[0-9]{2})")
# dates.ISO_SHAPE without its anchors (its \d as there), for ``_all``.
ISO_SHAPE = re.compile(dates.ISO_SHAPE.pattern.removeprefix("^").removesuffix("$"))
# An identifier of ordinary characters: what bounds.identifier_problem can only accept.
PLAIN_ID = re.compile(r"[A-Za-z0-9_.:/#]([A-Za-z0-9_.:/# -]*[A-Za-z0-9_.:/#-])?")
WHOLE = re.compile(r"[0-9]{1,2}")
# A number as ``ingestion._number`` reads it without help (no sign, separators or exponent), under
# its limit of 10**10; a rating within 1-5; a cell without a digit, which can only be text.
DECIMAL = re.compile(r"-?[0-9]{1,10}(?:\.[0-9]{1,12})?")
RATING = re.compile(r"[1-4](?:\.[0-9]{1,12})?|5(?:\.0{1,12})?")
NO_DIGIT = re.compile(r"[^0-9\n]*")  # (a cell with a line break goes row by row)
# From this moment on no zone's local day is still in 1899 (offsets stay within a day).
EARLIEST = np.datetime64("1900-01-02T00:00", "us")
LAST_MOMENT = datetime(2262, 1, 1)  # within pandas' calendar (nanoseconds from 1970 in 64 bits)
TEXTS = ("comment", "segment", "channel", "product", "touchpoint")


@dataclass
class Checked:
    total: int = 0  # rows with something in them
    kept: int = 0  # of those, the rows the filter keeps
    lines: list[int] = field(default_factory=list)  # the clean rows' line numbers
    values: dict[str, list] = field(default_factory=dict)  # the clean rows' stored values by field
    labels: list[str] = field(default_factory=list)  # the clean rows' labels (a label column)
    doubtful: list[tuple[int, list[str]]] = field(default_factory=list)  # (line, cells): row by row
    evidence: dict[str, dates.Evidence] = field(default_factory=dict)


def handles(kind: str, mapping: Mapping) -> bool:
    return kind == "responses"


class Cells:
    """The file's rows, and each column's cells stripped (worked out once, as arrays)."""

    def __init__(self, rows: list[list[str]]):
        self.rows = rows
        self._stripped: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, position: int) -> np.ndarray:
        if position not in self._stripped:
            try:
                cells = [row[position].strip() for row in self.rows]
            except IndexError:  # a short row: its missing cells are empty, as row by row
                cells = [row[position].strip() if position < len(row) else "" for row in self.rows]
            self._stripped[position] = np.array(cells, dtype=object)
        return self._stripped[position]


@functools.cache
def _lines(pattern: re.Pattern) -> re.Pattern:
    return re.compile(f"^(?:{pattern.pattern})$", re.MULTILINE)


def _all(pattern: re.Pattern, values: np.ndarray) -> np.ndarray:
    """Which values the pattern matches whole: when every one does (the usual case), one search
    over all the values joined by line breaks finds one match per line; else value by value. (A
    match starts at a line's start and ends at a line's end, none can span two lines and still
    give one per line, and no value holds a line break: so as many matches as values means each
    value matched whole. Faster than one match of the whole joined text, which backtracks.)"""
    joined = "\n".join(values)
    if joined.count("\n") == len(values) - 1 and sum(1 for _ in _lines(pattern).finditer(joined)) == len(values):
        return np.ones(len(values), dtype=bool)
    return np.fromiter((pattern.fullmatch(v) is not None for v in values), dtype=bool, count=len(values))


def _within(values: np.ndarray, limit: int) -> np.ndarray:
    if not len(values) or max(map(len, values)) <= limit:
        return np.ones(len(values), dtype=bool)
    return np.fromiter(map(len, values), dtype=np.int64, count=len(values)) <= limit


def _no_nul(values: np.ndarray) -> np.ndarray:
    if "\x00" not in "".join(values):
        return np.ones(len(values), dtype=bool)
    return np.fromiter(("\x00" not in v for v in values), dtype=bool, count=len(values))


def _evidence(values: np.ndarray) -> dates.Evidence:
    """A date column's evidence, as ``dates.Evidence.feed`` gathers it, without a Python call per
    value when every value has the ISO shape."""
    filled = values[values != ""]
    if not _all(ISO_SHAPE, filled).all():
        found = dates.Evidence()
        for value in filled:
            found.feed(value)
        return found
    return dates.Evidence(
        count=len(filled),
        iso=len(filled),
        example=filled[0] if len(filled) else "",
        times=bool(len(filled)) and max(map(len, filled)) > 10,
    )


def scan(cells: Cells, header: list[str], mapping: Mapping, kind: str) -> tuple[Checked, np.ndarray]:
    """Counts as ``ingestion.scan`` makes them (rows with something in them, rows the filter keeps)
    and the date columns' evidence; with the mask of the rows to check."""
    index = {column_label(i, h): i for i, h in enumerate(header)}
    filled = np.zeros(len(cells), dtype=bool)
    for position in sorted({index[c] for c in mapping.columns.values() if c in index}):
        filled |= cells.column(position) != ""
    for i in np.flatnonzero(~filled):  # every mapped cell empty: is anything else in the row?
        filled[i] = any(cell.strip() for cell in cells.rows[i])
    keep = filled.copy()
    wanted = row_filter(Table(header, iter(())), mapping)
    if wanted:
        keep &= np.fromiter(map(wanted, cells.rows), dtype=bool, count=len(cells))
    found = Checked(total=int(filled.sum()), kept=int(keep.sum()))
    for name in DATE_FIELDS[kind]:
        column = mapping.columns.get(name)
        if column and not mapping.date_formats.get(name) and column in index:
            found.evidence[name] = _evidence(cells.column(index[column])[keep])
    return found, keep


def ids_distinct(cells: Cells, header: list[str], mapping: Mapping, keep: np.ndarray) -> bool:
    """Whether no id repeats among the kept rows (empty ids, which the checks refuse, aside): then
    each row is written as it is, with no choice between copies to make."""
    index = {column_label(i, h): i for i, h in enumerate(header)}
    column = mapping.columns.get("external_id")
    if column not in index:
        return False  # the per-row checks say what is missing
    ids = cells.column(index[column])[keep]
    ids = ids[ids != ""]
    return len(set(ids.tolist())) == len(ids)


def check_responses(
    cells: Cells,
    header: list[str],
    mapping: Mapping,
    source: str,
    found: Checked,
    keep: np.ndarray,
    formats: dict[str, str],
    total: int,
    now: datetime | None = None,
) -> Checked:
    """Sort the kept rows into clean ones (with their stored values) and doubtful ones. ``now``: the
    moment the latest date is measured from, read before the per-row checks read theirs (by default
    the clock now), so that chunks checked later are never laxer than those checks."""
    index = {column_label(i, h): i for i, h in enumerate(header)}
    tz = ZoneInfo(mapping.time_zone or settings.TIME_ZONE)
    kept = np.flatnonzero(keep)
    lines = kept + 2  # line 2 is the first data row, blank lines counted
    n = len(kept)
    names = FIELDS["responses"]["required"] + FIELDS["responses"]["optional"]

    def get(name: str) -> np.ndarray:
        column = mapping.columns.get(name)
        if column:
            return cells.column(index[column])[kept]
        return np.full(n, mapping.constants.get(name, ""), dtype=object)

    values = {name: get(name) for name in names}
    clean = np.ones(n, dtype=bool)
    limits = MAX_LENGTHS["responses"]
    if len(source) > limits["source"]:
        clean[:] = False
    for name in names:
        if name in limits:
            clean &= _within(values[name], limits[name])
    external_id, customer = values["external_id"], values["customer_id"]
    clean &= _all(PLAIN_ID, external_id)
    given = np.flatnonzero(customer != "")
    clean[given] &= _all(PLAIN_ID, customer[given])
    for name in TEXTS:
        clean &= _no_nul(values[name])

    scale = np.array([v.lower() for v in values["scale"]], dtype=object)
    score_text = values["score"]
    has_score = score_text != ""
    whole = _all(WHOLE, score_text)
    score = np.array([int(v) if ok else -1 for v, ok in zip(score_text, whole, strict=True)], dtype=np.int64)
    known = scale == ""
    in_range = np.zeros(n, dtype=bool)
    for name, (low, high) in SCALE_BOUNDS.items():
        this = scale == name
        known |= this
        in_range |= this & (score >= low) & (score <= high)
    # A score needs its scale; a scale alone is fine (a comment on a known scale).
    clean &= np.where(has_score, whole & in_range, known)
    ratings = _numbers(cells, index, kept, mapping.drivers, RATING, clean)
    attributes = _numbers(cells, index, kept, mapping.fields, DECIMAL, clean, texts=True)
    if bounds.attributes_problem(dict.fromkeys(mapping.fields, "")):
        clean[:] = False  # a field name that cannot be a key: every row says so, row by row
    clean &= has_score | (values["comment"] != "") | np.array([bool(a) for a in attributes], dtype=bool)

    label = np.full(n, "", dtype=object)
    if mapping.label_column:
        label = cells.column(index[mapping.label_column])[kept]
        clean &= _within(label, LABEL_MAX) & _no_nul(label)

    when = _moments(values["responded_at"], lines, mapping, tz, formats.get("responded_at", dates.ISO), total)
    # A minute short of the per-row bound, read from the clock a moment earlier: never laxer than it.
    latest = (now or timezone.now()).astimezone(UTC).replace(tzinfo=None) + timedelta(
        days=settings.CXGOV_DATE_HORIZON_DAYS, minutes=-1
    )
    latest = np.datetime64(latest, "us")
    clean &= (when >= EARLIEST) & (when <= latest)  # NaT compares False

    out = Checked(total=found.total, kept=found.kept, evidence=found.evidence)
    chosen = np.flatnonzero(clean)
    out.lines = lines[chosen].tolist()
    out.doubtful = [(int(lines[i]), cells.rows[kept[i]]) for i in np.flatnonzero(~clean)]
    stamps = when[chosen]
    empty = ["{}"] * len(chosen)

    def as_json(found: list[dict]) -> list[str]:
        return (
            [json.dumps(found[i]) if found[i] else "{}" for i in chosen] if mapping.drivers or mapping.fields else empty
        )

    out.values = {
        "source": [source] * len(chosen),
        "external_id": external_id[chosen].tolist(),
        "customer_id": customer[chosen].tolist(),
        "responded_at": [f"{s}+00:00" for s in np.datetime_as_string(stamps, unit="us")],
        "score": [int(s) if s else None for s in score_text[chosen]],
        "scale": scale[chosen].tolist(),
        "driver_ratings": as_json(ratings),
        **{name: values[name][chosen].tolist() for name in TEXTS},
        "attributes": as_json(attributes),
    }
    out.labels = label[chosen].tolist()
    return out


def _numbers(
    cells: Cells,
    index: dict,
    kept: np.ndarray,
    columns: dict[str, str],
    number: re.Pattern,
    clean: np.ndarray,
    *,
    texts: bool = False,
) -> list[dict]:
    """Each kept row's {name: value} from the named columns (driver ratings, or other fields):
    a number where the cell is a plain one; with ``texts``, the cell as text where it has no digit
    (``_fields`` reads "negative" or "NaN" as text); empty cells left out. A cell that is anything
    else (1,250, +3, 12,5, 5.5 as a rating) marks its row doubtful in ``clean``."""
    found: list[dict] = [{} for _ in kept]
    for name, column in columns.items():
        values = cells.column(index[column])[kept]
        filled = np.flatnonzero(values != "")
        plain = _all(number, values[filled])
        wordy = ~plain
        if texts:
            wordy[wordy] = _all(NO_DIGIT, values[filled][wordy])
            wordy &= _within(values[filled], bounds.ATTRIBUTE_VALUE_MAX) & _no_nul(values[filled])
        else:
            wordy[:] = False
        clean[filled[~(plain | wordy)]] = False
        for i, value, is_number in zip(
            filled[plain | wordy], values[filled][plain | wordy], plain[plain | wordy], strict=True
        ):
            found[i][name] = float(value) if is_number else value
    return found


def _utc(moments: pd.Series) -> np.ndarray:
    return moments.dt.tz_convert(UTC).dt.tz_localize(None).to_numpy(dtype="datetime64[us]")


def _moments(values: np.ndarray, lines: np.ndarray, mapping: Mapping, tz: ZoneInfo, fmt: str, total: int) -> np.ndarray:
    """Each row's moment in UTC, NaT where it is not plainly one: a value in another format or
    shape, or a local time that a clock change makes ambiguous or skips."""
    zone = str(tz)
    if not (mapping.columns.get("responded_at") or mapping.constants.get("responded_at")):
        # Spread by row order over [from, to] at noon local time, as the per-row path does (it adds
        # the step to the local wall time).
        first, last = parse_date(mapping.dates_from), parse_date(mapping.dates_to)
        step_us = ((last - first) / max(total, 1)) // timedelta(microseconds=1)
        noon = pd.Timestamp(datetime.combine(first, time(12)))
        # Steps past the calendar's end (blank lines count in line numbers, not in the total) are
        # NaT, not an int64 wrap-around.
        reach = (LAST_MOMENT - noon.to_pydatetime()) // timedelta(microseconds=1) // max(step_us, 1)
        steps = np.where(lines - 2 <= reach, lines - 2, 0)
        local = pd.Series(noon + pd.to_timedelta(steps * step_us, unit="us"))
        local[lines - 2 > reach] = pd.NaT
        return _utc(local.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT"))
    moments = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[us]")
    if fmt != dates.ISO:
        return moments  # day-first, month-first, serials: row by row
    zoned = _all(ISO_ZONED, values)
    local = ~zoned
    local[local] = _all(ISO_LOCAL, values[local])
    day = ~(zoned | local)
    day[day] = _all(ISO_DAY, values[day])
    if zoned.any():
        moments[zoned] = _utc(pd.to_datetime(pd.Series(values[zoned]), format="ISO8601", utc=True, errors="coerce"))
    if local.any():
        parsed = pd.to_datetime(pd.Series(values[local]), format="ISO8601", errors="coerce")
        moments[local] = _utc(parsed.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT"))
    if day.any():
        noon = pd.to_datetime(pd.Series(values[day]) + "T12:00", format="%Y-%m-%dT%H:%M", errors="coerce")
        moments[day] = _utc(noon.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT"))
    return moments


def row_dicts(clean: Checked, cells: Cells):
    """The clean rows as ``ingestion.row_builder`` gives rows, (line, row, no errors), in file order:
    for the per-row loop that sorts out repeated ids."""
    names = list(clean.values)
    for position, line in enumerate(clean.lines):
        row = {name: clean.values[name][position] for name in names}
        row["driver_ratings"], row["attributes"] = json.loads(row["driver_ratings"]), json.loads(row["attributes"])
        row[LABEL] = clean.labels[position]
        row[CELLS] = hash(tuple(cell.strip() for cell in cells.rows[line - 2]))
        yield line, row, []
