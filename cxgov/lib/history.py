"""The audit trail of configuration: django-simple-history with bookkeeping left out."""

from __future__ import annotations

from simple_history.models import HistoricalRecords


class ConfigHistory(HistoricalRecords):
    """History of a configuration model (roles, metric targets, alert rules, the taxonomy...).

    Fields listed in ``excluded_fields`` are bookkeeping (a last login, a password hash); a save
    that writes only those is not a change anyone configured, so it leaves no record.
    """

    def post_save(self, instance, created, using=None, **kwargs):
        update_fields = kwargs.get("update_fields")
        if not created and update_fields and set(update_fields) <= set(self.excluded_fields):
            return
        super().post_save(instance, created, using=using, **kwargs)


def record_as(instance, user, reason: str = ""):
    """Name the person (and, optionally, why) on the history record the next save or delete writes."""
    instance._history_user = user
    if reason:
        instance._change_reason = reason
    return instance
