from celery import shared_task

from cxgov.services import heartbeat_record


@shared_task(name="cxgov.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Sent by beat on a schedule; a worker running it proves beat → broker → worker → database."""
    heartbeat_record(name="worker")
