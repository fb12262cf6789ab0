"""Key drivers of any numeric outcome through the product: a file imported with numeric fields,
then the key-driver page and API (R's ``mtcars``: the published R², Johnson's weights and LMG)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from metrics import services
from metrics.models import ImportJob, Observation, SurveyResponse
from metrics.tests.test_drivers import MTCARS, MTCARS_JOHNSON, MTCARS_LMG, MTCARS_R2

MTCARS_FILE = Path(settings.SHARED_DATA_DIR) / "mtcars.csv"
DRIVERS = ["cyl", "disp", "hp", "gear"]


def _query(method: str, data: str = "responses:mtcars") -> str:
    return f"data={data}&outcome=mpg&" + "&".join(f"drivers={d}" for d in DRIVERS) + f"&method={method}"


@pytest.fixture
def mtcars_imported(org, client_for):
    """mtcars.csv through the upload page: the car's name is the id, every column a numeric field;
    the file has no dates, so its rows are spread over October 2026 by their order."""
    if not MTCARS_FILE.exists():
        pytest.fail(f"the shared data file {MTCARS_FILE} is absent (see ../shared/data/README.md)")
    client = client_for(org["cx"])
    client.post(
        "/metrics/imports/",
        {"kind": "responses", "source": "mtcars", "file": SimpleUploadedFile("mtcars.csv", MTCARS_FILE.read_bytes())},
    )
    job = ImportJob.objects.get()
    form = {
        "col_external_id": "name",
        "other_fields": "\n".join(f"{c}={c}" for c in ["mpg", "cyl", "disp", "hp", "drat", "wt", "gear"]),
        "dates_from": "2026-10-01",
        "dates_to": "2026-10-31",
    }
    response = client.post(f"/metrics/imports/{job.pk}/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    job = services.import_run(job_id=job.pk)
    assert (job.status, job.written_rows) == ("done", 32), job.message
    return client


def test_mtcars_imported_keeps_its_numbers_as_continuous_fields(mtcars_imported):
    car = SurveyResponse.objects.get(source="mtcars", external_id="Mazda RX4 Wag")
    assert car.score is None
    assert car.attributes == {
        "mpg": 21.0,
        "cyl": 6.0,
        "disp": 160.0,
        "hp": 110.0,
        "drat": 3.9,
        "wt": 2.875,
        "gear": 4.0,
    }


def test_key_driver_page_gives_johnsons_weights_of_mtcars(mtcars_imported, django_assert_num_queries):
    with django_assert_num_queries(6):  # session, user, sources, has series, fields, rows
        response = mtcars_imported.get(f"/metrics/driver-analysis/?{_query('johnson')}")
    analysis = response.context["analysis"]
    assert analysis["n"] == 32
    assert analysis["r2"] == pytest.approx(MTCARS_R2, abs=5e-8)
    assert [d["driver"] for d in analysis["drivers"]] == ["hp", "cyl", "disp", "gear"]
    for d in analysis["drivers"]:
        assert d["share"] == pytest.approx(MTCARS_JOHNSON[d["driver"]], abs=5e-6)
        assert d["share_low"] < d["share"] < d["share_high"]
    html = response.content.decode()
    assert "R² = <strong>0.7792</strong>" in html
    assert "n = <strong>32</strong>" in html
    assert "29.80%" in html and "200 resamples" in html


def test_key_driver_api_gives_lmg_of_mtcars_by_default(mtcars_imported, org, api_for, django_assert_num_queries):
    query = "data=responses:mtcars&outcome=mpg&drivers=cyl,disp,hp,gear"
    api = api_for(org["stakeholder"])
    with django_assert_num_queries(5):  # token, sources, has series, fields, rows
        body = api.get(f"/api/driver-analysis/?{query}").json()
    assert body["method"] == "lmg" and body["n"] == 32 and body["resamples"] == 200
    assert body["r2"] == pytest.approx(MTCARS_R2, abs=5e-8)
    assert {d["driver"]: round(d["share"], 5) for d in body["drivers"]} == MTCARS_LMG
    assert body["r2_low"] < body["r2"] < body["r2_high"]


def test_key_driver_api_refuses_an_unknown_method_and_names_unknown_fields(mtcars_imported, org, api_for):
    api = api_for(org["cx"])
    response = api.get("/api/driver-analysis/?data=responses:mtcars&outcome=mpg&drivers=hp&method=ols")
    assert response.status_code == 400
    assert response.json() == {"method": ["“ols” is not a method (lmg, johnson)."]}
    response = api.get("/api/driver-analysis/?data=responses:mtcars&outcome=mpg")
    assert response.status_code == 400 and response.json() == {"drivers": ["This parameter is required."]}
    # Well formed, but nothing is named so: answered like "not enough data", naming what is not there.
    body = api.get("/api/driver-analysis/?data=responses:mtcars&outcome=mpg&drivers=colour").json()
    assert body["error"].startswith("drivers: Select a valid choice. colour is not one of the available choices.")
    body = api.get("/api/driver-analysis/?data=responses:nowhere&outcome=mpg&drivers=hp").json()
    assert body["error"].startswith("There is no data “responses:nowhere”")


def test_too_few_rows_say_not_enough_data_with_n(mtcars_imported, org, api_for):
    SurveyResponse.objects.filter(source="mtcars", external_id__startswith="M").delete()
    body = api_for(org["cx"]).get(f"/api/driver-analysis/?{_query('lmg')}").json()
    assert body["n"] < 30
    assert (
        body["error"] == f"{body['n']} rows have the outcome and every driver; at least 30 are needed for 4 driver(s)."
    )
    page = mtcars_imported.get(f"/metrics/driver-analysis/?{_query('lmg')}").content.decode()
    assert "Not enough data." in page


def test_observation_series_joined_per_day_are_analysed_like_responses(org, api_for):
    start = datetime(2026, 9, 1, 12, tzinfo=UTC)
    rows = []
    for day, car in enumerate(MTCARS):
        for name, value in zip(["mpg", *DRIVERS], car, strict=True):
            rows.append(
                Observation(source=name, external_id=str(day), observed_at=start + timedelta(days=day), value=value)
            )
    Observation.objects.bulk_create(rows)
    body = api_for(org["cx"]).get(f"/api/driver-analysis/?{_query('johnson', 'series:day')}").json()
    assert body["n"] == 32 and body["r2"] == pytest.approx(MTCARS_R2, abs=5e-8)
    assert {d["driver"]: round(d["share"], 5) for d in body["drivers"]} == MTCARS_JOHNSON


def test_observation_series_joined_per_customer_use_the_customer_id_dimension(org, api_for):
    rows = [
        {
            "source": name,
            "external_id": f"{name}-{i}",
            "observed_at": "2026-09-01T12:00:00Z",
            "value": value,
            "dimensions": {"customer_id": f"C{i}"},
        }
        for i, car in enumerate(MTCARS)
        for name, value in zip(["mpg", *DRIVERS], car, strict=True)
    ]
    api = api_for(org["cx"])
    assert api.post("/api/ingest/observations/", rows, format="json").status_code == 200
    body = api.get(f"/api/driver-analysis/?{_query('lmg', 'series:customer')}").json()
    assert body["n"] == 32 and body["r2"] == pytest.approx(MTCARS_R2, abs=5e-8)
    assert {d["driver"]: round(d["share"], 5) for d in body["drivers"]} == MTCARS_LMG


def test_a_metric_key_driver_page_offers_johnsons_weights_with_intervals(
    org, client_for, api_for, django_assert_num_queries
):
    import numpy as np
    from django.utils import timezone

    from metrics.models import Metric

    Metric.objects.create(name="Pulse", slug="pulse", calculator="mean", kind="outcome", source="pulse")
    rng = np.random.default_rng(7)
    rows = []
    for i in range(200):
        billing, delivery = (int(v) for v in rng.integers(1, 6, size=2))
        score = int(np.clip(round(0.6 * billing + 0.3 * delivery + rng.normal(0, 0.4)), 1, 5))
        rows.append(
            SurveyResponse(
                source="pulse",
                external_id=str(i),
                responded_at=timezone.now(),
                score=score,
                scale="csat",
                driver_ratings={"billing": billing, "delivery": delivery},
            )
        )
    SurveyResponse.objects.bulk_create(rows)
    from django.db import connection

    client = client_for(org["leader"])
    # Session, user, metric, the feedback data's version (the cache key), responses; on PostgreSQL
    # the analysis runs under a statement timeout (a savepoint, the setting read, set and restored,
    # the savepoint released, one of the site's slots taken: cxgov/lib/heavy.py).
    with django_assert_num_queries(5 + (6 if connection.vendor == "postgresql" else 0)):
        page = client.get("/metrics/pulse/drivers/?method=johnson")
    analysis = page.context["analysis"]
    assert analysis["method"] == "johnson" and analysis["n"] == 200
    assert [d["driver"] for d in analysis["drivers"]] == ["billing", "delivery"]
    assert all(d["share_low"] < d["share"] < d["share_high"] for d in analysis["drivers"])
    assert "Rated 4-5" in page.content.decode()
    api = api_for(org["stakeholder"])
    assert api.get("/api/metrics/pulse/drivers/?method=johnson").json()["method"] == "johnson"
    assert api.get("/api/metrics/pulse/drivers/?method=best").status_code == 400
