"""In Chromium: the metric's schedule form shows only the chosen kind's fields and previews as it
is typed; the alert-rule form previews where the rule would have fired as its settings change."""

import pytest
from django_celery_beat.models import PeriodicTask
from playwright.sync_api import expect

from tests.test_browser import _log_in, page  # noqa: F401  (page is a fixture)

pytestmark = pytest.mark.browser


def test_administrator_sets_a_cron_schedule_with_a_live_preview(transactional_db, org, live_server, page):  # noqa: F811
    from metrics import services
    from metrics.models import Metric

    metric = services.metric_save(
        user=org["admin"], metric=Metric(), fields={"name": "CSAT", "calculator": "csat", "kind": "outcome"}
    )
    _log_in(page, live_server, "admin")
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server.url}/metrics/csat/#schedule")
    expect(page.locator("input[name=every]")).to_be_visible()
    expect(page.locator("input[name=cron]")).to_be_hidden()
    page.get_by_label("A cron expression").check()
    expect(page.locator("input[name=every]")).to_be_hidden()
    page.locator("input[name=cron]").fill("0 25 * * *")
    expect(page.locator("#schedule-preview")).to_contain_text("The hour part “25” is not valid")
    page.locator("input[name=cron]").fill("30 7 * * 1-5")
    page.locator("select[name=timezone]").select_option("Europe/Paris")
    expect(page.locator("#schedule-description")).to_have_text("At 07:30 AM, Monday through Friday")
    expect(page.locator("#schedule-next-runs li")).to_have_count(3)
    expect(page.locator("#schedule-next-runs li").first).to_contain_text("07:30 Europe/Paris")
    page.get_by_role("button", name="Save schedule").click()
    expect(page.locator("#schedule-summary")).to_contain_text("At 07:30 AM, Monday through Friday (Europe/Paris)")
    task = PeriodicTask.objects.select_related("crontab").get(name=metric.schedule_name)
    assert (task.crontab.minute, task.crontab.hour, str(task.crontab.timezone)) == ("30", "7", "Europe/Paris")


def test_cx_previews_a_rule_as_its_settings_change(transactional_db, org, live_server, page):  # noqa: F811
    from alerts.tests.factories import metric_with

    metric_with(org, [80, 70, 71, 85, 80, 60, 65])  # red at 72: red on days 1-2 and from day 5
    _log_in(page, live_server, "cx")
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server.url}/alerts/rules/")
    page.get_by_role("link", name="add one on Invoice CSAT").click()
    page.get_by_role("link", name="Threshold crossing (RAG status worsens)").click()
    expect(page.locator("#preview-summary")).to_contain_text("it would have fired 2 times, and is firing now")
    expect(page.locator("select[name=chart]")).to_have_count(0)  # another kind's setting: not on the page
    page.locator("input[name=min_periods]").fill("3")
    page.locator("input[name=min_periods]").dispatch_event("change")
    expect(page.locator("#preview-summary")).to_contain_text("it would have fired 0 times")
    page.locator("input[name=min_periods]").fill("2")
    page.locator("input[name=min_periods]").dispatch_event("change")
    expect(page.locator("#preview-summary")).to_contain_text("it would have fired 2 times")
    expect(page.locator("#alert-chart")).to_be_visible()
