"""The leader's workspace: only their functions' work, inline updates, the scorecard and its API."""

from datetime import UTC, datetime, timedelta

import pytest

from cxgov.models import Accountability
from ownership import selectors
from rootcause.models import ActionItem, ActionUpdate, Issue, IssueState


def test_leader_home_is_their_workspace_with_only_their_functions_work(work, org, client_for):
    html = client_for(org["leader"]).get("/").content.decode()
    assert "Your workspace" in html and "Invoice accuracy" in html  # their function's accountability
    assert "Switch on change date" in html and "Automate refunds" in html
    assert "Later cut-off" not in html  # Logistics' item
    assert "Mixed first bills" in html and "Late parcels" not in html
    assert "10 days late" in html and "Waiting for the payments vendor" in html
    assert "On-time delivery" not in html  # Logistics' accountability


def test_action_items_are_sorted_by_urgency(work, org):
    page = selectors.workspace(user=org["leader"])["items"]
    assert [i.title for i in page.object_list] == ["Switch on change date", "Tell the billing team", "Automate refunds"]


def test_issue_accountabilities_are_listed_as_issues_not_twice(work, org):
    from rootcause.services import issue_save

    issue_save(user=org["cx"], issue=Issue(title="Paper bills"), fields={"function": org["billing"]})
    assert Accountability.objects.filter(subject="Issue: Paper bills").exists()
    data = selectors.workspace(user=org["leader"])
    assert [a.subject for a in data["accountabilities"]] == ["Invoice accuracy"]
    assert "Paper bills" in [i.title for i in data["issues"]]


def test_metrics_they_own_show_with_rag_status(work, org, client_for):
    from datetime import date

    from metrics.models import Metric, MetricValue

    mine = Metric.objects.create(
        name="First-bill accuracy", slug="fba", calculator="mean", owning_function=org["billing"], target=95
    )
    Metric.objects.create(name="Parcels on time", slug="pot", calculator="mean", owning_function=org["logistics"])
    MetricValue.objects.create(metric=mine, period_start=date(2026, 9, 1), value=80, computed_at=datetime.now(UTC))
    html = client_for(org["leader"]).get("/ownership/workspace/").content.decode()
    assert "First-bill accuracy" in html and "Parcels on time" not in html
    assert "Off track" in html or "At risk" in html


