"""End-to-end in a real Chromium (Debian's, driven by Playwright): log in, find a function."""

import os
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("CXGOV_VAR_DIR", "var")) / "screenshots"
pytestmark = pytest.mark.browser


@pytest.fixture
def page(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test's own database calls
    # are ordinary synchronous ones made around it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}; bin/test installs it (apt-get install chromium).")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        yield context.new_page()
        browser.close()
        # Database calls made while Playwright runs use a connection of their own (another
        # context); close it so the test database can be dropped at the end of the run.
        connections.close_all()


def _log_in(page, live_server, username):
    page.goto(f"{live_server.url}/functions/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("button[type=submit]")


def test_leader_logs_in_and_opens_a_function_page(transactional_db, org, live_server, page):
    _log_in(page, live_server, "leader")
    page.wait_for_url(f"{live_server.url}/functions/")
    row = page.locator("tr", has_text="Logistics")
    assert "Non-customer-facing" in row.inner_text()
    page.get_by_role("link", name="Billing", exact=True).click()
    page.wait_for_url(f"{live_server.url}/functions/billing/")
    assert page.locator("h1").inner_text() == "Billing"
    assert page.locator("text=Invoice accuracy").is_visible()
    # Bootstrap is served locally: the layout is styled, not raw HTML.
    assert page.evaluate("getComputedStyle(document.querySelector('nav.navbar')).display") == "flex"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "function-page.png"), full_page=True)


def test_leader_edits_own_function_description_in_the_browser(transactional_db, org, live_server, page):
    _log_in(page, live_server, "leader")
    page.goto(f"{live_server.url}/functions/billing/")
    page.click("text=Edit description")
    page.fill("textarea[name=description]", "Invoice runs and tariffs.")
    page.click("button:has-text('Save')")
    page.wait_for_url(f"{live_server.url}/functions/billing/")
    assert page.locator("text=Invoice runs and tariffs.").is_visible()
    org["billing"].refresh_from_db()
    assert org["billing"].description == "Invoice runs and tariffs."


def test_leader_updates_an_action_item_inline(transactional_db, org, live_server, page):
    from datetime import date

    from rootcause.models import ActionItem, Issue

    issue = Issue.objects.create(title="Mixed first bills", function=org["billing"])
    item = ActionItem.objects.create(
        issue=issue, title="Switch on change date", function=org["billing"], due_date=date(2026, 1, 1)
    )
    _log_in(page, live_server, "leader")
    page.goto(f"{live_server.url}/rootcause/issues/{issue.pk}/")
    row = page.locator(f"#action-{item.pk}")
    assert "Overdue" in row.inner_text()
    marker = page.evaluate("window.__before = 1")  # survives only if the page is not reloaded
    row.locator("select[name=status]").select_option("blocked")
    row.locator("input[name=text]").fill("Asked IT for the patch")
    row.locator("button:has-text('Update')").click()
    page.locator(f"#action-{item.pk} .invalid-feedback").wait_for()
    assert "Say what blocks this item." in page.locator(f"#action-{item.pk}").inner_text()
    row = page.locator(f"#action-{item.pk}")
    row.locator("input[name=blocked_reason]").fill("Vendor patch pending")
    row.locator("button:has-text('Update')").click()
    page.locator(f"#action-{item.pk} [data-status=blocked]").wait_for()
    text = page.locator(f"#action-{item.pk}").inner_text()
    assert "blocked: Vendor patch pending" in text and "Asked IT for the patch" in text
    assert page.evaluate("window.__before") == 1 and marker == 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "issue-page.png"), full_page=True)
    item.refresh_from_db()
    assert item.status == "blocked" and item.history.count() == 2


def test_leader_opens_an_alert_from_the_inbox_and_acknowledges_it(transactional_db, org, live_server, page):
    from alerts.models import Alert
    from alerts.services import metric_evaluate
    from alerts.tests.factories import day, metric_with, rule_on

    metric = metric_with(org, [80, 81, 79, 70])
    rule_on(metric, level="red", name="Invoice CSAT red")
    metric_evaluate(metric=metric, today=day(4))
    _log_in(page, live_server, "leader")
    page.goto(f"{live_server.url}/alerts/")
    page.get_by_role("link", name="Invoice CSAT red").click()
    # The chart is drawn by a deferred script: wait for it, not for the canvas (slow machines).
    # Polled from here: wait_for_function evaluates a string in the page, which the CSP forbids.
    drawn = "!!(window.Chart && Chart.getChart(document.getElementById('alert-chart')))"
    for _ in range(100):
        if page.evaluate(drawn):
            break
        page.wait_for_timeout(100)
    # Chart.js drew the values with the firing point (the canvas has a size and content).
    assert page.evaluate("Chart.getChart(document.getElementById('alert-chart')).data.datasets[1].data[3]") == 70
    page.click("button:has-text('Acknowledge')")
    assert page.locator("text=Acknowledged.").first.is_visible()
    assert Alert.objects.get().acknowledged_by_id == org["leader"].pk
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "alert-page.png"), full_page=True)
