"""The REST API: authentication, pagination, filtering, schema and docs, constant queries."""

import pytest
from rest_framework.test import APIClient

from cxgov.models import Accountability, Function, Membership, User


def test_api_refuses_anonymous_calls(org):
    assert APIClient().get("/api/functions/").status_code == 403


def test_api_accepts_a_session(org):
    api = APIClient()
    api.force_login(org["stakeholder"])
    assert api.get("/api/functions/").status_code == 200


def test_functions_are_paginated_and_filtered(org, api_for):
    data = api_for(org["stakeholder"]).get("/api/functions/?customer_facing=false").json()
    assert data["count"] == 2
    assert [f["slug"] for f in data["results"]] == ["billing", "logistics"]
    assert data["results"][0]["leader_detail"]["username"] == "leader"
    assert data["results"][0]["member_count"] == 2


def test_accountabilities_filter_by_function_and_role(org, api_for):
    api = api_for(org["cx"])
    data = api.get(f"/api/accountabilities/?function={org['logistics'].pk}&role=A").json()
    assert [a["subject"] for a in data["results"]] == ["On-time delivery"]
    assert api.get("/api/accountabilities/?search=invoice").json()["count"] == 1


def test_memberships_filter_by_person(org, api_for):
    data = api_for(org["cx"]).get(f"/api/memberships/?person={org['leader'].pk}").json()
    assert [m["function"] for m in data["results"]] == [org["billing"].pk]


@pytest.mark.parametrize("subject", ["Invoice accuracy", "INVOICE accuracy"])
def test_second_accountable_for_a_subject_is_refused_with_a_clear_message(org, api_for, subject):
    response = api_for(org["cx"]).post(
        "/api/accountabilities/",
        {"function": org["logistics"].pk, "role": "A", "subject": subject},
        format="json",
    )
    assert response.status_code == 400
    assert "already Accountable" in response.json()["role"][0]


def test_unknown_raci_role_is_refused(org, api_for):
    response = api_for(org["cx"]).post(
        "/api/accountabilities/", {"function": org["billing"].pk, "role": "X", "subject": "S"}, format="json"
    )
    assert response.status_code == 400
    assert "role" in response.json()


def test_schema_is_openapi_3_and_lists_the_endpoints(org, api_for):
    response = api_for(org["stakeholder"]).get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in ("/api/functions/", "/api/memberships/", "/api/accountabilities/"):
        assert path in schema["paths"]


def test_docs_are_served_without_a_cdn(org, client_for):
    html = client_for(org["cx"]).get("/api/docs/").content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html


@pytest.mark.parametrize(
    ("url", "queries"),
    [("/api/functions/", 3), ("/api/memberships/", 3), ("/api/accountabilities/", 3)],
)
def test_lists_keep_a_constant_number_of_queries(org, api_for, django_assert_num_queries, url, queries):
    api = api_for(org["admin"])
    api.get(url)
    for round_ in range(2):
        for i in range(10):
            lead = User.objects.create(username=f"u{round_}-{i}")
            function = Function.objects.create(name=f"F{round_}-{i}", slug=f"f{round_}-{i}", leader=lead)
            Membership.objects.create(person=lead, function=function)
            Accountability.objects.create(function=function, role="A", subject=f"S{round_}-{i}")
        with django_assert_num_queries(queries):
            assert api.get(url).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/api/functions/?customer_facing=maybe",
        "/api/functions/?parent__isnull=perhaps",
        "/api/metrics/?north_star=sure",
        "/api/issues/?open=2",
        "/api/action-items/?overdue=maybe",
        "/api/alert-rules/?active=x",
    ],
)
def test_unknown_yes_no_filter_values_are_refused_not_ignored(org, api_for, url):
    response = api_for(org["cx"]).get(url)
    assert response.status_code == 400 and "use true or false" in str(response.json())


def test_yes_no_filter_values(org, api_for):
    api = api_for(org["cx"])
    facing = {f["name"] for f in api.get("/api/functions/?customer_facing=true").json()["results"]}
    hidden = {f["name"] for f in api.get("/api/functions/?customer_facing=no").json()["results"]}
    assert "Customer Care" in facing and "Billing" in hidden and not facing & hidden
    assert api.get("/api/functions/?customer_facing=").status_code == 200
