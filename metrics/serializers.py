from rest_framework import serializers

from cxgov.lib.serializers import StrictModelSerializer
from cxgov.serializers import FunctionSummarySerializer
from metrics import ingestion, services
from metrics.models import Customer, Metric, MetricValue, Observation, SurveyResponse


class MetricSerializer(StrictModelSerializer):
    class Meta:
        model = Metric
        fields = ["id", *Metric.DEFINITION_FIELDS, "recalculated_at", "last_error", "last_error_at"]
        read_only_fields = ["recalculated_at", "last_error", "last_error_at"]
        extra_kwargs = {"slug": {"required": False}}
        validators = []  # the service explains the North Star rule

    def save(self, **kwargs):
        self.instance = services.metric_save(
            user=self.context["request"].user, metric=self.instance or Metric(), fields=self.validated_data
        )
        return self.instance


class MetricValueSerializer(serializers.ModelSerializer):
    metric_slug = serializers.CharField(source="metric.slug", read_only=True)

    class Meta:
        model = MetricValue
        fields = [
            "id",
            "metric",
            "metric_slug",
            "period_start",
            "segment",
            "value",
            "sample_size",
            "ci_low",
            "ci_high",
            "computed_at",
        ]


class PlainTextMixin:
    """Text fields are stored as written (formulas are neutralised on export), NUL refused, as file imports do."""

    text_fields = ("comment", "segment", "channel", "product", "touchpoint", "customer_id", "category")

    def validate(self, data):
        for name in self.text_fields:
            problem = ingestion.text_problem(data.get(name) or "")
            if problem:
                raise serializers.ValidationError({name: problem})
        return super().validate(data)


class SurveyResponseInSerializer(PlainTextMixin, StrictModelSerializer):
    class Meta:
        model = SurveyResponse
        fields = services.import_columns("responses")
        validators = []  # re-sending an external id updates it

    def validate(self, data):
        data = super().validate(data)
        if data.get("score") is None:
            if not data.get("comment"):
                raise serializers.ValidationError({"score": "A response needs a score, a comment or both."})
            return data
        if not data.get("scale"):
            raise serializers.ValidationError({"scale": "A score needs its scale (nps, csat or ces)."})
        bounds = ingestion.SCALE_BOUNDS[data["scale"]]
        if not bounds[0] <= data["score"] <= bounds[1]:
            raise serializers.ValidationError(
                {"score": f"{data['score']} is outside the {data['scale']} scale ({bounds[0]}-{bounds[1]})."}
            )
        return data


class ObservationInSerializer(PlainTextMixin, StrictModelSerializer):
    class Meta:
        model = Observation
        fields = services.import_columns("observations")
        validators = []


class CustomerInSerializer(PlainTextMixin, StrictModelSerializer):
    class Meta:
        model = Customer
        fields = services.import_columns("customers")
        extra_kwargs = {"external_id": {"validators": []}}


class _ReadOnly(serializers.Serializer):
    """Answers only: these serializers describe what a read endpoint returns."""

    def create(self, validated_data):  # pragma: no cover - never written through
        raise NotImplementedError

    def update(self, instance, validated_data):  # pragma: no cover - never written through
        raise NotImplementedError


class KpiAuditRowSerializer(_ReadOnly):
    """One function's mix of active metrics by kind (function null: metrics no function owns)."""

    function = FunctionSummarySerializer(allow_null=True)
    outcome = serializers.IntegerField(source="mix.outcome")
    output = serializers.IntegerField(source="mix.output")
    business = serializers.IntegerField(source="mix.business")
    total = serializers.IntegerField()
    output_share = serializers.FloatField(allow_null=True, help_text="Percent of its metrics that are outputs.")
    mostly_outputs = serializers.BooleanField(help_text="More than half of its metrics are outputs.")
    no_outcome = serializers.BooleanField(help_text="It owns metrics but no outcome measure.")


class ImpactRowSerializer(_ReadOnly):
    """Churn, lifetime value and revenue for one customer category ("All customers" first)."""

    category = serializers.CharField()
    customers = serializers.IntegerField(help_text="Customers at the start of the month.")
    churned = serializers.IntegerField(help_text="Customers lost in the month.")
    churn_rate = serializers.FloatField(help_text="Percent.")
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)
    monthly_revenue = serializers.FloatField()
    revenue_lost = serializers.FloatField(help_text="Monthly revenue of the customers lost in the month.")
    lifetime_value = serializers.FloatField(allow_null=True, help_text="Null when nobody churned.")
    uses_margin = serializers.BooleanField(help_text="Lifetime value from margins (false: from revenue).")
    revenue_at_risk = serializers.FloatField(
        allow_null=True, help_text="Monthly revenue of active customers dissatisfied in the last 90 days."
    )


class BusinessImpactSerializer(_ReadOnly):
    """The business impact page: the latest month with churn (null: no churn data yet) by category."""

    month = serializers.DateField(allow_null=True)
    risk_known = serializers.BooleanField(help_text="Whether any survey response names its customer.")
    rows = ImpactRowSerializer(many=True)


class IngestResultSerializer(_ReadOnly):
    written = serializers.IntegerField(help_text="Rows inserted or updated.")


class DriverImportanceSerializer(_ReadOnly):
    driver = serializers.CharField()
    importance = serializers.FloatField(help_text="The driver's part of R².")
    share = serializers.FloatField(help_text="Percent of the explained variance.")
    mean = serializers.FloatField(help_text="Mean rating.")
    top_two = serializers.FloatField(help_text="Percent rating 4 or 5.")
    quadrant = serializers.ChoiceField(choices=["Fix first", "Keep up", "Watch", "Maintain"])


class KeyDriversSerializer(_ReadOnly):
    """Key-driver analysis: the drivers ranked with R² and the sample size, or why it cannot be made."""

    error = serializers.CharField(required=False, help_text="Present (alone) when there is too little data.")
    drivers = DriverImportanceSerializer(many=True, required=False)
    r2 = serializers.FloatField(required=False)
    n = serializers.IntegerField(required=False, help_text="Responses analysed.")
