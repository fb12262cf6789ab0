"""The alert-rule form, one kind at a time: a new rule starts by choosing its kind, the form then
shows only that kind's settings, and a preview runs the evaluation engine over the metric's
history without saving, finding what saving and replaying the rule records. Rules are listed
under the Alerts menu."""

import re

import pytest
from django.utils import timezone

from alerts import selectors, services
from alerts.models import Alert, AlertRule, Evaluation
from alerts.tests.factories import day, metric_with, rule_on
from alerts.tests.test_charts import NIST_WAFER_DEFECTS

pytestmark = pytest.mark.django_db


def _field_names(html: str) -> set[str]:
    form = html[html.index('id="rule-form"') : html.index("</form>", html.index('id="rule-form"'))]
    return set(re.findall(r'name="([a-z_]+)"', form)) - {"csrfmiddlewaretoken", "preview"}


COMMON = {
    "name",
    "kind",
    "severity",
    "segment",
    "min_periods",
    "clear_periods",
    "notify_owner",
    "subscribers",
    "active",
}


def test_a_new_rule_starts_by_choosing_its_kind(org, client_for):
    metric = metric_with(org, [80, 81])
    html = client_for(org["cx"]).get(f"/alerts/metric/{metric.slug}/new/").content.decode()
    assert 'id="rule-form"' not in html
    for kind in ("threshold", "target", "change", "control", "missing"):
        assert f'href="?kind={kind}"' in html


@pytest.mark.parametrize(
    ("kind", "own"),
    [
        ("threshold", {"level", "hysteresis"}),
        ("target", {"hysteresis"}),
        ("change", {"comparison", "change_mode", "change_limit", "hysteresis"}),
        ("control", {"chart", "chart_tests", "baseline_from", "baseline_to", "chart_periods", "provisional_periods"}),
        ("missing", set()),
    ],
)
def test_the_form_shows_only_the_chosen_kinds_fields(org, client_for, kind, own):
    metric = metric_with(org, [80, 81])
    html = client_for(org["cx"]).get(f"/alerts/metric/{metric.slug}/new/", {"kind": kind}).content.decode()
    assert _field_names(html) == COMMON | own
    assert '<input type="hidden" name="kind" value="%s"' % kind in html  # noqa: UP031


def test_editing_a_rule_shows_its_own_kind_and_can_switch(org, client_for):
    metric = metric_with(org, [80, 81])
    rule = rule_on(metric, kind="change", change_limit=3)
    client = client_for(org["admin"])
    html = client.get(f"/alerts/rules/{rule.pk}/edit/").content.decode()
    assert "change_limit" in _field_names(html) and "chart" not in _field_names(html)
    switched = client.get(f"/alerts/rules/{rule.pk}/edit/", {"kind": "threshold"}).content.decode()
    assert _field_names(switched) == COMMON | {"level", "hysteresis"}


def test_a_posted_kind_other_than_the_pages_is_refused(org, client_for):
    metric = metric_with(org, [80, 81])
    rule = rule_on(metric, kind="change", change_limit=3)
    body = {"name": "x", "kind": "change", "severity": "warning", "min_periods": 1, "clear_periods": 1}
    response = client_for(org["admin"]).post(f"/alerts/rules/{rule.pk}/edit/?kind=control", {**body, "kind": "bogus"})
    assert response.status_code == 200 and AlertRule.objects.get(pk=rule.pk).kind == "change"


def _c_chart_metric(org):
    return metric_with(
        org,
        NIST_WAFER_DEFECTS,
        name="Wafer defects",
        slug="wafer-defects",
        calculator="count",
        kind="output",
        direction="lower",
        target=None,
        amber_threshold=None,
        red_threshold=None,
        unit="",
    )


CONTROL = {
    "name": "Out of control",
    "kind": "control",
    "severity": "critical",
    "chart": "c",
    "chart_tests": ["1"],
    "min_periods": "1",
    "clear_periods": "1",
    "notify_owner": "on",
    "active": "on",
}


def _saved_and_replayed(client, metric, body, today) -> list[tuple]:
    Evaluation.objects.all().delete()
    response = client.post(f"/alerts/metric/{metric.slug}/new/?kind={body['kind']}", body)
    assert response.status_code == 302, response.content.decode()[:2000]
    services.evaluation_run(evaluation_id=Evaluation.objects.get(metric=metric).pk, today=today)
    rule = AlertRule.objects.get(metric=metric, name=body["name"])
    return list(rule.alerts.order_by("opened_period").values_list("opened_period", "resolved_period"))


