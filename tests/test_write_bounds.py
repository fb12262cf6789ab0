"""Bounds on every write (issue 12, findings 8 and 9): dates in range, unknown fields named,
money not negative, ends after starts, lengths and driver ratings capped, identifiers that are
not formulas — the same by the API, by the forms and (see metrics/tests/test_ingestion.py) by
file imports."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from alerts.models import AlertRule
from cxgov.lib import bounds
from metrics.models import Customer, Metric, Observation, SurveyResponse
from rootcause.models import ActionItem, Issue


def _response(**extra) -> dict:
    row = {
        "source": "pulse",
        "external_id": "r1",
        "responded_at": "2026-10-01T10:00:00Z",
        "score": 9,
        "scale": "nps",
    }
    return row | extra


def _ingest(api, kind: str, rows: list[dict]):
    return api.post(f"/api/ingest/{kind}/", rows, format="json")


def _row_errors(response) -> dict:
    assert response.status_code == 400, response.content
    return response.json()["rows"][0]["errors"]


# --- dates (finding 8) -----------------------------------------------------------------------


def test_a_response_dated_2999_is_refused_with_the_range_it_must_fall_in(org, api_for):
    response = _ingest(api_for(org["cx"]), "responses", [_response(responded_at="2999-01-01T00:00:00Z")])
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert _row_errors(response) == {
        "responded_at": [
            f"2999-01-01 is out of range: dates must be between 1900-01-01 and {tomorrow} (now plus 1 day)."
        ]
    }
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize(
    ("kind", "row", "field"),
    [
        ("responses", _response(responded_at="1899-12-31T12:00:00Z"), "responded_at"),
        (
            "observations",
            {"source": "calls", "external_id": "o1", "observed_at": "2999-06-01T00:00:00Z", "value": 3},
            "observed_at",
        ),
        ("customers", {"external_id": "c1", "started_on": "0001-01-01"}, "started_on"),
        ("customers", {"external_id": "c1", "ended_on": "3000-01-01"}, "ended_on"),
    ],
)
def test_dates_outside_1900_to_tomorrow_are_refused_on_every_ingestion_endpoint(org, api_for, kind, row, field):
    errors = _row_errors(_ingest(api_for(org["cx"]), kind, [row]))
    assert "is out of range: dates must be between 1900-01-01 and" in errors[field][0]
    assert not (SurveyResponse.objects.exists() or Observation.objects.exists() or Customer.objects.exists())


def test_the_horizon_is_a_setting(org, api_for, settings):
    in_ten_days = (timezone.now() + timedelta(days=10)).isoformat()
    api = api_for(org["cx"])
    assert _ingest(api, "responses", [_response(responded_at=in_ten_days)]).status_code == 400
    settings.CXGOV_DATE_HORIZON_DAYS = 30
    assert _ingest(api, "responses", [_response(responded_at=in_ten_days)]).status_code == 200
    assert SurveyResponse.objects.count() == 1


def test_planned_dates_may_lie_years_ahead_but_not_centuries(org, api_for):
    issue = Issue.objects.create(title="Late parcels", function=org["billing"])
    api = api_for(org["leader"])
    item = {"issue": issue.pk, "title": "Move the cut-off", "function": org["billing"].pk}
    in_two_years = (timezone.localdate() + timedelta(days=730)).isoformat()
    assert api.post("/api/action-items/", item | {"due_date": in_two_years}, format="json").status_code == 201
    refused = api.post("/api/action-items/", item | {"due_date": "2999-01-01"}, format="json")
    assert refused.status_code == 400
    assert "(about ten years ahead)" in refused.json()["due_date"][0]
    assert ActionItem.objects.count() == 1


def test_forms_refuse_the_same_dates(org, client_for):
    client = client_for(org["cx"])
    response = client.post("/rootcause/issues/new/", {"title": "Future", "priority": "low", "period": "2999-01-01"})
    assert response.status_code == 200
    assert "2999-01-01 is out of range: dates must be between 1900-01-01 and" in response.content.decode()
    assert not Issue.objects.exists()


# --- unknown fields (finding 9) --------------------------------------------------------------


def test_unknown_customer_fields_are_named_in_a_400(org, api_for):
    rows = [{"external_id": "c1", "tenure_months": 12, "churned": "yes"}]
    errors = _row_errors(_ingest(api_for(org["cx"]), "customers", rows))
    assert set(errors) == {"tenure_months", "churned"}
    assert errors["churned"][0].startswith("Unknown field.")
    assert "started_on" in errors["tenure_months"][0]  # the message lists what is accepted
    assert not Customer.objects.exists()


def test_a_misspelt_field_is_named_with_the_field_meant(org, api_for):
    response = api_for(org["admin"]).patch("/api/functions/billing/", {"descripton": "Bills"}, format="json")
    assert response.status_code == 400
    assert response.json()["descripton"][0].startswith("Unknown field. Did you mean “description”?")
    org["billing"].refresh_from_db()
    assert org["billing"].description == ""


def test_read_only_fields_sent_back_as_read_are_ignored(org, api_for):
    api = api_for(org["admin"])
    body = api.get("/api/functions/billing/").json() | {"description": "Bills and refunds"}
    assert api.put("/api/functions/billing/", body, format="json").status_code == 200


# --- money, ends after starts, lengths, identifiers, driver ratings (finding 9) --------------


def test_negative_revenue_is_refused_but_a_loss_making_margin_is_not(org, api_for):
    api = api_for(org["cx"])
    errors = _row_errors(_ingest(api, "customers", [{"external_id": "c1", "monthly_revenue": "-10.00"}]))
    assert errors == {"monthly_revenue": ["-10.00 is negative; an amount of money here must be 0 or more."]}
    ok = _ingest(api, "customers", [{"external_id": "c1", "monthly_revenue": "10.00", "monthly_margin": "-2.50"}])
    assert ok.status_code == 200


def test_a_customer_cannot_end_before_they_started(org, api_for):
    rows = [{"external_id": "c1", "started_on": "2025-05-01", "ended_on": "2025-04-01"}]
    errors = _row_errors(_ingest(api_for(org["cx"]), "customers", rows))
    assert errors == {"ended_on": ["The end (2025-04-01) is before the start (2025-05-01)."]}


def test_a_partial_update_compares_its_end_with_the_stored_start(org, api_for):
    metric = Metric.objects.create(name="NPS", slug="nps", kind="outcome", calculator="nps")
    rule = AlertRule.objects.create(metric=metric, name="Drop", baseline_from=date(2026, 3, 1))
    response = api_for(org["admin"]).patch(f"/api/alert-rules/{rule.pk}/", {"baseline_to": "2026-01-01"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"baseline_to": ["The end (2026-01-01) is before the start (2026-03-01)."]}


def test_a_one_megabyte_comment_is_refused_with_its_length(org, api_for):
    errors = _row_errors(_ingest(api_for(org["cx"]), "responses", [_response(comment="slow" * 250_000)]))
    assert errors == {"comment": ["is 1,000,000 characters long; the limit is 10,000."]}


@pytest.mark.parametrize(
    ("field", "value"),
    [("source", '=HYPERLINK("http://x")'), ("external_id", "@SUM(A1)"), ("external_id", "-2+3"), ("source", "a\tb")],
)
def test_formula_like_sources_and_ids_are_refused_as_identifiers(org, api_for, field, value):
    errors = _row_errors(_ingest(api_for(org["cx"]), "responses", [_response(**{field: value})]))
    assert "is not an identifier: it may not start with =, +, - or @" in errors[field][0]
    assert not SurveyResponse.objects.exists()


def test_a_metric_series_key_is_an_identifier_by_form_and_api(org, client_for, api_for):
    body = {"name": "Calls", "kind": "output", "calculator": "sum", "source": "+cmd|calc", "unit_cost": "-1"}
    response = api_for(org["admin"]).post("/api/metrics/", body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"source", "unit_cost"}
    page = client_for(org["admin"]).post("/metrics/new/", body | {"timing": "lagging", "direction": "higher"})
    assert "is not an identifier" in page.content.decode()
    assert "is negative; an amount of money here must be 0 or more." in page.content.decode()
    assert not Metric.objects.exists()


@pytest.mark.parametrize(
    ("ratings", "message"),
    [
        ({f"driver {i}": 3 for i in range(10_000)}, "10000 driver ratings; at most 100 per response."),
        ({"speed": True}, "“speed” must be a rating from 1 to 5."),
        ({"speed": 9}, "“speed” must be a rating from 1 to 5."),
        ({"=cmd()": 3}, "Driver “=cmd()” looks like a spreadsheet formula; remove the leading =, +, - or @."),
        ([3, 4], "Send an object of driver name: rating (1-5)."),
    ],
)
def test_driver_ratings_are_capped_and_checked(org, api_for, ratings, message):
    errors = _row_errors(_ingest(api_for(org["cx"]), "responses", [_response(driver_ratings=ratings)]))
    assert errors == {"driver_ratings": [message]}


def test_free_form_attributes_are_capped(org, api_for):
    rows = [{"external_id": "c1", "attributes": {f"k{i}": i for i in range(101)}}]
    assert _row_errors(_ingest(api_for(org["cx"]), "customers", rows)) == {
        "attributes": ["101 attributes; at most 100."]
    }


def test_the_shared_text_limit_applies_to_forms(org, client_for):
    response = client_for(org["admin"]).post(
        "/functions/billing/edit/", {"name": "Billing", "slug": "billing", "description": "x" * 10_001}
    )
    assert "is 10,001 characters long; the limit is 10,000." in response.content.decode()


def test_bounds_read_the_horizon_each_time(settings):
    settings.CXGOV_DATE_HORIZON_DAYS = 0
    assert bounds.date_problem(timezone.now() + timedelta(hours=1)) is not None
    assert bounds.date_problem(timezone.now() - timedelta(hours=1)) is None


def test_the_bulk_envelope_names_unknown_keys(org, api_for):
    response = api_for(org["cx"]).post("/api/ingest/responses/", {"rows": [_response()], "row": []}, format="json")
    assert response.status_code == 400
    assert response.json() == {"row": ['Unknown field; send a list of rows or {"rows": [...]}.']}
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize(
    ("raw", "shown"), [("7", "7"), ("soon", "CXGOV_DATE_HORIZON_DAYS='soon' is not a whole number")]
)
def test_the_horizon_is_read_from_the_environment(raw, shown):
    import os
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.conf import settings as s; print(s.CXGOV_DATE_HORIZON_DAYS)",
        ],
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "CXGOV_DATE_HORIZON_DAYS": raw},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown in result.stdout + result.stderr


def test_every_api_write_goes_through_a_strict_serializer():
    """A viewset that creates or updates, and every bulk-ingestion endpoint, uses a serializer that
    names unknown fields and applies the shared bounds (so a new endpoint cannot forget them)."""
    from rest_framework import mixins

    from cxgov.api_urls import router
    from cxgov.lib.serializers import StrictMixin
    from metrics.api import BulkIngest

    writers = [
        viewset
        for _, viewset, _ in router.registry
        if issubclass(viewset, mixins.CreateModelMixin | mixins.UpdateModelMixin)
    ]
    assert writers
    lax = [v.__name__ for v in writers if not issubclass(v.serializer_class, StrictMixin)]
    lax += [v.__name__ for v in BulkIngest.__subclasses__() if not issubclass(v.row_serializer, StrictMixin)]
    assert lax == []


def test_every_model_form_applies_the_shared_bounds():
    """Every form that writes a model of ours refuses what the API refuses."""
    import importlib
    import inspect
    from pathlib import Path

    from django import forms
    from django.apps import apps

    from cxgov.lib.forms import BoundedFormMixin

    root = Path(__file__).resolve().parents[1]
    ours = [c for c in apps.get_app_configs() if Path(c.path).is_relative_to(root)]
    for config in ours:
        if (Path(config.path) / "forms.py").exists():
            importlib.import_module(f"{config.name}.forms")

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    model_forms = [f for f in subclasses(forms.ModelForm) if Path(inspect.getfile(f)).is_relative_to(root)]
    model_forms = [f for f in model_forms if ".venv" not in Path(inspect.getfile(f)).parts]
    assert len(model_forms) > 10
    assert [f.__qualname__ for f in model_forms if not issubclass(f, BoundedFormMixin)] == []
