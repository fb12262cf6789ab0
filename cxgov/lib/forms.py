"""Small helpers for forms."""

from django.core.exceptions import ValidationError


def form_errors(form, exc: ValidationError) -> None:
    """Attach a service's ValidationError to the form so the page shows it next to the field."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
