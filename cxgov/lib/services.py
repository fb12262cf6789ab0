"""Helpers the apps' services share (after HackSoft Styleguide-Example ``common/services.py``)."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db.models import Model


def model_update(instance: Model, data: dict, *, fields: Iterable[str]) -> list[str]:
    """Set the model fields given in ``data`` on ``instance``, refusing any outside ``fields`` (the
    ones the calling service writes), and return the names whose value changed.

    The service then validates and saves as its rules require; this only replaces the ``setattr``
    loop, so a caller can never set a field the service does not mean to write."""
    unknown = set(data) - set(fields)
    if unknown:
        raise ValidationError(f"Unknown {instance._meta.verbose_name} fields: {', '.join(sorted(unknown))}.")
    changed = []
    for name, value in data.items():
        field = instance._meta.get_field(name)
        new = value.pk if field.is_relation and isinstance(value, Model) else value
        if getattr(instance, field.attname) != new:
            changed.append(name)
        setattr(instance, name, value)
    return changed
