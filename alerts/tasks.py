from celery import shared_task

from alerts import services


@shared_task(
    name="alerts.evaluate", bind=True, max_retries=3, default_retry_delay=30, acks_late=True, ignore_result=True
)
def evaluate(self, evaluation_id: int) -> None:
    """Evaluate a metric's alert rules (queued after each recalculation). Errors are recorded;
    the last retry's error fails the health page and tells the administrators once."""
    try:
        services.evaluation_run(evaluation_id=evaluation_id)
    except Exception as exc:
        final = self.request.retries >= self.max_retries
        services.evaluation_record_failure(
            evaluation_id=evaluation_id, error=f"{type(exc).__name__}: {exc}", final=final
        )
        if final:
            raise
        raise self.retry(exc=exc) from exc


@shared_task(name="alerts.requeue_stuck", ignore_result=True)
def requeue_stuck() -> None:
    """Periodic: send again stuck evaluations, queue emails that notices lack, forget old runs."""
    services.evaluations_requeue_stuck()
    services.deliveries_queue_missing()
    services.evaluations_prune()
