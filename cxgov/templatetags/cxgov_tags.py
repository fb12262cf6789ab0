from django import template
from django.conf import settings
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def demo_installation() -> bool:
    """Whether this installation runs the demo (settings.DEMO, from CXGOV_DEMO)."""
    return settings.DEMO


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


@register.filter
def can(user, capability: str) -> bool:
    """``{% if user|can:"edit_taxonomy" %}``: does this user hold the capability (for some function at
    least, for those a leader holds in the functions they lead)? Names come from
    ``cxgov.lib.permissions.CAPABILITIES``; an unknown name is an error, not a silent "no"."""
    from cxgov.lib import permissions

    if capability not in permissions.CAPABILITIES:
        raise template.TemplateSyntaxError(f"Unknown capability {capability!r}; see cxgov.lib.permissions.")
    return permissions.holds(user, capability, anywhere=True)


@register.filter
def spreadsheet_safe(value):
    """People paste plain-text emails into spreadsheets: written text that a spreadsheet could
    run as a formula gets a leading quote there (cxgov.lib.spreadsheet), as in CSV exports."""
    from cxgov.lib.spreadsheet import safe_cell

    return safe_cell(value)


@register.filter
def money(value, style: str = "") -> str:
    """An amount in the site's currency (``CXGOV_CURRENCY``): ``{{ value|money }}`` → ``$1.2K``,
    ``{{ value|money:"exact" }}`` → ``$1,234.50``; nothing → ``—``. The one way pages write money."""
    from cxgov.lib.money import format_money

    if style not in ("", "exact"):
        raise template.TemplateSyntaxError(f'money takes no argument or "exact", not {style!r}.')
    return format_money(value, exact=style == "exact")


@register.simple_tag
def currency() -> str:
    """The site's currency code, for headers: ``Revenue ({% currency %})``."""
    from cxgov.lib.money import currency_code

    return currency_code()
