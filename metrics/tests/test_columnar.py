"""The column-wise checks of response files (``metrics.columnar``) against the per-row checks they
stand in for: a clean row is one the per-row path accepts with the same stored values, an odd row
is left to the per-row path, and an import gives the same rows and the same messages either way."""

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from django.db import connection

from metrics import columnar, ingestion, services
from metrics.models import SurveyResponse

HEADER = ["id", "when", "scale", "score", "comment", "segment", "customer", "label"]
LONG = "x" * 129
ROWS = [
    # Ordinary rows: clean.
    ["A-1", "2026-03-01T10:15:00+01:00", "nps", "9", "Quick and kind", "Web", "C1", "Delivery"],
    ["A-2", "2026-03-01 10:15", "NPS", "0", "@support never answered", "Web", "", "Support"],
    ["A-3", "2026-03-02", "csat", "5", "", "Shop", "C-2", "Fit"],
    ["A-4", "2026-03-02T08:00:00.123456Z", "ces", "7", "Hard to find the return label", "", "", ""],
    ["A-5", "2026-03-03T23:59:59", "", "", "Only a comment, no scale", "", "", "Fit"],
    ["A-6", "2026-03-03T12:00:00-05:00", "csat", " 4 ", "  padded  ", " Web ", " C3 ", " Fit "],
    ["a b", "2026-03-04T12:00", "nps", "10", "An id with a space inside", "", "", ""],
    # Odd rows: the per-row checks decide (some accept, some refuse).
    ["B-1", "2026-03-29T01:30", "nps", "8", "Skipped by the clock change in London", "", "", ""],
    ["B-2", "2026-10-25T01:30", "nps", "8", "Twice at the clock change in London", "", "", ""],
    ["B-3", "20260305", "nps", "8", "Compact ISO", "", "", ""],
    ["B-4", "2026-03-05T24:00", "nps", "8", "Midnight written as 24:00", "", "", ""],
    ["B-5", "05/03/2026", "nps", "8", "Day first in an ISO column", "", "", ""],
    ["B-6", "2999-01-01", "nps", "8", "From the future", "", "", ""],
    ["B-7", "1899-12-31", "nps", "8", "Before 1900", "", "", ""],
    ["B-8", "2026-03-05", "nps", "7.0", "A score with a decimal", "", "", ""],
    ["B-9", "2026-03-05", "nps", "11", "Over the scale", "", "", ""],
    ["B-10", "2026-03-05", "nps", "٣", "Arabic-Indic digit", "", "", ""],
    ["B-11", "2026-03-05", "stars", "4", "Unknown scale", "", "", ""],
    ["B-12", "2026-03-05", "", "4", "A score without a scale", "", "", ""],
    ["=cmd", "2026-03-05", "nps", "4", "A formula as id", "", "", ""],
    ["", "2026-03-05", "nps", "4", "No id", "", "", ""],
    [LONG, "2026-03-05", "nps", "4", "An id too long", "", "", ""],
    ["é-1", "2026-03-05", "nps", "4", "A letter outside ASCII in the id", "", "", ""],
    ["B-13", "2026-03-05", "nps", "", "", "", "", ""],
    ["B-14", "2026-03-05", "nps", "4", "NUL \x00 inside", "", "", ""],
    ["B-15", "2026-03-05", "nps", "4", "Customer id with markup", "", "<b>", ""],
    ["B-16", "2026-03-05", "nps", "4", "A label too long", "", "", "L" * 121],
    ["B-17", "2026-03-05", "nps", "4", "A segment too long", "s" * 101, "", ""],
    [],  # a blank line
    ["B-18", "2026-03-05"],  # a short row: the rest is empty
    ["B-19", "2026-03-05", "csat", "3", "An extra cell", "", "", "", "extra"],
]
MAPPING = ingestion.Mapping(
    columns={
        "external_id": "id",
        "responded_at": "when",
        "scale": "scale",
        "score": "score",
        "comment": "comment",
        "segment": "segment",
        "customer_id": "customer",
    },
    constants={"channel": "Email"},
    time_zone="Europe/London",
    label_column="label",
    label_driver="Reasons",
)


