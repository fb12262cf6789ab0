"""The value ledger page, its exports, its API and the costs page."""

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from outcomes import selectors as outcome_selectors
from outcomes.models import BusinessCase, ContactCost, LedgerSettings
from rootcause.models import DecisionPoint, Issue, Workflow


def _case(issue, *, at_risk=None, realised=None, low=None, high=None, note=""):
    figures = {
        "currency": "EUR",
        "annual_cost": {"value": at_risk, "low": None, "high": None, "formula": "f", "inputs": {"x": 1}, "note": note},
        "value_realised": {"value": realised, "low": low, "high": high, "formula": "g", "inputs": {}, "note": ""},
    }
    return BusinessCase.objects.create(
        issue=issue,
        figures=figures,
        value_at_risk=at_risk,
        value_realised=realised,
        realised_low=low,
        realised_high=high,
        computed_at=datetime.now(UTC),
    )


@pytest.fixture
def ledger(work, org):
    issues = {i.title: i for i in Issue.objects.all()}
    point = DecisionPoint.objects.create(
        workflow=Workflow.objects.create(name="Invoice run", function=org["billing"]), rule="Bills wait for month end"
    )
    Issue.objects.filter(pk=issues["Mixed first bills"].pk).update(decision_point=point)
    _case(issues["Mixed first bills"], at_risk=1000.0)
    _case(issues["Slow refunds"], at_risk=None, note="Not enough data: no cost per contact for phone")
    _case(issues["Late parcels"], at_risk=500.0)
    _case(issues["Long hold times"], at_risk=250.0)
    closed = issues["Duplicate invoices"]
    Issue.objects.filter(pk=closed.pk).update(verified_at=datetime(2026, 11, 3, tzinfo=UTC), verdict="effective")
    _case(closed, at_risk=800.0, realised=300.0, low=100.0, high=500.0)
    return issues


def test_ledger_totals_by_function_and_quarter(ledger, org):
    data = outcome_selectors.ledger()
    t = data["totals"]
    # At risk: open issues only (the closed one's 800 is not at risk any more); delivered: the verified fix.
    assert t["at_risk"] == 1750.0 and t["open"] == 4 and t["open_unknown"] == 1
    assert (t["delivered"], t["delivered_low"], t["delivered_high"], t["verified"]) == (300.0, 100.0, 500.0, 1)
    names = [r["function"] for r in data["by_function"]]
    assert names == ["Billing", "Logistics", "Customer Care"]  # non-customer-facing first
    billing = data["by_function"][0]
    assert (billing["at_risk"], billing["delivered"]) == (1000.0, 300.0)
    # Non-customer-facing share: at risk (1000 + 500) of 1750 owned; delivered: all of it by Billing.
    assert data["ncf_share"]["at_risk"] == pytest.approx(1500 / 1750 * 100)
    assert data["ncf_share"]["delivered"] == 100.0
    assert {q["quarter"]: q["delivered"] for q in data["quarters"]}["2026-Q4"] == 300.0
    (point,) = data["by_decision_point"]
    assert point["issue__decision_point__rule"] == "Bills wait for month end" and point["at_risk"] == 1000.0


def test_ledger_page_shows_figures_and_says_not_enough_data(ledger, org, client_for):
    html = client_for(org["stakeholder"]).get("/ownership/ledger/").content.decode()
    assert "Value delivered" in html and "300 EUR" in html and "1,750 EUR" in html
    assert "Not enough data: no cost per contact for phone" in html  # the figure says why, not zero
    assert "Inputs and formulas" in html
    assert "Bills wait for month end" in html


def test_ledger_page_keeps_a_constant_number_of_queries(ledger, org, work, client_for, django_assert_max_num_queries):
    client = client_for(org["cx"])
    client.get("/ownership/ledger/")
    with django_assert_max_num_queries(12) as first:
        assert client.get("/ownership/ledger/").status_code == 200
    for i in range(8):
        issue = Issue.objects.create(title=f"More {i}", function=org["logistics"], created_by=org["cx"])
        _case(issue, at_risk=10.0 * i, realised=float(i))
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert client.get("/ownership/ledger/").status_code == 200


def test_ledger_api_answers_what_the_page_shows(ledger, org, api_for, django_assert_max_num_queries):
    api = api_for(org["stakeholder"])
    body = api.get("/api/ledger/").json()
    assert body["totals"]["at_risk"] == 1750.0 and body["currency"] == "EUR"
    assert body["by_function"][0]["function"] == "Billing"
    cases = api.get("/api/ledger/cases/").json()
    assert cases["count"] == 5 and cases["results"][0]["value_at_risk"] == 1000.0
    assert cases["results"][0]["figures"]["annual_cost"]["formula"] == "f"
    one = api.get("/api/ledger/cases/", {"issue": ledger["Late parcels"].pk}).json()
    assert [r["title"] for r in one["results"]] == ["Late parcels"]
    assert api.get("/api/ledger/cases/", {"issue": "x"}).status_code == 400
    for i in range(8):
        _case(Issue.objects.create(title=f"More {i}", created_by=org["cx"]), at_risk=1.0)
    with django_assert_max_num_queries(6):
        assert api.get("/api/ledger/cases/").status_code == 200


