"""File imports: the shared files through the upload page, and every kind of bad file rejected
with a message naming rows and columns, the database left as it was."""

import csv
import json
from datetime import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from cxgov.lib import bounds
from metrics import ingestion, services
from metrics.demo import REVIEWS_MAPPING, TELCO_MAPPING
from metrics.models import Customer, ImportJob, ImportMapping, SurveyResponse

DATA = Path(settings.SHARED_DATA_DIR)
GOOD = "id,when,score,comment\n1,2026-10-01,9,Fine\n2,2026-10-02,3,Slow refund\n"
MAPPING = {
    "columns": {"external_id": "id", "responded_at": "when", "score": "score", "comment": "comment"},
    "constants": {"scale": "nps"},
}


def _form(job, mapping: ingestion.Mapping) -> dict:
    data = {f"col_{k}": v for k, v in mapping.columns.items()}
    data.update({f"const_{k}": v for k, v in mapping.constants.items()})
    data["drivers"] = "\n".join(f"{k}={v}" for k, v in mapping.drivers.items())
    for name in ("dates_from", "dates_to", "snapshot"):
        if getattr(mapping, name):
            data[name] = getattr(mapping, name)
    return data


def _upload(client, kind, source, name, content: bytes):
    return client.post("/metrics/imports/", {"kind": kind, "source": source, "file": SimpleUploadedFile(name, content)})


@pytest.mark.parametrize(
    ("kind", "source", "file", "mapping", "count"),
    [
        ("responses", "clothing-reviews", "womens-clothing-reviews-1k.csv", REVIEWS_MAPPING, 1000),
        ("customers", "", "telco-customer-churn.csv", TELCO_MAPPING, 7043),
    ],
)
def test_shared_files_import_through_the_upload_page_with_a_saved_mapping(
    org, client_for, kind, source, file, mapping, count
):
    client = client_for(org["cx"])
    response = _upload(client, kind, source, file, (DATA / file).read_bytes())
    job = ImportJob.objects.get()
    assert response["Location"] == f"/metrics/imports/{job.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "Map the columns" in page
    response = client.post(f"/metrics/imports/{job.pk}/", _form(job, mapping))
    assert response.status_code == 302, response.content.decode()[:3000]
    job = services.import_run(job_id=job.pk)  # what the worker does
    assert (job.status, job.written_rows) == ("done", count), job.message
    assert ImportMapping.objects.get(kind=kind, source=source).mapping["columns"] == mapping.columns
    # The next file of this source starts from the saved mapping.
    _upload(client, kind, source, file, (DATA / file).read_bytes())
    assert ImportJob.objects.latest("pk").mapping["columns"] == mapping.columns
    assert "100%" in client.get(f"/metrics/imports/{job.pk}/progress/").content.decode()