def _table(rows=ROWS) -> ingestion.Table:
    return ingestion.Table(HEADER, iter(rows))


def _check(rows=ROWS, mapping=MAPPING):
    cells = columnar.Cells([list(r) for r in rows])
    found, keep = columnar.scan(cells, HEADER, mapping, "responses")
    formats = ingestion.resolve_formats("responses", mapping, found.evidence)
    return columnar.check_responses(cells, HEADER, mapping, "shop", found, keep, formats, found.total), formats


def _stored(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, str) and value.endswith("+00:00") and value[:4].isdigit():
        return datetime.fromisoformat(value)
    return value


def test_clean_rows_are_those_the_per_row_checks_accept_with_the_same_values():
    clean, formats = _check()
    build = ingestion.row_builder("responses", "shop", HEADER, MAPPING, total=clean.total, formats=formats)
    by_line = {n: build(n, r) for n, r in enumerate(ROWS, start=2) if build(n, r) is not None}
    assert clean.lines == [2, 3, 4, 5, 6, 7, 8, 32], "the ordinary rows are checked by column (an extra cell too)"
    for position, line in enumerate(clean.lines):
        row, errors = by_line[line]
        assert errors == [], (line, errors)
        for name, values in clean.values.items():
            if name in ("driver_ratings", "attributes"):
                assert json.loads(values[position]) == row[name]
            else:
                assert _stored(values[position]) == _stored(row[name]), (line, name)
        assert clean.labels[position] == row[ingestion.LABEL]
    doubtful = [line for line, _ in clean.doubtful]
    assert doubtful == sorted(set(by_line) - set(clean.lines)), "every other kept row goes row by row"
    assert 30 not in doubtful and 30 not in clean.lines, "the blank line is skipped as row by row"


def test_counts_and_date_evidence_are_those_of_the_per_row_scan():
    mapping = ingestion.Mapping.from_json(MAPPING.to_json() | {"filter_column": "segment", "filter_values": ["web"]})
    cells = columnar.Cells([list(r) for r in ROWS])
    found, keep = columnar.scan(cells, HEADER, mapping, "responses")
    expected = ingestion.scan("responses", _table(), mapping)
    assert (found.total, found.kept) == (expected.total, expected.kept) == (len(ROWS) - 1, 3)
    assert found.evidence == expected.evidence
    every = columnar.scan(cells, HEADER, MAPPING, "responses")[0]
    assert every.evidence == ingestion.scan("responses", _table(), MAPPING).evidence
    assert every.evidence["responded_at"].iso < every.evidence["responded_at"].count  # B-5 is not ISO


def test_rows_spread_over_days_get_the_per_row_moments():
    rows = [[str(i), "", "nps", str(i % 11), f"comment {i}", "", "", ""] for i in range(96)]  # every 30 minutes
    mapping = ingestion.Mapping.from_json(
        MAPPING.to_json()
        | {
            "columns": {k: v for k, v in MAPPING.columns.items() if k != "responded_at"},
            "dates_from": "2026-03-28",
            "dates_to": "2026-03-30",
        }
    )
    clean, formats = _check(rows, mapping)
    build = ingestion.row_builder("responses", "shop", HEADER, mapping, total=clean.total, formats=formats)
    # Noon on 28 March + 26 and 27 half hours: 01:00 and 01:30 on the 29th, which London skips.
    assert [line for line, _ in clean.doubtful] == [28, 29] and len(clean.lines) == 94
    for position, line in enumerate(clean.lines):
        row, _ = build(line, rows[line - 2])
        assert _stored(clean.values["responded_at"][position]) == row["responded_at"].astimezone(UTC)


def test_all_takes_the_joined_pass_only_when_every_value_matches():
    values = np.array(["A-1", "A-2\nA-3", "A-4"], dtype=object)  # a newline inside a value
    assert columnar._all(columnar.PLAIN_ID, values).tolist() == [True, False, True]
    assert columnar._all(columnar.PLAIN_ID, np.array(["A", "B"], dtype=object)).tolist() == [True, True]
    assert columnar._all(columnar.PLAIN_ID, np.array([], dtype=object)).tolist() == []


