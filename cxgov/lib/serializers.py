"""Strict serializers: every API write names the fields it does not know and respects the
shared bounds (``cxgov.lib.bounds``).

DRF drops unknown fields silently, so a misspelt ``ended_on`` or a file-import column such as
``tenure_months`` used to answer 200 and write nothing. Every write serializer inherits
``StrictModelSerializer`` (or ``StrictSerializer``); read-only fields a client sends back (as
returned by a GET) are known and ignored, as DRF does.
"""

from collections.abc import Mapping
from difflib import get_close_matches

from rest_framework import serializers

from cxgov.lib import bounds

MAX_NAMED = 20  # unknown fields named in one answer
IGNORED = frozenset({"csrfmiddlewaretoken"})  # sent by the browsable API's HTML forms


def _kind(field) -> str | None:
    if isinstance(field, serializers.DateTimeField):
        return "datetime"
    if isinstance(field, serializers.DateField):
        return "date"
    if isinstance(field, serializers.DecimalField):
        return "decimal"
    if isinstance(field, serializers.JSONField):
        return "json"
    if isinstance(field, serializers.CharField):
        return "char" if field.max_length is not None else "text"
    return None


def bound_field(name: str, field) -> None:
    """Give a writable serializer field the shared bounds for its name and kind."""
    kind = _kind(field)
    if kind is None:
        return
    if kind == "text":
        field.max_length = bounds.TEXT_MAX
    field.validators.extend(bounds.validators_for(name, kind))


class StrictMixin:
    """Unknown fields answer 400 naming each one; writable fields get the shared bounds; start and
    end pairs are checked (a partial update compares with the stored value)."""

    def get_fields(self):
        fields = super().get_fields()
        for name, field in fields.items():
            if not field.read_only:
                bound_field(name, field)
        return fields

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = [key for key in data if key not in self.fields and key not in IGNORED]
            if unknown:
                raise serializers.ValidationError(
                    {str(key)[:100]: [self._unknown_message(str(key))] for key in unknown[:MAX_NAMED]}
                )
        attrs = super().to_internal_value(data)
        # Here rather than in validate(), which serializers override without calling super().
        errors = bounds.pair_errors(self._pair_values(attrs))
        if errors:
            raise serializers.ValidationError({name: [message] for name, message in errors.items()})
        return attrs

    def _unknown_message(self, key: str) -> str:
        accepted = [name for name, field in self.fields.items() if not field.read_only]
        close = get_close_matches(key, accepted, n=1)
        hint = f" Did you mean “{close[0]}”?" if close else ""
        return f"Unknown field.{hint} This endpoint accepts: {', '.join(accepted)}."

    def _pair_values(self, attrs) -> dict:
        """The start and end values to compare: those sent, else (a partial update) those stored."""
        instance = self.instance if not isinstance(self.instance, list | tuple) else None
        values = {}
        for start, end in bounds.PAIRS:
            if start not in attrs and end not in attrs:
                continue
            for name in (start, end):
                if name in attrs:
                    values[name] = attrs[name]
                elif instance is not None and hasattr(instance, name):
                    values[name] = getattr(instance, name)
        return values


class StrictSerializer(StrictMixin, serializers.Serializer):
    pass


class StrictModelSerializer(StrictMixin, serializers.ModelSerializer):
    pass
