import django_filters
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from cxgov.filters import FilterSet
from cxgov.lib.permissions import CanvasPermission
from outcomes import selectors, services
from outcomes.models import Canvas, CustomerCategory, MomentOfTruth
from outcomes.serializers import CanvasSerializer, CustomerCategorySerializer, NorthStarSerializer


class CustomerCategoryViewSet(viewsets.ModelViewSet):
    """Customer categories the canvases are written for."""

    queryset = CustomerCategory.objects.order_by("name")
    serializer_class = CustomerCategorySerializer
    permission_classes = [CanvasPermission]
    lookup_field = "slug"

    def perform_destroy(self, instance):
        services.category_delete(user=self.request.user, category=instance)


class CanvasFilter(FilterSet):
    category_slug = django_filters.CharFilter(field_name="category__slug")

    class Meta:
        model = Canvas
        fields = ["category", "state", "version"]


class CanvasViewSet(viewsets.ModelViewSet):
    """Every version of every canvas. The CX team and administrators open a category's draft (POST
    with ``category``), change it (PUT/PATCH), and approve it (``POST …/approve/``: it becomes the
    category's canvas, the previous one retires) or retire the approved one (``POST …/retire/``).
    Approved and retired versions are frozen."""

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
    permission_classes = [CanvasPermission]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def _lifecycle(self, change):
        canvas = self.get_object()
        change(user=self.request.user, canvas=canvas)
        return Response(self.get_serializer(self.get_queryset().get(pk=canvas.pk)).data)

    @extend_schema(request=None, responses={200: CanvasSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._lifecycle(services.canvas_approve)

    @extend_schema(request=None, responses={200: CanvasSerializer})
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        return self._lifecycle(services.canvas_retire)


class NorthStarView(APIView):
    """The North Star and its line of sight, as on the North Star page: the metric with its latest
    value, status and recent values, and every approved canvas that uses it with its measures,
    accountable functions and the open issues (with overdue action items) touching its measures."""

    @extend_schema(responses={200: NorthStarSerializer})
    def get(self, request):
        return Response(NorthStarSerializer({"canvases": [], **selectors.north_star_line_of_sight()}).data)
