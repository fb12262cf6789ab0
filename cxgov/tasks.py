import logging

from celery import shared_task
from celery.signals import worker_ready
from django import db

from cxgov.lib import outbox
from cxgov.services import heartbeat_record

log = logging.getLogger(__name__)


@shared_task(name="cxgov.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Sent by beat on a schedule; a worker running it proves beat → broker → worker → database."""
    heartbeat_record(name="worker")


@worker_ready.connect
def check_in_when_ready(**kwargs) -> None:
    """A worker checks in as soon as it is ready, not only when beat's first heartbeat task reaches
    it (an interval schedule first runs a whole interval after beat starts): /healthz reports the
    worker healthy from its start."""
    try:
        heartbeat_record(name="worker")
    except Exception as exc:  # the database is away: beat's heartbeat task checks in later
        log.warning("worker could not check in at start: %s", exc)
    finally:
        db.connections.close_all()  # the main process forks pool children: they must not share it


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
