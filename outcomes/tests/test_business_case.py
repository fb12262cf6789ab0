"""Each issue's business case from the data: revenue at risk, excess churn, expected loss, failure
demand and value realised, computed on open, kept current and safe to compute twice."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from metrics.models import Customer, SurveyResponse
from outcomes import services
from outcomes.models import BusinessCase, ContactCost, LedgerSettings
from rootcause.models import CommentTag, Issue, KeyDriver, SubTheme


@pytest.fixture
def shop(db):
    """40 customers who commented: 20 raised "late delivery" (8 of them churned, 12 active at 30 a month),
    20 did not (2 churned). Every churn fell in 2026, so the year's churn is 10 / 40."""
    driver = KeyDriver.objects.create(name="Delivery", slug="delivery")
    late = SubTheme.objects.create(driver=driver, name="Late delivery", slug="late", keywords="late")
    customers, responses = [], []
    for i in range(40):
        raised = i < 20
        churned = (i < 8) if raised else (i < 22)
        customers.append(
            Customer(
                external_id=f"c{i}",
                category="Subscriber" if i % 2 else "Occasional",
                started_on=date(2025, 1, 1),
                ended_on=date(2026, 6, 1) if churned else None,
                monthly_revenue=Decimal(30),
            )
        )
        responses.append(
            SurveyResponse(
                source="reviews",
                external_id=f"r{i}",
                customer_id=f"c{i}",
                responded_at=datetime(2026, 5, 1 + i % 28, 10, tzinfo=UTC),
                comment="late again" if raised else "lovely fabric",
                channel="phone" if i % 4 == 0 else "email",
            )
        )
    Customer.objects.bulk_create(customers)
    SurveyResponse.objects.bulk_create(responses)
    CommentTag.objects.bulk_create(
        [CommentTag(response=r, sub_theme=late) for r in SurveyResponse.objects.filter(comment="late again")]
    )
    return {"late": late}


def _issue(shop, **fields):
    return Issue.objects.create(title="Late deliveries", sub_theme=shop["late"], **fields)


def test_business_case_figures_hand_computed(shop):
    LedgerSettings.objects.create(pk=1, currency="GBP", discount_rate=Decimal(0))
    ContactCost.objects.create(channel="phone", cost_per_contact=Decimal("5.00"))
    ContactCost.objects.create(channel="email", cost_per_contact=Decimal("2.00"))
    case = services.business_case_refresh(issue_id=_issue(shop).pk)
    f = case.figures
    # 12 active customers raised it, 30 a month each: 12 × 30 × 12 = 4,320 a year at risk.
    assert case.affected_customers == 12
    assert case.revenue_at_risk == pytest.approx(4320)
    # Excess churn 8/20 − 2/20 = 0.30 with Newcombe's interval: Wilson 0.2188..0.6134 and 0.0279..0.3010,
    # low = 0.30 − √(0.1812² + 0.2010²) = 0.0294, high = 0.30 + √(0.2134² + 0.0721²) = 0.5253.
    assert f["excess_churn"]["value"] == pytest.approx(0.30)
    assert f["excess_churn"]["low"] == pytest.approx(0.0294, abs=1e-4)
    assert f["excess_churn"]["high"] == pytest.approx(0.5253, abs=1e-4)
    # Lifetime value: 360 a year / (10 lost of 40 at the year's start) = 1,440; loss = 12 × 0.30 × 1,440.
    assert f["lifetime_value"]["value"] == pytest.approx(1440)
    assert case.expected_loss == pytest.approx(12 * 0.30 * 1440)
    assert f["expected_loss"]["low"] == pytest.approx(12 * f["excess_churn"]["low"] * 1440)
    # Contacts in the year: i = 0, 4, 8, 12, 16 by phone (5), the other 15 by email: 5 × 5 + 15 × 2 = 55.
    assert case.failure_cost == pytest.approx(55)
    assert case.value_at_risk == pytest.approx(12 * 0.30 * 1440 + 55)
    assert f["currency"] == "GBP"
    assert f["failure_cost"]["inputs"]["contacts via phone"] == 5
    assert "Newcombe" in f["excess_churn"]["formula"]
    assert case.by_category == {
        "Occasional": {"customers": 6, "annual_revenue": 2160.0},
        "Subscriber": {"customers": 6, "annual_revenue": 2160.0},
    }
    # Not verified yet: no value realised, and it says so instead of showing zero.
    assert case.value_realised is None and f["value_realised"]["note"] == "Not verified yet."


def test_without_costs_failure_demand_is_not_enough_data_not_zero(shop):
    case = services.business_case_refresh(issue_id=_issue(shop).pk)
    assert case.failure_cost is None
    assert case.figures["failure_cost"]["note"].startswith("Not enough data")
    assert case.value_at_risk == pytest.approx(case.expected_loss)  # the known part only


def test_an_issue_without_a_sub_theme_has_no_figures_but_says_why(shop):
    case = services.business_case_refresh(issue_id=Issue.objects.create(title="By hand").pk)
    assert (case.revenue_at_risk, case.expected_loss, case.value_at_risk) == (None, None, None)
    assert case.figures["revenue_at_risk"]["note"].startswith("Not enough data")


