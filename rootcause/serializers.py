from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cxgov.lib.serializers import StrictModelSerializer, StrictSerializer
from metrics.models import SurveyResponse
from rootcause import services
from rootcause.models import (
    ActionItem,
    ActionStatus,
    ActionUpdate,
    BulkAction,
    BulkTagJob,
    CommentTag,
    DecisionPoint,
    DiscoveryRun,
    Issue,
    KeyDriver,
    SubTheme,
    TagOrigin,
    TextModel,
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
        fields = ["id", "name", "slug", "description", "sources", "segments", "sub_themes"]


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
    source = serializers.CharField(required=False, default="")
    segment = serializers.CharField(required=False, default="")
    product = serializers.CharField(required=False, default="")
    dissatisfied_only = serializers.BooleanField(required=False, default=False)
    weight_by_revenue = serializers.BooleanField(required=False, default=False)
    cutoff = serializers.FloatField(required=False, default=80.0, min_value=1, max_value=100)
    view = serializers.ChoiceField(
        choices=[("problems", "Problems"), ("praise", "What works")],
        required=False,
        default="problems",
        help_text="problems: praise sub-themes left out; praise: their positive comments only.",
    )
    sentiment = serializers.ChoiceField(
        choices=[("problems", "Negative and neutral"), ("negative", "Negative only"), ("all", "Every comment")],
        required=False,
        default="problems",
        help_text="Which comments a problem counts, by what they say about it (problems view only).",
    )


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
    share = serializers.FloatField(
        help_text="Percent of the comments that carry a sub-theme (a comment with several counts in each row)."
    )
    cumulative = serializers.FloatField(
        help_text="Percent of those comments the rows so far cover together (each comment once)."
    )
    vital = serializers.BooleanField(help_text="One of the vital few (within the cutoff).")
    raw_count = serializers.FloatField(help_text="The tags counted as they are (with a text model: before correction).")
    interval = serializers.ListField(
        child=serializers.FloatField(),
        allow_null=True,
        help_text="With a text model switched on: the corrected share's 95 % bootstrap interval, in percent.",
    )
    correction = serializers.ChoiceField(
        choices=["acc", "pv"],
        allow_null=True,
        help_text="With a text model switched on: acc (adjusted classify-and-count, where the sub-themes' mix differs "
        "from the labels') or pv (predictive values, where it does not); null for people's and rules' tags only.",
    )
    samples = serializers.ListField(child=serializers.CharField(), help_text="A few of its comments.")
    positive_share = serializers.FloatField(
        allow_null=True, help_text="Percent of its comments (with a sentiment) positive about it; null when none."
    )
    sentiment_sample = serializers.IntegerField(help_text="How many of its comments have a sentiment.")


class PraiseThemeSerializer(serializers.Serializer):
    sub_theme = serializers.SlugField()
    label = serializers.CharField()
    positive_share = serializers.FloatField()
    sentiment_sample = serializers.IntegerField()


class SentimentAgreementSerializer(serializers.Serializer):
    n = serializers.IntegerField(help_text="Comments with both a sentiment and a score.")
    agree = serializers.IntegerField(help_text="Of those, whose sentiment matches the score's band.")
    positive_n = serializers.IntegerField()
    positive_agree = serializers.IntegerField()
    negative_n = serializers.IntegerField()
    negative_agree = serializers.IntegerField()


class TextCoverageSerializer(serializers.Serializer):
    handled = serializers.CharField(help_text="The language the text pipeline handles.")
    other_languages = serializers.IntegerField(help_text="Comments detected in another language: not tagged.")
    languages = serializers.DictField(child=serializers.IntegerField(), help_text="The most frequent other ones.")
    not_analysed = serializers.IntegerField(help_text="Comments whose sentiment and language are not known yet.")
    agreement = SentimentAgreementSerializer()


class ParetoSerializer(serializers.Serializer):
    """The Pareto analysis of comment themes, as on the Pareto page."""

    comments = serializers.IntegerField(help_text="Comments matching the filters.")
    tagged = serializers.IntegerField(help_text="Of those, the comments that carry a sub-theme: the shares' total.")
    cutoff = serializers.FloatField()
    view = serializers.CharField()
    sentiment = serializers.CharField(help_text="The comments counted: problems, negative, all, or positive.")
    corrected = serializers.BooleanField(
        help_text="A text model is switched on: shares are corrected for its held-out errors (adjusted "
        "classify-and-count) and the vital few are found on them."
    )
    corrected_total = serializers.IntegerField(
        allow_null=True, help_text="The corrected shares' total: comments people, rules or a model looked at."
    )
    models = serializers.ListField(child=serializers.DictField(), help_text="The models switched on (driver, version).")
    rows = ParetoRowSerializer(many=True)
    praise = PraiseThemeSerializer(many=True, help_text="Praise sub-themes (left out of the problems view).")
    text = TextCoverageSerializer()


class CommentFilterSerializer(serializers.Serializer):
    """The comment filters of the comments page (all optional; set ones combine)."""

    source = serializers.CharField(required=False, allow_blank=True, max_length=64)
    segment = serializers.CharField(required=False, allow_blank=True, max_length=100)
    start = serializers.DateField(required=False, allow_null=True)
    end = serializers.DateField(required=False, allow_null=True)
    q = serializers.CharField(required=False, allow_blank=True, max_length=200, help_text="Text the comment contains.")
    sub_theme = serializers.PrimaryKeyRelatedField(
        queryset=SubTheme.objects.all(), required=False, allow_null=True, help_text="Comments carrying it."
    )
    untagged = serializers.BooleanField(required=False, default=False, help_text="Comments with no sub-theme.")
    origin = serializers.ChoiceField(
        choices=TagOrigin.choices, required=False, allow_blank=True, help_text="Comments with a tag of this origin."
    )

    def validate(self, attrs):
        if attrs.get("start") and attrs.get("end") and attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"end": "The end is before the start."})
        if attrs.get("sub_theme"):
            attrs["sub_theme"] = attrs["sub_theme"].pk
        return attrs


