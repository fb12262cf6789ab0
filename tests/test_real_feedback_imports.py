"""Issue 14: the exports CX teams actually have import through the page as they are, and their
own labels become the sub-themes the Pareto counts.

The files are generated here in the shapes of a public social-media complaints export (ids, brand,
sentiment, a reason label written by the care team, text with @mentions, #tags, URLs and +44
numbers, US dates, repeated rows) and of a survey tool's XLSX export (day-first dates, scores,
comments)."""

import csv
import io
import random
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from metrics import services
from metrics.models import ImportJob, SurveyResponse
from rootcause import selectors as rootcause_selectors
from rootcause import services as rootcause_services
from rootcause.models import CommentTag, KeyDriver, SubTheme, TagOrigin

REASONS = ["Customer Service Issue", "Late Flight", "Lost Luggage", "Cancelled Flight", "Bad Flight"]
TEXTS = [
    "@{brand} {reason} again #fail http://t.co/abc{n}",
    "+44 20 7946 0{n:03d} is the only number and nobody answers @{brand}",
    "=) thanks @{brand} for nothing",
    "- seat broken\n- no wifi #{brand}",
    '@{brand} "{reason}" <b>really</b> https://example.com/{n}',
]


def social_export(rows: int = 240, seed: int = 14) -> tuple[bytes, dict[str, str]]:
    """The CSV, and each id's label as the file means it (the last row of a repeated id)."""
    rng = random.Random(seed)
    lines, last_label = [], {}
    for n in range(rows):
        brand = rng.choice(["united", "virginamerica", "usairways"])
        sentiment = rng.choice(["negative", "negative", "neutral", "positive"])
        reason = rng.choice(REASONS) if sentiment == "negative" else ""
        when = f"{rng.randint(1, 2)}/{rng.randint(13, 28)}/2015 {rng.randint(0, 23)}:{rng.randint(0, 59):02d}"
        text = rng.choice(TEXTS).format(brand=brand, reason=reason or "ok", n=n)
        lines.append([str(570300000000000000 + n), brand, sentiment, reason, text, when])
    for n in range(0, rows, 12):  # exact copies of some rows, as the real export has
        lines.append(list(lines[n]))
    for n in range(5, rows, 40):  # an id sent again with another reason: the last one counts
        again = list(lines[n])
        again[2], again[3] = "negative", REASONS[(REASONS.index(again[3]) + 1) % 5 if again[3] else 0]
        lines.append(again)
    for line in lines:
        last_label[line[0]] = line[3]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["tweet_id", "airline", "airline_sentiment", "negativereason", "text", "tweet_created"])
    writer.writerows(lines)
    return buffer.getvalue().encode(), last_label


def _upload(client, source, name, content):
    return client.post(
        "/metrics/imports/", {"kind": "responses", "source": source, "file": SimpleUploadedFile(name, content)}
    )


def _pareto(source: str) -> Counter:
    analysis = rootcause_selectors.pareto_analysis(responses=SurveyResponse.objects.filter(source=source))
    return Counter({item["theme"].name: int(item["row"].value) for item in analysis["rows"]})


def test_a_social_listening_export_imports_as_it_is_and_its_reasons_become_the_pareto(org, client_for):
    content, labels = social_export()
    client = client_for(org["cx"])
    assert _upload(client, "twitter-airlines", "Tweets.csv", content).status_code == 302
    job = ImportJob.objects.get()
    page = client.get(f"/metrics/imports/{job.pk}/").content.decode()
    assert "Month first, 24-hour times</strong>, detected from" in page
    assert "20 exact duplicate rows: imported once." in page
    assert "6 ids repeated with other values" in page
    form = {
        "col_external_id": "tweet_id",
        "col_comment": "text",
        "col_responded_at": "tweet_created",
        "col_segment": "airline",
        "const_channel": "Twitter",
        "time_zone": "America/New_York",
        "duplicates": "keep_last",
        "label_column": "negativereason",
        "label_driver": "Airline complaints",
    }
    # Trying the mapping first: the preview lists the labels that will become new sub-themes.
    assert client.post(f"/metrics/imports/{job.pk}/", form | {"action": "preview"}).status_code == 302
    page = client.get(f"/metrics/imports/{job.pk}/").content.decode()
    assert "new key driver" in page and "Created when you import (5 not in the taxonomy yet)" in page
    assert "the last row of each is kept." in page
    assert not KeyDriver.objects.exists()
    response = client.post(f"/metrics/imports/{job.pk}/", form)
    assert response.status_code == 302, response.content.decode()[-3000:]
    job = services.import_run(job_id=job.pk)
    assert job.status == "done", job.message
    assert job.written_rows == len(labels) == 240
    assert "20 exact duplicate row(s) collapsed into the first" in job.message
    assert "6 row(s) repeating an id with other values: the last of each kept" in job.message
    assert "comment(s) tagged from their labels under “Airline complaints” (5 new sub-theme(s):" in job.message
    # Text as customers wrote it.
    stored = set(SurveyResponse.objects.values_list("comment", flat=True))
    assert any(t.startswith("@") for t in stored) and any(t.startswith("+44") for t in stored)
    assert any(t.startswith("=)") for t in stored) and any(t.startswith("- seat") for t in stored)
    first = SurveyResponse.objects.get(external_id="570300000000000000")
    assert first.score is None and first.channel == "Twitter"
    assert first.responded_at.tzinfo is not None
    # US dates, in New York time.
    row = next(r for r in csv.reader(io.StringIO(content.decode())) if r[0] == "570300000000000000")
    assert first.responded_at == datetime.strptime(row[5], "%m/%d/%Y %H:%M").replace(tzinfo=NEW_YORK)
    # The Pareto of those rows is the label counts, exactly.
    assert _pareto("twitter-airlines") == Counter(label for label in labels.values() if label)
    assert set(CommentTag.objects.values_list("origin", flat=True)) == {TagOrigin.IMPORTED}
    # The result links to where the data now shows.
    page = client.get(f"/metrics/imports/{job.pk}/").content.decode()
    assert "/rootcause/pareto/" in page and "/metrics/" in page