def test_reimporting_updates_and_never_duplicates(org, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(GOOD)
    mapping = ingestion.Mapping.from_json(MAPPING)
    services.import_path(kind="responses", source="pulse", path=path, mapping=mapping)
    path.write_text(GOOD.replace("1,2026-10-01,9", "1,2026-10-01,10"))
    services.import_path(kind="responses", source="pulse", path=path, mapping=mapping)
    assert SurveyResponse.objects.count() == 2
    assert SurveyResponse.objects.get(external_id="1").score == 10


KEEP_LAST_HINT = "(choose “keep the last row” to import the last one)"
BAD_FILES = [
    (
        "score out of range",
        GOOD.replace("1,2026-10-01,9", "1,2026-10-01,11"),
        [{"row": 2, "column": "score", "message": "11 is outside the nps scale (0-10)"}],
    ),
    (
        "bad date",
        GOOD.replace("2026-10-02", "02/13/2026"),
        [
            {
                "row": 3,
                "column": "when",
                "message": "“02/13/2026” is not a date (use YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM])",
            }
        ],
    ),
    (
        "duplicate ids",
        GOOD.replace("2,2026-10-02", "1,2026-10-02"),
        [
            {
                "row": 3,
                "column": "id",
                "message": "repeats the id “1” of row 2 with other values " + KEEP_LAST_HINT,
            }
        ],
    ),
]


@pytest.mark.parametrize(("case", "content", "errors"), BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_bad_rows_are_named_and_nothing_is_written(org, tmp_path, case, content, errors):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    outcome = services.import_path(
        kind="responses", source="pulse", path=path, mapping=ingestion.Mapping.from_json(MAPPING)
    )
    assert outcome.errors == errors
    assert outcome.written == 0
    assert not SurveyResponse.objects.exists()


def test_a_duplicate_is_reported_even_when_its_first_row_has_other_errors(org, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(GOOD.replace("1,2026-10-01,9", "1,2026-10-01,12") + "1,2026-10-03,5,again\n")
    outcome = services.import_path(
        kind="responses", source="pulse", path=path, mapping=ingestion.Mapping.from_json(MAPPING)
    )
    assert [(e["row"], e["column"]) for e in outcome.errors] == [(2, "score"), (4, "id")]


def test_semicolon_files_are_read(org, tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text(GOOD.replace(",", ";"))
    outcome = services.import_path(
        kind="responses", source="pulse", path=path, mapping=ingestion.Mapping.from_json(MAPPING)
    )
    assert outcome.written == 2


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("latin1.csv", "id,score\n1,9 très bien\n".encode("latin-1"), "is not UTF-8 text"),
        ("empty.csv", b"", "The submitted file is empty."),
        ("binary.csv", b"\x00\x01\x02" * 10, "not a CSV text file"),
        ("broken.xlsx", b"PK\x03\x04 not really a workbook", "The workbook could not be read"),
    ],
)
def test_unreadable_files_are_refused_at_upload(org, client_for, name, content, message):
    response = _upload(client_for(org["cx"]), "responses", "pulse", name, content)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()


def test_wrong_delimiter_or_missing_column_is_named(org, client_for):
    client = client_for(org["cx"])
    ImportMapping.objects.create(kind="responses", source="pulse", mapping=MAPPING)
    _upload(client, "responses", "pulse", "colon.csv", GOOD.replace(",", ":").encode())
    job = ImportJob.objects.get()
    page = client.get(f"/metrics/imports/{job.pk}/").content.decode()
    assert "The saved mapping names columns this file does not have: comment, id, score, when" in page
    response = client.post(f"/metrics/imports/{job.pk}/", {"col_external_id": "", "const_scale": "nps"})
    assert "Map a column (or give a value) for: External id, Score or Comment" in response.content.decode()
    job.refresh_from_db()
    assert job.status == "uploaded" and not SurveyResponse.objects.exists()


def test_a_200_mb_file_is_refused_with_its_size(org, tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.truncate(200_000_000)  # sparse: costs no disk
    with pytest.raises(ingestion.FileProblem, match=r"The file is 200\.0 MB; the limit is 100 MB"):
        ingestion.read_table(path)


def test_upload_over_the_limit_is_refused(org, client_for, settings):
    settings.IMPORT_MAX_BYTES = 1_000_000
    response = _upload(client_for(org["cx"]), "responses", "pulse", "big.csv", b"x" * 1_200_000)
    assert "The file is 1.2 MB; the limit is 1 MB." in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("username", ["leader", "stakeholder"])
def test_only_cx_and_administrators_import(org, client_for, username):
    assert client_for(org[username]).get("/metrics/imports/").status_code == 403


def test_import_runs_once_even_if_delivered_twice(org, client_for, tmp_path):
    client = client_for(org["cx"])
    _upload(client, "responses", "pulse", "a.csv", GOOD.encode())
    job = ImportJob.objects.get()
    client.post(
        f"/metrics/imports/{job.pk}/",
        {"col_external_id": "id", "col_responded_at": "when", "col_score": "score", "const_scale": "nps"},
    )
    assert services.import_run(job_id=job.pk).status == "done"
    ImportJob.objects.filter(pk=job.pk).update(message="first run")
    assert services.import_run(job_id=job.pk).message == "first run"  # the second delivery did nothing


def test_command_imports_with_a_saved_mapping(org, tmp_path, capsys):
    from django.core.management import call_command

    path = tmp_path / "a.csv"
    path.write_text(GOOD)
    call_command("import_data", "responses", str(path), source="pulse", mapping=json.dumps(MAPPING))
    call_command("import_data", "responses", str(path), source="pulse")
    assert "Imported 2 of 2 rows." in capsys.readouterr().out
    assert SurveyResponse.objects.count() == 2
    assert Customer.objects.count() == 0


def test_xlsx_files_import_like_csv(org, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["id", "when", "score", "comment"])
    sheet.append([1, "2026-10-01", 9, "Fine"])
    sheet.append([2, "2026-10-02", 11, "Too high"])
    path = tmp_path / "pulse.xlsx"
    workbook.save(path)
    mapping = ingestion.Mapping.from_json(MAPPING)
    outcome = services.import_path(kind="responses", source="pulse", path=path, mapping=mapping)
    assert outcome.errors == [{"row": 3, "column": "score", "message": "11 is outside the nps scale (0-10)"}]
    sheet["C3"] = 7
    workbook.save(path)
    assert services.import_path(kind="responses", source="pulse", path=path, mapping=mapping).written == 2
    assert sorted(SurveyResponse.objects.values_list("score", flat=True)) == [7, 9]


AS_WRITTEN = [
    "@united thanks for nothing #fail http://t.co/x",
    "+44 20 7946 0958 never called back",
    "=) great crew",
    "- seat broken, - no wifi",
    "-2+3 stars",
    '=HYPERLINK("http://x","click")',
    "<script>alert(1)</script> is what I typed",
]


def test_customers_text_is_stored_as_written_by_files_and_the_api(org, tmp_path, api_for):
    path = tmp_path / "as-written.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "when", "score", "comment"])
        writer.writerows([i, "2026-10-01", 5, text] for i, text in enumerate(AS_WRITTEN))
    outcome = services.import_path(
        kind="responses", source="pulse", path=path, mapping=ingestion.Mapping.from_json(MAPPING)
    )
    assert outcome.errors == [] and outcome.written == len(AS_WRITTEN)
    assert sorted(SurveyResponse.objects.values_list("comment", flat=True)) == sorted(AS_WRITTEN)
    rows = [
        {"source": "api", "external_id": str(i), "responded_at": "2026-10-01T10:00:00Z", "score": 5, "scale": "csat"}
        | {"comment": text}
        for i, text in enumerate(AS_WRITTEN)
    ]
    response = api_for(org["cx"]).post("/api/ingest/responses/", rows, format="json")
    assert response.status_code in (200, 201), response.content
    assert sorted(SurveyResponse.objects.filter(source="api").values_list("comment", flat=True)) == sorted(AS_WRITTEN)


def test_a_nul_character_in_a_comment_is_still_refused_with_its_row(org, tmp_path):
    path = tmp_path / "nul.csv"
    rows = "".join(f"{i},2026-10-01,9,Fine\n" for i in range(1, 5001))  # past the 64 KB sniffed at upload
    path.write_text("id,when,score,comment\n" + rows + "5001,2026-10-01,9,Slow\x00refund\n")
    outcome = services.import_path(
        kind="responses", source="pulse", path=path, mapping=ingestion.Mapping.from_json(MAPPING)
    )
    message = "contains a NUL character (\\0), which cannot be stored; remove it"
    assert outcome.errors == [{"row": 5002, "column": "comment", "message": message}]
    assert not SurveyResponse.objects.exists()


def test_html_in_a_comment_is_shown_as_text(org, client_for):
    SurveyResponse.objects.create(
        source="s",
        external_id="1",
        responded_at="2026-10-01T10:00:00Z",
        score=1,
        scale="csat",
        comment="<script>alert(1)</script> refund",
    )
    page = client_for(org["cx"]).get("/rootcause/untagged/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; refund" in page and "<script>alert(1)</script>" not in page


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("2026-02-30", "“2026-02-30” is not a date"),
        ("x" * 130, "is 130 characters long; the limit is 128"),
    ],
)
def test_impossible_dates_and_overlong_ids_are_named(org, tmp_path, cell, message):
    path = tmp_path / "bad.csv"
    column = "when" if "-" in cell else "id"
    path.write_text(GOOD.replace("2026-10-02", cell) if column == "when" else GOOD.replace("\n2,", f"\n{cell},"))
    outcome = services.import_path(
        kind="responses", source="pulse", path=path, mapping=ingestion.Mapping.from_json(MAPPING)
    )
    assert [(e["row"], e["column"]) for e in outcome.errors] == [(3, column)]
    assert message in outcome.errors[0]["message"]
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1,250", 1250), ("1,250.50", 1250.5), ("12,5", 12.5), ("-3", -3), ("²", None), ("1e400", None)],
)
def test_numbers_are_read_as_people_write_them(raw, expected):
    errors = []
    value = ingestion._number(raw, "revenue", errors)
    assert (float(value) if value is not None else None) == expected
    assert bool(errors) == (expected is None)


@pytest.mark.parametrize("text", ["=1+1", "+cmd|' /C calc'!A0", "@SUM(A1)", "<body onload=alert(1)>"])
def test_names_that_become_keys_still_refuse_formulas_and_markup(text):
    assert bounds.name_problem(text) is not None


@pytest.mark.parametrize("text", ["I <3 this dress", "- loved it", "=1+1", "@SUM(A1)", "<b>bold</b>", "fine"])
def test_text_is_accepted_as_written(text):
    assert ingestion.text_problem(text) is None


def test_an_import_whose_worker_died_is_restarted_once(org, client_for, django_capture_on_commit_callbacks, sent_tasks):
    from datetime import timedelta

    from django.utils import timezone

    client = client_for(org["cx"])
    _upload(client, "responses", "pulse", "a.csv", GOOD.encode())
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(
        status="writing", worker="elsewhere:123", lease_until=timezone.now() - timedelta(seconds=5)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.imports_requeue_stuck() == 1
        assert services.imports_requeue_stuck() == 0
    assert sent_tasks == [("metrics.import_file", {"job_id": job.pk})]
    job.refresh_from_db()
    assert job.status == "queued"


# --- issue 12, finding 14: encodings and empty files; "What to build" 3: the same bounds as the API


def test_a_latin1_csv_ending_in_its_accent_is_refused_at_upload(org, client_for):
    content = "id,when,score,comment\n1,2026-10-01,9,Great Café\n".encode("latin-1")  # é is the 2nd-last byte
    assert len(content) == 48
    response = _upload(client_for(org["cx"]), "responses", "pulse", "cafe.csv", content)
    assert response.status_code == 200
    assert "The file is not UTF-8 text (byte 0xe9 on line 2)." in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_latin1_byte_after_the_first_64_kb_is_refused_at_upload_with_its_line(org, client_for):
    rows = "".join(f"{i},2026-10-01,9,Fine\n" for i in range(1, 5001))
    content = ("id,when,score,comment\n" + rows).encode() + "5001,2026-10-01,9,Très bien\n".encode("latin-1")
    assert len(content) > 64 * 1024
    response = _upload(client_for(org["cx"]), "responses", "pulse", "long.csv", content)
    assert "The file is not UTF-8 text (byte 0xe8 on line 5002)." in response.content.decode()
    assert not ImportJob.objects.exists()


def test_utf8_with_a_byte_order_mark_is_accepted(org, client_for):
    content = ("\ufeffid,when,score,comment\n1,2026-10-01,9,Café\n").encode()
    response = _upload(client_for(org["cx"]), "responses", "pulse", "bom.csv", content)
    assert response.status_code == 302
    assert ImportJob.objects.get().status == "uploaded"


def _stored(tmp_path, content: bytes, name="stored.csv") -> ImportJob:
    """A job as an earlier version let through: the file is stored, the mapping not yet chosen."""
    path = tmp_path / name
    path.write_bytes(content)
    return ImportJob.objects.create(
        kind="responses", source="pulse", file_name=name, stored_path=str(path), mapping=MAPPING
    )


def test_an_unreadable_stored_file_rejects_its_job_instead_of_answering_500(org, client_for, tmp_path):
    job = _stored(tmp_path, "id,when,score,comment\n1,2026-10-01,9,Café\n".encode("latin-1"))
    response = client_for(org["cx"]).get(f"/metrics/imports/{job.pk}/")
    assert response.status_code == 200
    assert "The file is not UTF-8 text" in response.content.decode()
    job.refresh_from_db()
    assert job.status == "invalid" and "Save it as “CSV UTF-8”" in job.message
    assert client_for(org["cx"]).get(f"/metrics/imports/{job.pk}/").status_code == 200


def test_a_header_without_rows_is_refused_at_upload(org, client_for):
    response = _upload(client_for(org["cx"]), "responses", "pulse", "empty.csv", b"id,when,score,comment\n\n")
    assert "The file has a header but no data rows: there is nothing to import." in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_header_only_job_imports_nothing_with_a_message(org, tmp_path):
    job = _stored(tmp_path, b"id,when,score,comment\n")
    ImportJob.objects.filter(pk=job.pk).update(status="queued")
    job = services.import_run(job_id=job.pk)
    assert (job.status, job.message) == ("invalid", ingestion.NO_ROWS)
    assert not SurveyResponse.objects.exists()


FILE_BOUNDS = [
    ("2999-01-01", "2999-01-01 is out of range: dates must be between 1900-01-01 and"),
    ("1850-06-01", "1850-06-01 is out of range"),
]


@pytest.mark.parametrize(("day", "message"), FILE_BOUNDS)
def test_file_dates_have_the_api_bounds(org, tmp_path, day, message):
    path = tmp_path / "bad.csv"
    path.write_text(GOOD.replace("2026-10-02", day))
    outcome = services.import_path(
        kind="responses", source="pulse", path=path, mapping=ingestion.Mapping.from_json(MAPPING)
    )
    assert [(e["row"], e["column"]) for e in outcome.errors] == [(3, "when")]
    assert outcome.errors[0]["message"].startswith(message)
    assert not SurveyResponse.objects.exists()


def test_file_ids_comments_and_driver_columns_have_the_api_bounds(org, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(GOOD.replace("\n2,", "\n-2+3,").replace("Fine", "x" * 10_001))
    outcome = services.import_path(
        kind="responses", source="pulse", path=path, mapping=ingestion.Mapping.from_json(MAPPING)
    )
    assert [(e["row"], e["column"]) for e in outcome.errors] == [(2, "comment"), (3, "id")]
    assert outcome.errors[0]["message"] == "is 10,001 characters long; the limit is 10,000."
    assert "is not an identifier" in outcome.errors[1]["message"]
    many = ingestion.Mapping.from_json(MAPPING | {"drivers": {f"d{i}": "score" for i in range(101)}})
    with pytest.raises(ingestion.FileProblem, match="101 driver rating columns; at most 100"):
        services.import_path(kind="responses", source="pulse", path=path, mapping=many)
    with pytest.raises(ingestion.FileProblem, match="The source “=cmd” is not an identifier"):
        services.import_path(kind="responses", source="=cmd", path=path, mapping=ingestion.Mapping.from_json(MAPPING))


def test_customer_files_refuse_negative_revenue_and_an_end_before_the_start(org, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("id,start,end,revenue,margin\nc1,2025-05-01,2025-04-01,10,-2\nc2,2025-01-01,,-5,1\n")
    mapping = ingestion.Mapping(
        columns={
            "external_id": "id",
            "started_on": "start",
            "ended_on": "end",
            "monthly_revenue": "revenue",
            "monthly_margin": "margin",
        }
    )
    outcome = services.import_path(kind="customers", source="", path=path, mapping=mapping)
    assert outcome.errors == [
        {"row": 2, "column": "end", "message": "The end (2025-04-01) is before the start (2025-05-01)."},
        {"row": 3, "column": "revenue", "message": "-5 is negative; an amount of money here must be 0 or more."},
    ]
    assert not Customer.objects.exists()


def test_a_tenure_reaching_before_1900_is_an_error_not_a_crash(org, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("id,tenure\nc1,99999\n")
    mapping = ingestion.Mapping(columns={"external_id": "id", "tenure_months": "tenure"}, snapshot="2026-10-31")
    outcome = services.import_path(kind="customers", source="", path=path, mapping=mapping)
    assert outcome.errors == [
        {"row": 2, "column": "tenure", "message": "99999 months before the snapshot is before 1900"}
    ]


def test_the_mapping_form_refuses_days_out_of_order_or_out_of_range(org, client_for):
    client = client_for(org["cx"])
    _upload(client, "responses", "pulse", "nodates.csv", b"id,score\n1,9\n")
    job = ImportJob.objects.get()
    form = {"col_external_id": "id", "col_score": "score", "const_scale": "nps"}
    page = client.post(f"/metrics/imports/{job.pk}/", form | {"dates_from": "2026-05-01", "dates_to": "2026-04-01"})
    assert "The end (2026-04-01) is before the start (2026-05-01)." in page.content.decode()
    page = client.post(f"/metrics/imports/{job.pk}/", form | {"dates_from": "2026-04-01", "dates_to": "2999-01-01"})
    assert "2999-01-01 is out of range: dates must be between 1900-01-01 and" in page.content.decode()
    job.refresh_from_db()
    assert job.status == "uploaded"


# --- issue 14, "What to build" 2: dates as they come


@pytest.mark.parametrize(
    ("cells", "fmt", "first"),
    [
        (["2/24/2015 11:15", "2/23/2015 9:01"], "mdy", "2015-02-24T11:15:00-05:00"),
        (["24/02/2015", "03/04/2015"], "dmy", "2015-02-24T12:00:00-05:00"),
        (["24.02.2015 11:15 PM", "03.04.2015 9:01 AM"], "dmy", "2015-02-24T23:15:00-05:00"),
        (["42059.46875", "42060"], "excel", "2015-02-24T11:15:00-05:00"),
        (["1424794500", "1424794501"], "unix", "2015-02-24T11:15:00-05:00"),
        (["2015-02-24T11:15:00-05:00", "2015-02-23"], "iso", "2015-02-24T11:15:00-05:00"),
    ],
)
def test_a_date_column_is_read_in_the_format_its_values_show(org, tmp_path, cells, fmt, first):
    path = tmp_path / "dates.csv"
    path.write_text("id,when,score,comment\n" + "".join(f"{i},{c},9,ok\n" for i, c in enumerate(cells)))
    mapping = ingestion.Mapping.from_json(MAPPING | {"time_zone": "America/New_York"})
    assert ingestion.scan("responses", ingestion.read_table(path), mapping).evidence["responded_at"].decide()[0] == fmt
    outcome = services.import_path(kind="responses", source="pulse", path=path, mapping=mapping)
    assert outcome.errors == [] and outcome.written == len(cells)
    assert SurveyResponse.objects.get(external_id="0").responded_at == datetime.fromisoformat(first)


def test_a_column_that_reads_both_ways_asks_and_the_choice_is_kept(org, client_for):
    client = client_for(org["cx"])
    _upload(client, "responses", "pulse", "ambiguous.csv", b"id,responded_at,score\n1,03/04/2026,9\n2,05/06/2026,3\n")
    job = ImportJob.objects.get()
    page = client.get(f"/metrics/imports/{job.pk}/").content.decode()
    assert "cannot tell: every value reads day-first or month-first (e.g. “03/04/2026”): choose which." in page
    form = {"col_external_id": "id", "col_responded_at": "responded_at", "col_score": "score", "const_scale": "nps"}
    page = client.post(f"/metrics/imports/{job.pk}/", form).content.decode()
    assert "The column “responded_at” every value reads day-first or month-first" in page
    job.refresh_from_db()
    assert job.status == "uploaded"
    response = client.post(
        f"/metrics/imports/{job.pk}/", form | {"fmt_responded_at": "dmy", "time_zone": "Europe/Paris"}
    )
    assert response.status_code == 302
    assert services.import_run(job_id=job.pk).status == "done"
    noon_in_paris = datetime.fromisoformat("2026-04-03T10:00:00+00:00")
    assert SurveyResponse.objects.get(external_id="1").responded_at == noon_in_paris
    saved = ImportMapping.objects.get(kind="responses", source="pulse").mapping
    assert (saved["date_formats"], saved["time_zone"]) == ({"responded_at": "dmy"}, "Europe/Paris")


def test_the_preview_states_the_detected_format(org, client_for):
    client = client_for(org["cx"])
    _upload(
        client, "responses", "pulse", "us.csv", b"id,responded_at,score\n1,2/24/2015 11:15 PM,9\n2,1/5/2015 9:01 AM,3\n"
    )
    job = ImportJob.objects.get()
    page = client.get(f"/metrics/imports/{job.pk}/").content.decode()
    assert (
        "Month first, 12-hour times (AM/PM)</strong>, detected from “2/24/2015 11:15 PM” can only be month first"
        in (page)
    )


def test_a_value_in_another_format_than_its_column_is_named_with_its_row(org, tmp_path):
    path = tmp_path / "dates.csv"
    path.write_text("id,when,score,comment\n1,24/02/2015,9,\n2,25/02/2015,9,\n3,2015-02-26,9,\n4,31/02/2015,9,\n")
    outcome = services.import_path(
        kind="responses", source="pulse", path=path, mapping=ingestion.Mapping.from_json(MAPPING)
    )
    hint = "Day first (24/02/2015 or 24.02.2015 11:15)"
    assert outcome.errors == [
        {"row": 4, "column": "when", "message": f"“2015-02-26” is not a date ({hint})"},
        {"row": 5, "column": "when", "message": f"“31/02/2015” is not a date ({hint})"},
    ]


# --- issue 14, "What to build" 3: comment-only sources; a constant for any field


def test_a_comment_only_source_imports_without_a_score_and_score_metrics_say_what_they_skipped(org, client_for):
    from metrics.models import Metric

    client = client_for(org["cx"])
    content = b"id,text,when\n1,@airline lost my bag,2026-10-01\n2,+44 20 7946 0958 nobody answers,2026-10-02\n"
    _upload(client, "responses", "tweets", "tweets.csv", content)
    job = ImportJob.objects.get()
    form = {"col_external_id": "id", "col_comment": "text", "col_responded_at": "when", "const_channel": "twitter"}
    assert client.post(f"/metrics/imports/{job.pk}/", form).status_code == 302
    assert services.import_run(job_id=job.pk).status == "done"
    assert list(SurveyResponse.objects.order_by("external_id").values_list("score", "scale", "channel", "comment")) == [
        (None, "", "twitter", "@airline lost my bag"),
        (None, "", "twitter", "+44 20 7946 0958 nobody answers"),
    ]
    SurveyResponse.objects.create(
        source="tweets", external_id="3", responded_at="2026-10-03T10:00:00Z", score=10, scale="nps"
    )
    metric = services.metric_save(
        user=org["admin"],
        metric=Metric(),
        fields={"name": "NPS", "slug": "nps", "kind": "outcome", "calculator": "nps", "source": "tweets"},
    )
    services.metric_recalculate(metric=metric)
    assert [(v.value, v.sample_size) for v in metric.values.all()] == [(100.0, 1)]
    page = client_for(org["admin"]).get("/metrics/nps/").content.decode()
    assert "2 responses without a score (comment only) are skipped" in page


def test_a_comment_only_row_needs_its_comment(org, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("id,when,score,comment\n1,2026-10-01,,\n2,2026-10-01,,fine\n")
    outcome = services.import_path(
        kind="responses", source="pulse", path=path, mapping=ingestion.Mapping.from_json(MAPPING)
    )
    message = "is empty and so is the comment: a response needs a score, a comment or both"
    assert outcome.errors == [{"row": 2, "column": "score", "message": message}]


def test_any_mapped_field_can_take_a_constant(org, client_for):
    client = client_for(org["cx"])
    _upload(client, "responses", "kiosk", "kiosk.csv", b"id,comment\n1,Queue too long\n")
    job = ImportJob.objects.get()
    page = client.get(f"/metrics/imports/{job.pk}/").content.decode()
    for name in ("score", "responded_at", "customer_id", "comment", "product"):
        assert f'name="const_{name}"' in page
    form = {"col_external_id": "id", "col_comment": "comment", "const_score": "4", "const_scale": "csat"}
    form |= {"const_responded_at": "2026-10-01", "const_product": "Kiosk"}
    assert client.post(f"/metrics/imports/{job.pk}/", form).status_code == 302
    assert services.import_run(job_id=job.pk).status == "done"
    row = SurveyResponse.objects.get()
    assert (row.score, row.scale, row.product, row.responded_at.date().isoformat()) == (
        4,
        "csat",
        "Kiosk",
        "2026-10-01",
    )


# --- issue 14, "What to build" 4 and 5: duplicates in a file; a row filter

REPEATS = (
    "id,when,score,comment,sentiment\n"
    "1,2026-10-01,9,Fine,positive\n"
    "2,2026-10-02,3,Slow refund,negative\n"
    "1,2026-10-01,9,Fine,positive\n"  # an exact copy of row 2
    "3,2026-10-03,2,Lost bag,negative\n"
    "3,2026-10-03,1,Lost bag and rude staff,negative\n"  # id 3 again, other values
)


def test_exact_duplicate_rows_collapse_and_conflicting_ones_refuse_the_file_by_default(org, tmp_path):
    path = tmp_path / "repeats.csv"
    path.write_text(REPEATS)
    mapping = ingestion.Mapping.from_json(MAPPING)
    outcome = services.import_path(kind="responses", source="pulse", path=path, mapping=mapping)
    assert outcome.errors == [
        {
            "row": 6,
            "column": "id",
            "message": "repeats the id “3” of row 5 with other values " + KEEP_LAST_HINT,
        }
    ]
    assert not SurveyResponse.objects.exists()


def test_keeping_the_last_row_is_saved_with_the_mapping_and_stated_in_the_result(org, client_for):
    client = client_for(org["cx"])
    _upload(client, "responses", "pulse", "repeats.csv", REPEATS.encode())
    job = ImportJob.objects.get()
    page = client.get(f"/metrics/imports/{job.pk}/").content.decode()
    assert "1 exact duplicate row: imported once." in page
    assert "1 id repeated with other values in 1 more row (e.g. “3”): the file is refused unless" in page
    form = {f"col_{k}": v for k, v in MAPPING["columns"].items()} | {"const_scale": "nps", "duplicates": "keep_last"}
    assert client.post(f"/metrics/imports/{job.pk}/", form).status_code == 302
    job = services.import_run(job_id=job.pk)
    assert job.status == "done"
    assert job.message == (
        "3 row(s) imported. 1 exact duplicate row(s) collapsed into the first. "
        "1 row(s) repeating an id with other values: the last of each kept."
    )
    assert SurveyResponse.objects.get(external_id="3").comment == "Lost bag and rude staff"
    assert ImportMapping.objects.get(source="pulse").mapping["duplicates"] == "keep_last"
    page = client.get(f"/metrics/imports/{job.pk}/").content.decode()
    assert "the last of each kept" in page


def test_a_row_filter_imports_only_the_chosen_rows_and_is_saved_with_the_mapping(org, client_for):
    client = client_for(org["cx"])
    _upload(client, "responses", "pulse", "repeats.csv", REPEATS.encode())
    job = ImportJob.objects.get()
    form = {f"col_{k}": v for k, v in MAPPING["columns"].items()} | {"const_scale": "nps", "duplicates": "keep_last"}
    page = client.post(f"/metrics/imports/{job.pk}/", form | {"filter_column": "sentiment"}).content.decode()
    assert "Give the values to keep (one per line)." in page
    page = client.post(
        f"/metrics/imports/{job.pk}/", form | {"filter_column": "sentiment", "filter_values": "neutral"}
    ).content.decode()
    assert "No row has one of these values: the filter leaves nothing to import." in page
    response = client.post(
        f"/metrics/imports/{job.pk}/", form | {"filter_column": "sentiment", "filter_values": " Negative \n"}
    )
    assert response.status_code == 302
    job = services.import_run(job_id=job.pk)
    assert job.status == "done", job.message
    assert sorted(SurveyResponse.objects.values_list("external_id", flat=True)) == ["2", "3"]
    assert "2 row(s) left out by the row filter" in job.message
    saved = ImportMapping.objects.get(source="pulse").mapping
    assert (saved["filter_column"], saved["filter_values"]) == ("sentiment", ["Negative"])
    _upload(client, "responses", "pulse", "repeats.csv", REPEATS.encode())
    page = client.get(f"/metrics/imports/{ImportJob.objects.latest('pk').pk}/").content.decode()
    assert "the row filter keeps <strong>3</strong> (“sentiment” is Negative)" in page
