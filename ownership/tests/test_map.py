"""The ownership map: who owns which open issues, filters, share figures, exports and the API."""

import csv
import io

import pytest
from openpyxl import load_workbook

from outcomes.models import Canvas, CustomerCategory
from ownership.exports import safe_cell
from rootcause.models import ActionItem, Issue


def test_map_lists_non_customer_facing_owners_first_with_their_work(work, org, client_for):
    html = client_for(org["stakeholder"]).get("/ownership/").content.decode()
    billing, logistics, care = (
        html.index(">Billing</a>"),
        html.index(">Logistics</a>"),
        html.index(">Customer Care</a>"),
    )
    assert billing < logistics < care  # non-customer-facing first, busiest first
    assert "Non-customer-facing" in html and "row-ncf" in html
    assert "Mixed first bills" in html and "€12K" in html  # largest issue and its revenue at risk
    assert "1 late" in html and "1 blocked" in html
    assert "issues with no owning function" in html  # the unowned row
    assert "Duplicate invoices" not in html  # closed issues are out of the default (open) view


def test_map_share_of_open_issues_and_revenue_owned_by_non_customer_facing(work):
    from ownership.selectors import MapFilters, ownership_map

    shares = ownership_map(filters=MapFilters())["shares"]
    assert shares["total_open"] == 5 and shares["ncf"]["open"] == 3 and shares["unowned"]["open"] == 1
    assert shares["ncf_open_share"] == pytest.approx(60.0)
    assert shares["total_revenue"] == pytest.approx(21000)
    assert shares["ncf_revenue_share"] == pytest.approx(20000 / 21000 * 100)


def test_map_rows_count_open_overdue_and_blocked_items_and_key_drivers(work, org):
    from ownership.selectors import MapFilters, ownership_map

    rows = {r["function"].name: r for r in ownership_map(filters=MapFilters())["rows"]}
    billing = rows["Billing"]
    assert (billing["open_issues"], billing["items_open"], billing["items_overdue"], billing["items_blocked"]) == (
        2,
        3,
        1,
        1,
    )
    assert billing["drivers"] == [{"name": "Billing", "issues": 2, "revenue": 15000.0}]
    assert [i["title"] for i in billing["top_issues"]] == ["Mixed first bills", "Slow refunds"]


def test_map_filters_by_quarter_driver_state_and_customer_category(work, org):
    from metrics.models import Metric
    from ownership.selectors import MapFilters, filtered_issues

    def titles(**kw):
        return set(filtered_issues(MapFilters(**kw)).values_list("title", flat=True))

    assert titles(quarter="2026-Q4") == {"Mixed first bills"}
    assert titles(driver_id=work["late"].driver_id) == {"Late parcels", work["unowned"].title}
    assert titles(state="closed") == {"Duplicate invoices"}
    assert titles(state="new") == {"Slow refunds", "Late parcels", "Long hold times", work["unowned"].title}
    metric = Metric.objects.create(name="On-time delivery", slug="otd", calculator="mean")
    category = CustomerCategory.objects.create(name="Families", slug="families")
    canvas = Canvas.objects.create(category=category, state="approved", version=1)
    canvas.measures.add(metric)
    Issue.objects.filter(pk=work["parcels"].pk).update(metric=metric)
    assert titles(category_id=category.pk) == {"Late parcels"}


def test_map_page_filters_through_the_query_string(work, org, client_for):
    html = client_for(org["cx"]).get("/ownership/", {"quarter": "2026-Q4"}).content.decode()
    assert "Mixed first bills" in html and "Slow refunds" not in html
    assert client_for(org["cx"]).get("/ownership/", {"driver": "x", "state": "nonsense"}).status_code == 200


def test_formula_like_text_is_neutralised():
    assert [safe_cell(v) for v in ["=1+1", "+1", "-x", "@SUM", "\tx", "\rx", "fine", -5, 2.5, "-5"]] == [
        "'=1+1",
        "'+1",
        "'-x",
        "'@SUM",
        "'\tx",
        "'\rx",
        "fine",
        -5,
        2.5,
        "-5",
    ]


def test_a_formula_after_a_separator_or_quote_is_neutralised_as_owasp_says():
    risky = ["refund;=cmd|' /C calc'!A0", "ok,@SUM(A1)", 'said "=1+1', "line\n+44 20 7946 0958", "a; -2+3"]
    assert [safe_cell(v) for v in risky] == ["'" + v for v in risky]
    assert [safe_cell(v) for v in ["a;b", "5 stars, well done", "3-4 days", "a - b"]] == [
        "a;b",
        "5 stars, well done",
        "3-4 days",
        "a - b",
    ]


def test_csv_export_is_safe_against_formula_injection(work, org, client_for):
    response = client_for(org["stakeholder"]).get("/ownership/export.csv", {"state": ""})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["Issue id", "Issue", "State"] and len(rows) == 1 + Issue.objects.count()
    lost = next(r for r in rows if "parcels lost" in r[1])
    assert lost[1].startswith("'=HYPERLINK") and lost[6] == "Unowned"
    bills = next(r for r in rows if r[1] == "Mixed first bills")
    assert (
        bills[5:7] == ["Billing", "Non-customer-facing"] and bills[11] == "12000.0" and bills[12:15] == ["2", "1", "0"]
    )


def test_xlsx_export_keeps_text_as_text_and_is_streamed_from_a_write_only_workbook(work, org, client_for):
    response = client_for(org["cx"]).get("/ownership/export.xlsx")
    assert response.status_code == 200 and response.streaming  # from a temporary file, not a buffer in memory
    assert 'filename="ownership-map-' in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Issue id" and len(rows) == 1 + 5
    cell = next(c for c in sheet["B"] if "parcels lost" in str(c.value))
    # A text cell is never a formula in Excel, so the title is kept exactly as written.
    assert cell.data_type == "s" and cell.value.startswith('=HYPERLINK("http://x")')
    assert client_for(org["cx"]).get("/ownership/export.pdf").status_code == 404


