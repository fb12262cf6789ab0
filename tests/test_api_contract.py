"""The API keeps its contract: a bounded schemathesis run against /api/schema/, as an administrator
and as a functional leader, finds no server error and no response the schema does not describe.

Every operation of the published schema is exercised through the WSGI application (no live server)
with a few derandomised examples, so the run is deterministic and takes seconds per role."""

import json
import os
from datetime import date, timedelta

import pytest
import schemathesis
from django.core import signals
from django.core.serializers.json import DjangoJSONEncoder
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from alerts.models import AlertRule
from cxgov.wsgi import application
from metrics.models import Customer, Metric, MetricValue, SurveyResponse
from outcomes.models import Canvas, CanvasState, CustomerCategory
from rootcause.models import ActionItem, CommentTag, DecisionPoint, Issue, KeyDriver, SubTheme, Workflow

# Bounded for the test command; raise it for a deeper run: CXGOV_CONTRACT_EXAMPLES=100 bin/test -k contract
EXAMPLES_PER_OPERATION = int(os.environ.get("CXGOV_CONTRACT_EXAMPLES", "6"))


def _contract_data(org):
    """A little of everything the API serves, including the awkward cases the schema must describe:
    an accountability without a subject object, a function without a leader, an unverified issue."""
    star = Metric.objects.create(
        name="Invoice CSAT",
        slug="invoice-csat",
        calculator="csat",
        kind="outcome",
        target=80,
        amber_threshold=78,
        red_threshold=72,
        unit="%",
        north_star=True,
        owning_function=org["billing"],
    )
    MetricValue.objects.create(
        metric=star, period_start=date(2026, 1, 1), segment="", value=75.0, sample_size=40, computed_at=timezone.now()
    )
    category = CustomerCategory.objects.create(name="Families", slug="families")
    canvas = Canvas.objects.create(category=category, version=1, state=CanvasState.APPROVED, who="Families")
    canvas.measures.add(star)
    canvas.accountable_functions.add(org["billing"])
    driver = KeyDriver.objects.create(name="Billing", slug="billing")
    sub_theme = SubTheme.objects.create(driver=driver, name="Wrong invoice", slug="wrong-invoice")
    workflow = Workflow.objects.create(name="Invoice run", function=org["billing"])
    point = DecisionPoint.objects.create(workflow=workflow, rule="Invoices run on the 1st")
    issue = Issue.objects.create(
        title="Invoices arrive late",
        function=org["billing"],
        sub_theme=sub_theme,
        metric=star,
        decision_point=point,
        created_by=org["cx"],
    )
    item = ActionItem.objects.create(
        issue=issue,
        title="Move the invoice run",
        function=org["billing"],
        owner=org["leader"],
        due_date=date.today() + timedelta(days=30),
    )
    rule = AlertRule.objects.create(metric=star, name="Below red", kind="threshold")
    answer = SurveyResponse.objects.create(
        source="survey",
        external_id="r1",
        customer_id="c1",
        responded_at=timezone.now() - timedelta(days=2),
        score=3,
        scale="nps",
        comment="My invoice was wrong again",
    )
    CommentTag.objects.create(response=answer, sub_theme=sub_theme)
    Customer.objects.create(
        external_id="c1", category="Families", monthly_revenue=40, started_on=date(2025, 1, 1), ended_on=date.today()
    )
    # What an address's {id} or {slug} names, by collection: see _aim.
    return {
        "functions": "billing",
        "memberships": org["billing"].memberships.order_by("pk").first().pk,
        "accountabilities": org["invoice"].pk,
        "metrics": star.slug,
        "metric-values": star.values.get().pk,
        "customer-categories": category.slug,
        "canvases": canvas.pk,
        "key-drivers": driver.pk,
        "workflows": workflow.pk,
        "issues": issue.pk,
        "action-items": item.pk,
        "alert-rules": rule.pk,
    }


