from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cxgov.lib.serializers import StrictModelSerializer, StrictSerializer
from rootcause import services
from rootcause.models import (
    ActionItem,
    ActionStatus,
    ActionUpdate,
    DecisionPoint,
    Issue,
    KeyDriver,
    SubTheme,
    Verdict,
    Why,
    Workflow,
)


class SubThemeSerializer(StrictModelSerializer):
    class Meta:
        model = SubTheme
        fields = ["id", "driver", "name", "slug", "keywords", "negative_keywords", "suggested_function"]


class KeyDriverSerializer(StrictModelSerializer):
    sub_themes = SubThemeSerializer(many=True, read_only=True)

    class Meta:
        model = KeyDriver
        fields = ["id", "name", "slug", "description", "sub_themes"]


class DecisionPointSerializer(StrictModelSerializer):
    class Meta:
        model = DecisionPoint
        fields = ["id", "workflow", "rule", "kind", "description"]


class WorkflowSerializer(StrictModelSerializer):
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


class WhySerializer(StrictModelSerializer):
    class Meta:
        model = Why
        fields = ["position", "why", "because", "evidence"]
        read_only_fields = ["position"]


class IssueSerializer(StrictModelSerializer):
    whys = WhySerializer(many=True, read_only=True)
    function_customer_facing = serializers.BooleanField(
        source="function.customer_facing", read_only=True, allow_null=True
    )  # null: no owning function yet
    overdue_items = serializers.IntegerField(source="items_overdue", read_only=True)
    verdict = serializers.ChoiceField(choices=Verdict.choices, allow_blank=True, read_only=True)  # "" until verified

    class Meta:
        model = Issue
        fields = [
            "id",
            *services.ISSUE_FIELDS,
            "alert_id",
            "evidence",
            "function_customer_facing",
            "state",
            "whys",
            "verdict",
            "verification",
            "verified_at",
            "overdue_items",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["evidence", "state", "verdict", "verification", "verified_at", "created_at", "updated_at"]

    def save(self, **kwargs):
        from rootcause.selectors import issue_evidence

        data = dict(self.validated_data)
        if self.instance is None:
            issue = Issue(
                alert_id=data.pop("alert_id", None),
                evidence=issue_evidence(
                    sub_theme=data.get("sub_theme"), metric=data.get("metric"), period=data.get("period")
                ),
            )
        else:
            data.pop("alert_id", None)
            issue = Issue.objects.get(pk=self.instance.pk)
        user = self.context["request"].user
        self.instance = services.issue_save(user=user, issue=issue, fields=data)
        return self.instance


class TransitionSerializer(StrictSerializer):
    state = serializers.CharField(help_text="An open state, “reopened”, or “close” (closes as verified).")


class ActionUpdateSerializer(StrictModelSerializer):
    author = serializers.StringRelatedField()
    blocked_reason = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=300)

    class Meta:
        model = ActionUpdate
        fields = ["id", "author", "text", "status", "blocked_reason", "created_at"]
        read_only_fields = ["author", "created_at"]
        extra_kwargs = {"text": {"required": False, "allow_blank": True}, "status": {"required": False}}


HISTORY_TYPES = {"+": "created", "~": "changed", "-": "deleted"}


class ActionItemHistorySerializer(serializers.Serializer):
    """One recorded change of an action item (its history lists them oldest first)."""

    at = serializers.DateTimeField(source="history_date")
    by = serializers.StringRelatedField(source="history_user", allow_null=True)
    type = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=ActionStatus.choices)
    due_date = serializers.DateField()
    function = serializers.IntegerField(source="function_id")
    owner = serializers.IntegerField(source="owner_id", allow_null=True)
    title = serializers.CharField()

    @extend_schema_field(serializers.ChoiceField(choices=list(HISTORY_TYPES.values())))
    def get_type(self, record) -> str:
        return HISTORY_TYPES[record.history_type]


class ActionItemSerializer(StrictModelSerializer):
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = ActionItem
        fields = [
            "id",
            "issue",
            *services.ACTION_FIELDS,
            "overdue",
            "completed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["completed_at", "created_at", "updated_at"]

    def get_overdue(self, item) -> bool:
        return item.is_overdue()

    def validate(self, attrs):
        if self.instance is not None and "issue" in attrs and attrs["issue"].pk != self.instance.issue_id:
            raise serializers.ValidationError({"issue": "An action item stays on its issue."})
        return attrs

    def save(self, **kwargs):
        data = dict(self.validated_data)
        issue = data.pop("issue", None)
        item = ActionItem.objects.get(pk=self.instance.pk) if self.instance else ActionItem(issue=issue)
        user = self.context["request"].user
        self.instance = services.action_item_save(user=user, item=item, fields=data)
        return self.instance


class ParetoRowSerializer(serializers.Serializer):
    sub_theme = serializers.SlugField()
    label = serializers.CharField()
    value = serializers.FloatField(help_text="Comments (or their customers' revenue when weighted).")
    share = serializers.FloatField(help_text="Percent of the total.")
    cumulative = serializers.FloatField(help_text="Cumulative percent.")
    vital = serializers.BooleanField(help_text="One of the vital few (within the cutoff).")
    samples = serializers.ListField(child=serializers.CharField(), help_text="A few of its comments.")


class ParetoSerializer(serializers.Serializer):
    """The Pareto analysis of comment themes, as on the Pareto page."""

    comments = serializers.IntegerField()
    tagged = serializers.IntegerField()
    cutoff = serializers.FloatField()
    rows = ParetoRowSerializer(many=True)
