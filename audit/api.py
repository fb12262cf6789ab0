from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework import permissions as drf_permissions

from audit import selectors
from audit.serializers import AuditEntrySerializer, AuditQuerySerializer
from cxgov.lib import permissions


class AuditReaders(drf_permissions.BasePermission):
    """The audit trail is for administrators (permissions module)."""

    message = "Only administrators read the audit trail."

    def has_permission(self, request, view) -> bool:
        return permissions.can_read_audit(request.user)


class AuditView(generics.ListAPIView):
    """Changes of the configuration (people and roles, functions, metrics, alert rules, the
    taxonomy, workflows, categories, digest defaults), newest first, with field diffs."""

    permission_classes = [AuditReaders]
    serializer_class = AuditEntrySerializer
    filter_backends = []

    def get_queryset(self):
        query = AuditQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        return selectors.changes(model=data.get("model", ""), user_id=data.get("user"), action=data.get("action", ""))

    @extend_schema(
        parameters=[AuditQuerySerializer],
        responses={
            200: AuditEntrySerializer(many=True),
            400: OpenApiResponse(description="A filter value is not one of its choices; the field is named."),
            403: OpenApiResponse(description="Only administrators read the audit trail."),
            404: OpenApiResponse(description="There is no such page."),
        },
    )
    def get(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(selectors.entries(page), many=True).data)
