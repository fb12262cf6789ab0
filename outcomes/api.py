import django_filters
from django.db.models import Prefetch
from rest_framework import permissions as drf_permissions
from rest_framework import viewsets

from cxgov.lib import permissions
from outcomes.models import Canvas, CustomerCategory, MomentOfTruth
from outcomes.serializers import CanvasSerializer, CustomerCategorySerializer


class CanvasWriters(drf_permissions.BasePermission):
    """Everyone reads; the CX team and administrators write categories (permissions module)."""

    def has_permission(self, request, view) -> bool:
        if request.method in drf_permissions.SAFE_METHODS:
            return permissions.can_view(request.user)
        return permissions.can_write_canvases(request.user)


class CustomerCategoryViewSet(viewsets.ModelViewSet):
    """Customer categories the canvases are written for."""

    queryset = CustomerCategory.objects.order_by("name")
    serializer_class = CustomerCategorySerializer
    permission_classes = [CanvasWriters]
    lookup_field = "slug"


class CanvasFilter(django_filters.FilterSet):
    category_slug = django_filters.CharFilter(field_name="category__slug")

    class Meta:
        model = Canvas
        fields = ["category", "state", "version"]


class CanvasViewSet(viewsets.ReadOnlyModelViewSet):
    """Every version of every canvas (approved versions are frozen; edit drafts in the app)."""

    queryset = (
        Canvas.objects.select_related("category")
        .prefetch_related(
            "needs",
            "measures",
            "accountable_functions",
            Prefetch("moments", queryset=MomentOfTruth.objects.prefetch_related("functions")),
        )
        .order_by("category__name", "-version")
    )
    serializer_class = CanvasSerializer
    filterset_class = CanvasFilter
