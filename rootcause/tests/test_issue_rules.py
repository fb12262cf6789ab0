"""Who may add work to an issue, and one title per issue in a function (API and pages)."""

from datetime import date

import pytest

from cxgov.models import Accountability
from rootcause import services
from rootcause.models import ActionItem, Issue, IssueState


def _open(org, title, function):
    return services.issue_save(user=org["cx"], issue=Issue(), fields={"title": title, "function": function})


@pytest.fixture
def issues(org):
    logistics = _open(org, "Late parcels", org["logistics"])
    Issue.objects.filter(pk=logistics.pk).update(state=IssueState.INVESTIGATING)
    return {"billing": _open(org, "Mixed first bills", org["billing"]), "logistics": logistics}


def _item(issue, function, **extra):
    return {"issue": issue.pk, "title": "Fix it", "function": function.pk, "due_date": "2026-12-01", **extra}


def test_leader_cannot_add_an_action_item_of_their_function_to_another_functions_issue(org, api_for, issues):
    foreign = issues["logistics"]
    response = api_for(org["leader"]).post("/api/action-items/", _item(foreign, org["billing"]), format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "Only someone who may change this issue adds action items to it."}
    foreign.refresh_from_db()
    assert not ActionItem.objects.exists() and foreign.state == IssueState.INVESTIGATING


def test_leader_adds_action_items_to_their_own_functions_issue(org, api_for, issues):
    response = api_for(org["leader"]).post(
        "/api/action-items/", _item(issues["billing"], org["billing"]), format="json"
    )
    assert response.status_code == 201, response.content


def test_cx_team_and_administrators_add_action_items_to_any_issue(org, api_for, issues):
    for role in ("cx", "admin"):
        response = api_for(org[role]).post(
            "/api/action-items/", _item(issues["logistics"], org["billing"], title=role), format="json"
        )
        assert response.status_code == 201, response.content


def test_stakeholder_adds_no_action_items(org, api_for, issues):
    response = api_for(org["stakeholder"]).post(
        "/api/action-items/", _item(issues["billing"], org["billing"]), format="json"
    )
    assert response.status_code == 403 and not ActionItem.objects.exists()


def test_issue_page_offers_add_item_only_to_who_may_change_the_issue(org, client_for, issues):
    foreign, own = issues["logistics"], issues["billing"]
    client = client_for(org["leader"])
    assert f"/rootcause/issues/{foreign.pk}/actions/new/" not in client.get(f"/rootcause/issues/{foreign.pk}/").text
    assert f"/rootcause/issues/{own.pk}/actions/new/" in client.get(f"/rootcause/issues/{own.pk}/").text
    assert client.get(f"/rootcause/issues/{foreign.pk}/actions/new/").status_code == 403
    posted = client.post(
        f"/rootcause/issues/{foreign.pk}/actions/new/",
        {"title": "Mine now", "function": org["billing"].pk, "due_date": "2026-12-01", "status": "open"},
    )
    assert posted.status_code == 403 and not ActionItem.objects.exists()
    cx = client_for(org["cx"])
    assert f"/rootcause/issues/{foreign.pk}/actions/new/" in cx.get(f"/rootcause/issues/{foreign.pk}/").text


def test_finishing_an_item_on_a_foreign_issue_is_not_possible_for_a_leader(org, api_for, issues):
    """The finding end to end: the item that would move another function's issue is never created."""
    api = api_for(org["leader"])
    api.post("/api/action-items/", _item(issues["logistics"], org["billing"]), format="json")
    assert Issue.objects.get(pk=issues["logistics"].pk).state == IssueState.INVESTIGATING
    assert not ActionItem.objects.filter(issue=issues["logistics"]).exists()


def test_a_second_issue_with_the_same_title_in_a_function_is_a_clear_400(org, api_for, issues):
    api = api_for(org["cx"])
    response = api.post("/api/issues/", {"title": "Mixed first bills", "function": org["billing"].pk}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "title": ["Billing already has an issue titled “Mixed first bills”: choose another title."]
    }
    assert Issue.objects.filter(title="Mixed first bills").count() == 1


def test_the_same_title_in_another_function_is_fine(org, api_for, issues):
    api = api_for(org["cx"])
    response = api.post("/api/issues/", {"title": "Mixed first bills", "function": org["logistics"].pk}, format="json")
    assert response.status_code == 201, response.content


def test_moving_an_issue_to_a_function_with_that_title_is_a_clear_400(org, api_for, issues):
    _open(org, "Mixed first bills", org["logistics"])
    response = api_for(org["cx"]).patch(
        f"/api/issues/{issues['billing'].pk}/", {"function": org["logistics"].pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "function": ["Logistics already has an issue titled “Mixed first bills”: rename this one first."]
    }
    assert Issue.objects.get(pk=issues["billing"].pk).function == org["billing"]


def test_renaming_an_issue_follows_in_the_register_and_refuses_a_taken_title(org, api_for):
    api = api_for(org["cx"])
    first = api.post("/api/issues/", {"title": "Wrong tariffs", "function": org["billing"].pk}, format="json")
    second = api.post("/api/issues/", {"title": "Late refunds", "function": org["billing"].pk}, format="json")
    assert first.status_code == second.status_code == 201
    pk = first.json()["id"]
    assert api.patch(f"/api/issues/{pk}/", {"title": "Wrong prices"}, format="json").status_code == 200
    assert Accountability.objects.get(subject_id=pk, role="A").subject == "Issue: Wrong prices"
    clash = api.patch(f"/api/issues/{pk}/", {"title": "Late refunds"}, format="json")
    assert clash.status_code == 400 and "title" in clash.json()


def test_a_duplicate_title_on_the_new_issue_page_is_a_form_error(org, client_for, issues):
    response = client_for(org["cx"]).post(
        "/rootcause/issues/new/",
        {"title": "Late parcels", "function": org["logistics"].pk, "priority": "medium", "expected_improvement": 20},
    )
    assert response.status_code == 200
    assert "Logistics already has an issue titled" in response.text
    assert Issue.objects.filter(title="Late parcels").count() == 1


def test_transition_refusals_name_the_state_field(org, api_for, issues):
    response = api_for(org["cx"]).post(
        f"/api/issues/{issues['billing'].pk}/transition/", {"state": "nonsense"}, format="json"
    )
    assert response.status_code == 400 and response.json() == {"state": ["“nonsense” is not an issue state."]}


def test_a_leader_still_changes_their_functions_item_on_another_functions_issue(org, issues):
    """The CX team may give Billing work on a Logistics issue; Billing's leader then updates it."""
    item = ActionItem.objects.create(
        issue=issues["logistics"], title="Cut-off", function=org["billing"], due_date=date(2026, 12, 1)
    )
    services.action_item_save(user=org["leader"], item=item, fields={"title": "Earlier cut-off"})
    assert ActionItem.objects.get(pk=item.pk).title == "Earlier cut-off"


def test_a_clash_that_slips_past_the_check_is_a_409_and_writes_nothing(org, api_for, issues, monkeypatch):
    """Two people opening the same title at the same moment both pass the check; the register's
    constraint stops the second, and the API answers 409 instead of a server error."""
    import cxgov.selectors

    monkeypatch.setattr(cxgov.selectors, "register_subject_taken", lambda **kwargs: False)
    response = api_for(org["cx"]).post(
        "/api/issues/", {"title": "Mixed first bills", "function": org["billing"].pk}, format="json"
    )
    assert response.status_code == 409
    assert response.json() == {"detail": "This change clashes with data that already exists; nothing was changed."}
    assert Issue.objects.filter(title="Mixed first bills").count() == 1
