"""The audit trail page and API: administrators read who changed the configuration and what."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts import services as alert_services
from alerts.models import AlertRule
from cxgov import services as org_services
from cxgov.lib.history import record_as
from cxgov.models import Role, User
from digests import services as digest_services
from metrics import services as metric_services
from metrics.models import Metric
from outcomes.models import CustomerCategory
from rootcause import services as rootcause_services
from rootcause.models import DecisionPoint, KeyDriver, SubTheme, Workflow


@pytest.fixture
def metric(org):
    return metric_services.metric_save(
        user=org["admin"],
        metric=Metric(),
        fields={"name": "Invoice CSAT", "calculator": "csat", "kind": "outcome", "target": 80},
    )


def test_administrator_reads_changes_newest_first_with_who_and_the_diff(org, client_for, metric):
    metric_services.metric_save(user=org["admin"], metric=metric, fields={"target": 85})
    digest_services.default_save(user=org["admin"], role=Role.LEADER, fields={"hour": 7})
    response = client_for(org["admin"]).get("/audit/")
    assert response.status_code == 200
    entries = response.context["entries"]
    assert [(e.model, e.action) for e in entries[:3]] == [
        ("digests.digestdefault", "created"),
        ("metrics.metric", "changed"),
        ("metrics.metric", "created"),
    ]
    target = entries[1]
    assert target.user == org["admin"] and target.object == "Invoice CSAT"
    assert [(c.field, c.old, c.new) for c in target.changes] == [("target", "80.0", "85.0")]
    html = response.content.decode()
    assert "Audit trail" in html and "Invoice CSAT" in html and "85.0" in html


def test_foreign_keys_and_choices_are_shown_by_name(org, client_for, metric):
    metric_services.metric_save(user=org["admin"], metric=metric, fields={"owning_function": org["logistics"]})
    person = User.objects.get(pk=org["stakeholder"].pk)
    org_services.person_save(user=org["admin"], person=person, fields={"role": Role.LEADER}, function_ids=set())
    entries = client_for(org["admin"]).get("/audit/").context["entries"]
    role = next(e for e in entries if e.model == "cxgov.user")
    assert [(c.label, c.old, c.new) for c in role.changes] == [("Role", "Stakeholder", "Functional leader")]
    owner = next(e for e in entries if e.model == "metrics.metric" and e.action == "changed")
    assert [(c.field, c.old, c.new) for c in owner.changes] == [("owning_function", None, "Logistics")]


def test_rules_of_several_lines_show_the_lines_added_and_removed(org, client_for):
    driver = rootcause_services.theme_save(user=org["cx"], instance=KeyDriver(), fields={"name": "Billing"})
    theme = rootcause_services.theme_save(
        user=org["cx"],
        instance=SubTheme(driver=driver),
        fields={"name": "Wrong amount", "keywords": "overcharged\nbilled twice"},
    )
    rootcause_services.theme_save(user=org["cx"], instance=theme, fields={"keywords": "overcharged\ncharged twice"})
    response = client_for(org["admin"]).get("/audit/", {"model": "rootcause.subtheme", "action": "changed"})
    [entry] = response.context["entries"]
    [change] = entry.changes
    assert (change.lines_removed, change.lines_added) == (["billed twice"], ["charged twice"])
    html = response.content.decode()
    assert "− billed twice" in html and "+ charged twice" in html and "Sub-theme" in html


@pytest.mark.parametrize("username", ["cx", "leader", "stakeholder"])
def test_only_administrators_read_the_audit_trail(org, client_for, api_for, username):
    assert client_for(org[username]).get("/audit/").status_code == 403
    response = api_for(org[username]).get("/api/audit/")
    assert response.status_code == 403
    assert response.json() == {"detail": "Only administrators read the audit trail."}


def test_the_trail_is_read_only(org, client_for, api_for):
    assert client_for(org["admin"]).post("/audit/").status_code == 405
    assert api_for(org["admin"]).post("/api/audit/", {}, format="json").status_code == 405


def test_anonymous_visitors_are_sent_to_log_in(db, client):
    response = client.get("/audit/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.get("/api/audit/").status_code in (401, 403)


def test_only_administrators_see_the_link(org, client_for):
    assert 'href="/audit/"' in client_for(org["admin"]).get("/").content.decode()
    assert 'href="/audit/"' not in client_for(org["cx"]).get("/").content.decode()


def test_trail_filters_by_kind_person_and_action(org, client_for, api_for, metric):
    rule = alert_services.rule_save(
        user=org["cx"], rule=AlertRule(metric=metric), fields={"name": "Below target", "kind": "target"}
    )
    alert_services.rule_save(user=org["admin"], rule=rule, fields={"min_periods": 2})
    page = client_for(org["admin"]).get("/audit/", {"model": "alerts.alertrule", "user": org["cx"].pk})
    assert [(e.model, e.user, e.action) for e in page.context["entries"]] == [
        ("alerts.alertrule", org["cx"], "created")
    ]
    body = api_for(org["admin"]).get("/api/audit/", {"model": "alerts.alertrule", "action": "changed"}).json()
    assert body["count"] == 1
    [entry] = body["results"]
    assert entry["user"] == {"id": org["admin"].pk, "name": str(org["admin"])}
    assert entry["changes"] == [{"field": "min_periods", "label": "Min periods", "old": "1", "new": "2"}]
    assert entry["object"] == "Below target" and entry["kind"] == "Alert rule"


def test_unknown_filters_get_a_clear_error(org, client_for, api_for):
    response = api_for(org["admin"]).get("/api/audit/", {"model": "cxgov.heartbeat", "action": "renamed"})
    assert response.status_code == 400
    assert set(response.json()) == {"model", "action"}
    page = client_for(org["admin"]).get("/audit/", {"model": "cxgov.heartbeat"})
    assert page.status_code == 200 and "Select a valid choice" in page.content.decode()


def test_deletions_are_listed_with_who_deleted(org, api_for, metric):
    metric_services.metric_delete(user=org["admin"], metric=metric)
    body = api_for(org["admin"]).get("/api/audit/", {"model": "metrics.metric", "action": "deleted"}).json()
    assert [(r["object"], r["user"]["id"]) for r in body["results"]] == [("Invoice CSAT", org["admin"].pk)]


def _round(org, objects, i):
    """One change to each kind of configuration, made through the services."""
    admin, cx = org["admin"], org["cx"]
    person = User.objects.get(pk=org["stakeholder"].pk)
    org_services.person_save(
        user=admin, person=person, fields={"title": f"Title {i}"}, function_ids={org["billing"].pk}
    )
    org_services.membership_set(user=admin, person=org["cx"], function_ids={org["care"].pk} if i % 2 else set())
    org_services.function_save(user=admin, function=org["care"], fields={"leader": org["cx"] if i % 2 else None})
    owner = org["logistics"] if i % 2 else org["billing"]
    metric_services.metric_save(
        user=admin, metric=objects["metric"], fields={"target": 80 + i, "owning_function": owner}
    )
    alert_services.rule_save(user=cx, rule=objects["rule"], fields={"min_periods": 1 + i})
    rootcause_services.theme_save(user=cx, instance=objects["driver"], fields={"description": f"d{i}"})
    rootcause_services.theme_save(user=cx, instance=objects["theme"], fields={"keywords": f"word{i}"})
    rootcause_services.workflow_save(user=cx, workflow=objects["workflow"], fields={"description": f"w{i}"})
    rootcause_services.decision_point_save(user=cx, point=objects["point"], fields={"description": f"p{i}"})
    category = objects["category"]
    category.description = f"c{i}"
    record_as(category, cx).save()
    digest_services.default_save(user=admin, role=Role.LEADER, fields={"hour": i % 24})


@pytest.fixture
def configuration(org, metric):
    driver = rootcause_services.theme_save(user=org["cx"], instance=KeyDriver(), fields={"name": "Billing"})
    workflow = Workflow.objects.create(name="Invoice run", function=org["billing"])
    return {
        "metric": metric,
        "rule": AlertRule.objects.create(metric=metric, name="Below target", kind="target"),
        "driver": driver,
        "theme": SubTheme.objects.create(driver=driver, name="Wrong amount", slug="wrong-amount", keywords="x"),
        "workflow": workflow,
        "point": DecisionPoint.objects.create(workflow=workflow, rule="Month end"),
        "category": CustomerCategory.objects.create(name="SMB", slug="smb"),
    }


def _queries(client, url):
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context)


# Session and user (2), count and page of the union (2), one per audited model on the page (12),
# one per kind of object the diffs name (functions, people: 2), the page's "changed by" list (1).
@pytest.mark.parametrize(("url", "queries"), [("/audit/", 19), ("/api/audit/", 18)])
def test_audit_trail_keeps_a_constant_number_of_queries(
    org, client_for, configuration, django_assert_num_queries, url, queries
):
    client = client_for(org["admin"])
    for i in range(5):
        _round(org, configuration, i)
    few = _queries(client, url)
    for i in range(5, 20):
        _round(org, configuration, i)
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200
    assert few == queries


def test_object_older_than_the_trail_shows_its_values_after_the_first_recorded_change(org, api_for):
    category = CustomerCategory(name="Enterprise", slug="enterprise", data_category="Two year")
    category.save_without_historical_record()
    category.data_category = "Two-year contract"
    record_as(category, org["cx"]).save()
    [entry] = api_for(org["admin"]).get("/api/audit/", {"model": "outcomes.customercategory"}).json()["results"]
    assert entry["first_record"] is True and entry["action"] == "changed"
    assert {c["field"]: c["new"] for c in entry["changes"]} == {
        "name": "Enterprise",
        "slug": "enterprise",
        "data_category": "Two-year contract",
    }


def test_a_page_past_the_end_is_not_found(org, api_for, client_for):
    assert api_for(org["admin"]).get("/api/audit/", {"page": 99}).status_code == 404
    assert client_for(org["admin"]).get("/audit/", {"page": 99}).status_code == 200
