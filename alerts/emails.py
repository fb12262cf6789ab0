"""Alert emails: one function per message, subject + text + HTML templates under templates/emails/.
Each is stored in the outbox (sent by a worker after commit) and returned; None without an address."""

from __future__ import annotations

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from cxgov.lib import outbox
from cxgov.lib.emails import templated_email
from cxgov.models import Email


def _queue(template: str, to: str, context: dict, key: str) -> Email:
    return outbox.enqueue(templated_email(template, context, [to]), kind=template, key=key)


def issue_link(alert) -> str | None:
    """The root-cause "new issue" page pre-filled from this alert, or None while rootcause has no
    such page (the link is absent rather than broken)."""
    try:
        base = reverse("issue-create")
    except NoReverseMatch:
        return None
    return f"{base}?metric={alert.metric_id}&period={alert.opened_period.isoformat()}&alert={alert.pk}"


def alert_notice(delivery) -> Email | None:
    """Tell one recipient that an alert fired or resolved (recipients without an address use the inbox)."""
    if not delivery.recipient.email:
        return None
    alert = delivery.alert
    link = issue_link(alert)
    return _queue(
        "alert_fired" if delivery.kind == "fire" else "alert_resolved",
        delivery.recipient.email,
        {
            "alert": alert,
            "rule": alert.rule,
            "metric": alert.metric,
            "recipient": delivery.recipient,
            "alert_url": settings.SITE_URL + reverse("alert-detail", args=[alert.pk]),
            "issue_url": settings.SITE_URL + link if link else None,
        },
        key=f"alert-notice:{delivery.pk}",
    )


def evaluation_failed(notice) -> Email | None:
    """Tell an administrator that a metric's alert rules could not be evaluated."""
    if not notice.recipient.email:
        return None
    return _queue(
        "evaluation_failed",
        notice.recipient.email,
        {
            "evaluation": notice.evaluation,
            "metric": notice.evaluation.metric,
            "recipient": notice.recipient,
            "health_url": settings.SITE_URL + reverse("healthz"),
            "rules_url": settings.SITE_URL + reverse("alert-rules", args=[notice.evaluation.metric.slug]),
        },
        key=f"evaluation-failed:{notice.pk}",
    )
