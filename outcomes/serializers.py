from rest_framework import serializers

from cxgov.lib.serializers import StrictModelSerializer
from cxgov.serializers import FunctionSummarySerializer
from metrics.models import Kind, Rag
from outcomes import services
from outcomes.models import Canvas, CustomerCategory, MomentOfTruth, Need
from rootcause.models import IssueState


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


class _ReadOnly(serializers.Serializer):
    """Answers only: these serializers describe what a read endpoint returns."""

    def create(self, validated_data):  # pragma: no cover - never written through
        raise NotImplementedError

    def update(self, instance, validated_data):  # pragma: no cover - never written through
        raise NotImplementedError


class StarMetricSerializer(_ReadOnly):
    """The North Star metric with its latest overall value, status and recent values (oldest first)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.SlugField()
    unit = serializers.CharField()
    target = serializers.FloatField(allow_null=True)
    latest = serializers.FloatField(allow_null=True)
    latest_period = serializers.DateField(allow_null=True)
    status = serializers.ChoiceField(choices=Rag.choices, allow_null=True)
    recent = serializers.ListField(child=serializers.FloatField(), source="spark")


class MeasureSerializer(_ReadOnly):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.SlugField()
    kind = serializers.ChoiceField(choices=Kind.choices)
    owning_function = FunctionSummarySerializer(allow_null=True)


class OverdueItemSerializer(_ReadOnly):
    id = serializers.IntegerField()
    title = serializers.CharField()
    due_date = serializers.DateField()
    function = FunctionSummarySerializer()
    owner = serializers.StringRelatedField(allow_null=True)


class SightIssueSerializer(_ReadOnly):
    """An open issue on one of the canvas's measures, with its overdue action items."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    state = serializers.ChoiceField(choices=IssueState.choices)
    metric = serializers.SlugField(source="metric.slug")
    function = FunctionSummarySerializer(allow_null=True)
    overdue_items = OverdueItemSerializer(many=True)


class CategorySummarySerializer(_ReadOnly):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.SlugField()


class SightCanvasSerializer(_ReadOnly):
    """An approved canvas that uses the North Star: its measures, accountable functions and the
    open issues touching its measures."""

    id = serializers.IntegerField()
    version = serializers.IntegerField()
    category = CategorySummarySerializer()
    measures = MeasureSerializer(many=True, source="measures.all")
    accountable_functions = FunctionSummarySerializer(many=True, source="accountable_functions.all")
    open_issues = SightIssueSerializer(many=True)
    overdue_items = serializers.IntegerField(source="overdue_count", help_text="Overdue action items of those issues.")


class NorthStarSerializer(_ReadOnly):
    """The North Star page: the metric (null until an administrator chooses one) and its line of sight."""

    star = StarMetricSerializer(allow_null=True)
    canvases = SightCanvasSerializer(many=True)
