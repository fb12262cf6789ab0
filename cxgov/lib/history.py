"""The audit trail of configuration: django-simple-history with bookkeeping left out."""

from __future__ import annotations

from simple_history.models import HistoricalRecords


class ConfigHistory(HistoricalRecords):
    """History of a configuration model (roles, metric targets, alert rules, the taxonomy...).

    Only changes are recorded. Fields listed in ``excluded_fields`` are bookkeeping (a last
    login, a password hash, recalculation stamps) and so are fields no one edits (``auto_now``
    stamps); a save that changes none of the rest (an unchanged form saved again, an idempotent
    upsert) leaves no record, unless it gives a reason (``record_as(..., reason=...)``).
    """

    def post_save(self, instance, created, using=None, **kwargs):
        update_fields = kwargs.get("update_fields")
        if not created and update_fields and set(update_fields) <= set(self.excluded_fields):
            return
        if not created and not getattr(instance, "_change_reason", "") and not self._changed(instance):
            return
        super().post_save(instance, created, using=using, **kwargs)

    def _changed(self, instance) -> bool:
        latest = getattr(instance, self.manager_name).order_by("-history_id").first()
        if latest is None:
            return True
        return any(
            getattr(instance, field.attname) != getattr(latest, field.attname)
            for field in self.fields_included(instance)
            if field.editable and not field.primary_key
        )


def record_as(instance, user, reason: str = ""):
    """Name the person (and, optionally, why) on the history record the next save or delete writes."""
    instance._history_user = user
    if reason:
        instance._change_reason = reason
    return instance