def _file(tmp_path: Path, rows, name="responses.csv") -> Path:
    path = tmp_path / name
    buffer = io.StringIO()
    csv.writer(buffer).writerows([HEADER, *rows])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _import(monkeypatch, path, source, mapping, by_column: bool):
    monkeypatch.setattr(columnar, "handles", lambda kind, mapping: by_column and kind == "responses")
    return services.import_path(kind="responses", source=source, path=path, mapping=mapping)


def _contents(source):
    fields = [*services.import_columns("responses")[1:], "language"]
    return sorted(SurveyResponse.objects.filter(source=source).values_list(*fields))


needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the column-wise path runs on PostgreSQL (COPY); SQLite is row by row"
)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_file_with_bad_rows_gets_the_same_messages_both_ways(monkeypatch, tmp_path):
    path = _file(tmp_path, [r for r in ROWS if "\x00" not in "".join(r)])  # a NUL refuses the whole file
    mapping = ingestion.Mapping.from_json(MAPPING.to_json() | {"label_column": "", "label_driver": ""})
    by_row = _import(monkeypatch, path, "shop", mapping, by_column=False)
    by_column = _import(monkeypatch, path, "shop", mapping, by_column=True)
    assert by_row.error_count > 10
    assert (by_column.error_count, by_column.errors) == (by_row.error_count, by_row.errors)
    assert not SurveyResponse.objects.exists()


@needs_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("duplicates", [ingestion.KEEP_LAST, ingestion.REFUSE])
def test_good_files_store_the_same_rows_both_ways_first_time_and_again(monkeypatch, tmp_path, duplicates):
    good = [r for r in ROWS if r and r[0] in {"A-1", "A-2", "A-3", "A-4", "A-5", "A-6", "a b", "B-1", "B-3", "B-4"}]
    repeated = [*good, good[0], [good[1][0], *good[1][1:4], "Changed my mind", *good[1][5:]]]
    mapping = ingestion.Mapping.from_json(
        MAPPING.to_json() | {"label_column": "", "label_driver": "", "duplicates": duplicates}
    )
    for rows in (good, repeated):
        path = _file(tmp_path, rows, name=f"{len(rows)}.csv")
        by_row = _import(monkeypatch, path, "row", mapping, by_column=False)
        by_column = _import(monkeypatch, path, "column", mapping, by_column=True)
        summary = ("written", "collapsed", "replaced", "error_count", "errors")
        assert [getattr(by_column, k) for k in summary] == [getattr(by_row, k) for k in summary]
        assert _contents("column") == _contents("row")
    assert SurveyResponse.objects.filter(source="column").count() == len(good)
    if duplicates == ingestion.KEEP_LAST:
        assert SurveyResponse.objects.get(source="column", external_id="A-2").comment == "Changed my mind"
    again = _import(monkeypatch, _file(tmp_path, good, "again.csv"), "column", mapping, by_column=True)
    assert again.written == len(good) and again.error_count == 0
    assert SurveyResponse.objects.get(source="column", external_id="A-2").comment == good[1][4]


FIELD_HEADER = ["id", "when", "score", "comment", "age", "note", "speed"]
FIELD_ROWS = [
    ["F-1", "2026-03-01", "9", "Fine", "34", "returning", "4"],
    ["F-2", "2026-03-01", "8", "", "0.5", "NaN", "5.0"],
    ["F-3", "2026-03-01", "", "", "", "only a note", ""],  # a field is enough without score or comment
    ["F-4", "2026-03-01", "7", "Fine", "-12", "٣ stars", "1"],
    ["F-5", "2026-03-01", "7", "Fine", "1,250", "", ""],  # thousands: row by row (a number there too)
    ["F-6", "2026-03-01", "7", "Fine", "12,5", "", ""],  # a decimal comma
    ["F-7", "2026-03-01", "7", "Fine", "+3", "", "5.5"],  # over the rating scale: refused row by row
    ["F-8", "2026-03-01", "7", "Fine", "", "2 boxes", "0"],
    ["F-9", "2026-03-01", "7", "Fine", "1e3", "n" * 1001, ""],
    ["F-10", "2026-03-01", "", "", "", "", ""],  # nothing at all: refused
]
FIELD_MAPPING = ingestion.Mapping(
    columns={"external_id": "id", "responded_at": "when", "score": "score", "comment": "comment"},
    constants={"scale": "nps"},
    fields={"age": "age", "note": "note"},
    drivers={"Speed": "speed"},
)