def test_preview_of_the_nist_c_chart_matches_what_saving_and_replay_record(org, client_for):
    metric = _c_chart_metric(org)
    client = client_for(org["cx"])
    html = client.get(f"/alerts/metric/{metric.slug}/new/preview/", CONTROL).content.decode()
    # NIST 6.3.3.1: point 24 (31 defects) beyond UCL 28 fires; point 25 resolves it.
    assert "it would have fired <strong>1 time</strong>" in html
    assert '24 Jan 2026</td><td class="text-nowrap">25 Jan 2026' in html and "Western Electric rule 1" in html
    assert '"fired": [' in html and "alert-chart-data" in html
    assert not AlertRule.objects.exists() and not Alert.objects.exists()  # the preview saves nothing
    today = timezone.localdate()
    preview = selectors.rule_preview(
        rule=services.rule_check(
            user=org["cx"],
            rule=AlertRule(metric=metric),
            fields={"name": "p", "kind": "control", "severity": "critical", "chart": "c", "chart_tests": [1]},
        ),
        today=today,
    )
    assert [(e["opened"], e["resolved"]) for e in preview["episodes"]] == [(day(23), day(24))]
    assert _saved_and_replayed(client, metric, CONTROL, today) == [(day(23), day(24))]


def test_preview_of_an_episode_still_open_matches_the_alert_saving_fires(org, client_for):
    # Red at 72 (higher is better): red on days 1-2 (resolved day 3), red again from day 5 on.
    metric = metric_with(org, [80, 70, 71, 85, 80, 60, 65])
    client = client_for(org["cx"])
    body = {"name": "Red", "kind": "threshold", "severity": "warning", "level": "red", "min_periods": "1"}
    body |= {"clear_periods": "1", "hysteresis": "0", "notify_owner": "on", "active": "on"}
    html = client.get(f"/alerts/metric/{metric.slug}/new/preview/", body).content.decode()
    assert "it would have fired <strong>2 times</strong>, and is firing now" in html and "still firing" in html
    today = timezone.localdate()
    preview = selectors.rule_preview(
        rule=services.rule_check(
            user=org["cx"], rule=AlertRule(metric=metric), fields={"name": "p", "kind": "threshold", "level": "red"}
        ),
        today=today,
    )
    expected = [(day(1), day(3)), (day(5), None)]
    assert [(e["opened"], e["resolved"]) for e in preview["episodes"]] == expected
    assert _saved_and_replayed(client, metric, body, today) == expected


def test_preview_names_the_fields_to_fix(org, client_for):
    metric = metric_with(org, [80, 81])
    body = {"name": "Drop", "kind": "change", "severity": "warning", "min_periods": "1", "clear_periods": "1"}
    html = client_for(org["cx"]).get(f"/alerts/metric/{metric.slug}/new/preview/", body).content.decode()
    assert 'data-field="hysteresis"><span class="fw-semibold">Margin to resolve (hysteresis)</span>: This field' in html
    html = (
        client_for(org["cx"])
        .get(f"/alerts/metric/{metric.slug}/new/preview/", {**body, "hysteresis": "0"})
        .content.decode()
    )
    assert '<li data-field="change_limit"><span class="fw-semibold">Change that fires</span>: Give the change' in html


def test_the_preview_button_works_without_javascript(org, client_for):
    metric = _c_chart_metric(org)
    html = client_for(org["cx"]).get(f"/alerts/metric/{metric.slug}/new/", {**CONTROL, "preview": "1"})
    assert "it would have fired <strong>1 time</strong>" in html.content.decode()
    assert not AlertRule.objects.exists()


def test_only_rule_writers_preview(org, client_for):
    metric = metric_with(org, [80, 81])
    client = client_for(org["stakeholder"])
    assert client.get(f"/alerts/metric/{metric.slug}/new/preview/", {"kind": "target"}).status_code == 403
    assert client.get(f"/alerts/metric/{metric.slug}/new/", {"kind": "target"}).status_code == 403


def test_rules_are_listed_under_the_alerts_menu(org, client_for, django_assert_max_num_queries):
    from metrics.models import Metric

    metric = metric_with(org, [80, 81])
    rule_on(metric, kind="target", name="Below target")
    Metric.objects.create(name="Churn", slug="churn", calculator="count", kind="business")
    client = client_for(org["stakeholder"])
    assert 'href="/alerts/rules/"' in client.get("/alerts/").content.decode()  # the menu
    html = client.get("/alerts/rules/").content.decode()
    assert "Below target" in html and "Invoice CSAT" in html and "Churn" in html and "New rule" not in html
    assert html.index("Invoice CSAT") < html.index("Churn")  # metrics with rules first
    assert "New rule" in client_for(org["cx"]).get("/alerts/rules/").content.decode()
    for i in range(5):
        other = metric_with(org, [1, 2], name=f"M{i}", slug=f"m{i}")
        rule_on(other, kind="target", name=f"R{i}")
    with django_assert_max_num_queries(12):
        client.get("/alerts/rules/")
