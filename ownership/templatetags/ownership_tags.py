from django import template

register = template.Library()


@register.filter
def money(value) -> str:
    """Revenue at a glance: 1,234 → 1.2k, 2,500,000 → 2.5M, nothing → — (exact figures are in the exports)."""
    if not value:
        return "—"
    value = float(value)
    for limit, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}{suffix}"
    return f"{value:.0f}"


@register.filter
def num(value) -> str:
    """A count with thousands separators: a cheaper intcomma for tables of hundreds of cells."""
    return f"{value:,}" if isinstance(value, int) else str(value)
