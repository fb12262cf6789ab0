from celery import shared_task

from digests import services


@shared_task(name="digests.send_due", ignore_result=True)
def send_due() -> dict:
    """Periodic (every few minutes): send the digests whose local hour has come."""
    for pk in services.deliveries_retry_stale():  # retries whose message was lost
        retry.delay(pk)
    return services.digests_send_due(on_transient=lambda pk, attempts: retry.apply_async((pk,), countdown=60))


@shared_task(name="digests.retry", bind=True, ignore_result=True, max_retries=services.MAX_ATTEMPTS)
def retry(self, delivery_id: int) -> str:
    """Send a digest again after a transient SMTP failure, backing off 1, 2, 4, 8 minutes."""
    try:
        return services.delivery_retry(delivery_id=delivery_id)
    except services.TransientError as exc:
        raise self.retry(exc=exc, countdown=60 * 2 ** (self.request.retries + 1)) from exc
