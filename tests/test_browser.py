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
    page.wait_for_selector("#alert-chart")
    # Chart.js drew the values with the firing point (the canvas has a size and content).
    assert page.evaluate("Chart.getChart(document.getElementById('alert-chart')).data.datasets[1].data[3]") == 70
    page.click("button:has-text('Acknowledge')")
    assert page.locator("text=Acknowledged.").first.is_visible()
    assert Alert.objects.get().acknowledged_by_id == org["leader"].pk
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "alert-page.png"), full_page=True)
