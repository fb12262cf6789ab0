from celery import shared_task

from cxgov.lib import outbox
from cxgov.services import heartbeat_record


@shared_task(name="cxgov.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Sent by beat on a schedule; a worker running it proves beat → broker → worker → database."""
    heartbeat_record(name="worker")


@shared_task(name="cxgov.outbox_send", ignore_result=True)
def outbox_send(email_id: int) -> None:
    """Send one email just stored in the outbox (queued when its transaction commits)."""
    outbox.send(email_id=email_id)


@shared_task(name="cxgov.outbox_send_due", ignore_result=True)
def outbox_send_due() -> None:
    """Periodic: send every email that is due (retries after back-off, sends whose worker died)."""
    outbox.send_due()


@shared_task(name="cxgov.outbox_prune", ignore_result=True)
def outbox_prune() -> None:
    """Periodic: forget emails sent long ago."""
    outbox.prune()