@pytest.fixture
def contract_settings(settings):
    """The WSGI application as Django's test client runs it: the test's database connection stays
    open between requests (the test runs in one transaction), and the client's host is allowed."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield settings
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _published_schema() -> dict:
    """The schema /api/schema/ serves (the same generator; ``test_schema_served_is_the_one_tested`` holds
    the two together). Built here because test collection has no database or logged-in user."""
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _auth_headers(user) -> dict:
    token, _ = Token.objects.get_or_create(user=user)
    return {"Authorization": f"Token {token.key}"}


@pytest.fixture
def as_admin(org, contract_settings):
    return _auth_headers(org["admin"]), _contract_data(org)


@pytest.fixture
def as_leader(org, contract_settings):
    return _auth_headers(org["leader"]), _contract_data(org)


BOUNDED = hypothesis_settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def _bounded_config() -> SchemathesisConfig:
    """Fuzzing only (the coverage phase alone builds thousands of cases), a few deterministic
    examples per operation, valid and invalid inputs both. Generated text has no NUL character: the
    API refuses it in any text with a 400 on purpose (PostgreSQL cannot store it)."""
    config = SchemathesisConfig()
    project = config.projects.default
    project.phases.update(phases=["examples", "fuzzing"])
    project.generation.update(max_examples=EXAMPLES_PER_OPERATION, deterministic=True, allow_x00=False, database="none")
    return config


schema = schemathesis.openapi.from_dict(
    json.loads(json.dumps(_published_schema(), cls=DjangoJSONEncoder)), config=_bounded_config()
)
schema.app = application


# What the contract promises: no server error, and every answer (status, media type, headers, body)
# as the schema describes it. A read must also accept every query the schema allows: a filter on
# an id that does not exist finds nothing instead of refusing. (Writes are not held to that: a
# generated body names functions and issues that do not exist, and is rightly refused.)
CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _aim(case, known: dict) -> None:
    """Point about half the generated addresses at an object that exists (a generated id or slug
    almost never names one, so the operation would only ever answer 404)."""
    collection = case.path.split("/")[2]
    for name, value in (case.path_parameters or {}).items():
        if collection in known and isinstance(value, int | str) and len(str(value)) % 2 == 0:
            case.path_parameters[name] = known[collection]


def _call_and_validate(case, caller):
    headers, known = caller
    _aim(case, known)
    reads = case.method.upper() in ("GET", "HEAD")
    case.call_and_validate(headers=headers, checks=[*CONFORMANCE, positive_data_acceptance] if reads else CONFORMANCE)


@schema.parametrize()
@BOUNDED
def test_api_answers_administrator_within_its_schema(case, as_admin):
    _call_and_validate(case, as_admin)


@schema.parametrize()
@BOUNDED
def test_api_answers_leader_within_its_schema(case, as_leader):
    _call_and_validate(case, as_leader)


def test_schema_served_is_the_one_tested(org, api_for):
    served = api_for(org["leader"]).get("/api/schema/?format=json")
    assert served.status_code == 200
    assert served.json() == schema.raw_schema


def _operations():
    for path, operations in schema.raw_schema["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_every_operation_documents_its_error_answers():
    for path, method, operation in _operations():
        answers = operation["responses"]
        assert answers["403"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
        if "{" in path:
            assert "404" in answers, f"{method} {path}"
        if "requestBody" in operation or any(p["in"] == "query" for p in operation.get("parameters", [])):
            assert "400" in answers, f"{method} {path}"
        if method in ("post", "put", "patch", "delete"):
            assert "409" in answers, f"{method} {path}"
    assert schema.raw_schema["components"]["schemas"]["Error"]["required"] == ["detail"]


def test_request_bodies_are_documented_as_json_only():
    media_types = {
        media for _, _, operation in _operations() for media in operation.get("requestBody", {}).get("content", {})
    }
    assert media_types == {"application/json"}


def test_id_filters_find_nothing_for_an_id_that_names_nothing(org, api_for):
    api = api_for(org["admin"])
    for url in ("/api/action-items/?function=999999", "/api/issues/?metric=424242", "/api/workflows/?function=9"):
        answer = api.get(url)
        assert answer.status_code == 200, (url, answer.json())
        assert answer.json()["results"] == []
    assert "function" in api.get("/api/action-items/?function=x").json()


def test_an_unknown_api_address_answers_json_404(org, api_for):
    answer = api_for(org["admin"]).get("/api/action-items/0.5/history/")
    assert (answer.status_code, answer.json()) == (404, {"detail": "Not found."})


def test_write_answers_carry_every_declared_field(org, api_for):
    created = api_for(org["admin"]).post("/api/functions/", {"name": "Treasury"}, format="json")
    assert created.status_code == 201
    assert (created.json()["member_count"], created.json()["accountability_count"]) == (0, 0)
    issue = api_for(org["cx"]).post("/api/issues/", {"title": "Unowned problem"}, format="json")
    assert issue.status_code == 201, issue.json()
    assert (issue.json()["overdue_items"], issue.json()["function_customer_facing"]) == (0, None)


def test_a_form_encoded_body_is_refused_as_the_schema_says(org, api_for):
    answer = api_for(org["admin"]).post(
        "/api/functions/", "name=Treasury", content_type="application/x-www-form-urlencoded"
    )
    assert answer.status_code == 415 and "detail" in answer.json()
    assert "415" in schema.raw_schema["paths"]["/api/functions/"]["post"]["responses"]


def test_action_item_history_and_updates_are_plain_lists_as_documented(org, api_for):
    item_id = _contract_data(org)["action-items"]
    api = api_for(org["leader"])
    for view in ("history", "updates"):
        answer = api.get(f"/api/action-items/{item_id}/{view}/")
        assert answer.status_code == 200 and isinstance(answer.json(), list)
        documented = schema.raw_schema["paths"][f"/api/action-items/{{id}}/{view}/"]["get"]
        assert documented["responses"]["200"]["content"]["application/json"]["schema"]["type"] == "array"
        assert [p["name"] for p in documented["parameters"]] == ["id"]  # no page, filter or search
    assert api.get(f"/api/action-items/{item_id}/history/").json()[0]["type"] == "created"