def test_driver_ratings_and_other_fields_by_column_are_those_of_the_per_row_checks():
    cells = columnar.Cells([list(r) for r in FIELD_ROWS])
    found, keep = columnar.scan(cells, FIELD_HEADER, FIELD_MAPPING, "responses")
    formats = ingestion.resolve_formats("responses", FIELD_MAPPING, found.evidence)
    clean = columnar.check_responses(cells, FIELD_HEADER, FIELD_MAPPING, "shop", found, keep, formats, found.total)
    build = ingestion.row_builder("responses", "shop", FIELD_HEADER, FIELD_MAPPING, total=found.total, formats=formats)
    assert clean.lines == [2, 3, 4, 5], "plain numbers, words and ratings are read by column"
    for position, line in enumerate(clean.lines):
        row, errors = build(line, FIELD_ROWS[line - 2])
        assert errors == []
        assert json.loads(clean.values["attributes"][position]) == row["attributes"]
        assert json.loads(clean.values["driver_ratings"][position]) == row["driver_ratings"]
        assert clean.values["attributes"][position] == (json.dumps(row["attributes"]) if row["attributes"] else "{}")
    assert [line for line, _ in clean.doubtful] == [6, 7, 8, 9, 10, 11]
    refused = {line for line, raw in clean.doubtful if build(line, raw)[1]}
    assert refused == {8, 9, 10, 11}, (
        "1,250 and 12,5 are numbers row by row; 5.5, 0, 1,001 characters and nothing are not"
    )


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_fields_and_ratings_are_stored_the_same_both_ways(monkeypatch, tmp_path):
    path = tmp_path / "fields.csv"
    buffer = io.StringIO()
    csv.writer(buffer).writerows([FIELD_HEADER, *FIELD_ROWS[:6]])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    by_row = _import(monkeypatch, path, "row", FIELD_MAPPING, by_column=False)
    by_column = _import(monkeypatch, path, "column", FIELD_MAPPING, by_column=True)
    assert (by_row.written, by_row.error_count) == (by_column.written, by_column.error_count) == (6, 0)
    assert _contents("column") == _contents("row")
    # A repeated id sends every row through the per-row loop, the clean ones with their values.
    repeated = [*FIELD_ROWS[:6], FIELD_ROWS[0], [*FIELD_ROWS[1][:5], "changed", "4"]]
    buffer = io.StringIO()
    csv.writer(buffer).writerows([FIELD_HEADER, *repeated])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    mapping = ingestion.Mapping.from_json(FIELD_MAPPING.to_json() | {"duplicates": ingestion.KEEP_LAST})
    by_row = _import(monkeypatch, path, "row", mapping, by_column=False)
    by_column = _import(monkeypatch, path, "column", mapping, by_column=True)
    assert (by_column.collapsed, by_column.replaced) == (by_row.collapsed, by_row.replaced) == (1, 1)
    assert _contents("column") == _contents("row")
    stored = SurveyResponse.objects.get(source="column", external_id="F-2")
    assert (stored.attributes, stored.driver_ratings) == ({"age": 0.5, "note": "changed"}, {"Speed": 4.0})


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_shared_reviews_import_the_same_both_ways(monkeypatch):
    """The clothing reviews as the demo maps them: no dates (spread over a year), other fields,
    a headerless id column, reviews with quotes and line breaks."""
    from django.conf import settings

    from metrics.demo import REVIEWS_MAPPING

    path = Path(settings.SHARED_DATA_DIR) / "womens-clothing-reviews-1k.csv"
    by_row = _import(monkeypatch, path, "row", REVIEWS_MAPPING, by_column=False)
    by_column = _import(monkeypatch, path, "column", REVIEWS_MAPPING, by_column=True)
    assert (by_column.written, by_column.error_count) == (by_row.written, by_row.error_count) == (1000, 0)
    assert _contents("column") == _contents("row")