def test_leader_updates_an_item_inline_and_the_scorecard_is_told(work, org, client_for):
    client = client_for(org["leader"])
    response = client.post(
        f"/ownership/workspace/actions/{work['overdue'].pk}/update/",
        {"status": "done", "text": "Live since Monday"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and response["HX-Trigger"] == "work-changed"
    html = response.content.decode()
    assert f'id="work-{work["overdue"].pk}"' in html and 'data-status="done"' in html and "Live since Monday" in html
    work["overdue"].refresh_from_db()
    assert work["overdue"].status == "done" and work["overdue"].completed_at is not None
    card = client.get("/ownership/workspace/scorecard/").content.decode()
    assert 'data-score="overdue">0<' in card
    issues = client.get("/ownership/workspace/issues/").content.decode()
    assert "Mixed first bills" in issues and "1 open item" in issues and "overdue" not in issues


def test_inline_update_error_stays_in_the_row_without_refreshing_the_scorecard(work, org, client_for):
    response = client_for(org["leader"]).post(
        f"/ownership/workspace/actions/{work['soon'].pk}/update/", {"status": "", "text": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "HX-Trigger" not in response
    assert "Write a progress note or change the status." in response.content.decode()


def test_leader_cannot_update_another_functions_item(work, org, client_for):
    response = client_for(org["leader"]).post(
        f"/ownership/workspace/actions/{work['theirs'].pk}/update/", {"status": "done"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 403
    assert ActionItem.objects.get(pk=work["theirs"].pk).status == "open"
    assert not ActionUpdate.objects.filter(item=work["theirs"]).exists()


def test_plain_post_update_redirects_back_to_the_workspace(work, org, client_for):
    response = client_for(org["leader"]).post(
        f"/ownership/workspace/actions/{work['soon'].pk}/update/", {"text": "Drafted"}
    )
    assert response.status_code == 302 and response.url == "/ownership/workspace/"
    assert ActionUpdate.objects.get(item=work["soon"]).text == "Drafted"


def test_member_who_does_not_lead_sees_the_work_but_cannot_update(work, org, client_for):
    html = client_for(org["stakeholder"]).get("/ownership/workspace/").content.decode()
    assert "Switch on change date" in html and "Progress note" not in html


def test_scorecard_figures(work, org):
    now = datetime.now(UTC)
    issue = work["refunds"]
    # History: new for 4 days, reopened once, now investigating for 2 days.
    records = Issue.history.filter(id=issue.pk)
    records.update(history_date=now - timedelta(days=10))
    for state, days_ago in (("closed_effective", 6), ("reopened", 5), ("investigating", 2)):
        issue.state = state
        issue.save()
        latest = Issue.history.filter(id=issue.pk).latest("history_id")
        Issue.history.filter(history_id=latest.history_id).update(history_date=now - timedelta(days=days_ago))
    card = selectors.scorecard(function_ids=[org["billing"].pk], now=now)
    assert card["items_done"] == 2 and card["items_on_time"] == 1 and card["on_time_rate"] == 50
    assert card["overdue"] == 1 and card["blocked"] == 1
    assert card["issues_closed"] == 1 and card["issues_effective"] == 1 and card["effective_share"] == 100
    assert card["reopened"] == 1
    days = {row["state"]: row["days"] for row in card["state_days"]}
    assert days["reopened"] == pytest.approx(3) and days["investigating"] == pytest.approx(2)
    # "Slow refunds" spent 4 days new; "Mixed first bills" was created in "actions" and is still there.
    assert days["new"] == pytest.approx(4) and card["state_days"][0]["spells"] == 1
    assert next(r for r in card["state_days"] if r["state"] == "actions")["spells"] == 1


def test_days_per_state_in_sql_match_the_walk_over_history(work, org):
    now = datetime.now(UTC)
    issue = work["refunds"]
    Issue.history.filter(id=issue.pk).update(history_date=now - timedelta(days=10))
    # An edit that keeps "new" (7 days ago) extends its spell rather than starting another.
    for state, days_ago in (("new", 8), ("new", 7), ("investigating", 6), ("closed_effective", 5), ("reopened", 1)):
        issue.state = state
        issue.save()
        latest = Issue.history.filter(id=issue.pk).latest("history_id")
        Issue.history.filter(history_id=latest.history_id).update(history_date=now - timedelta(days=days_ago))
    history = Issue.history.filter(id__in=Issue.objects.values("pk"))
    walked = selectors.state_durations(
        history.order_by("id", "history_date", "history_id").values_list("id", "history_date", "state"), now=now
    )
    in_sql = selectors.state_days_in_sql(history, now=now)
    assert [(r["state"], r["spells"]) for r in in_sql] == [(r["state"], r["spells"]) for r in walked]
    assert [r["days"] for r in in_sql] == [
        pytest.approx(r["days"], abs=1e-5) if r["days"] is not None else None
        for r in walked  # SQLite: ms
    ]
    assert next(r for r in in_sql if r["state"] == "reopened")["days"] == pytest.approx(1, abs=1e-5)


def test_state_durations_merge_edits_that_keep_the_state():
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [(1, t0, "new"), (1, t0 + timedelta(days=1), "new"), (1, t0 + timedelta(days=3), "actions")]
    days = {r["state"]: r["days"] for r in selectors.state_durations(rows, now=t0 + timedelta(days=4))}
    assert days["new"] == pytest.approx(3) and days["actions"] == pytest.approx(1) and days["verifying"] is None


def test_workspace_keeps_a_constant_number_of_queries(work, org, client_for, django_assert_num_queries):
    client = client_for(org["leader"])
    client.get("/")
    with django_assert_num_queries(16):
        client.get("/")
    for i in range(10):
        issue = Issue.objects.create(title=f"More {i}", function=org["billing"], state=IssueState.NEW)
        issue.state = IssueState.INVESTIGATING
        issue.save()
        item = ActionItem.objects.create(
            issue=issue, title=f"Item {i}", function=org["billing"], owner=org["leader"], due_date="2026-01-01"
        )
        ActionUpdate.objects.create(item=item, author=org["leader"], text="note")
    with django_assert_num_queries(16):
        assert client.get("/").status_code == 200


def test_scorecard_api_defaults_to_the_callers_functions(work, org, api_for, django_assert_num_queries):
    api = api_for(org["leader"])
    with django_assert_num_queries(6):
        data = api.get("/api/ownership/scorecard/").json()
    assert data["functions"] == [org["billing"].pk]
    assert data["action_items"]["on_time_rate"] == 50 and data["action_items"]["overdue"] == 1
    assert data["issues"]["effective_share"] == 100 and "new" in data["average_days_in_state"]
    other = api.get("/api/ownership/scorecard/", {"function": org["logistics"].pk}).json()
    assert other["functions"] == [org["logistics"].pk] and other["action_items"]["overdue"] == 1
    assert api.get("/api/ownership/scorecard/", {"function": "x"}).status_code == 400


def test_scorecard_api_of_someone_without_functions_answers_empty_figures(work, org, api_for):
    response = api_for(org["admin"]).get("/api/ownership/scorecard/")
    assert response.status_code == 200, response.content  # was a 500 (EmptyResultSet in the SQL days)
    data = response.json()
    assert data["functions"] == [] and data["issues"]["open"] == 0


def test_workspace_shows_firing_alerts_on_the_leaders_metrics_only(work, org, client_for):
    from datetime import date

    from django.utils import timezone

    from alerts.models import Alert
    from alerts.tests.factories import metric_with, rule_on
    from metrics.models import Metric

    ours = metric_with(org, [80, 70])  # owned by Billing
    theirs = Metric.objects.create(
        name="Parcel NPS", slug="parcel-nps", calculator="nps", owning_function=org["logistics"]
    )
    for metric, name, state in (
        (ours, "Invoice CSAT red", "firing"),
        (ours, "Old resolved one", "resolved"),
        (theirs, "Parcel NPS red", "firing"),
    ):
        Alert.objects.create(
            rule=rule_on(metric, name=name),
            metric=metric,
            severity="critical",
            state=state,
            opened_period=date(2026, 1, 2),
            message="m",
            fired_at=timezone.now(),
        )
    html = client_for(org["leader"]).get("/ownership/workspace/").content.decode()
    assert "Alerts for you" in html and "Invoice CSAT red" in html
    assert "Old resolved one" not in html and "Parcel NPS red" not in html


@pytest.mark.parametrize("path, queries", [("/ownership/workspace/scorecard/", 7), ("/ownership/workspace/issues/", 4)])
def test_refreshed_fragments_keep_a_constant_number_of_queries(
    work, org, client_for, django_assert_num_queries, path, queries
):
    client = client_for(org["leader"])
    client.get(path)
    with django_assert_num_queries(queries):
        client.get(path)
    for i in range(6):
        issue = Issue.objects.create(title=f"More {i}", function=org["billing"], created_by=org["cx"])
        ActionItem.objects.create(issue=issue, title=f"Item {i}", function=org["billing"], due_date="2026-01-01")
    with django_assert_num_queries(queries):
        assert client.get(path).status_code == 200
