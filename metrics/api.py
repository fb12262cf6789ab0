import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from cxgov.filters import FilterSet
from cxgov.lib.permissions import ConfigurationPermission, IngestPermission, ObjectPermission
from metrics import selectors, services
from metrics.models import Customer, Metric, MetricValue, Observation, SurveyResponse
from metrics.serializers import (
    BusinessImpactSerializer,
    CustomerInSerializer,
    IngestResultSerializer,
    KeyDriversSerializer,
    KpiAuditRowSerializer,
    MetricSerializer,
    MetricValueSerializer,
    ObservationInSerializer,
    SurveyResponseInSerializer,
)


class MetricFilter(FilterSet):
    class Meta:
        model = Metric
        fields = ["kind", "calculator", "owning_function", "north_star", "active", "slug"]


class MetricValueFilter(FilterSet):
    period_from = django_filters.DateFilter(field_name="period_start", lookup_expr="gte")
    period_to = django_filters.DateFilter(field_name="period_start", lookup_expr="lte")
    metric_slug = django_filters.CharFilter(field_name="metric__slug")

    class Meta:
        model = MetricValue
        fields = ["metric", "segment", "period_start"]


class MetricViewSet(viewsets.ModelViewSet):
    """Metric definitions: administrators write, everyone reads."""

    queryset = Metric.objects.order_by("name")
    serializer_class = MetricSerializer
    filterset_class = MetricFilter
    permission_classes = [ObjectPermission, ConfigurationPermission]
    lookup_field = "slug"
    search_fields = ["name", "description"]

    def perform_destroy(self, instance):
        services.metric_delete(user=self.request.user, metric=instance)

    @extend_schema(responses={200: KeyDriversSerializer})
    @action(detail=True, methods=["get"])
    def drivers(self, request, slug=None):
        """Key-driver analysis: each driver's share of R², its mean rating and % rated 4-5."""
        return Response(selectors.key_drivers(metric=self.get_object()))


class MetricValueViewSet(viewsets.ReadOnlyModelViewSet):
    """Computed values per metric, period and segment ("" is everyone)."""

    queryset = selectors.metric_values()
    serializer_class = MetricValueSerializer
    filterset_class = MetricValueFilter


class BulkIngest(APIView):
    """Insert or update many rows at once, idempotently on the external id.

    All-or-nothing: if any row is invalid nothing is written, and the answer lists each bad
    row by its index with the fields at fault."""

    permission_classes = [IngestPermission]
    throttle_scope = "ingest"  # settings REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["ingest"]
    row_serializer: type[serializers.ModelSerializer]
    model: type
    max_rows = 10_000

    def post(self, request):
        if isinstance(request.data, dict) and set(request.data) - {"rows"}:
            unknown = sorted(set(request.data) - {"rows"})[:20]
            return Response({name: ['Unknown field; send a list of rows or {"rows": [...]}.'] for name in unknown}, 400)
        rows = request.data.get("rows") if isinstance(request.data, dict) else request.data
        if not isinstance(rows, list) or not rows:
            return Response({"detail": 'Send a non-empty JSON list of rows (or {"rows": [...]}).'}, status=400)
        if len(rows) > self.max_rows:
            return Response({"detail": f"At most {self.max_rows} rows per request; got {len(rows)}."}, status=400)
        serializer = self.row_serializer(data=rows, many=True)
        if not serializer.is_valid():
            found = serializer.errors
            pairs = found.items() if isinstance(found, dict) else enumerate(found)
            errors = [{"row": i, "errors": e} for i, e in sorted(pairs) if e]
            return Response(
                {"detail": f"{len(errors)} row(s) are invalid; nothing was written.", "rows": errors}, status=400
            )
        duplicates = services.duplicate_keys(self.model, serializer.validated_data)
        if duplicates:
            return Response(
                {"detail": "The same external id appears more than once; nothing was written.", "rows": duplicates},
                status=400,
            )
        written = services.rows_upsert(kind=self.kind, rows=serializer.validated_data)
        return Response({"written": written}, status=status.HTTP_200_OK)


@extend_schema(request=SurveyResponseInSerializer(many=True), responses={200: IngestResultSerializer})
class ResponsesIngest(BulkIngest):
    row_serializer = SurveyResponseInSerializer
    model = SurveyResponse
    kind = "responses"


@extend_schema(request=ObservationInSerializer(many=True), responses={200: IngestResultSerializer})
class ObservationsIngest(BulkIngest):
    row_serializer = ObservationInSerializer
    model = Observation
    kind = "observations"


@extend_schema(request=CustomerInSerializer(many=True), responses={200: IngestResultSerializer})
class CustomersIngest(BulkIngest):
    row_serializer = CustomerInSerializer
    model = Customer
    kind = "customers"


class KpiAuditView(APIView):
    """The KPI audit, as on its page: each function's mix of outcome, output and business metrics,
    non-customer-facing functions first; functions that watch mostly outputs are flagged."""

    @extend_schema(responses={200: KpiAuditRowSerializer(many=True)})
    def get(self, request):
        return Response(KpiAuditRowSerializer(selectors.kpi_audit(), many=True).data)


class BusinessImpactView(APIView):
    """Business impact, as on its page: churn, lifetime value, revenue lost and revenue at risk by
    customer category for the latest month with churn."""

    @extend_schema(responses={200: BusinessImpactSerializer})
    def get(self, request):
        return Response(BusinessImpactSerializer({"risk_known": False, **selectors.business_impact()}).data)