def test_every_shared_review_is_checked_by_column():
    from django.conf import settings

    from metrics.demo import REVIEWS_MAPPING

    table = ingestion.read_table(Path(settings.SHARED_DATA_DIR) / "womens-clothing-reviews-1k.csv")
    cells = columnar.Cells(list(table.rows))
    found, keep = columnar.scan(cells, table.header, REVIEWS_MAPPING, "responses")
    formats = ingestion.resolve_formats("responses", REVIEWS_MAPPING, found.evidence)
    clean = columnar.check_responses(cells, table.header, REVIEWS_MAPPING, "x", found, keep, formats, found.total)
    assert (len(clean.lines), clean.doubtful) == (1000, [])


def test_spread_dates_past_the_calendar_go_row_by_row_and_are_refused_there():
    """Blank lines count in line numbers, not in the rows spread over: with one row after 4,643
    blank lines over 126 years its step lands past year 9999 (the int64 product once wrapped round
    to 1976 and passed as clean)."""
    header = ["id", "scale", "score", "comment"]
    mapping = ingestion.Mapping(
        columns={"external_id": "id", "scale": "scale", "score": "score", "comment": "comment"},
        dates_from="1901-01-01",
        dates_to="2026-12-01",
        time_zone="UTC",
    )
    rows = [[]] * 4643 + [["A", "nps", "5", "x"]]
    cells = columnar.Cells(rows)
    found, keep = columnar.scan(cells, header, mapping, "responses")
    clean = columnar.check_responses(cells, header, mapping, "shop", found, keep, {}, found.total)
    assert (clean.lines, [line for line, _ in clean.doubtful]) == ([], [4645])
    build = ingestion.row_builder("responses", "shop", header, mapping, total=found.total, formats={})
    assert build(4645, rows[-1])[1] == [("id", "row 4645 falls past the last date to spread the rows over")]


