"""Work spread over the `org` functions: owned and unowned issues, action items in every state."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from rootcause.models import ActionItem, ActionStatus, Issue, IssueState, KeyDriver, SubTheme

TODAY = timezone.localdate()


def revenue(annual: float) -> dict:
    return {"revenue_at_risk": {"customers": 3, "annual": annual}}


@pytest.fixture
def work(org):
    def issue(**fields):
        return Issue.objects.create(created_by=org["cx"], **fields)

    billing_driver = KeyDriver.objects.create(name="Billing", slug="billing")
    delivery_driver = KeyDriver.objects.create(name="Delivery", slug="delivery")
    bills = SubTheme.objects.create(driver=billing_driver, name="Wrong bills", slug="wrong-bills", keywords="bill")
    late = SubTheme.objects.create(
        driver=delivery_driver,
        name="Late parcels",
        slug="late-parcels",
        keywords="late",
        suggested_function=org["logistics"],
    )
    first_bills = issue(
        title="Mixed first bills",
        function=org["billing"],
        owner=org["leader"],
        sub_theme=bills,
        evidence=revenue(12000),
        target_quarter="2026-Q4",
        priority="high",
        state=IssueState.ACTIONS,
    )
    refunds = issue(
        title="Slow refunds", function=org["billing"], sub_theme=bills, evidence=revenue(3000), target_quarter="2027-Q1"
    )
    parcels = issue(
        title="Late parcels", function=org["logistics"], sub_theme=late, evidence=revenue(5000), priority="critical"
    )
    hold = issue(title="Long hold times", function=org["care"], evidence=revenue(1000))
    unowned = issue(title='=HYPERLINK("http://x") parcels lost', sub_theme=late, evidence={})
    closed = issue(title="Duplicate invoices", function=org["billing"], state="closed_effective")
    items = {
        "overdue": ActionItem.objects.create(
            issue=first_bills,
            title="Switch on change date",
            function=org["billing"],
            owner=org["leader"],
            due_date=TODAY - timedelta(days=10),
        ),
        "soon": ActionItem.objects.create(
            issue=first_bills,
            title="Tell the billing team",
            function=org["billing"],
            due_date=TODAY + timedelta(days=3),
        ),
        "blocked": ActionItem.objects.create(
            issue=refunds,
            title="Automate refunds",
            function=org["billing"],
            due_date=TODAY + timedelta(days=30),
            status=ActionStatus.BLOCKED,
            blocked_reason="Waiting for the payments vendor",
        ),
        "done_on_time": ActionItem.objects.create(
            issue=closed,
            title="Stop the double run",
            function=org["billing"],
            due_date=date(2026, 3, 1),
            status=ActionStatus.DONE,
            completed_at=datetime(2026, 2, 20, 12, tzinfo=UTC),
        ),
        "done_late": ActionItem.objects.create(
            issue=closed,
            title="Check the runs",
            function=org["billing"],
            due_date=date(2026, 3, 1),
            status=ActionStatus.DONE,
            completed_at=datetime(2026, 3, 10, 12, tzinfo=UTC),
        ),
        "theirs": ActionItem.objects.create(
            issue=parcels,
            title="Later cut-off",
            function=org["logistics"],
            due_date=TODAY - timedelta(days=2),
        ),
    }
    return {
        "bills": bills,
        "late": late,
        "first_bills": first_bills,
        "refunds": refunds,
        "parcels": parcels,
        "hold": hold,
        "unowned": unowned,
        "closed": closed,
        **items,
    }
