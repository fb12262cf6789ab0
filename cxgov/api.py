from rest_framework import viewsets

from cxgov import selectors, services
from cxgov.filters import AccountabilityFilter, FunctionFilter, MembershipFilter
from cxgov.lib.api import ReadBackMixin
from cxgov.lib.permissions import ConfigurationPermission, ObjectPermission
from cxgov.models import Membership
from cxgov.serializers import AccountabilitySerializer, FunctionSerializer, MembershipSerializer


class FunctionViewSet(ReadBackMixin, viewsets.ModelViewSet):
    """Functions (teams and departments). Everyone reads; administrators change and delete them, and a
    function's leader may change its description (``services.function_save`` and
    ``services.function_delete`` decide; a function still in use is not deleted: 409)."""

    queryset = selectors.function_list()
    serializer_class = FunctionSerializer
    filterset_class = FunctionFilter
    search_fields = ["name", "description"]
    ordering_fields = ["name", "customer_facing"]
    lookup_field = "slug"

    def perform_destroy(self, instance):
        services.function_delete(user=self.request.user, function=instance)


class MembershipViewSet(viewsets.ModelViewSet):
    """Who belongs to which function. Changes are configuration."""

    queryset = Membership.objects.select_related("person", "function").order_by("function__name", "person__username")
    serializer_class = MembershipSerializer
    filterset_class = MembershipFilter
    permission_classes = [ObjectPermission, ConfigurationPermission]

    def perform_destroy(self, instance):
        services.membership_delete(user=self.request.user, membership=instance)


class AccountabilityViewSet(viewsets.ModelViewSet):
    """The accountability register: which function is R, A, C or I for what."""

    queryset = selectors.accountability_list()
    serializer_class = AccountabilitySerializer
    filterset_class = AccountabilityFilter
    search_fields = ["subject", "note"]
    ordering_fields = ["subject", "role", "created_at"]

    def perform_destroy(self, instance):
        services.accountability_delete(user=self.request.user, accountability=instance)
