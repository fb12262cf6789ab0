"""Alert episodes keep their time order (opened, then resolved) whatever order late corrections
of the values arrive in."""

from itertools import permutations

import pytest
from django.db import IntegrityError

from alerts import services
from alerts.models import Alert, AlertState
from alerts.tests.factories import day, metric_with, rule_on
from metrics.models import MetricValue

pytestmark = pytest.mark.django_db

# The alert opened at day 3 (red). Late corrections: day 3 was in fact fine, day 1 was red.
CORRECTIONS = [(3, 80), (1, 70), (2, 79)]


@pytest.mark.parametrize("order", list(permutations(CORRECTIONS)))
def test_an_episode_never_resolves_before_it_opened_whatever_order_corrections_arrive_in(org, order):
    metric = metric_with(org, [80, 80, 80, 70])
    rule = rule_on(metric, level="red")
    services.metric_evaluate(metric=metric, today=day(4))
    assert Alert.objects.get().opened_period == day(3)
    for index, value in order:  # each correction is followed by its recalculation's evaluation
        MetricValue.objects.filter(metric=metric, period_start=day(index)).update(value=value)
        services.metric_evaluate(metric=metric, today=day(4))
    for alert in rule.alerts.all():
        assert alert.resolved_period is None or alert.resolved_period >= alert.opened_period, (
            alert.opened_period,
            alert.resolved_period,
        )
    first = rule.alerts.get(opened_period=day(3))
    assert first.state == AlertState.RESOLVED and first.resolved_period == day(3)


def test_the_database_refuses_an_episode_resolved_before_it_opened(org):
    metric = metric_with(org, [80, 70])
    rule = rule_on(metric, level="red")
    with pytest.raises(IntegrityError):
        Alert.objects.create(
            rule=rule,
            metric=metric,
            severity="warning",
            opened_period=day(1),
            state=AlertState.RESOLVED,
            resolved_period=day(0),
            message="",
            values=[],
            fired_at=rule.created_at,
        )
