from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def sparkline(values, width=120, height=28):
    """A small inline SVG line of recent values (no script, prints and scales)."""
    if not values or len(values) < 2:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1
    step = width / (len(values) - 1)
    points = " ".join(
        f"{i * step:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}" for i, v in enumerate(values)
    )
    return format_html(
        '<svg class="sparkline" width="{}" height="{}" viewBox="0 0 {} {}" role="img" aria-label="Trend of the last {} '
        'periods"><polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{}"/></svg>',
        width,
        height,
        width,
        height,
        len(values),
        points,
    )


@register.inclusion_tag("metrics/partials/rag.html")
def rag(status):
    return {"status": status}


@register.simple_tag
def can_import(user) -> bool:
    from cxgov.lib import permissions

    return permissions.can_import(user)


@register.simple_tag
def can_configure(user) -> bool:
    """For templates: may this user change the organisation's configuration (the permissions module)?"""
    from cxgov.lib import permissions

    return permissions.can_configure(user)


@register.simple_tag
def can_read_audit(user) -> bool:
    """For templates: may this user read the audit trail (the permissions module)?"""
    from cxgov.lib import permissions

    return permissions.can_read_audit(user)


@register.simple_tag
def can_triage(user) -> bool:
    """For templates: does this user assign owners and see unowned issues (the permissions module)?"""
    from cxgov.lib import permissions

    return permissions.can_triage(user)


@register.filter
def spreadsheet_safe(value):
    """People paste plain-text emails into spreadsheets: written text that a spreadsheet could
    run as a formula gets a leading quote there (cxgov.lib.spreadsheet), as in CSV exports."""
    from cxgov.lib.spreadsheet import safe_cell

    return safe_cell(value)