class CommentTagSerializer(StrictModelSerializer):
    """A sub-theme on a comment, with where it came from (matching rule, CX team, import)."""

    class Meta:
        model = CommentTag
        fields = ["id", "response", "sub_theme", "origin", "rejected", "tagged_at", "probability", "model"]
        read_only_fields = ["origin", "rejected", "tagged_at", "probability", "model"]
        validators = []  # adding a tag a comment already has (or had) is allowed: it becomes the CX team's

    def save(self, **kwargs):
        data = self.validated_data
        user = self.context["request"].user
        self.instance = services.tag_set(
            user=user, response=data["response"], sub_theme=data["sub_theme"], present=True
        )
        return self.instance


class LiveTagSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sub_theme = serializers.IntegerField(source="sub_theme_id")
    label = serializers.CharField(source="sub_theme.__str__")
    origin = serializers.CharField()


class CommentSerializer(serializers.ModelSerializer):
    """A customer comment with the sub-themes it carries."""

    tags = LiveTagSerializer(source="live_tags", many=True, read_only=True)

    class Meta:
        model = SurveyResponse
        fields = [
            "id",
            "source",
            "external_id",
            "responded_at",
            "score",
            "scale",
            "segment",
            "product",
            "comment",
            "tags",
        ]
        read_only_fields = fields


class BulkFilterSerializer(CommentFilterSerializer):
    """The filters of a bulk change: an unknown or misspelt one is refused, never ignored (ignoring it
    would change every comment)."""

    def to_internal_value(self, data):
        unknown = sorted(str(key)[:100] for key in data if key not in self.fields) if isinstance(data, dict) else []
        if unknown:
            raise serializers.ValidationError(
                {key: [f"Unknown filter; use {', '.join(self.fields)}."] for key in unknown[:20]}
            )
        return super().to_internal_value(data)


