import django_filters
from django import forms
from django.db import models
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field

from cxgov.models import Accountability, Function, Membership

TRUE, FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


class StrictBooleanField(forms.Field):
    """A yes/no filter value: true/false (or 1/0, yes/no). Anything else is refused with a 400 that
    names the accepted values, instead of being ignored (which would return every row)."""

    widget = forms.TextInput

    def to_python(self, value):
        text = str(value).strip().lower() if value is not None else ""
        if text == "":
            return None
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise forms.ValidationError(f"“{value}” is not a yes/no value; use true or false.", code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


MAX_ID = 2**63 - 1  # the largest id the databases store; larger ones are refused with a 400


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """A filter on a related object's id. Any id is a valid question: one that names nothing finds
    nothing (a choice filter would answer 400 "Select a valid choice" and cost a query per value)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class FilterSet(django_filters.FilterSet):
    """The project's filter sets: boolean fields (and ``__isnull`` lookups) refuse unknown values;
    related objects are filtered by id."""

    FILTER_DEFAULTS = {
        **django_filters.FilterSet.FILTER_DEFAULTS,
        models.BooleanField: {"filter_class": StrictBooleanFilter},
        models.NullBooleanField: {"filter_class": StrictBooleanFilter},
        models.ForeignKey: {"filter_class": IdFilter},
        models.OneToOneField: {"filter_class": IdFilter},
    }


class FunctionFilter(FilterSet):
    class Meta:
        model = Function
        fields = {"customer_facing": ["exact"], "parent": ["exact", "isnull"], "leader": ["exact"], "slug": ["exact"]}


class MembershipFilter(FilterSet):
    class Meta:
        model = Membership
        fields = ["person", "function"]


class AccountabilityFilter(FilterSet):
    class Meta:
        model = Accountability
        fields = {"function": ["exact"], "role": ["exact"], "subject": ["exact", "icontains"]}


class FilterBackend(DjangoFilterBackend):
    """The API's filter backend: filters declared with ``filterset_fields`` follow the same rules."""

    filterset_base = FilterSet
