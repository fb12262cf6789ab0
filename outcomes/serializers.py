from rest_framework import serializers

from outcomes.models import Canvas, CustomerCategory, MomentOfTruth, Need


class CustomerCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomerCategory
        fields = ["id", "name", "slug", "description", "data_category"]


class NeedSerializer(serializers.ModelSerializer):
    class Meta:
        model = Need
        fields = ["text", "specific", "measurable", "achievable", "relevant", "time_bound", "due_on", "is_smart"]


class MomentSerializer(serializers.ModelSerializer):
    class Meta:
        model = MomentOfTruth
        fields = ["stage", "what_happens", "functions"]


class CanvasSerializer(serializers.ModelSerializer):
    category_slug = serializers.CharField(source="category.slug", read_only=True)
    needs = NeedSerializer(many=True, read_only=True)
    moments = MomentSerializer(many=True, read_only=True)

    class Meta:
        model = Canvas
        fields = [
            "id",
            "category",
            "category_slug",
            "version",
            "state",
            "who",
            "expectations",
            "outcomes",
            "needs",
            "moments",
            "measures",
            "cost_to_serve",
            "service",
            "revenue",
            "accountable_functions",
            "created_at",
            "approved_at",
            "approved_by",
        ]
