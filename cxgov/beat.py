"""Celery beat scheduler: django-celery-beat's DatabaseScheduler plus a heartbeat."""

import time

from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler


class HeartbeatDatabaseScheduler(DatabaseScheduler):
    """Schedules from the database (editable in the admin) and checks in for the health page."""

    _last_heartbeat = 0.0

    def tick(self, *args, **kwargs):
        now = time.monotonic()
        if now - self._last_heartbeat >= settings.HEARTBEAT_INTERVAL:
            from cxgov.services import heartbeat_record

            heartbeat_record(name="beat")
            self._last_heartbeat = now
        # Wake up at least once per interval so the heartbeat keeps going when nothing is due.
        return min(super().tick(*args, **kwargs), settings.HEARTBEAT_INTERVAL)
