import django_filters

from cxgov.models import Accountability, Function, Membership


class FunctionFilter(django_filters.FilterSet):
    class Meta:
        model = Function
        fields = {"customer_facing": ["exact"], "parent": ["exact", "isnull"], "leader": ["exact"], "slug": ["exact"]}


class MembershipFilter(django_filters.FilterSet):
    class Meta:
        model = Membership
        fields = ["person", "function"]


class AccountabilityFilter(django_filters.FilterSet):
    class Meta:
        model = Accountability
        fields = {"function": ["exact"], "role": ["exact"], "subject": ["exact", "icontains"]}
