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

    names = list(failed_metrics().values_list("name", flat=True)[:10])
    if names:
        return {"ok": False, "error": f"{len(names)} metric(s) failed to recalculate: {', '.join(names)}"}
    return {"ok": True}
