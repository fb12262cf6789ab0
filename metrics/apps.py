from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = "Metrics and customer data"

    @property
    def health_checks(self):
        return {"metrics": _recalculation_health, "imports": _import_health}


def _recalculation_health() -> dict:
    """Metrics whose last recalculation failed make the health page fail (not silent)."""
    from metrics.selectors import failed_metrics

    failed = failed_metrics().count()
    if failed:
        return {"ok": False, "error": f"{failed} metric(s) failed to recalculate; see the metrics page"}
    return {"ok": True}


def _import_health() -> dict:
    """Imports whose worker died and that nobody has taken over yet, or that no worker has started
    for minutes, fail the health page (one query)."""
    from datetime import timedelta

    from django.db.models import Count, Q
    from django.utils import timezone

    from metrics.models import ImportJob, ImportStatus

    now = timezone.now()
    found = ImportJob.objects.aggregate(
        lost=Count(
            "pk",
            filter=Q(
                status__in=[ImportStatus.VALIDATING, ImportStatus.WRITING], lease_until__lt=now - timedelta(minutes=1)
            ),
        ),
        waiting=Count("pk", filter=Q(status=ImportStatus.QUEUED, updated_at__lt=now - timedelta(minutes=5))),
    )
    parts = []
    if found["lost"]:
        parts.append(f"{found['lost']} import(s) whose worker stopped more than a minute ago and not yet taken over")
    if found["waiting"]:
        parts.append(f"{found['waiting']} import(s) queued for more than 5 minutes with no worker starting them")
    if parts:
        return {"ok": False, "error": "; ".join(parts) + "; see the imports page"}
    return {"ok": True}
