from django import template

from alerts import selectors
from alerts.models import AlertState

register = template.Library()

SUMMARY = 5


@register.inclusion_tag("alerts/partials/inbox_summary.html")
def inbox_summary(user):
    """The firing alerts on metrics the user's functions own, newest first (two queries)."""
    firing = selectors.alert_list(user=user, scope="functions", state=AlertState.FIRING)
    alerts = list(firing[: SUMMARY + 1])
    return {"alerts": alerts[:SUMMARY], "more": len(alerts) > SUMMARY}
