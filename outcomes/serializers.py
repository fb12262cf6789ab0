from rest_framework import serializers

from cxgov.lib.serializers import StrictModelSerializer
from outcomes import services
from outcomes.models import Canvas, CustomerCategory, MomentOfTruth, Need


class CustomerCategorySerializer(StrictModelSerializer):
    class Meta:
        model = CustomerCategory
        fields = ["id", "name", "slug", "description", "data_category"]
        extra_kwargs = {"slug": {"required": False}}

    def save(self, **kwargs):
        self.instance = services.category_save(
            user=self.context["request"].user,
            category=self.instance or CustomerCategory(),
            fields=self.validated_data,
        )
        return self.instance


class NeedSerializer(StrictModelSerializer):
    class Meta:
        model = Need
        fields = ["text", "specific", "measurable", "achievable", "relevant", "time_bound", "due_on", "is_smart"]


class MomentSerializer(StrictModelSerializer):
    class Meta:
        model = MomentOfTruth
        fields = ["stage", "what_happens", "functions"]


class CanvasSerializer(StrictModelSerializer):
    """A canvas version. Writing (CX team, administrators): POST with a ``category`` opens that
    category's draft (the next version, copied from the latest) and applies the fields given; PUT
    or PATCH change a draft; approved and retired versions are frozen. Lists given (needs, moments,
    measures, accountable functions) replace the draft's; lists left out are kept."""

    category_slug = serializers.CharField(source="category.slug", read_only=True)
    needs = NeedSerializer(many=True, required=False)
    moments = MomentSerializer(many=True, required=False)

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

        read_only_fields = ["version", "state", "created_at", "approved_at", "approved_by"]

    def validate(self, attrs):
        if self.instance is not None and "category" in attrs and attrs["category"] != self.instance.category:
            raise serializers.ValidationError({"category": "A canvas stays with its customer category."})
        return attrs

    def save(self, **kwargs):
        data = dict(self.validated_data)
        user = self.context["request"].user
        draft = self.instance or services.canvas_draft(user=user, category=data["category"])
        self.instance = services.canvas_save(
            user=user,
            canvas=draft,
            fields={k: v for k, v in data.items() if k in services.CANVAS_TEXT_FIELDS},
            measures=data.get("measures", list(draft.measures.all())),
            functions=data.get("accountable_functions", list(draft.accountable_functions.all())),
            needs=data.get("needs", [{f: getattr(n, f) for f in NEED_FIELDS} for n in draft.needs.all()]),
            moments=data.get(
                "moments",
                [
                    {"stage": m.stage, "what_happens": m.what_happens, "functions": list(m.functions.all())}
                    for m in draft.moments.prefetch_related("functions")
                ],
            ),
        )
        return self.instance


NEED_FIELDS = ["text", "specific", "measurable", "achievable", "relevant", "time_bound", "due_on"]
