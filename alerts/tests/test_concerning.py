"""One selector answers "which alerts concern this person"; the leader's home, her inbox and her
digest preview all use it, so they agree about firing alerts. Messages carry their units."""

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts import services
from alerts.models import Alert, Delivery
from alerts.tests.factories import day, metric_with, rule_on

pytestmark = pytest.mark.django_db


def _firing(metric, rule, name):
    return Alert.objects.create(
        rule=rule,
        metric=metric,
        severity="critical",
        opened_period=day(3),
        message=f"{name} fired",
        fired_at=timezone.now() - timezone.timedelta(days=10),  # long before the last digest
    )


def _pages(client, user):
    client.force_login(user)
    home = client.get("/").content.decode()
    inbox = client.get("/alerts/?scope=mine&state=firing").content.decode()
    digest = client.get("/digests/preview/").content.decode()
    return home, inbox, digest


def test_home_inbox_and_digest_agree_about_the_firing_alerts_that_concern_the_leader(org, client):
    # On a metric another function owns, the leader subscribes to the rule and was emailed.
    theirs = metric_with(org, [80], name="Delivery CSAT", slug="delivery-csat", owning_function=org["logistics"])
    emailed = _firing(theirs, rule_on(theirs, name="Delivery CSAT red", subscribers=[org["leader"]]), "emailed")
    Delivery.objects.create(alert=emailed, recipient=org["leader"], kind="fire", created_at=timezone.now())
    # On her own function's metric, nobody was emailed (notify_owner off).
    own = metric_with(org, [80])
    _firing(own, rule_on(own, name="Invoice CSAT red", notify_owner=False), "own")
    # Neither hers nor sent to her.
    other = metric_with(org, [80], name="Parcel NPS", slug="parcel-nps", owning_function=org["logistics"])
    _firing(other, rule_on(other, name="Parcel NPS red"), "other")

    home, inbox, digest = _pages(client, org["leader"])
    for page in (home, inbox, digest):
        assert "Delivery CSAT red" in page and "Invoice CSAT red" in page
        assert "Parcel NPS red" not in page
    assert "No alert that concerns you is firing" not in home
    assert "Nothing calls for attention" not in digest


def test_with_nothing_firing_all_three_say_so(org, client):
    own = metric_with(org, [80])
    alert = _firing(own, rule_on(own, name="Invoice CSAT red"), "own")
    Alert.objects.filter(pk=alert.pk).update(
        state="resolved", resolved_period=day(4), resolved_at=timezone.now() - timezone.timedelta(days=9)
    )
    home, inbox, digest = _pages(client, org["leader"])
    assert "No alert that concerns you is firing" in home
    assert "No alerts concern you in this state" in inbox
    assert "Nothing calls for attention" in digest


def test_a_change_rule_on_a_percentage_metric_speaks_in_points_and_a_relative_one_in_percent(org, client):
    metric = metric_with(org, [82, 71])  # Invoice CSAT, unit %
    rule_on(metric, kind="change", change_limit=10, name="CSAT drop of 10 points")
    rule_on(metric, kind="change", change_limit=10, change_mode="percent", name="CSAT drop of 10 percent")
    services.metric_evaluate(metric=metric, today=day(2))
    absolute, relative = (
        Alert.objects.get(rule__name="CSAT drop of 10 points"),
        Alert.objects.get(rule__name="CSAT drop of 10 percent"),
    )
    assert "71 %, -11 points against 82 % (fires at 10 points worse)" in absolute.message
    assert "71 %, -13.41% against 82 % (fires at 10% worse)" in relative.message
    client.force_login(org["cx"])
    page = client.get(reverse("alert-rules", args=[metric.slug])).content.decode()
    assert "Worse by 10 points against" in page and "Worse by 10% against" in page
    assert "Worse by 10 % against" not in page
