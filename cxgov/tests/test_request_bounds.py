"""Bodies and addresses the API cannot hold are a 400 with a message, never a 500."""

import json

import pytest

from cxgov.lib.parsers import json_depth_exceeds
from metrics.models import Metric


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_deeply_nested_json_is_refused_with_a_message_for_a_stakeholder(org, api_for):
    api = api_for(org["stakeholder"])
    body = '{"frequency": "daily", "hour": ' + _nested(50_000) + "}"
    response = api.put("/api/digest-preferences/me/", body, content_type="application/json")
    assert response.status_code == 400
    assert "more than 32 levels deep" in response.json()["detail"]


@pytest.mark.parametrize("path", ["/api/functions/", "/api/issues/", "/api/ingest/responses/"])
def test_deeply_nested_json_is_refused_on_every_endpoint(org, api_for, path):
    response = api_for(org["admin"]).post(path, _nested(5_000), content_type="application/json")
    assert response.status_code == 400
    assert "levels deep" in response.json()["detail"]


def test_json_within_the_depth_limit_still_reads_and_brackets_in_text_do_not_count(org, api_for, settings):
    api = api_for(org["leader"])
    description = "[[[[" * 20 + ' a "quoted {{{{" text' * 10
    response = api.patch(
        "/api/functions/billing/", json.dumps({"description": description}), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    org["billing"].refresh_from_db()
    assert org["billing"].description == description
    settings.API_JSON_MAX_DEPTH = 1
    response = api.patch("/api/functions/billing/", {"description": {"a": [1]}}, format="json")
    assert response.status_code == 400 and "more than 1 levels deep" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/functions/billing/", '{"description": "bill\\u0000ing"}'),
        ("/api/ingest/responses/", '[{"external_id": "r1", "driver_ratings": {"pri\\u0000ce": 3}}]'),
    ],
)
def test_a_nul_character_in_a_json_name_or_value_is_a_bad_request(org, api_for, path, body):
    response = api_for(org["admin"]).generic(
        "PATCH" if "functions" in path else "POST", path, body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "NUL character" in response.json()["detail"]


def test_text_that_merely_mentions_an_escape_is_kept(org, api_for):
    body = '{"description": "escape it as \\\\u0000"}'
    response = api_for(org["leader"]).patch("/api/functions/billing/", body, content_type="application/json")
    assert response.status_code == 200
    org["billing"].refresh_from_db()
    assert org["billing"].description == "escape it as \\u0000"


@pytest.mark.parametrize(
    ("text", "deeper_than_two"),
    [
        ('[{"a": [1]}]', True),
        ('[{"a": 1}]', False),
        ('[{"a": "[[[[{{{{"}]', False),
        ('[{"a": "say \\"[[[[\\" and \\\\", "b": "]]]]"}]', False),
    ],
)
def test_depth_counts_brackets_outside_strings_only(text, deeper_than_two):
    assert json_depth_exceeds(text, 2) is deeper_than_two


def test_form_encoded_bodies_are_not_api_input(org, api_for):
    response = api_for(org["leader"]).patch(
        "/api/functions/billing/", "description=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415


@pytest.fixture
def metric(org):
    return Metric.objects.create(
        name="CSAT", slug="csat", calculator="csat", kind="outcome", owning_function=org["billing"]
    )


@pytest.mark.parametrize(
    "url",
    [
        "/api/functions/%00/",
        "/api/functions/?search=%00",
        "/api/issues/?function=%00",
        "/api/accountabilities/?function=bill%00ing",
        "/api/metric-values/?metric=%00",
        "/api/action-items/?status=%00",
        "/metrics/csat/?segment=%00",
        "/metrics/%00/",
        "/functions/?q=%00",
        "/rootcause/issues/?function=%00",
        "/ownership/?%00=1",
    ],
)
def test_a_nul_byte_in_an_address_is_a_bad_request(org, metric, client_for, url):
    client = client_for(org["leader"])
    client.raise_request_exception = False
    response = client.get(url)
    assert response.status_code == 400
    if url.startswith("/api/"):
        assert "NUL character" in response.json()["detail"]
    else:
        assert "could not be understood" in response.content.decode()
