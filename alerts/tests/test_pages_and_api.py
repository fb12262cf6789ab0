"""Alert pages and API: who may write rules, acknowledge and mute; escaping; constant queries."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from alerts import services
from alerts.models import Alert, AlertRule
from alerts.tests.factories import day, metric_with, rule_on

pytestmark = pytest.mark.django_db


@pytest.fixture
def firing(org):
    metric = metric_with(org, [80, 70])
    rule = rule_on(metric, level="red", name="<b>CSAT</b> red", subscribers=[org["stakeholder"]])
    services.metric_evaluate(metric=metric, today=day(2))
    return Alert.objects.get(rule=rule)


def _many_alerts(org, count):
    """``count`` more metrics, each with a rule and a firing alert sent to the leader."""
    for i in range(count):
        metric = metric_with(org, [80, 70], name=f"Metric {i}", slug=f"metric-{i}")
        rule_on(metric, level="red", subscribers=[org["cx"]])
        services.metric_evaluate(metric=metric, today=day(2))


@pytest.mark.parametrize("username", ["admin", "cx"])
def test_administrators_and_cx_write_rules_through_the_form(org, client_for, username):
    metric = metric_with(org, [80, 70])
    client = client_for(org[username])
    response = client.post(
        f"/alerts/metric/{metric.slug}/new/",
        {
            "name": "Red CSAT",
            "kind": "threshold",
            "severity": "critical",
            "level": "red",
            "min_periods": 1,
            "clear_periods": 2,
            "hysteresis": 1.5,
            "notify_owner": "on",
            "active": "on",
            "subscribers": [org["stakeholder"].pk],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = AlertRule.objects.get()
    assert (rule.clear_periods, rule.hysteresis, rule.created_by) == (2, 1.5, org[username])
    assert list(rule.subscribers.all()) == [org["stakeholder"]]


@pytest.mark.parametrize("username", ["leader", "stakeholder"])
def test_leaders_and_stakeholders_read_rules_but_cannot_write_them(org, client_for, username, firing):
    client = client_for(org[username])
    page = client.get(f"/alerts/metric/{firing.metric.slug}/")
    assert page.status_code == 200 and b"New rule" not in page.content
    assert client.get(f"/alerts/metric/{firing.metric.slug}/new/").status_code == 403
    assert client.post(f"/alerts/rules/{firing.rule_id}/delete/").status_code == 403


def test_a_rule_needing_a_target_on_a_metric_without_one_gets_a_clear_error(org, client_for):
    metric = metric_with(org, [80], target=None, amber_threshold=None, red_threshold=None)
    response = client_for(org["cx"]).post(
        f"/alerts/metric/{metric.slug}/new/",
        {
            "name": "Missed",
            "kind": "target",
            "severity": "warning",
            "min_periods": 3,
            "clear_periods": 1,
            "hysteresis": 0,
            "active": "on",
        },
    )
    assert response.status_code == 200
    assert "has no target" in response.content.decode()
    assert not AlertRule.objects.exists()


def test_change_rule_needs_a_positive_change(org):
    metric = metric_with(org, [80])
    with pytest.raises(services.ValidationError, match="above zero"):
        services.rule_save(user=org["admin"], rule=AlertRule(metric=metric), fields={"name": "x", "kind": "change"})


def test_owner_cx_and_admin_acknowledge_others_may_not(org, client_for, firing):
    for username in ("other_leader", "stakeholder"):
        assert client_for(org[username]).post(f"/alerts/{firing.pk}/acknowledge/").status_code == 403
    response = client_for(org["leader"]).post(f"/alerts/{firing.pk}/acknowledge/")
    assert response.status_code == 302
    firing.refresh_from_db()
    assert firing.acknowledged_by == org["leader"]
    assert list(firing.events.values_list("kind", flat=True)) == ["fired", "acknowledged"]


def test_mute_until_a_date_and_bad_dates_are_refused(org, client_for, firing):
    client = client_for(org["leader"])
    past = timezone.localdate() - timedelta(days=1)
    client.post(f"/alerts/{firing.pk}/mute/", {"until": past.isoformat()})
    firing.rule.refresh_from_db()
    assert firing.rule.muted_until is None
    until = timezone.localdate() + timedelta(days=7)
    response = client.post(f"/alerts/{firing.pk}/mute/", {"until": until.isoformat()}, follow=True)
    assert "muted until" in response.content.decode()
    firing.rule.refresh_from_db()
    assert firing.rule.muted_until == until
    assert client.post(f"/alerts/{firing.pk}/mute/", {"until": "soon"}, follow=True).status_code == 200


def test_alert_detail_escapes_text_shows_history_chart_and_issue_link(org, client_for, firing):
    html = client_for(org["stakeholder"]).get(f"/alerts/{firing.pk}/").content.decode()
    assert "<b>CSAT</b>" not in html and "&lt;b&gt;CSAT&lt;/b&gt; red" in html
    assert 'id="alert-chart-data"' in html and "History" in html
    assert "Open a root-cause issue" in html


def test_one_click_from_an_alert_opens_a_prefilled_root_cause_issue(org, client_for, firing):
    from alerts import emails
    from rootcause.models import Issue

    link = emails.issue_link(firing)
    assert link == f"/rootcause/issues/new/?metric={firing.metric_id}&period=2026-01-02&alert={firing.pk}"
    client = client_for(org["cx"])
    form = client.get(link).context["form"]
    assert form.initial["metric"] == firing.metric and str(form.initial["period"]) == "2026-01-02"
    response = client.post(
        link,
        {
            "title": "CSAT dropped",
            "metric": firing.metric_id,
            "period": "2026-01-02",
            "priority": "high",
            "expected_improvement": 20,
            "measure_kind": "metric",
            "alert": firing.pk,
        },
    )
    issue = Issue.objects.get(title="CSAT dropped")
    assert response.status_code == 302 and issue.alert_id == firing.pk and issue.evidence["metric"]["period"]


def test_inbox_tabs(org, client_for, firing):
    other = metric_with(org, [80, 70], name="Delivery", slug="delivery", owning_function=org["logistics"])
    rule_on(other, level="red")
    services.metric_evaluate(metric=other, today=day(2))
    client = client_for(org["leader"])
    mine = client.get("/alerts/?scope=mine").content.decode()
    functions = client.get("/alerts/?scope=functions").content.decode()
    everything = client.get("/alerts/?scope=all").content.decode()
    assert "Invoice CSAT" in mine and "Delivery" not in mine
    assert "Invoice CSAT" in functions and "Delivery" not in functions
    assert "Invoice CSAT" in everything and "Delivery" in everything
    assert "Invoice CSAT" not in client.get("/alerts/?scope=all&state=resolved").content.decode()
    assert "Delivery" in client_for(org["other_leader"]).get("/alerts/").content.decode()


@pytest.mark.parametrize(
    ("url", "queries"),
    [
        ("/alerts/?scope=mine", 5),
        ("/alerts/?scope=functions", 5),
        ("/alerts/?scope=all", 4),
        ("/alerts/{alert}/", 9),
        ("/alerts/metric/{slug}/", 7),
        ("/api/alerts/?scope=mine", 5),
        ("/api/alert-rules/", 5),
    ],
)
def test_alert_pages_keep_a_constant_number_of_queries(
    org, client_for, django_assert_num_queries, firing, url, queries
):
    client = client_for(org["leader"])
    url = url.format(alert=firing.pk, slug=firing.metric.slug)
    for more in (0, 5):
        _many_alerts(org, more)
        for extra in range(more):
            rule_on(firing.metric, level="amber", name=f"extra {more}-{extra}", subscribers=[org["cx"], org["admin"]])
        services.metric_evaluate(metric=firing.metric, today=day(2))
        with django_assert_num_queries(queries):
            assert client.get(url).status_code == 200


def test_api_rules_written_by_cx_refused_to_leaders(org, api_for):
    metric = metric_with(org, [80, 70])
    body = {"metric": metric.pk, "name": "Red", "kind": "threshold", "level": "red", "severity": "critical"}
    assert api_for(org["leader"]).post("/api/alert-rules/", body, format="json").status_code == 403
    response = api_for(org["cx"]).post("/api/alert-rules/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["level"] == "red"
    bad = api_for(org["cx"]).post("/api/alert-rules/", {**body, "name": "Change", "kind": "change"}, format="json")
    assert bad.status_code == 400 and "change_limit" in bad.json()
    assert api_for(org["stakeholder"]).get(f"/api/alert-rules/?metric={metric.pk}").json()["count"] == 1


def test_api_alerts_filter_acknowledge_and_mute(org, api_for, firing):
    api = api_for(org["leader"])
    assert api.get("/api/alerts/?state=firing").json()["count"] == 1
    assert api.get("/api/alerts/?state=resolved").json()["count"] == 0
    assert api.get(f"/api/alerts/?metric={firing.metric_id}&scope=mine").json()["count"] == 1
    assert api_for(org["other_leader"]).post(f"/api/alerts/{firing.pk}/acknowledge/").status_code == 403
    response = api.post(f"/api/alerts/{firing.pk}/acknowledge/")
    assert response.status_code == 200 and response.json()["acknowledged_by"] == org["leader"].pk
    until = (timezone.localdate() + timedelta(days=3)).isoformat()
    assert api.post(f"/api/alerts/{firing.pk}/mute/", {"until": until}, format="json").status_code == 200
    assert AlertRule.objects.get().muted_until == date.fromisoformat(until)
    assert api.post(f"/api/alerts/{firing.pk}/mute/", {"until": "2001-01-01"}, format="json").status_code == 400
    assert api.post(f"/api/alerts/{firing.pk}/mute/", {}, format="json").status_code == 400


def test_inbox_marks_alerts_not_yet_opened_as_new(org, client_for, firing):
    client = client_for(org["leader"])
    assert ">New</span>" in client.get("/alerts/").content.decode()
    client.get(f"/alerts/{firing.pk}/")
    assert ">New</span>" not in client.get("/alerts/").content.decode()
    assert ">New</span>" in client_for(org["stakeholder"]).get("/alerts/").content.decode()
