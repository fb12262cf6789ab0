from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self):
        from metrics.services import metric_recalculated

        metric_recalculated.connect(_evaluate_after_recalculation, dispatch_uid="alerts-evaluate-after-recalculation")

    @property
    def health_checks(self):
        return {"alerts": _evaluation_health}


def _evaluate_after_recalculation(sender, metric_id, **kwargs):
    from alerts.services import evaluation_request

    evaluation_request(metric_id=metric_id)


def _evaluation_health() -> dict:
    """Alert evaluations that failed (and were not followed by a good one) fail the health page."""
    from alerts.selectors import evaluation_problems

    # Alert emails that wait or failed are reported by the outbox's own part of the health page.
    failed, stuck = evaluation_problems()
    if failed or stuck:
        parts = []
        if failed:
            parts.append(f"{failed} metric(s) whose alert evaluation failed")
        if stuck:
            parts.append(f"{stuck} evaluation(s) stuck")
        return {"ok": False, "error": "; ".join(parts) + "; see the alerts page"}
    return {"ok": True}
