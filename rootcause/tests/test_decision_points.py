"""The decision-point register: who records what, and the page."""

import pytest

from rootcause.models import DecisionPoint, Workflow


def test_leader_records_workflows_and_decision_points_of_functions_they_lead(org, client_for):
    client = client_for(org["leader"])
    response = client.post("/rootcause/workflows/new/", {"name": "Monthly invoice run", "function": org["billing"].pk})
    assert response.status_code == 302
    run = Workflow.objects.get(name="Monthly invoice run")
    response = client.post(
        "/rootcause/decision-points/new/",
        {"workflow": run.pk, "rule": "Tariff changes apply from the next full month", "kind": "operational"},
    )
    assert response.status_code == 302
    html = client.get("/rootcause/decision-points/").content.decode()
    assert "Tariff changes apply from the next full month" in html and "Billing" in html
    assert f"/rootcause/workflows/{run.pk}/" in html


def test_leader_cannot_record_for_another_function(org, client_for):
    other = Workflow.objects.create(name="Dispatch", function=org["logistics"])
    client = client_for(org["leader"])
    response = client.post("/rootcause/workflows/new/", {"name": "Sneaky", "function": org["logistics"].pk})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    response = client.post("/rootcause/decision-points/new/", {"workflow": other.pk, "rule": "x", "kind": "strategic"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert client.post(f"/rootcause/workflows/{other.pk}/", {"name": "Renamed"}).status_code == 403
    assert f"/rootcause/workflows/{other.pk}/" not in client.get("/rootcause/decision-points/").content.decode()
    assert not DecisionPoint.objects.exists() and Workflow.objects.get(pk=other.pk).name == "Dispatch"


@pytest.mark.parametrize("username", ["stakeholder"])
def test_stakeholders_read_the_register_only(org, client_for, username):
    client = client_for(org[username])
    assert client.get("/rootcause/decision-points/").status_code == 200
    assert client.get("/rootcause/workflows/new/").status_code == 403


def test_cx_filters_the_register_by_type(org, client_for, django_assert_num_queries):
    for i in range(3):
        run = Workflow.objects.create(name=f"W{i}", function=org["billing"])
        DecisionPoint.objects.create(workflow=run, rule=f"Rule {i}", kind="regulatory" if i else "strategic")
    client = client_for(org["cx"])
    client.get("/rootcause/decision-points/")
    with django_assert_num_queries(5):
        html = client.get("/rootcause/decision-points/?kind=strategic").content.decode()
    assert "Rule 0" in html and "Rule 1" not in html


def test_api_reads_the_register_taxonomy_and_pareto(org, api_for):
    from datetime import UTC, datetime

    from metrics.models import SurveyResponse
    from rootcause import services
    from rootcause.models import KeyDriver, SubTheme

    run = Workflow.objects.create(name="Invoice run", function=org["billing"])
    DecisionPoint.objects.create(workflow=run, rule="Next-month tariffs", kind="operational")
    driver = KeyDriver.objects.create(name="Billing", slug="billing")
    SubTheme.objects.create(driver=driver, name="Wrong bill", slug="wrong-bill", keywords="wrong bill")
    SurveyResponse.objects.create(
        source="s",
        external_id="1",
        responded_at=datetime(2026, 1, 1, tzinfo=UTC),
        score=1,
        scale="csat",
        comment="A wrong bill again",
    )
    services.comments_tag()
    api = api_for(org["stakeholder"])
    assert api.get("/api/workflows/").json()["results"][0]["decision_points"][0]["rule"] == "Next-month tariffs"
    assert api.get("/api/key-drivers/").json()["results"][0]["sub_themes"][0]["slug"] == "wrong-bill"
    pareto = api.get("/api/pareto/?cutoff=80").json()
    assert pareto["rows"] == [
        {
            "sub_theme": "wrong-bill",
            "label": "Billing › Wrong bill",
            "value": 1.0,
            "share": 100.0,
            "cumulative": 100.0,
            "vital": True,
            "raw_count": 1.0,  # no text model switched on: the count as it is, no interval
            "interval": None,
            "correction": None,
            "samples": ["A wrong bill again"],
            "positive_share": None,  # not analysed yet: it counts among the problems meanwhile
            "sentiment_sample": 0,
        }
    ]
    assert pareto["corrected"] is False
    assert api.get("/api/pareto/?cutoff=500").status_code == 400
