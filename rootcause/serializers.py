from rest_framework import serializers

from rootcause.models import DecisionPoint, KeyDriver, SubTheme, Workflow


class SubThemeSerializer(serializers.ModelSerializer):
    class Meta:
        model = SubTheme
        fields = ["id", "driver", "name", "slug", "keywords", "negative_keywords", "suggested_function"]


class KeyDriverSerializer(serializers.ModelSerializer):
    sub_themes = SubThemeSerializer(many=True, read_only=True)

    class Meta:
        model = KeyDriver
        fields = ["id", "name", "slug", "description", "sub_themes"]


class DecisionPointSerializer(serializers.ModelSerializer):
    class Meta:
        model = DecisionPoint
        fields = ["id", "workflow", "rule", "kind", "description"]


class WorkflowSerializer(serializers.ModelSerializer):
    decision_points = DecisionPointSerializer(many=True, read_only=True)

    class Meta:
        model = Workflow
        fields = ["id", "name", "description", "function", "decision_points"]


class ParetoQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    segment = serializers.CharField(required=False, default="")
    product = serializers.CharField(required=False, default="")
    dissatisfied_only = serializers.BooleanField(required=False, default=False)
    weight_by_revenue = serializers.BooleanField(required=False, default=False)
    cutoff = serializers.FloatField(required=False, default=80.0, min_value=1, max_value=100)
