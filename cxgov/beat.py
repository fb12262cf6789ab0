"""Celery beat scheduler: django-celery-beat's DatabaseScheduler plus a heartbeat and the sweep of
task intents the broker has not accepted yet (cxgov/lib/dispatch.py)."""

import logging
import time

from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler

log = logging.getLogger(__name__)


class HeartbeatDatabaseScheduler(DatabaseScheduler):
    """Schedules from the database (editable in the admin); every ``HEARTBEAT_INTERVAL`` it sends
    the stored tasks a request could not (a broker outage) and checks in for the health page,
    saying so when the broker refuses what it sends."""

    _last_heartbeat = 0.0
    _send_error = ""

    def apply_async(self, entry, *args, **kwargs):
        try:
            result = super().apply_async(entry, *args, **kwargs)
        except Exception as exc:
            self._send_error = f"cannot send {entry.task} to the broker: {exc.__cause__ or exc}"[:2000]
            raise
        self._send_error = ""
        return result

    def tick(self, *args, **kwargs):
        now = time.monotonic()
        if now - self._last_heartbeat >= settings.HEARTBEAT_INTERVAL:
            from cxgov.lib import dispatch
            from cxgov.services import heartbeat_record

            try:
                sent, error = dispatch.sweep()
            except Exception as exc:  # the database is away: check in next time
                log.warning("could not sweep stored tasks: %s", exc)
            else:
                if sent:
                    log.info("sent %s stored task(s) to the broker", sent)
                if error:
                    self._send_error = f"cannot send stored tasks to the broker: {error}"[:2000]
                elif sent:
                    self._send_error = ""
                heartbeat_record(name="beat", error=self._send_error)
                self._last_heartbeat = now
        # Wake up at least once per interval so the heartbeat keeps going when nothing is due.
        return min(super().tick(*args, **kwargs), settings.HEARTBEAT_INTERVAL)
