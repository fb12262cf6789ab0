from celery import shared_task

from digests import services


@shared_task(name="digests.send_due", ignore_result=True)
def send_due() -> dict:
    """Periodic (every few minutes): put the digests whose local hour has come in the outbox."""
    return services.digests_send_due()
