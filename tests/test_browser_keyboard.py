"""A leader's core job with the keyboard alone: from home, update an overdue action item. Only
keyboard.press and keyboard.type drive the page; the test reads the page to know where it is."""

from datetime import date

import pytest
from playwright.sync_api import expect

from tests.test_browser import ARTIFACTS, page  # noqa: F401  (page is a fixture)

pytestmark = pytest.mark.browser

FOCUSED = "() => document.activeElement && (document.activeElement.id || document.activeElement.textContent.trim())"
OUTLINED = """() => {
  const s = getComputedStyle(document.activeElement);
  return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
}"""


def _tab_to(tab, element_id, limit=80):
    """Tab forward until the element has the focus; every stop on the way must show it has it."""
    for _ in range(limit):
        tab.keyboard.press("Tab")
        if tab.evaluate(FOCUSED) == element_id:
            return
    raise AssertionError(f"#{element_id} not reached in {limit} presses of Tab")


def test_leader_updates_an_overdue_action_item_from_home_with_the_keyboard_alone(
    transactional_db,
    org,
    live_server,
    page,  # noqa: F811
):
    from rootcause.models import ActionItem, Issue

    issue = Issue.objects.create(title="Mixed first bills", function=org["billing"])
    item = ActionItem.objects.create(
        issue=issue, title="Switch on change date", function=org["billing"], due_date=date(2026, 1, 1)
    )
    page.goto(f"{live_server.url}/")
    # Signing in: the username field has the focus (autofocus), the rest is typing and Enter.
    assert page.evaluate("document.activeElement.name") == "username"
    page.keyboard.type("leader")
    page.keyboard.press("Tab")
    page.keyboard.type("correct-horse-battery")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")
    row = page.locator(f"#work-{item.pk}")
    expect(row).to_contain_text("late")

    # The first Tab offers to skip the menu, and shows that it has the focus.
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED) == "Skip to main content"
    assert page.evaluate(OUTLINED)
    page.keyboard.press("Enter")
    _tab_to(page, f"ws-status-{item.pk}")
    page.keyboard.type("In progress")  # a closed select picks the option typed
    page.keyboard.press("Tab")  # past "Blocked because…"
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED) == f"ws-note-{item.pk}"
    page.keyboard.type("Patch tested, release on Friday")
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED) == "Update"
    assert page.evaluate(OUTLINED)
    page.keyboard.press("Enter")

    expect(page.locator(f"#work-{item.pk} [data-status=in_progress]")).to_be_visible()
    expect(page.locator(f"#work-{item.pk}")).to_contain_text("Patch tested, release on Friday")
    assert page.url.split("#")[0] == f"{live_server.url}/"  # still home: updated in place
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "keyboard-update.png"), full_page=True)
    item.refresh_from_db()
    assert item.status == "in_progress"
    assert item.updates.get().text == "Patch tested, release on Friday"
