from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = "Metrics and customer data"

    @property
    def health_checks(self):
        return {"metrics": _recalculation_health}


def _recalculation_health() -> dict:
    """Metrics whose last recalculation failed make the health page fail (not silent)."""
    from metrics.selectors import failed_metrics

    failed = failed_metrics().count()
    if failed:
        return {"ok": False, "error": f"{failed} metric(s) failed to recalculate; see the metrics page"}
    return {"ok": True}