def test_refresh_is_safe_to_run_twice(shop):
    issue = _issue(shop)
    services.business_case_refresh(issue_id=issue.pk)
    services.business_cases_refresh()
    assert BusinessCase.objects.filter(issue=issue).count() == 1


def test_costs_change_the_business_case_on_refresh(shop, org):
    issue = _issue(shop)
    services.business_case_refresh(issue_id=issue.pk)
    services.contact_cost_save(user=org["cx"], channel="", cost_per_contact="3")
    services.business_cases_refresh()
    assert BusinessCase.objects.get(issue=issue).failure_cost == pytest.approx(60)  # 20 contacts × 3


def test_value_realised_from_a_verified_share(shop):
    # Verified effective on the share of comments: 40 % before, 10 % after (Newcombe on the counts).
    issue = _issue(
        shop,
        measure_kind="share",
        verdict="effective",
        verification={
            "baseline": 0.4,
            "check": 0.1,
            "windows": ["2026-05-01", "2026-05-28", "2026-06-01", "2026-06-30"],
        },
    )
    ContactCost.objects.create(channel="", cost_per_contact=Decimal("1.00"))
    # The baseline window holds all 40 comments (20 tagged); the check window has none: no interval.
    case = services.business_case_refresh(issue_id=issue.pk)
    assert case.value_realised is None
    assert "interval" in case.figures["value_realised"]["note"]
    _after(shop, tagged=3, total=30)
    case = services.business_case_refresh(issue_id=issue.pk)
    change = 20 / 40 - 3 / 30
    assert case.value_realised == pytest.approx(change * case.value_at_risk / 0.4)
    assert case.realised_low < case.value_realised < case.realised_high


def test_not_effective_adds_nothing(shop):
    issue = _issue(shop, measure_kind="share", verdict="not_effective", verification={"baseline": 0.4})
    case = services.business_case_refresh(issue_id=issue.pk)
    assert case.value_realised == 0.0


def _after(shop, tagged: int, total: int):
    responses = SurveyResponse.objects.bulk_create(
        [
            SurveyResponse(
                source="reviews",
                external_id=f"after{i}",
                responded_at=datetime(2026, 6, 10, tzinfo=UTC),
                comment="late" if i < tagged else "fine",
            )
            for i in range(total)
        ]
    )
    CommentTag.objects.bulk_create([CommentTag(response=r, sub_theme=shop["late"]) for r in responses[:tagged]])


def test_opening_an_issue_queues_its_business_case(shop, org, django_capture_on_commit_callbacks):
    from cxgov.models import PendingTask
    from rootcause.services import issue_save

    # The intent is stored with the issue (sent to the broker after commit, not run here).
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        issue = issue_save(user=org["cx"], issue=Issue(), fields={"title": "Late", "sub_theme": shop["late"]})
    assert PendingTask.objects.filter(task="outcomes.refresh_business_case", kwargs={"issue_id": issue.pk}).count() == 1
    assert callbacks


def test_new_responses_queue_one_refresh_of_every_business_case(db, django_capture_on_commit_callbacks):
    from cxgov.models import PendingTask

    with django_capture_on_commit_callbacks(execute=False):
        services.business_cases_queue()
        services.business_cases_queue()
    assert PendingTask.objects.filter(task="outcomes.refresh_business_cases").count() == 1


def test_canvas_triple_crown_reads_the_same_numbers(shop, org, client_for):
    from outcomes import selectors
    from outcomes.models import CustomerCategory

    ContactCost.objects.create(channel="", cost_per_contact=Decimal("1.00"))
    case = services.business_case_refresh(issue_id=_issue(shop).pk)
    crown = selectors.triple_crown(data_category="Subscriber")
    # 6 of the 12 affected active customers are subscribers: half the issue's money, all their revenue.
    assert crown["customers"] == 6 and crown["open_issues"] == 1
    assert crown["revenue_at_risk"] == pytest.approx(2160)
    assert crown["expected_loss"] == pytest.approx(case.expected_loss / 2)
    assert crown["failure_cost"] == pytest.approx(case.failure_cost / 2)
    assert crown["delivered"] is None  # nothing verified: not enough data, not zero
    from outcomes.models import Canvas

    category = CustomerCategory.objects.create(name="Subscribers", slug="subscribers", data_category="Subscriber")
    Canvas.objects.create(category=category, version=1)
    html = client_for(org["stakeholder"]).get("/outcomes/subscribers/").content.decode()
    assert "2,160 EUR" in html and "value ledger" in html


def test_issue_page_shows_its_business_case_with_inputs_and_formulas(shop, org, client_for):
    issue = _issue(shop)
    client = client_for(org["leader"])
    assert "Being computed" in client.get(f"/rootcause/issues/{issue.pk}/").content.decode()
    services.business_case_refresh(issue_id=issue.pk)
    html = client.get(f"/rootcause/issues/{issue.pk}/").content.decode()
    assert "Business case" in html and "4,320 EUR" in html  # revenue at risk
    assert "Newcombe" in html and "customers who raised it: 20" in html  # the excess churn's formula and inputs
    assert "no contact about it" not in html and "no cost per contact" in html  # failure demand: not enough data
