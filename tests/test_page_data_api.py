"""Every page's data is readable through the API with the page's permissions: the North Star with
its line of sight, the KPI audit and business impact answer what their pages show, to every
logged-in role (as the pages do), to nobody else, in a constant number of queries."""

from datetime import UTC, date, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from metrics.models import Customer, Metric, SurveyResponse
from outcomes import services as outcome_services
from outcomes.models import CustomerCategory
from rootcause.models import ActionItem, Issue

ROLES = ["admin", "cx", "leader", "stakeholder"]


@pytest.fixture
def star(org):
    return Metric.objects.create(
        name="Invoice CSAT",
        slug="invoice-csat",
        calculator="csat",
        kind="outcome",
        north_star=True,
        target=80,
        owning_function=org["billing"],
    )


def _approved_canvas(org, name, *, measures, functions):
    category = CustomerCategory.objects.create(name=name, slug=name.lower().replace(" ", "-"))
    draft = outcome_services.canvas_draft(user=org["cx"], category=category)
    canvas = outcome_services.canvas_save(
        user=org["cx"],
        canvas=draft,
        fields={"who": "Households", "outcomes": "Online on the promised day"},
        measures=list(measures),
        functions=list(functions),
        needs=[],
        moments=[],
    )
    outcome_services.canvas_approve(user=org["cx"], canvas=canvas)
    return canvas


def _issue_with_overdue_item(org, metric, n):
    issue = Issue.objects.create(title=f"Late invoices {n}", metric=metric, function=org["billing"])
    ActionItem.objects.create(
        issue=issue,
        title=f"Move the run {n}",
        function=org["billing"],
        owner=org["leader"],
        due_date=date.today() - timedelta(days=n),
    )
    return issue


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_north_star_and_its_line_of_sight(org, api_for, star, role):
    canvas = _approved_canvas(org, "Families", measures=[star], functions=[org["billing"]])
    issue = _issue_with_overdue_item(org, star, 3)

    answer = api_for(org[role]).get("/api/north-star/")

    assert answer.status_code == 200
    data = answer.json()
    assert data["star"]["slug"] == "invoice-csat" and data["star"]["target"] == 80.0
    assert data["star"]["latest"] is None and data["star"]["recent"] == []
    [sight] = data["canvases"]
    assert (sight["id"], sight["category"]["slug"]) == (canvas.pk, "families")
    assert [m["slug"] for m in sight["measures"]] == ["invoice-csat"]
    assert [f["slug"] for f in sight["accountable_functions"]] == ["billing"]
    assert [(i["id"], i["metric"], i["function"]["slug"]) for i in sight["open_issues"]] == [
        (issue.pk, "invoice-csat", "billing")
    ]
    assert [item["title"] for item in sight["open_issues"][0]["overdue_items"]] == ["Move the run 3"]
    assert sight["overdue_items"] == 1


def test_north_star_answers_null_until_one_is_chosen(org, api_for):
    assert api_for(org["stakeholder"]).get("/api/north-star/").json() == {"star": None, "canvases": []}


@pytest.mark.parametrize("url", ["/api/north-star/", "/api/kpi-audit/", "/api/business-impact/"])
def test_page_data_is_refused_to_anonymous_callers(org, url):
    answer = APIClient().get(url)
    assert answer.status_code in (401, 403) and "detail" in answer.json()


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_kpi_audit_with_mostly_output_functions_flagged(org, api_for, role):
    for i, kind in enumerate(["output", "output", "outcome"]):
        Metric.objects.create(
            name=f"L{i}", slug=f"l{i}", calculator="count", source="s", kind=kind, owning_function=org["logistics"]
        )
    Metric.objects.create(name="B", slug="b", calculator="csat", kind="outcome", owning_function=org["billing"])
    Metric.objects.create(name="Orphan", slug="orphan", calculator="csat", kind="output")

    answer = api_for(org[role]).get("/api/kpi-audit/")

    assert answer.status_code == 200
    rows = {(r["function"] or {}).get("slug"): r for r in answer.json()}
    logistics = rows["logistics"]
    assert (logistics["outcome"], logistics["output"], logistics["business"], logistics["total"]) == (1, 2, 0, 3)
    assert logistics["mostly_outputs"] and logistics["output_share"] == pytest.approx(200 / 3)
    assert not rows["billing"]["mostly_outputs"] and rows["customer-care"]["total"] == 0
    assert rows[None]["output"] == 1  # metrics no function owns


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_business_impact_by_category(org, api_for, role):
    Customer.objects.bulk_create(
        [
            Customer(external_id="c1", category="Month-to-month", monthly_revenue=50, started_on=date(2025, 1, 1)),
            Customer(external_id="c2", category="Month-to-month", monthly_revenue=70, started_on=date(2025, 1, 1)),
            Customer(
                external_id="c3",
                category="One year",
                monthly_revenue=90,
                started_on=date(2025, 1, 1),
                ended_on=date(2026, 10, 2),
            ),
        ]
    )
    SurveyResponse.objects.create(
        source="s",
        external_id="1",
        customer_id="c1",
        responded_at=datetime(2026, 10, 10, tzinfo=UTC),
        score=3,
        scale="nps",
    )

    answer = api_for(org[role]).get("/api/business-impact/")

    assert answer.status_code == 200
    data = answer.json()
    assert data["month"] == "2026-10-01" and data["risk_known"] is True
    rows = {r["category"]: r for r in data["rows"]}
    assert list(rows) == ["All customers", "Month-to-month", "One year"]
    assert (rows["One year"]["customers"], rows["One year"]["churned"], rows["One year"]["churn_rate"]) == (1, 1, 100)
    assert rows["One year"]["revenue_lost"] == 90.0
    assert rows["All customers"]["revenue_at_risk"] == 50.0


def test_business_impact_without_churn_data_says_so(org, api_for):
    data = api_for(org["stakeholder"]).get("/api/business-impact/").json()
    assert data == {"month": None, "risk_known": False, "rows": []}


@pytest.mark.parametrize(("url", "queries"), [("/api/north-star/", 8), ("/api/kpi-audit/", 3)])
def test_page_data_keeps_a_constant_number_of_queries(org, api_for, star, django_assert_num_queries, url, queries):
    api = api_for(org["leader"])
    for batch in range(2):
        for i in range(3):
            extra = Metric.objects.create(
                name=f"M{batch}{i}", slug=f"m{batch}{i}", calculator="csat", kind="output", owning_function=org["care"]
            )
            _approved_canvas(org, f"Segment {batch}{i}", measures=[star, extra], functions=[org["billing"]])
            _issue_with_overdue_item(org, star, 1 + i)
            _issue_with_overdue_item(org, extra, 1 + i)
        with django_assert_num_queries(queries):
            assert api.get(url).status_code == 200


def test_business_impact_keeps_a_constant_number_of_queries(org, api_for, django_assert_num_queries):
    api = api_for(org["leader"])
    for batch in range(2):
        Customer.objects.bulk_create(
            [
                Customer(
                    external_id=f"c{batch}-{i}",
                    category=f"Plan {i}",
                    monthly_revenue=10 + i,
                    started_on=date(2025, 1, 1),
                    ended_on=date(2026, 10, 2) if i % 2 else None,
                )
                for i in range(6)
            ]
        )
        with django_assert_num_queries(3):
            assert api.get("/api/business-impact/").status_code == 200
