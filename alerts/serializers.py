from rest_framework import serializers

from alerts import charts, services
from alerts.models import Alert, AlertRule
from cxgov.lib.serializers import StrictModelSerializer, StrictSerializer
from cxgov.models import User


class AlertRuleSerializer(StrictModelSerializer):
    subscribers = serializers.PrimaryKeyRelatedField(
        many=True, queryset=User.objects.filter(is_active=True), required=False
    )
    chart_tests = serializers.ListField(
        child=serializers.IntegerField(min_value=min(charts.RULES), max_value=max(charts.RULES)),
        required=False,
        help_text="Control charts: the tests that fire (1-4 Western Electric, 5-8 Nelson's further tests).",
    )
    verdict = serializers.CharField(
        read_only=True,
        help_text="pending (not evaluated yet), waiting (cannot judge yet), provisional (provisional limits), judged.",
    )
    verdict_note = serializers.CharField(read_only=True, help_text='For example "Cannot judge yet: 6 of 10 periods".')

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "metric",
            *services.RULE_FIELDS,
            "subscribers",
            "muted_until",
            "verdict",
            "verdict_note",
            "judged_at",
            "replay_pending",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["muted_until", "judged_at", "replay_pending", "created_at", "updated_at"]
        validators = []  # the service explains the unique name

    def validate_metric(self, metric):
        if self.instance is not None and metric != self.instance.metric:
            raise serializers.ValidationError("A rule stays on its metric; create a new rule instead.")
        return metric

    def save(self, **kwargs):
        data = dict(self.validated_data)
        subscribers = data.pop("subscribers", None)
        rule = self.instance or AlertRule(metric=data["metric"])
        data.pop("metric", None)
        self.instance = services.rule_save(
            user=self.context["request"].user, rule=rule, fields=data, subscribers=subscribers
        )
        return self.instance


class AlertSerializer(serializers.ModelSerializer):
    rule_name = serializers.CharField(source="rule.name", read_only=True)
    metric_slug = serializers.CharField(source="metric.slug", read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "rule",
            "rule_name",
            "metric",
            "metric_slug",
            "severity",
            "state",
            "opened_period",
            "resolved_period",
            "message",
            "values",
            "limits",
            "from_history",
            "fired_at",
            "resolved_at",
            "acknowledged_by",
            "acknowledged_at",
        ]
        read_only_fields = fields


class MuteSerializer(StrictSerializer):
    until = serializers.DateField(allow_null=True, help_text="Mute the alert's rule until this day; null unmutes.")
