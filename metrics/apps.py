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

    from django.db.models import Q
    from django.utils import timezone

    from metrics.models import ImportJob, ImportStatus
    from metrics.services import import_holder_alive

    now = timezone.now()
    lost = Q(status__in=[ImportStatus.VALIDATING, ImportStatus.WRITING], lease_until__lt=now - timedelta(minutes=1))
    waiting = Q(status=ImportStatus.QUEUED, updated_at__lt=now - timedelta(minutes=5))
    found = list(ImportJob.objects.filter(lost | waiting).values_list("status", "worker"))
    # A live process on this host keeps its job even past its lease (a long SQLite write).
    lost_count = sum(
        1 for status, worker in found if status != ImportStatus.QUEUED and import_holder_alive(worker) is not True
    )
    waiting_count = sum(1 for status, _ in found if status == ImportStatus.QUEUED)
    parts = []
    if lost_count:
        parts.append(f"{lost_count} import(s) whose worker stopped more than a minute ago and not yet taken over")
    if waiting_count:
        parts.append(f"{waiting_count} import(s) queued for more than 5 minutes with no worker starting them")
    if parts:
        return {"ok": False, "error": "; ".join(parts) + "; see the imports page"}
    return {"ok": True}