class BulkTagSerializer(StrictSerializer):
    action = serializers.ChoiceField(choices=BulkAction.choices)
    sub_theme = serializers.PrimaryKeyRelatedField(queryset=SubTheme.objects.select_related("driver"))
    filters = BulkFilterSerializer(required=False, default=dict)


class BulkTagJobSerializer(serializers.ModelSerializer):
    """A bulk tagging job and its progress."""

    percent = serializers.IntegerField(read_only=True)
    created_by = serializers.StringRelatedField()

    class Meta:
        model = BulkTagJob
        fields = [
            "id",
            "action",
            "sub_theme",
            "filters",
            "total",
            "out_of_scope",
            "done",
            "changed",
            "percent",
            "created_by",
            "created_at",
            "finished_at",
            "error",
        ]
        read_only_fields = fields


class TextModelSerializer(serializers.ModelSerializer):
    """A version of a key driver's text classifier, with its held-out evaluation (``metrics``:
    per sub-theme precision, recall, f1, support and the tp/fn/fp/tn cells; the confusion matrix)."""

    driver = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = TextModel
        fields = [
            "id",
            "driver",
            "version",
            "status",
            "progress",
            "n_labels",
            "metrics",
            "error",
            "reason",
            "tag_total",
            "tag_done",
            "created_by",
            "created_at",
            "trained_at",
            "activated_at",
        ]
        read_only_fields = fields


class TrainSerializer(StrictSerializer):
    driver = serializers.SlugRelatedField(
        slug_field="slug", queryset=KeyDriver.objects.all(), help_text="The key driver whose model to train."
    )


class ReviewTagSerializer(serializers.ModelSerializer):
    """A model tag waiting for review: the comment, what the model said and how sure it was."""

    comment = serializers.CharField(source="response.comment", read_only=True)
    driver = serializers.CharField(source="sub_theme.driver.slug", read_only=True)
    model_version = serializers.IntegerField(source="model.version", read_only=True)

    class Meta:
        model = CommentTag
        fields = ["id", "response", "comment", "driver", "sub_theme", "probability", "model_version"]
        read_only_fields = fields


class ReviewLabelSerializer(StrictSerializer):
    sub_theme = serializers.PrimaryKeyRelatedField(
        queryset=SubTheme.objects.all(),
        help_text="The comment's sub-theme: the model's own to accept it, another of the driver's to correct it.",
    )


class DiscoveryStartSerializer(StrictSerializer):
    source = serializers.CharField(required=False, allow_blank=True, max_length=64)
    start = serializers.DateField(required=False, allow_null=True)
    end = serializers.DateField(required=False, allow_null=True)
    clusters = serializers.IntegerField(required=False, default=8, min_value=2, max_value=30)

    def validate(self, attrs):
        if attrs.get("start") and attrs.get("end") and attrs["start"] > attrs["end"]:
            raise serializers.ValidationError({"end": "The end is before the start."})
        return attrs


class DiscoveryRunSerializer(serializers.ModelSerializer):
    """A theme-discovery run, its progress and its candidates (terms, size, examples, adopted)."""

    percent = serializers.IntegerField(read_only=True)
    created_by = serializers.StringRelatedField()

    class Meta:
        model = DiscoveryRun
        fields = [
            "id",
            "filters",
            "clusters",
            "total",
            "percent",
            "candidates",
            "created_by",
            "created_at",
            "finished_at",
            "error",
        ]
        read_only_fields = fields


class DiscoveryAdoptSerializer(StrictSerializer):
    candidate = serializers.IntegerField(min_value=1, help_text="The candidate's number, from 1.")
    driver = serializers.PrimaryKeyRelatedField(queryset=KeyDriver.objects.all())
    name = serializers.CharField(max_length=120)
    keywords = serializers.ListField(child=serializers.CharField(max_length=120), min_length=1, max_length=50)
    keep = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        default=list,
        max_length=50,
        help_text="Ids of the candidate's example comments to label with the new sub-theme.",
    )