def test_ledger_csv_export_is_safe_against_formulas(ledger, org, client_for):
    response = client_for(org["stakeholder"]).get("/ownership/ledger/export.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:2] == ["Issue", "Title"] and len(rows) == 1 + 5
    risky = next(r for r in rows if "parcels lost" in r[1]) if any("parcels lost" in r[1] for r in rows) else None
    assert risky is None  # the unowned issue has no business case yet: not in the ledger
    refunds = next(r for r in rows if r[1] == "Slow refunds")
    assert refunds[16] == "" and "no cost per contact" in refunds[-1]


def test_ledger_exports_neutralise_a_formula_in_a_title(ledger, org, client_for):
    lost = Issue.objects.get(title__startswith="=HYPERLINK")
    _case(lost, at_risk=5.0)
    rows = list(
        csv.reader(
            io.StringIO(b"".join(client_for(org["cx"]).get("/ownership/ledger/export.csv").streaming_content).decode())
        )
    )
    assert next(r for r in rows if "parcels lost" in r[1])[1].startswith("'=HYPERLINK")
    response = client_for(org["cx"]).get("/ownership/ledger/export.xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    cell = next(c for c in sheet["B"] if "parcels lost" in str(c.value))
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    assert client_for(org["cx"]).get("/ownership/ledger/export.pdf").status_code == 404


def test_cx_sets_costs_and_stakeholders_only_read_them(org, client_for, django_capture_on_commit_callbacks):
    client = client_for(org["cx"])
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            "/ownership/ledger/costs/", {"action": "cost", "channel": "phone", "cost_per_contact": "6.50"}
        )
        assert response.status_code == 302
        client.post("/ownership/ledger/costs/", {"action": "settings", "currency": "gbp", "discount_rate": "8"})
    assert str(ContactCost.objects.get(channel="phone").cost_per_contact) == "6.50"
    assert LedgerSettings.objects.get().currency == "GBP"
    bad = client.post("/ownership/ledger/costs/", {"action": "settings", "currency": "E1R", "discount_rate": "8"})
    assert bad.status_code == 200 and "three-letter code" in bad.content.decode()
    negative = client.post("/ownership/ledger/costs/", {"action": "cost", "channel": "x", "cost_per_contact": "-1"})
    assert negative.status_code == 200 and not ContactCost.objects.filter(channel="x").exists()
    assert client.post("/ownership/ledger/costs/", {"action": "delete", "cost": "abc"}).status_code == 404
    stakeholder = client_for(org["stakeholder"])
    page = stakeholder.get("/ownership/ledger/costs/").content.decode()
    assert "6.50" in page and "Save the cost" not in page
    refused = stakeholder.post("/ownership/ledger/costs/", {"action": "cost", "channel": "y", "cost_per_contact": "1"})
    assert refused.status_code == 403 and not ContactCost.objects.filter(channel="y").exists()


def test_stakeholder_home_carries_the_ledger_headline(ledger, org, client_for):
    html = client_for(org["stakeholder"]).get("/").content.decode()
    assert "Value ledger" in html and "300 EUR" in html and "1,750 EUR" in html
    assert "95% 100 to 500" in html and "1 without enough data" in html


def test_digest_carries_the_ledger_headline_in_both_parts(ledger, org):
    from django.utils import timezone

    from digests import selectors as digest_selectors
    from digests import services as digest_services
    from digests.models import DigestDelivery

    now = timezone.now()
    since = now.replace(year=now.year - 1)
    content = digest_selectors.digest_content(org["stakeholder"], since, digest_selectors.shared_content(now))
    assert content["ledger"]["delivered"] == 300.0 and content["ledger"]["at_risk"] == 1750.0
    delivery = DigestDelivery(user=org["stakeholder"], period="preview", frequency="weekly", since=since)
    message = digest_services.build_message(delivery, content)
    assert "VALUE LEDGER" in message.body and "300 EUR" in message.body and "1,750 EUR a year" in message.body
    assert "(95% interval 100 to 500)" in message.body and "/ownership/ledger/" in message.body
    html = message.alternatives[0][0]
    assert "Value ledger" in html and "1,750 EUR" in html


def test_a_fix_verified_effective_counts_as_delivered_not_at_risk(ledger, org):
    parcels = ledger["Late parcels"]
    Issue.objects.filter(pk=parcels.pk).update(state="verifying", verdict="effective")
    BusinessCase.objects.filter(issue=parcels).update(value_realised=200.0, realised_low=50.0, realised_high=350.0)
    t = outcome_selectors.ledger()["totals"]
    assert t["at_risk"] == 1250.0 and t["open"] == 3  # 1750 − the 500 of the fixed problem
    assert t["delivered"] == 500.0 and t["verified"] == 2


def test_ledger_totals_are_those_of_one_aggregate_over_every_case(ledger, org):
    """The totals are summed from the functions' rows: the same as summing every case at once."""
    from django.db.models import Count, Q, Sum

    from outcomes.models import BusinessCase
    from outcomes.selectors import at_risk_q
    from outcomes.selectors import ledger as ledger_data

    _case(Issue.objects.create(title="Nobody's", created_by=org["cx"]), at_risk=12.5, realised=None)
    _case(Issue.objects.create(title="Unknown cost", function=org["logistics"], created_by=org["cx"]), at_risk=None)
    open_q, delivered_q = at_risk_q(), Q(value_realised__isnull=False)
    expected = BusinessCase.objects.aggregate(
        delivered=Sum("value_realised", filter=delivered_q),
        delivered_low=Sum("realised_low", filter=delivered_q),
        delivered_high=Sum("realised_high", filter=delivered_q),
        at_risk=Sum("value_at_risk", filter=open_q),
        revenue_at_risk=Sum("revenue_at_risk", filter=open_q),
        failure_cost=Sum("failure_cost", filter=open_q),
        verified=Count("pk", filter=delivered_q),
        open=Count("pk", filter=open_q),
        open_unknown=Count("pk", filter=open_q & Q(value_at_risk__isnull=True)),
    )
    totals = ledger_data()["totals"]
    assert totals == pytest.approx(expected) and totals["open_unknown"] >= 1
    assert all(isinstance(totals[name], int) for name in ("verified", "open", "open_unknown"))