def test_the_latest_date_by_column_is_never_laxer_than_row_by_row(monkeypatch):
    """The per-row bound is read from the clock first; a value just under the bound read later
    must not pass by column while the per-row check refuses it."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    bound = timezone.now() + timedelta(days=settings.CXGOV_DATE_HORIZON_DAYS)
    build = ingestion.row_builder("responses", "shop", HEADER, MAPPING, total=1, formats={})
    late = (bound + timedelta(seconds=2)).astimezone(UTC).isoformat()
    later = timezone.now() + timedelta(seconds=30)  # the column checks run later
    monkeypatch.setattr(timezone, "now", lambda: later)
    rows = [["L-1", late, "nps", "9", "Late", "", "", ""]]
    clean, _ = _check(rows)
    assert clean.lines == [] and build(2, rows[0])[1], "refused row by row, so not clean by column"


def test_spread_dates_pushed_into_the_future_by_blank_lines_are_refused():
    """Rows spread over [from, to] are dated by line number, blank lines included: a row after
    many blank lines may fall past today. It is refused (a future date put the North Star's latest
    period in the future once), by column and row by row."""
    from datetime import timedelta

    from django.utils import timezone

    header = ["id", "scale", "score", "comment"]
    today = timezone.localdate()
    mapping = ingestion.Mapping(
        columns={"external_id": "id", "scale": "scale", "score": "score", "comment": "comment"},
        dates_from=(today - timedelta(days=30)).isoformat(),
        dates_to=today.isoformat(),
        time_zone="UTC",
    )
    rows = [["A", "nps", "5", "x"], *[[]] * 200, ["B", "nps", "6", "y"]]
    cells = columnar.Cells(rows)
    found, keep = columnar.scan(cells, header, mapping, "responses")
    clean = columnar.check_responses(cells, header, mapping, "shop", found, keep, {}, found.total)
    assert (clean.lines, [line for line, _ in clean.doubtful]) == ([2], [203])
    build = ingestion.row_builder("responses", "shop", header, mapping, total=found.total, formats={})
    assert build(2, rows[0])[1] == []
    ((column, message),) = build(203, rows[-1])[1]
    assert column == "id" and message.startswith("row 203 would be dated ") and "is out of range" in message


@needs_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("chunk", [services.CHECK_CHUNK, 500])
def test_two_first_imports_of_one_source_at_once_both_succeed(tmp_path, monkeypatch, chunk):
    """Both see an empty source and COPY straight in; the second waits on the first's keys, then
    upserts instead (or retries after a deadlock): neither fails, every row is there once. (With
    small chunks, the upsert reads the chunks checked during the COPY, then checks on.)"""
    import threading

    monkeypatch.setattr(services, "CHECK_CHUNK", chunk)

    from django.db import connections

    rows = [[f"C-{i:05d}", "2026-03-01T10:00:00Z", "nps", str(i % 11), f"comment {i}", "", "", ""] for i in range(3000)]
    path = _file(tmp_path, rows)
    mapping = ingestion.Mapping.from_json(MAPPING.to_json() | {"label_column": "", "label_driver": ""})
    outcomes, failures, start, upserts = [], [], threading.Barrier(2), []
    write_rows = services._write_rows
    monkeypatch.setattr(services, "_write_rows", lambda *args: upserts.append(1) or write_rows(*args))

    def run():
        try:
            start.wait()
            outcomes.append(services.import_path(kind="responses", source="both", path=path, mapping=mapping))
        except Exception as exc:  # noqa: BLE001 - the test reports it
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == [] and [o.written for o in outcomes] == [3000, 3000]
    assert SurveyResponse.objects.filter(source="both").count() == 3000
    assert upserts, "only one went straight in; the other upserted"


def _numbered(count: int, bad: int | None = None) -> list[list[str]]:
    """count ordinary rows; row ``bad`` (0-based) with a score over the NPS scale."""
    return [
        [f"N-{i:03d}", "2026-03-01T10:00:00Z", "nps", "12" if i == bad else str(i % 11), f"comment {i}", "", "", ""]
        for i in range(count)
    ]


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_problem_in_a_late_chunk_undoes_what_the_earlier_chunks_wrote(monkeypatch, tmp_path):
    """Rows are checked a chunk at a time while the earlier chunks are written: a bad row near the
    end still leaves nothing written, the first time (COPY straight in) and over stored rows
    (staged upsert), with the message naming its line and column."""
    monkeypatch.setattr(services, "CHECK_CHUNK", 3)
    mapping = ingestion.Mapping.from_json(MAPPING.to_json() | {"label_column": "", "label_driver": ""})
    bad = _file(tmp_path, _numbered(20, bad=17), name="bad.csv")
    outcome = services.import_path(kind="responses", source="late", path=bad, mapping=mapping)
    assert (outcome.error_count, outcome.written) == (1, 0)
    assert outcome.errors[0]["row"] == 19 and outcome.errors[0]["column"] == "score"
    assert not SurveyResponse.objects.exists()

    first = services.import_path(kind="responses", source="late", path=_file(tmp_path, _numbered(20)), mapping=mapping)
    assert (first.error_count, first.written) == (0, 20)
    before = _contents("late")
    changed = [[*row[:4], "changed", *row[5:]] for row in _numbered(20, bad=17)]
    again = services.import_path(
        kind="responses", source="late", path=_file(tmp_path, changed, "c.csv"), mapping=mapping
    )
    assert again.error_count == 1 and again.errors[0]["row"] == 19
    assert _contents("late") == before


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_write_that_loses_a_race_is_retried_without_checking_the_file_again(monkeypatch, tmp_path):
    """A deadlock in the middle of the COPY undoes the write and runs it again: the chunks checked
    before it are written from memory, the rest checked once, every row stored once."""
    from cxgov.lib import retry
    from tests.test_concurrent_writers import _deadlock

    monkeypatch.setattr(retry.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(services, "CHECK_CHUNK", 4)
    checks, attempts = [], []
    check = columnar.check_responses
    monkeypatch.setattr(columnar, "check_responses", lambda *args, **kwargs: checks.append(1) or check(*args, **kwargs))
    copy = services._copy

    def lose_once(cursor, statement, rows):
        attempts.append(1)
        if len(attempts) == 1:
            taken = iter(rows)
            for _ in range(6):  # a chunk and a half read, then the race is lost
                next(taken)
            _deadlock()
        return copy(cursor, statement, rows)

    monkeypatch.setattr(services, "_copy", lose_once)
    mapping = ingestion.Mapping.from_json(MAPPING.to_json() | {"label_column": "", "label_driver": ""})
    outcome = services.import_path(
        kind="responses", source="race", path=_file(tmp_path, _numbered(18)), mapping=mapping
    )
    assert (outcome.written, outcome.error_count, len(attempts)) == (18, 0, 2)
    assert len(checks) == 5  # ceil(18 / 4): no chunk checked twice
    assert SurveyResponse.objects.filter(source="race").count() == 18


def test_kept_rows_are_read_again_from_memory_and_checked_on_from_where_the_first_pass_stopped():
    given = []

    def chunks():
        for start in range(0, 9, 3):
            given.append(start)
            yield [(i,) for i in range(start, start + 3)]

    kept = services._Kept(chunks())
    first = iter(kept)
    assert [next(first) for _ in range(4)] == [(0,), (1,), (2,), (3,)]
    assert list(kept) == [(i,) for i in range(9)] and list(kept) == [(i,) for i in range(9)]
    assert given == [0, 3, 6]


@needs_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("chunk", [services.CHECK_CHUNK, 1])
def test_chunks_checked_later_are_not_laxer_about_future_dates(tmp_path, monkeypatch, chunk):
    """Each chunk's latest date is measured from the moment the import began, not from the clock
    when the chunk is checked: with two minutes passing per chunk, a row dated 30 seconds past the
    horizon is still refused."""
    import types
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    monkeypatch.setattr(services, "CHECK_CHUNK", chunk)
    start, reads = timezone.now(), []

    def later():
        reads.append(1)
        return start + timedelta(minutes=2) * len(reads)

    monkeypatch.setattr(columnar, "timezone", types.SimpleNamespace(now=later))
    late = (start + timedelta(days=settings.CXGOV_DATE_HORIZON_DAYS, seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = [["A", "2026-03-01T10:00:00Z", "nps", "3", "x", "", "", ""], ["B", late, "nps", "3", "y", "", "", ""]]
    mapping = ingestion.Mapping.from_json(MAPPING.to_json() | {"label_column": "", "label_driver": ""})
    outcome = services.import_path(kind="responses", source="clock", path=_file(tmp_path, rows), mapping=mapping)
    assert (outcome.error_count, outcome.written) == (1, 0) and outcome.errors[0]["row"] == 3
    assert not SurveyResponse.objects.exists()


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_imports_of_one_source_take_turns_and_other_sources_do_not_wait(tmp_path):
    """An import waits for another import of its source to commit (two first imports COPYing the
    same ids in other orders would deadlock); an import of another source goes on meanwhile."""
    import threading
    import time

    from django.db import connections, transaction

    mapping = ingestion.Mapping.from_json(MAPPING.to_json() | {"label_column": "", "label_driver": ""})
    path = _file(tmp_path, _numbered(30))
    held, release, done = threading.Event(), threading.Event(), []

    def hold():  # what an import of "turns" does while it writes
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [services.IMPORT_LOCKS, "responses:turns"])
            held.set()
            release.wait(60)
        connections.close_all()

    def run():
        done.append(services.import_path(kind="responses", source="turns", path=path, mapping=mapping).written)
        connections.close_all()

    holder, waiter = threading.Thread(target=hold), threading.Thread(target=run)
    holder.start()
    assert held.wait(30)
    waiter.start()
    with connection.cursor() as cursor:
        for _ in range(300):  # until the waiting import asks for the lock (bounded: 30 s)
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            if cursor.fetchone()[0]:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the second import of the source did not wait for the first")
    assert not done and waiter.is_alive()
    other = services.import_path(kind="responses", source="other", path=path, mapping=mapping)
    assert other.written == 30 and not done
    release.set()
    holder.join(60)
    waiter.join(60)
    assert done == [30] and SurveyResponse.objects.filter(source="turns").count() == 30
