from rest_framework import serializers

from cxgov.lib.serializers import StrictModelSerializer
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
