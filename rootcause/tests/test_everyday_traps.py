"""Traps in everyday issue pages: the "Move to" select, the target-quarter filter, Back after an
inline edit."""

import re

import pytest

from rootcause.models import Issue, IssueState, parse_quarter


def _move_to_options(page: str) -> list[str]:
    select = re.search(r'<select id="state" name="state"[^>]*>(.*?)</select>', page, re.S)
    return re.findall(r'<option value="([^"]+)"', select.group(1)) if select else []


def test_move_to_offers_only_the_next_states_the_next_one_first(org, client_for):
    issue = Issue.objects.create(title="Mixed first bills", function=org["billing"], state=IssueState.ACTIONS)
    page = client_for(org["leader"]).get(f"/rootcause/issues/{issue.pk}/").content.decode()
    assert _move_to_options(page) == ["verifying"]  # never "new": one click must not move it back

    Issue.objects.filter(pk=issue.pk).update(state=IssueState.NEW)
    page = client_for(org["leader"]).get(f"/rootcause/issues/{issue.pk}/").content.decode()
    assert _move_to_options(page) == ["investigating", "root_cause", "actions", "verifying"]


def test_a_verifying_issue_offers_only_close(org, client_for):
    issue = Issue.objects.create(title="Mixed first bills", function=org["billing"], state=IssueState.VERIFYING)
    page = client_for(org["leader"]).get(f"/rootcause/issues/{issue.pk}/").content.decode()
    assert "Move to" not in page and ">Close" in page


@pytest.mark.parametrize("text", ["Q4 2026", "2026-Q4", "q4-2026", " 2026 q4 ", "Q4/2026"])
def test_quarters_are_read_as_people_write_them(text):
    assert parse_quarter(text) == "2026-Q4"


@pytest.mark.parametrize("text", ["Q5 2026", "2026", "fourth quarter", "26-Q4", "2026-Q4x"])
def test_anything_else_is_no_quarter(text):
    assert parse_quarter(text) is None


def test_the_quarter_filter_accepts_q4_2026_and_refuses_nonsense_with_a_message(org, client_for):
    Issue.objects.create(title="Due in Q4", function=org["billing"], target_quarter="2026-Q4")
    Issue.objects.create(title="Due later", function=org["billing"], target_quarter="2027-Q1")
    client = client_for(org["cx"])
    for text in ("Q4 2026", "2026-Q4"):
        page = client.get("/rootcause/issues/", {"quarter": text}).content.decode()
        assert "Due in Q4" in page and "Due later" not in page

    response = client.get("/rootcause/issues/", {"quarter": "next quarter"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "is not a quarter: write it as Q4 2026 or 2026-Q4" in page
    assert "Due in Q4" not in page and "Due later" not in page


def test_pages_with_inline_edits_are_not_kept_by_the_browser(org, client_for):
    """Back after an inline update must fetch the page again, not show the copy from before."""
    issue = Issue.objects.create(title="Mixed first bills", function=org["billing"])
    response = client_for(org["leader"]).get(f"/rootcause/issues/{issue.pk}/")
    assert "no-store" in response["Cache-Control"]
    home = client_for(org["leader"]).get("/")
    assert "no-store" in home["Cache-Control"]
