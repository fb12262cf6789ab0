"""Small helpers for forms."""

from django import forms
from django.core.exceptions import ValidationError

from cxgov.lib import bounds


def form_errors(form, exc: ValidationError) -> None:
    """Attach a service's ValidationError to the form so the page shows it next to the field."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def positive_id(raw: str | None) -> int | None:
    """A database id (or version number) from user input, or None when it is not one: "²",
    "-1", "abc" and numbers past a bigint are all refused rather than crashing a query."""
    raw = (raw or "").strip()
    if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**63:
        return int(raw)
    return None


def _kind(field) -> str | None:
    if isinstance(field, forms.DateTimeField):
        return "datetime"
    if isinstance(field, forms.DateField):
        return "date"
    if isinstance(field, forms.DecimalField):
        return "decimal"
    if isinstance(field, forms.JSONField):
        return "json"
    if isinstance(field, forms.CharField):
        return "char" if field.max_length is not None else "text"
    return None


class BoundedFormMixin:
    """The bounds the API applies (``cxgov.lib.bounds``), on a form that writes: dates in range,
    money not negative, text and identifiers capped, ends not before starts."""

    def full_clean(self):
        # Bounded here, not in __init__: forms add and replace fields after their super().__init__.
        for name, field in self.fields.items():
            kind = _kind(field)
            if kind is None or field.disabled or getattr(field, "bounded", False):
                continue
            if kind == "text":
                field.max_length = bounds.TEXT_MAX
            field.validators = [*field.validators, *bounds.validators_for(name, kind)]
            field.bounded = True
        super().full_clean()
        # After the form's own clean() (which a form may override without calling super()).
        if self.is_bound and hasattr(self, "cleaned_data"):
            for field, message in bounds.pair_errors(self.cleaned_data).items():
                if field in self.fields:
                    self.add_error(field, message)
