"""End-to-end in Chromium: a leader updates an item inline and the scorecard follows; the CX team
assigns an owner to an unowned issue from triage."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cxgov.lib import outbox
from rootcause.models import ActionItem, Issue
from tests import test_browser

pytestmark = pytest.mark.browser
page = test_browser.page  # the shared Chromium fixture
ARTIFACTS = test_browser.ARTIFACTS


def test_leader_updates_an_item_inline_and_sees_the_scorecard_change(transactional_db, org, live_server, page):
    issue = Issue.objects.create(title="Mixed first bills", function=org["billing"], created_by=org["cx"])
    item = ActionItem.objects.create(
        issue=issue,
        title="Switch on change date",
        function=org["billing"],
        due_date=timezone.localdate() - timedelta(days=3),
    )
    test_browser._log_in(page, live_server, "leader")
    page.goto(f"{live_server.url}/")
    assert page.locator("h1").inner_text() == "Your workspace"
    assert page.locator("[data-score=overdue]").inner_text() == "1"
    assert page.locator("[data-score=on-time]").inner_text() == "—"
    assert page.locator("#items-not-done").inner_text() == "1 not done"
    page.evaluate("window.__before = 1")  # survives only if the page is not reloaded
    row = page.locator(f"#work-{item.pk}")
    assert "3 days late" in row.inner_text()
    row.locator("select[name=status]").select_option("done")
    row.locator("input[name=text]").fill("Live since Monday")
    row.locator("button:has-text('Update')").click()
    page.locator(f"#work-{item.pk} [data-status=done]").wait_for()
    # expect() polls without evaluating strings, which the Content-Security-Policy forbids.
    expect(page.locator("[data-score=overdue]")).to_have_text("0")
    assert page.locator("[data-score=on-time]").inner_text() == "0%"  # done, but after its due date
    assert page.locator("#items-not-done").inner_text() == "0 not done"
    expect(page.locator("#owned-issues")).not_to_contain_text("overdue")
    assert "Live since Monday" in page.locator(f"#work-{item.pk}").inner_text()
    assert page.evaluate("window.__before") == 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "workspace-after-update.png"), full_page=True)
    item.refresh_from_db()
    assert item.status == "done"


def test_cx_assigns_an_owner_to_an_unowned_issue_from_triage(transactional_db, org, live_server, page):
    from django.core import mail

    issue = Issue.objects.create(title="Parcels lost at the depot", created_by=org["cx"])
    org["other_leader"].email = "head.of.logistics@example.com"
    org["other_leader"].save()
    test_browser._log_in(page, live_server, "cx")
    page.goto(f"{live_server.url}/")
    assert page.locator("h1").inner_text() == "CX triage"
    row = page.locator(f"#triage-{issue.pk}")
    # Typing asks for the matching suggestions (htmx, under the page's Content-Security-Policy).
    with page.expect_response(lambda r: "/ownership/triage/choices/functions/" in r.url and r.status == 200):
        row.locator("input[name=function]").press_sequentially("logis")
    # A locator assertion, not wait_for_function: that one polls by eval, which the CSP forbids.
    expect(page.locator("#function-options option")).to_have_count(1)
    assert page.locator("#function-options option").get_attribute("value") == "Logistics"
    row.locator("input[name=function]").fill("logistics")
    row.locator("input[name=owner]").fill("other_leader")
    row.locator("button:has-text('Assign')").click()
    page.locator(".alert-success").wait_for()
    assert "Assigned 1 issue to Logistics (Other_Leader)" in page.locator(".alert-success").inner_text()
    assert page.locator(f"#triage-{issue.pk}").count() == 0  # no longer unowned
    issue.refresh_from_db()
    assert issue.function == org["logistics"] and issue.owner == org["other_leader"]
    assert issue.history.latest().history_user == org["cx"]
    # The email waits in the outbox for a worker (never sent inside the request): send it now.
    assert mail.outbox == []
    outbox.send_due()
    assert [m.to for m in mail.outbox] == [["head.of.logistics@example.com"]]
    assert mail.outbox[0].subject == "Logistics now owns “Parcels lost at the depot”"
