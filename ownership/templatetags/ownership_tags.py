from decimal import ROUND_HALF_UP, Decimal

from django import template

from cxgov.templatetags import cxgov_tags

register = template.Library()


# Pages that load these tags write money with the one site-wide filter (cxgov_tags.money).
register.filter("money", cxgov_tags.money)


@register.filter
def num(value) -> str:
    """A count with thousands separators: a cheaper intcomma for tables of hundreds of cells."""
    return f"{value:,}" if isinstance(value, int) else str(value)


@register.filter
def amount(value, currency: str = "") -> str:
    """A ledger figure in full: 12,345 EUR; a figure without enough data says so (never a zero)."""
    if value is None or value == "":
        return "not enough data"
    whole = Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP)  # as floatformat rounds
    return f"{whole:,}{' ' + currency if currency else ''}"


@register.filter
def fraction_pct(value) -> str:
    """A fraction as percentage points: 0.283 → 28.3%."""
    if value is None or value == "":
        return "not enough data"
    return f"{float(value) * 100:.1f}%"


@register.filter
def figure_value(value) -> str:
    """One input of a figure, as it reads best: counts whole, money and rates to a few digits."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 1 else f"{value:,.2f}"
    return str(value)
