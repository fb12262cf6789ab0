"""The executive view: the stakeholders' home, read-only, with the figures leadership asks for."""

from datetime import UTC, date, datetime

from metrics.models import Customer, Metric, MetricValue, SurveyResponse
from rootcause.models import CommentTag, Issue


def _setup(work, org):
    star = Metric.objects.create(name="Orders delivered complete", slug="odc", calculator="mean", north_star=True)
    for month in range(1, 4):
        MetricValue.objects.create(
            metric=star, period_start=date(2026, month, 1), value=70 + month, computed_at=datetime.now(UTC)
        )
    for i, theme in enumerate([work["late"]] * 5 + [work["bills"]]):
        response = SurveyResponse.objects.create(
            source="s", external_id=str(i), responded_at=datetime(2026, 10, 1, tzinfo=UTC), score=1, scale="csat"
        )
        CommentTag.objects.create(response=response, sub_theme=theme)
    Customer.objects.create(
        external_id="C1", category="Month-to-month", started_on=date(2025, 1, 1), ended_on=date(2026, 9, 10)
    )
    Customer.objects.create(external_id="C2", category="Month-to-month", started_on=date(2025, 1, 1))


def test_stakeholder_home_is_the_executive_view(work, org, client_for):
    _setup(work, org)
    html = client_for(org["stakeholder"]).get("/").content.decode()
    assert "Executive view" in html and "Orders delivered complete" in html
    assert "Late parcels" in html  # a vital-few sub-theme ...
    assert "Logistics" in html  # ... and who owns its open issue
    assert "Did the fixes work?" in html and "Closed: effective: <strong>1</strong> (100%)" in html
    assert "Month-to-month" in html  # business impact by customer category
    assert "Assign" not in html and "CX triage" not in html  # stakeholders cannot assign


def test_executive_figures(work, org):
    from ownership import selectors

    _setup(work, org)
    data = selectors.executive()
    assert data["star"].name == "Orders delivered complete" and data["star"].spark == [71, 72, 73]
    assert data["shares"]["ncf"]["open"] == 3 and data["shares"]["unowned"]["open"] == 1
    assert [(r["function"].name, r["open"]) for r in data["top_functions"]] == [
        ("Billing", 2),
        ("Logistics", 1),
        ("Customer Care", 1),
    ]
    late = next(t for t in data["vital"] if t.name == "Late parcels")
    assert {(o["function__name"], o["n"]) for o in late.owners} == {("Logistics", 1), (None, 1)}
    assert data["closed_total"] == 1


def test_executive_view_keeps_a_constant_number_of_queries(work, org, client_for, django_assert_num_queries):
    _setup(work, org)
    client = client_for(org["stakeholder"])
    client.get("/")
    # 16 with the feedback version read for the (cached) praise sub-themes the vital few leave out.
    with django_assert_num_queries(16):
        client.get("/")
    for i in range(6):
        Issue.objects.create(title=f"More {i}", function=org["logistics"], sub_theme=work["late"], created_by=org["cx"])
        Issue.objects.create(title=f"Done {i}", function=org["care"], state="closed_partial", created_by=org["cx"])
    with django_assert_num_queries(16):
        assert client.get("/").status_code == 200


def test_every_role_reads_the_map_workspace_and_executive_view(work, org, client_for):
    for role in ("admin", "cx", "leader", "other_leader", "stakeholder"):
        client = client_for(org[role])
        for url in ("/ownership/", "/ownership/workspace/", "/ownership/executive/"):
            assert client.get(url).status_code == 200, (role, url)


def test_administrators_keep_the_organisation_overview_as_home(work, org, client_for):
    html = client_for(org["admin"]).get("/").content.decode()
    assert "System health" in html and "Ownership" in html
