"""Small helpers for forms."""

from django.core.exceptions import ValidationError


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
