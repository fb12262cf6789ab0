from django import template

from alerts import evaluation, selectors

register = template.Library()

SUMMARY = 5


@register.inclusion_tag("alerts/partials/inbox_summary.html")
def inbox_summary(user):
    """The firing alerts that concern the user (the same selector as the inbox and the digest)."""
    firing = selectors.firing_concerning(user)
    alerts = list(firing[: SUMMARY + 1])
    return {"alerts": alerts[:SUMMARY], "more": len(alerts) > SUMMARY}


@register.filter
def change_unit(rule) -> str:
    """The unit of a change rule's limit: "%", " points" (on a metric in %) or the metric's unit."""
    return evaluation.change_unit(rule.change_mode, rule.metric.unit)
