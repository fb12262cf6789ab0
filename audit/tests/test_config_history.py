"""Configuration changes leave history naming who made them (issue 12, point 6)."""

import pytest

from alerts import services as alert_services
from alerts.models import AlertRule
from cxgov import services as org_services
from cxgov.models import Role, User
from digests import services as digest_services
from digests.models import DigestDefault
from metrics import services as metric_services
from metrics.models import Metric
from outcomes.models import CustomerCategory
from rootcause import services as rootcause_services
from rootcause.models import DecisionPoint, KeyDriver, SubTheme, Workflow


def latest_change(model, pk):
    record = model.history.filter(id=pk).order_by("-history_id").first()
    previous = record.prev_record
    return record, ({c.field: (c.old, c.new) for c in record.diff_against(previous).changes} if previous else {})


@pytest.fixture
def metric(org):
    return metric_services.metric_save(
        user=org["admin"],
        metric=Metric(),
        fields={
            "name": "Invoice CSAT",
            "calculator": "csat",
            "kind": "outcome",
            "target": 80,
            "owning_function": org["billing"],
        },
    )


def test_role_change_records_the_administrator_and_the_old_and_new_role(org):
    person = User.objects.get(pk=org["stakeholder"].pk)
    org_services.person_save(
        user=org["admin"], person=person, fields={"role": Role.LEADER}, function_ids={org["billing"].pk}
    )
    record, changes = latest_change(User, person.pk)
    assert record.history_user == org["admin"]
    assert record.history_type == "~"
    assert changes["role"] == ("stakeholder", "leader")


def test_password_hash_is_never_kept_and_a_login_is_not_a_change(org, client):
    person = User.objects.get(pk=org["cx"].pk)
    org_services.person_save(user=org["admin"], person=person, fields={}, function_ids=set(), password="n3w-Secret!")
    record = User.history.filter(id=person.pk).order_by("-history_id").first()
    assert record.history_change_reason == "Password set"
    assert not hasattr(record, "password")
    before = User.history.filter(id=person.pk).count()
    client.force_login(person)  # updates last_login only
    assert User.history.filter(id=person.pk).count() == before


def test_metric_target_and_threshold_change_records_the_administrator(org, metric):
    metric_services.metric_save(
        user=org["admin"], metric=metric, fields={"target": 85, "amber_threshold": 82, "red_threshold": 75}
    )
    record, changes = latest_change(Metric, metric.pk)
    assert record.history_user == org["admin"]
    assert changes == {"target": (80, 85), "amber_threshold": (None, 82), "red_threshold": (None, 75)}


def test_recalculation_stamps_leave_no_history(org, metric):
    before = Metric.history.filter(id=metric.pk).count()
    metric_services.metric_record_failure(metric_id=metric.pk, error="boom")
    metric.refresh_from_db()
    metric.save(update_fields=["recalculated_at", "last_error"])
    assert Metric.history.filter(id=metric.pk).count() == before


def test_metric_deletion_records_who_deleted_it(org, metric):
    pk = metric.pk
    metric_services.metric_delete(user=org["admin"], metric=metric)
    record = Metric.history.filter(id=pk).order_by("-history_id").first()
    assert (record.history_type, record.history_user) == ("-", org["admin"])


def test_alert_rule_change_records_the_cx_team_member(org, metric):
    rule = alert_services.rule_save(
        user=org["cx"], rule=AlertRule(metric=metric), fields={"name": "Below target", "kind": "target"}
    )
    alert_services.rule_save(user=org["admin"], rule=rule, fields={"min_periods": 3})
    record, changes = latest_change(AlertRule, rule.pk)
    assert record.history_user == org["admin"]
    assert changes == {"min_periods": (1, 3)}
    assert AlertRule.history.get(id=rule.pk, history_type="+").history_user == org["cx"]
    pk = rule.pk
    alert_services.rule_delete(user=org["cx"], rule=rule)
    assert AlertRule.history.get(id=pk, history_type="-").history_user == org["cx"]


def test_subscribing_people_to_an_alert_rule_is_recorded_with_who_did_it(org, metric):
    rule = alert_services.rule_save(
        user=org["cx"],
        rule=AlertRule(metric=metric),
        fields={"name": "Below target", "kind": "target"},
        subscribers=[org["leader"]],
    )
    alert_services.rule_save(user=org["admin"], rule=rule, fields={}, subscribers=[org["stakeholder"]])
    reasons = list(
        AlertRule.history.filter(id=rule.pk)
        .order_by("history_id")
        .values_list("history_type", "history_user", "history_change_reason")
    )
    assert reasons == [
        ("+", org["cx"].pk, "Subscribed Leader"),
        ("~", org["admin"].pk, "Subscribed Stakeholder; Unsubscribed Leader"),
    ]


