"""Issues, 5 whys and action items: who changes what (pages and API), history, and constant queries."""

from datetime import UTC, date, datetime, timedelta

import pytest

from cxgov.models import Accountability
from rootcause.models import ActionItem, ActionStatus, ActionUpdate, Issue, IssueState


@pytest.fixture
def work(org):
    billing = Issue.objects.create(title="Mixed first bills", function=org["billing"], owner=org["leader"])
    logistics = Issue.objects.create(title="Late parcels", function=org["logistics"])
    mine = ActionItem.objects.create(
        issue=billing, title="Switch on change date", function=org["billing"], due_date=date(2026, 1, 1)
    )
    theirs = ActionItem.objects.create(
        issue=logistics, title="Later cut-off", function=org["logistics"], due_date=date(2099, 1, 1)
    )
    return {"billing": billing, "logistics": logistics, "mine": mine, "theirs": theirs}


def test_cx_opens_an_issue_from_a_vital_few_sub_theme_with_evidence(org, client_for):
    from metrics.models import Customer, SurveyResponse
    from rootcause.models import CommentTag, KeyDriver, SubTheme

    driver = KeyDriver.objects.create(name="Delivery", slug="delivery")
    theme = SubTheme.objects.create(
        driver=driver, name="Late", slug="late", keywords="late", suggested_function=org["logistics"]
    )
    Customer.objects.create(external_id="C1", monthly_revenue=50)
    at = datetime(2026, 10, 1, tzinfo=UTC)
    for i, text in enumerate(["<script>alert(1)</script> late again", "late", "very late"]):
        response = SurveyResponse.objects.create(
            source="s", external_id=str(i), customer_id="C1", responded_at=at, score=1, scale="csat", comment=text
        )
        CommentTag.objects.create(response=response, sub_theme=theme)
    client = client_for(org["cx"])
    page = client.get(f"/rootcause/issues/new/?sub_theme={theme.pk}").content.decode()
    assert "Late (Delivery)" in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    response = client.post(
        "/rootcause/issues/new/",
        {
            "title": "Late parcels",
            "sub_theme": theme.pk,
            "function": org["logistics"].pk,
            "priority": "high",
            "measure_kind": "share",
            "expected_improvement": 20,
            "target_quarter": "2026-Q4",
        },
    )
    issue = Issue.objects.get(title="Late parcels")
    assert response.status_code == 302 and response.url == f"/rootcause/issues/{issue.pk}/"
    assert issue.evidence["comments"]["total"] == 3 and issue.evidence["revenue_at_risk"]["annual"] == 600
    assert issue.created_by == org["cx"]
    entry = Accountability.objects.get(subject_id=issue.pk, role="A")
    assert entry.function == org["logistics"] and entry.subject == "Issue: Late parcels"
    html = client.get(f"/rootcause/issues/{issue.pk}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html


def test_bad_issue_input_is_refused_with_a_clear_message(org, client_for):
    client = client_for(org["cx"])
    response = client.post(
        "/rootcause/issues/new/",
        {
            "title": "X",
            "priority": "high",
            "target_quarter": "Q4 2026",
            "expected_improvement": 20,
            "baseline_start": "2026-03-01",
            "baseline_end": "2026-02-01",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and "YYYY-Qn" in html and not Issue.objects.exists()
    response = client.post(
        "/rootcause/issues/new/",
        {"title": "X", "priority": "high", "expected_improvement": 20, "measure_kind": "metric"},
    )
    assert "A metric measure needs the issue&#x27;s metric." in response.content.decode()


def test_decision_point_makes_its_function_the_owner(org, client_for):
    from rootcause.models import DecisionPoint, Workflow

    point = DecisionPoint.objects.create(
        workflow=Workflow.objects.create(name="Dispatch", function=org["logistics"]), rule="14:00 cut-off"
    )
    client_for(org["cx"]).post(
        "/rootcause/issues/new/",
        {"title": "Late", "priority": "medium", "decision_point": point.pk, "expected_improvement": 20},
    )
    assert Issue.objects.get(title="Late").function == org["logistics"]


def test_whys_are_saved_in_order_and_start_the_investigation(org, client_for, work):
    client = client_for(org["leader"])
    data = {
        "form-TOTAL_FORMS": 3,
        "form-INITIAL_FORMS": 0,
        "form-MIN_NUM_FORMS": 0,
        "form-MAX_NUM_FORMS": 12,
        "form-0-why": "Why calls?",
        "form-0-because": "Bills mix tariffs",
        "form-1-why": "Why mixed?",
        "form-1-because": "Next-full-month rule",
        "form-1-evidence": "Invoice 42",
        "form-2-why": "",
        "form-2-because": "",
    }
    assert client.post(f"/rootcause/issues/{work['billing'].pk}/whys/", data).status_code == 302
    issue = Issue.objects.get(pk=work["billing"].pk)
    assert [(w.position, w.because) for w in issue.whys.all()] == [
        (1, "Bills mix tariffs"),
        (2, "Next-full-month rule"),
    ]
    assert issue.state == IssueState.INVESTIGATING
    data["form-0-because"] = ""
    response = client.post(f"/rootcause/issues/{work['billing'].pk}/whys/", data)
    assert "Step 1: give both the why and the because." in response.content.decode()
    assert issue.whys.count() == 2
    other = client.post(f"/rootcause/issues/{work['logistics'].pk}/whys/", data)
    assert other.status_code == 403


def test_leader_updates_own_action_item_inline_and_it_is_in_the_history(org, client_for, work):
    client = client_for(org["leader"])
    url = f"/rootcause/actions/{work['mine'].pk}/update/"
    response = client.post(url, {"status": "blocked", "blocked_reason": "", "text": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Say what blocks this item." in response.content.decode()
    assert ActionItem.objects.get(pk=work["mine"].pk).status == "open"
    response = client.post(
        url, {"status": "blocked", "blocked_reason": "Vendor patch", "text": "Asked IT"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'id="action-' in html and "blocked: Vendor patch" in html
    assert "<html" not in html  # a row, not a page
    client.post(url, {"status": "done", "text": "Deployed"}, HTTP_HX_REQUEST="true")
    item = ActionItem.objects.get(pk=work["mine"].pk)
    assert item.status == "done" and item.completed_at and item.blocked_reason == ""
    assert [u.text for u in item.updates.order_by("pk")] == ["Asked IT", "Deployed"]
    statuses = [h.status for h in item.history.order_by("history_date", "history_id")]
    assert statuses == ["open", "blocked", "done"]
    assert {h.history_user for h in item.history.exclude(history_type="+")} == {org["leader"]}
    page = client.get(f"/rootcause/actions/{item.pk}/history/").content.decode()
    assert "<strong>Status</strong>: Open → Blocked" in page and "<strong>Status</strong>: Blocked → Done" in page
    assert "Asked IT" in page and "Leader" in page


def test_leader_cannot_touch_another_functions_items_by_page_or_api(org, client_for, api_for, work):
    client = client_for(org["leader"])
    theirs = work["theirs"]
    assert client.post(f"/rootcause/actions/{theirs.pk}/update/", {"status": "done"}).status_code == 403
    assert client.get(f"/rootcause/actions/{theirs.pk}/").status_code == 403
    assert client.post(f"/rootcause/issues/{work['logistics'].pk}/edit/", {"title": "x"}).status_code == 403
    html = client.get(f"/rootcause/issues/{work['logistics'].pk}/").content.decode()
    assert f"/rootcause/actions/{theirs.pk}/update/" not in html
    api = api_for(org["leader"])
    assert api.patch(f"/api/action-items/{theirs.pk}/", {"status": "done"}, format="json").status_code == 403
    assert api.post(f"/api/action-items/{theirs.pk}/updates/", {"text": "hi"}, format="json").status_code == 403
    moved = api.patch(f"/api/action-items/{work['mine'].pk}/", {"function": org["logistics"].pk}, format="json")
    assert moved.status_code == 403
    created = api.post(
        "/api/action-items/",
        {"issue": work["logistics"].pk, "title": "x", "function": org["logistics"].pk, "due_date": "2026-12-01"},
        format="json",
    )
    assert created.status_code == 403
    assert api.patch(f"/api/issues/{work['logistics'].pk}/", {"title": "x"}, format="json").status_code == 403
    theirs.refresh_from_db()
    assert theirs.status == "open" and theirs.function == org["logistics"] and not ActionUpdate.objects.exists()
    assert Issue.objects.get(pk=work["logistics"].pk).title == "Late parcels"


def test_stakeholder_reads_only(org, client_for, api_for, work):
    client = client_for(org["stakeholder"])
    assert client.get("/rootcause/issues/").status_code == 200
    assert client.get("/rootcause/issues/new/").status_code == 403
    assert client.post(f"/rootcause/actions/{work['mine'].pk}/update/", {"text": "x"}).status_code == 403
    assert api_for(org["stakeholder"]).post("/api/issues/", {"title": "x"}, format="json").status_code == 403


def test_api_leader_creates_and_updates_own_items_and_history_lists_changes(org, api_for, work):
    api = api_for(org["leader"])
    response = api.post(
        "/api/action-items/",
        {
            "issue": work["billing"].pk,
            "title": "Explain mixed bill",
            "function": org["billing"].pk,
            "owner": org["leader"].pk,
            "due_date": "2026-12-01",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert Issue.objects.get(pk=work["billing"].pk).state == IssueState.ACTIONS
    bad = api.post(f"/api/action-items/{pk}/updates/", {"status": "blocked"}, format="json")
    assert bad.status_code == 400 and "Say what blocks this item." in str(bad.json())
    ok = api.post(f"/api/action-items/{pk}/updates/", {"status": "in_progress", "text": "Drafted"}, format="json")
    assert ok.status_code == 201 and ok.json()["status"] == "in_progress"
    history = api.get(f"/api/action-items/{pk}/history/").json()
    assert [h["status"] for h in history] == ["open", "in_progress"] and history[-1]["by"]
    wrong_owner = api.patch(f"/api/action-items/{pk}/", {"owner": org["other_leader"].pk}, format="json")
    assert wrong_owner.status_code == 400 and "is not in Billing" in str(wrong_owner.json())


def test_api_cx_opens_assigns_and_moves_issues(org, api_for):
    api = api_for(org["cx"])
    response = api.post("/api/issues/", {"title": "Unowned", "priority": "low"}, format="json")
    assert response.status_code == 201
    pk = response.json()["id"]
    assert api.get("/api/issues/?unowned=true").json()["count"] == 1
    assert api.patch(f"/api/issues/{pk}/", {"function": org["billing"].pk}, format="json").status_code == 200
    assert Accountability.objects.get(subject_id=pk, role="A").function == org["billing"]
    steps = [{"why": "Why?", "because": "Because."}]
    assert api.put(f"/api/issues/{pk}/whys/", steps, format="json").status_code == 200
    bad = api.post(f"/api/issues/{pk}/transition/", {"state": "close"}, format="json")
    assert bad.status_code == 400 and "cannot be closed yet" in str(bad.json())
    moved = api.post(f"/api/issues/{pk}/transition/", {"state": "root_cause"}, format="json")
    assert moved.status_code == 200 and moved.json()["state"] == "root_cause"
    assert api.get("/api/issues/?customer_facing=false&open=true").json()["count"] == 1


def test_overdue_is_computed(org, work):
    today = date(2026, 6, 1)
    assert list(ActionItem.objects.overdue(today)) == [work["mine"]]
    assert work["mine"].is_overdue(today) and not work["theirs"].is_overdue(today)
    work["mine"].status = ActionStatus.DONE
    assert not work["mine"].is_overdue(today)


def _grow(org, n):
    for i in range(n):
        issue = Issue.objects.create(title=f"Issue {i}", function=org["billing" if i % 2 else "logistics"])
        for j in range(3):
            ActionItem.objects.create(
                issue=issue, title=f"Item {i}.{j}", function=issue.function, due_date=date(2026, 1, 1) + timedelta(j)
            )
            ActionUpdate.objects.create(item=ActionItem.objects.latest("pk"), text="note")


@pytest.mark.parametrize("path", ["/rootcause/issues/", "/api/issues/", "/api/action-items/"])
def test_lists_keep_a_constant_number_of_queries(org, client_for, django_assert_num_queries, path):
    client = client_for(org["cx"])
    _grow(org, 2)
    client.get(path)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert client.get(path).status_code == 200
    _grow(org, 12)
    with django_assert_num_queries(len(small.captured_queries)):
        client.get(path)


def test_issue_page_keeps_a_constant_number_of_queries(org, client_for, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(org["leader"])
    _grow(org, 1)
    issue = Issue.objects.get()
    client.get(f"/rootcause/issues/{issue.pk}/")
    with CaptureQueriesContext(connection) as small:
        client.get(f"/rootcause/issues/{issue.pk}/")
    for j in range(10):
        item = ActionItem.objects.create(issue=issue, title=f"More {j}", function=issue.function, due_date=date.today())
        ActionUpdate.objects.create(item=item, text="x")
    with django_assert_num_queries(len(small.captured_queries)):
        html = client.get(f"/rootcause/issues/{issue.pk}/").content.decode()
    assert "More 9" in html


def test_retagging_progress_is_reported(org, client_for, django_capture_on_commit_callbacks, sent_tasks):
    from metrics.models import SurveyResponse
    from rootcause import tasks
    from rootcause.models import KeyDriver, TaggingRun

    at = datetime(2026, 10, 1, tzinfo=UTC)
    SurveyResponse.objects.bulk_create(
        SurveyResponse(source="s", external_id=str(i), responded_at=at, score=4, scale="csat", comment="late")
        for i in range(5)
    )
    client = client_for(org["cx"])
    driver = KeyDriver.objects.create(name="Delivery", slug="delivery")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/rootcause/themes/sub-themes/new/", {"driver": driver.pk, "name": "Late", "keywords": "late"}
        )
    assert response.status_code == 302
    run = TaggingRun.objects.get()
    html = client.get("/rootcause/themes/").content.decode()
    assert "Re-tagging comments with the changed rules" in html and 'hx-trigger="every 2s"' in html
    [(name, kwargs)] = sent_tasks
    assert name == "rootcause.tag_comments"
    tasks.tag_comments(**kwargs)
    run.refresh_from_db()
    assert run.total == 5 and run.done == 5 and run.finished_at and run.percent == 100
    html = client.get("/rootcause/themes/retagging/").content.decode()
    assert "Comments last re-tagged" in html and "every 2s" not in html


def test_issue_history_names_who_changed_what(org, client_for):
    from rootcause import services

    issue = services.issue_save(user=org["cx"], issue=Issue(), fields={"title": "Unowned", "priority": "low"})
    services.issue_save(
        user=org["cx"], issue=Issue.objects.get(pk=issue.pk), fields={"function": org["billing"], "priority": "high"}
    )
    html = client_for(org["stakeholder"]).get(f"/rootcause/issues/{issue.pk}/").content.decode()
    assert "Owning function: — → Billing" in html and "Priority: Low → High" in html and "· Cx</span>" in html


def test_issue_list_puts_the_most_urgent_first(org, client_for):
    for title, priority in (
        ("Low one", "low"),
        ("Critical one", "critical"),
        ("Medium one", "medium"),
        ("High one", "high"),
    ):
        Issue.objects.create(title=title, function=org["billing"], priority=priority)
    page = client_for(org["cx"]).get("/rootcause/issues/").content.decode()
    order = [page.index(t) for t in ("Critical one", "High one", "Medium one", "Low one")]
    assert order == sorted(order)


def test_a_leader_of_two_functions_cannot_move_items_or_issues_between_them(org, api_for, work):
    from cxgov.models import Function

    second = Function.objects.create(name="Credit", slug="credit", leader=org["leader"])
    api = api_for(org["leader"])
    moved = api.patch(f"/api/action-items/{work['mine'].pk}/", {"function": second.pk}, format="json")
    assert moved.status_code == 403 and ActionItem.objects.get(pk=work["mine"].pk).function == org["billing"]
    moved = api.patch(f"/api/issues/{work['billing'].pk}/", {"function": second.pk}, format="json")
    assert moved.status_code == 403 and Issue.objects.get(pk=work["billing"].pk).function == org["billing"]
    assert (
        api_for(org["cx"])
        .patch(f"/api/action-items/{work['mine'].pk}/", {"function": second.pk}, format="json")
        .status_code
        == 200
    )


def test_a_closed_issue_is_frozen_until_reopened(org, api_for, work):
    from rootcause import services

    Issue.objects.filter(pk=work["billing"].pk).update(state="closed_effective", root_cause="Pro-rating")
    api = api_for(org["leader"])
    assert api.patch(f"/api/issues/{work['billing'].pk}/", {"root_cause": ""}, format="json").status_code == 400
    response = api.post(f"/api/action-items/{work['mine'].pk}/updates/", {"status": "done"}, format="json")
    assert response.status_code == 400 and "closed" in str(response.json())
    assert (
        api.put(f"/api/issues/{work['billing'].pk}/whys/", [{"why": "a", "because": "b"}], format="json").status_code
        == 400
    )
    issue = services.issue_transition(
        user=org["cx"], issue=Issue.objects.get(pk=work["billing"].pk), state=IssueState.REOPENED
    )
    assert api.patch(f"/api/issues/{issue.pk}/", {"root_cause": "Better"}, format="json").status_code == 200


def test_the_5_whys_are_in_the_history(org, work):
    from rootcause import services
    from rootcause.models import Why

    services.whys_save(user=org["leader"], issue=work["billing"], steps=[{"why": "a", "because": "b"}])
    services.whys_save(user=org["leader"], issue=work["billing"], steps=[{"why": "c", "because": "d"}])
    kinds = list(Why.history.order_by("history_id").values_list("history_type", "why", "history_user"))
    leader = org["leader"].pk
    assert kinds == [("+", "a", leader), ("-", "a", leader), ("+", "c", leader)]


@pytest.mark.parametrize("annual", ["n/a", "1,234", True, {"x": 1}, float("nan"), float("inf"), 10**400])
def test_an_issue_whose_evidence_holds_no_usable_revenue_figure_is_refused_with_a_reason(org, annual):
    """The database computes the revenue column from the evidence's figure: a text or an out-of-range
    number is refused by the service with a message, never a database error; nothing is written."""
    from django.core.exceptions import ValidationError

    from rootcause.services import issue_save

    issue = Issue(evidence={"revenue_at_risk": {"customers": 3, "annual": annual}})
    with pytest.raises(ValidationError, match="annual revenue at risk must be a number"):
        issue_save(user=org["cx"], issue=issue, fields={"title": "Odd evidence"})
    assert not Issue.objects.filter(title="Odd evidence").exists()


def test_the_revenue_column_follows_the_evidence(org):
    from rootcause.services import issue_save

    issue = issue_save(
        user=org["cx"],
        issue=Issue(evidence={"revenue_at_risk": {"customers": 3, "annual": 1234.5}}),
        fields={"title": "Figure kept"},
    )
    bare = issue_save(user=org["cx"], issue=Issue(evidence={}), fields={"title": "No figure"})
    assert Issue.objects.get(pk=issue.pk).revenue_at_risk == 1234.5
    assert Issue.objects.get(pk=bare.pk).revenue_at_risk == 0.0
