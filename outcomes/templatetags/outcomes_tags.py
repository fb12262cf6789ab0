from django import template

from outcomes import selectors

register = template.Library()


@register.inclusion_tag("outcomes/partials/line_of_sight.html")
def line_of_sight(function):
    """A function's line of sight: the canvases it answers for, their measures, up to the North Star."""
    return {"canvases": selectors.function_line_of_sight(function=function), "function": function}


@register.inclusion_tag("outcomes/partials/issue_business_case.html")
def business_case(issue):
    """An issue's business case (one query): every figure expandable to its inputs and formula."""
    from outcomes.models import BusinessCase

    return {"case": BusinessCase.objects.filter(issue_id=issue.pk).first(), "issue": issue}