def test_rules_and_re_tagging_never_change_imported_tags(org):
    content, labels = social_export(rows=60)
    path = Path(settings.MEDIA_ROOT) / "imports-test.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    from metrics import ingestion

    mapping = ingestion.Mapping(
        columns={"external_id": "tweet_id", "comment": "text", "responded_at": "tweet_created"},
        duplicates="keep_last",
        label_column="negativereason",
        label_driver="Airline complaints",
    )
    services.import_path(kind="responses", source="tw", path=path, mapping=mapping)
    before = set(CommentTag.objects.values_list("response_id", "sub_theme_id", "origin"))
    assert before and {o for _, _, o in before} == {"imported"}
    # A rule on one of the imported sub-themes, and another that matches many of the comments.
    late = SubTheme.objects.get(name="Late Flight")
    late.keywords = "seat"
    late.save()
    driver = KeyDriver.objects.get(name="Airline complaints")
    SubTheme.objects.create(driver=driver, name="Mentions", slug="mentions", keywords="thanks")
    rootcause_services.comments_tag()
    after = set(CommentTag.objects.values_list("response_id", "sub_theme_id", "origin"))
    assert before <= after  # every imported tag kept, as imported
    rule_tags = after - before
    assert rule_tags and {o for _, _, o in rule_tags} == {"rule"}
    # Importing again with the same labels changes nothing; without the rules' sub-theme ones.
    services.import_path(kind="responses", source="tw", path=path, mapping=mapping)
    assert set(CommentTag.objects.values_list("response_id", "sub_theme_id", "origin")) == after
    path.unlink()


def test_a_survey_xlsx_with_day_first_dates_imports_through_the_page_as_it_is(org, client_for):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Response ID", "Date", "Score", "Comment"])
    rng = random.Random(3)
    for n in range(1, 101):
        day = rng.randint(1, 28)
        sheet.append(
            [f"R{n:04d}", f"{day:02d}/{rng.randint(1, 11):02d}/2026 {rng.randint(8, 20)}:15", rng.randint(0, 10)]
        )
        sheet.cell(row=n + 1, column=4, value=rng.choice(["@support was great", "-", "Slow refund; =cmd", "fine"]))
    sheet.append(["R0101", "25/11/2026 09:30", 10, "Best shop"])  # a day over 12 decides day first
    buffer = io.BytesIO()
    workbook.save(buffer)
    client = client_for(org["cx"])
    assert _upload(client, "nps-survey", "export.xlsx", buffer.getvalue()).status_code == 302
    job = ImportJob.objects.get()
    page = client.get(f"/metrics/imports/{job.pk}/").content.decode()
    assert "Day first, 24-hour times</strong>, detected from" in page
    form = {"col_external_id": "Response ID", "col_responded_at": "Date", "col_score": "Score"}
    form |= {"col_comment": "Comment", "const_scale": "nps", "time_zone": "Europe/London"}
    assert client.post(f"/metrics/imports/{job.pk}/", form).status_code == 302
    job = services.import_run(job_id=job.pk)
    assert (job.status, job.written_rows) == ("done", 101), job.message
    last = SurveyResponse.objects.get(external_id="R0101")
    assert (last.responded_at.astimezone(UTC).isoformat(), last.score) == ("2026-11-25T09:30:00+00:00", 10)


NEW_YORK = ZoneInfo("America/New_York")
CLOTHING = Path(settings.SHARED_DATA_DIR) / "womens-clothing-reviews-1k.csv"


@pytest.mark.skipif(not CLOTHING.exists(), reason=f"{CLOTHING} is not on this machine")
def test_the_clothing_reviews_class_name_becomes_the_pareto_exactly(org, client_for):
    content = CLOTHING.read_bytes()
    client = client_for(org["cx"])
    _upload(client, "clothing", CLOTHING.name, content)
    job = ImportJob.objects.get()
    form = {
        "col_external_id": "column 1 (no header)",
        "col_score": "Rating",
        "col_comment": "Review Text",
        "const_scale": "csat",
        "dates_from": "2026-01-01",
        "dates_to": "2026-06-30",
        "label_column": "Class Name",
        "label_driver": "Product class",
    }
    response = client.post(f"/metrics/imports/{job.pk}/", form)
    assert response.status_code == 302, response.content.decode()[-3000:]
    job = services.import_run(job_id=job.pk)
    assert job.status == "done", job.message
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    expected = Counter(row["Class Name"].strip() for row in rows if row["Class Name"].strip())
    assert _pareto("clothing") == expected
