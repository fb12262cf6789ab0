from celery import shared_task

from metrics import services
from metrics.models import Metric


@shared_task(name="metrics.recalculate", bind=True, max_retries=3, default_retry_delay=30, acks_late=True)
def recalculate(self, metric_id: int, period_from: str | None = None, period_to: str | None = None) -> int:
    """Recompute one metric (optionally only the periods between two ISO dates)."""
    from datetime import date

    metric = Metric.objects.filter(pk=metric_id, active=True).first()
    if metric is None:
        return 0
    try:
        return services.metric_recalculate(
            metric=metric,
            period_from=date.fromisoformat(period_from) if period_from else None,
            period_to=date.fromisoformat(period_to) if period_to else None,
        )
    except Exception as exc:
        services.metric_record_failure(metric_id=metric_id, error=f"{type(exc).__name__}: {exc}")
        raise self.retry(exc=exc) from exc


@shared_task(name="metrics.import_file", bind=True, acks_late=True, ignore_result=True, max_retries=240)
def import_file(self, job_id: int) -> None:
    """Run an uploaded file's import (claimed once). A redelivered message for a job whose worker
    died takes it over; for a job a live worker still holds, it looks again when that worker's
    lease would run out, so a worker that dies later is replaced within a lease."""
    job = services.import_run(job_id=job_id)
    wait = services.import_wait_seconds(job) if job is not None else None
    if wait is not None:
        raise self.retry(countdown=wait)


@shared_task(name="metrics.requeue_stuck_imports", ignore_result=True)
def requeue_stuck_imports() -> None:
    """Periodic (every minute): restart imports whose worker died or whose message was lost
    (see services.imports_requeue_stuck)."""
    services.imports_requeue_stuck()
