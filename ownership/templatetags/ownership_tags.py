from django import template

from cxgov.templatetags import cxgov_tags

register = template.Library()


# Pages that load these tags write money with the one site-wide filter (cxgov_tags.money).
register.filter("money", cxgov_tags.money)


@register.filter
def num(value) -> str:
    """A count with thousands separators: a cheaper intcomma for tables of hundreds of cells."""
    return f"{value:,}" if isinstance(value, int) else str(value)
