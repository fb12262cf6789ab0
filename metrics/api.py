import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from cxgov.filters import FilterSet
from cxgov.lib.permissions import ConfigurationPermission, IngestPermission, ObjectPermission
from metrics import drivers as kda
from metrics import selectors, services
from metrics.forms import DriverAnalysisForm
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

    @extend_schema(
        responses={200: KeyDriversSerializer},
        parameters=[OpenApiParameter("method", enum=list(kda.METHODS), description="lmg (default) or johnson")],
    )
    @action(detail=True, methods=["get"])
    def drivers(self, request, slug=None):
        """Key-driver analysis: each driver's share of R² with its bootstrap interval, R², n, each
        driver's mean rating and % rated 4-5."""
        method = request.query_params.get("method") or kda.LMG
        if method not in kda.METHODS:
            raise ValidationError({"method": [f"“{method}” is not a method ({', '.join(kda.METHODS)})."]})
        return Response(selectors.key_drivers_cached(metric=self.get_object(), method=method))


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


class DriverAnalysisView(APIView):
    """Key drivers of any numeric outcome, as on the key-driver page: ``data`` is
    ``responses:<source>`` (the score, driver ratings and numeric attributes of its responses) or
    ``series:<day|week|month>`` (observation series summed per period, joined on the period);
    ``outcome`` and ``drivers`` (repeated, or comma-separated) name its numeric fields. An answer
    with ``error`` says there is not enough data and why."""

    @extend_schema(
        responses={200: KeyDriversSerializer},
        parameters=[
            OpenApiParameter(
                "data",
                type={"type": "string", "minLength": 1},
                required=True,
                description="responses:<source> or series:<day|week|month>",
            ),
            OpenApiParameter("outcome", type={"type": "string", "minLength": 1}, required=True),
            OpenApiParameter(
                "drivers",
                type={"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
                required=True,
                explode=True,
            ),
            OpenApiParameter("method", enum=list(kda.METHODS), description="lmg (default) or johnson"),
        ],
    )
    def get(self, request):
        params = request.query_params.copy()
        chosen = [name.strip() for value in params.getlist("drivers") for name in value.split(",") if name.strip()]
        params.setlist("drivers", chosen)
        missing = [name for name in ("data", "outcome", "drivers") if not params.get(name)]
        if missing or params.get("method", kda.LMG) not in kda.METHODS:
            refused = {name: ["This parameter is required."] for name in missing}
            if params.get("method", kda.LMG) not in kda.METHODS:
                refused["method"] = [f"“{params['method']}” is not a method ({', '.join(kda.METHODS)})."]
            raise ValidationError(refused)
        choices = selectors.driver_data_choices()
        data = params["data"]
        fields = selectors.driver_fields(data=data) if data in dict(choices) else []
        form = DriverAnalysisForm(params, data_choices=choices, fields=fields)
        if not form.is_valid():
            # Names that exist nowhere are answered like "not enough data" (as a filter on an
            # unknown id finds nothing): the request was well formed, the data is not there.
            problems = [f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()]
            if data not in dict(choices):
                problems = [f"There is no data “{data}” (responses:<source> or series:<day|week|month>)."]
            return Response(KeyDriversSerializer({"error": " ".join(problems)}).data)
        analysis = selectors.driver_analysis(
            data=form.cleaned_data["data"],
            outcome=form.cleaned_data["outcome"],
            driver_names=form.cleaned_data["drivers"],
            method=form.cleaned_data["method"],
        )
        return Response(KeyDriversSerializer(analysis).data)


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