def test_taxonomy_changes_record_who_edited_the_matching_rules(org):
    driver = rootcause_services.theme_save(user=org["cx"], instance=KeyDriver(), fields={"name": "Billing"})
    theme = rootcause_services.theme_save(
        user=org["cx"], instance=SubTheme(driver=driver), fields={"name": "Wrong amount", "keywords": "overcharged"}
    )
    rootcause_services.theme_save(user=org["admin"], instance=theme, fields={"keywords": "overcharged\ncharged twice"})
    record, changes = latest_change(SubTheme, theme.pk)
    assert record.history_user == org["admin"]
    assert changes == {"keywords": ("overcharged", "overcharged\ncharged twice")}
    assert KeyDriver.history.get(id=driver.pk).history_user == org["cx"]


def test_workflow_and_decision_point_changes_record_the_leader(org):
    workflow = rootcause_services.workflow_save(
        user=org["leader"], workflow=Workflow(), fields={"name": "Invoice run", "function": org["billing"]}
    )
    point = rootcause_services.decision_point_save(
        user=org["leader"], point=DecisionPoint(workflow=workflow), fields={"rule": "Invoices wait for month end"}
    )
    rootcause_services.decision_point_save(user=org["cx"], point=point, fields={"kind": "strategic"})
    record, changes = latest_change(DecisionPoint, point.pk)
    assert record.history_user == org["cx"]
    assert changes == {"kind": ("operational", "strategic")}
    assert Workflow.history.get(id=workflow.pk).history_user == org["leader"]
    assert DecisionPoint.history.get(id=point.pk, history_type="+").history_user == org["leader"]


def test_customer_category_change_through_the_api_records_the_caller(org, api_for):
    api = api_for(org["cx"])
    assert (
        api.post(
            "/api/customer-categories/", {"name": "Small business", "slug": "small-business"}, format="json"
        ).status_code
        == 201
    )
    category = CustomerCategory.objects.get(name="Small business")
    response = api.patch(f"/api/customer-categories/{category.slug}/", {"data_category": "SMB"}, format="json")
    assert response.status_code == 200, response.content
    record, changes = latest_change(CustomerCategory, category.pk)
    assert record.history_user == org["cx"]
    assert changes == {"data_category": ("", "SMB")}


def test_digest_default_change_records_the_administrator(org):
    digest_services.default_save(user=org["admin"], role=Role.LEADER, fields={"frequency": "daily", "hour": 7})
    digest_services.default_save(user=org["admin"], role=Role.LEADER, fields={"hour": 9})
    default = DigestDefault.objects.get(role=Role.LEADER)
    record, changes = latest_change(DigestDefault, default.pk)
    assert record.history_user == org["admin"]
    assert changes == {"hour": (7, 9)}


def test_function_and_membership_changes_record_the_administrator(org):
    function = org_services.function_save(user=org["admin"], function=org["care"], fields={"customer_facing": False})
    assert function.history.order_by("-history_id").first().history_user == org["admin"]
    org_services.membership_set(user=org["admin"], person=org["cx"], function_ids={org["care"].pk})
    membership = org["cx"].memberships.get()
    assert membership.history.get().history_user == org["admin"]


def test_saving_without_a_change_leaves_no_record(org, metric):
    metric_before = Metric.history.filter(id=metric.pk).count()
    register_before = org["billing"].accountabilities.model.history.count()
    metric_services.metric_save(user=org["admin"], metric=metric, fields={"target": 80})
    assert Metric.history.filter(id=metric.pk).count() == metric_before
    assert org["billing"].accountabilities.model.history.count() == register_before


def test_deleting_a_category_a_function_and_a_membership_records_who_did_it(org):
    from outcomes import services as outcome_services

    category = outcome_services.category_save(user=org["cx"], category=CustomerCategory(), fields={"name": "SMB"})
    pk = category.pk
    outcome_services.category_delete(user=org["admin"], category=category)
    assert CustomerCategory.history.get(id=pk, history_type="-").history_user == org["admin"]

    membership = org["stakeholder"].memberships.get()
    membership_pk = membership.pk
    org_services.membership_delete(user=org["admin"], membership=membership)
    assert membership.history.model.objects.get(id=membership_pk, history_type="-").history_user == org["admin"]

    care = org["care"]
    care_pk = care.pk
    org_services.function_delete(user=org["admin"], function=care)
    assert care.history.model.objects.get(id=care_pk, history_type="-").history_user == org["admin"]