def test_bad_filters_match_nothing_and_exports_refuse_them(work, org, client_for):
    client = client_for(org["cx"])
    stale = client.get("/ownership/export.csv?driver=999999&quarter=2031-Q1")
    assert stale.status_code == 400 and "not valid" in stale.content.decode()
    response = client.get("/ownership/export.csv?quarter=2031-Q1")
    empty = b"".join(response.streaming_content).decode().strip().splitlines()
    assert len(empty) == 1  # a real quarter with no issue: just the header
    page = client.get("/ownership/?driver=999999").content.decode()
    assert "Some filters are not valid" in page


def test_closed_issues_items_are_not_work(work, org, client_for):
    from datetime import date

    from ownership import selectors
    from rootcause.models import ActionItem, Issue

    before = selectors.scorecard(function_ids=[org["billing"].pk])["overdue"]
    closed = Issue.objects.create(title="Done and dusted", function=org["billing"], state="closed_effective")
    ActionItem.objects.create(issue=closed, title="Leftover", function=org["billing"], due_date=date(2026, 1, 1))
    assert selectors.scorecard(function_ids=[org["billing"].pk])["overdue"] == before
    assert "Leftover" not in [i.title for i in selectors.work_items(function_ids=[org["billing"].pk])]


def test_triage_refuses_huge_ids_and_ambiguous_names(work, org, client_for):
    from cxgov.models import Function
    from rootcause.models import Issue

    client = client_for(org["cx"])
    response = client.post("/ownership/triage/assign/", {"issue": "9" * 20, "function": "billing"}, follow=True)
    assert response.status_code == 200 and Issue.objects.get(pk=work["unowned"].pk).function is None
    Function.objects.create(name="Ops", slug="ops-a")
    Function.objects.create(name="ops", slug="ops-b")
    html = client.post("/ownership/triage/assign/", {"issue": work["unowned"].pk, "function": "ops"}, follow=True)
    assert "More than one function is called" in html.content.decode()
    assert Issue.objects.get(pk=work["unowned"].pk).function is None


def test_map_keeps_a_constant_number_of_queries(work, org, client_for, django_assert_num_queries):
    from cxgov.models import Function

    client = client_for(org["cx"])
    client.get("/ownership/")
    # 10: the function totals, each function's drivers and the driver matrix come from one GROUP BY.
    with django_assert_num_queries(10):
        client.get("/ownership/")
    for i in range(5):
        function = Function.objects.create(name=f"Procurement {i}", slug=f"procurement-{i}")
        issue = Issue.objects.create(title=f"Issue {i}", function=function, evidence={"revenue_at_risk": {"annual": i}})
        ActionItem.objects.create(issue=issue, title="x", function=function, due_date="2026-01-01")
        Issue.objects.create(title=f"Unowned {i}")
    with django_assert_num_queries(10):
        assert client.get("/ownership/").status_code == 200


def test_map_api_matches_the_page(work, org, api_for, django_assert_num_queries):
    api = api_for(org["stakeholder"])
    with django_assert_num_queries(6):
        data = api.get("/api/ownership/map/").json()
    assert data["share"]["open_issues"] == 5 and data["share"]["non_customer_facing"] == 3
    assert [f["function"]["name"] for f in data["functions"]] == ["Billing", "Logistics", "Customer Care"]
    assert data["functions"][0]["action_items"] == {"open": 3, "overdue": 1, "blocked": 1}
    assert data["unowned"]["open_issues"] == 1 and data["unowned"]["function"] is None
    assert api.get("/api/ownership/map/", {"quarter": "soon"}).status_code == 400
    assert api.post("/api/ownership/map/").status_code == 403


def test_only_triagers_are_offered_to_assign_unowned_issues_from_the_map(work, org, client_for):
    assert "assign them" in client_for(org["cx"]).get("/ownership/").content.decode()
    for role in ("leader", "stakeholder"):
        html = client_for(org[role]).get("/ownership/").content.decode()
        assert "assign them" not in html and "CX triage" not in html


def test_api_refuses_ids_too_large_for_the_database(org, api_for):
    api = api_for(org["cx"])
    big = "9" * 20
    for url in (
        f"/api/ownership/map/?driver={big}",
        f"/api/ownership/map/?category={big}",
        f"/api/ownership/scorecard/?function={big}",
    ):
        assert api.get(url).status_code == 400, url


def test_export_follows_the_driver_and_state_filters_with_each_issues_item_counts(work, org, client_for):
    from rootcause.models import KeyDriver

    client = client_for(org["cx"])
    billing = KeyDriver.objects.get(slug="billing")
    response = client.get("/ownership/export.csv", {"driver": billing.pk, "state": ""})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))[1:]
    expected = Issue.objects.filter(sub_theme__driver=billing)
    assert sorted(r[1] for r in rows) == sorted(expected.values_list("title", flat=True))
    for row in rows:  # open, overdue and blocked items of that issue, from the items themselves
        issue = expected.get(pk=int(row[0]))
        items = issue.action_items.exclude(status="done")
        assert int(row[12]) == items.count()
        assert int(row[14]) == items.filter(status="blocked").count()
    closed = client.get("/ownership/export.csv", {"state": "closed"})
    titles = [r[1] for r in list(csv.reader(io.StringIO(b"".join(closed.streaming_content).decode())))[1:]]
    assert sorted(titles) == sorted(Issue.objects.filter(state__startswith="closed").values_list("title", flat=True))
