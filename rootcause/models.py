"""The comment taxonomy (key drivers and sub-themes) and the tags it puts on customer comments."""

import re

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from simple_history.models import HistoricalRecords

from cxgov.lib.history import ConfigHistory


class KeyDriver(models.Model):
    """The first level of the comment taxonomy: what drives the customer's experience, for the
    sources (and segments) it is written for."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    sources = models.JSONField(
        default=list, blank=True, help_text="The sources whose comments it tags; empty for every source."
    )
    segments = models.JSONField(
        default=list, blank=True, help_text="The customer segments whose comments it tags; empty for every segment."
    )
    history = ConfigHistory()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def applies_to(self, source: str, segment: str) -> bool:
        """Is a comment from this source and segment within this driver's scope?"""
        return (not self.sources or source in self.sources) and (not self.segments or segment in self.segments)

    @property
    def scope_label(self) -> str:
        sources = ", ".join(self.sources) if self.sources else "every source"
        return sources + (f" (segments: {', '.join(self.segments)})" if self.segments else "")


class SubTheme(models.Model):
    """The second level: a specific problem or praise, found in comments by its matching rules."""

    driver = models.ForeignKey(KeyDriver, on_delete=models.CASCADE, related_name="sub_themes")
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    keywords = models.TextField(
        help_text="Words or phrases, one per line; a comment containing any of them gets this sub-theme."
    )
    negative_keywords = models.TextField(
        blank=True, help_text="One per line; a comment containing any of them does not get it."
    )
    suggested_function = models.ForeignKey(
        "cxgov.Function", null=True, blank=True, on_delete=models.SET_NULL, related_name="suggested_sub_themes"
    )
    history = ConfigHistory()

    class Meta:
        ordering = ["driver__name", "name"]
        constraints = [models.UniqueConstraint(fields=["driver", "name"], name="sub_theme_unique_name")]

    def __str__(self) -> str:
        return f"{self.driver.name} › {self.name}"

    @staticmethod
    def phrases(text: str) -> list[str]:
        return [line.strip().lower() for line in text.splitlines() if line.strip()]


class TagOrigin(models.TextChoices):
    RULE = "rule", "Matching rule"
    MANUAL = "manual", "CX team"
    IMPORTED = "imported", "Imported label"
    MODEL = "model", "Text model"


# The origins a model learns from: people's labels, never rules or another model.
LABEL_ORIGINS = (TagOrigin.MANUAL, TagOrigin.IMPORTED)


class CommentTag(models.Model):
    """A sub-theme on a survey comment. Tags set or removed by hand (``origin`` manual) and tags
    from an imported label column (``imported``) are never changed by the rules; a removed one
    stays as ``rejected`` so the rules do not add it back. A key driver's text model tags (origin
    ``model``, with their probability and the model that made them) only the comments that carry
    no manual, imported or rule tag of that driver."""

    # No index of their own for the three keys: each leads one below (the unique pair, sub-theme and
    # rejected, the review queue's), which serves the same lookups; a fourth index on every tag
    # written would only slow tagging down.
    response = models.ForeignKey(
        "metrics.SurveyResponse", on_delete=models.CASCADE, related_name="tags", db_index=False
    )
    sub_theme = models.ForeignKey(SubTheme, on_delete=models.CASCADE, related_name="tags", db_index=False)
    origin = models.CharField(max_length=8, choices=TagOrigin.choices, default=TagOrigin.RULE)
    rejected = models.BooleanField(default=False)
    tagged_at = models.DateTimeField(auto_now=True)
    # What the comment says about this sub-theme: VADER over the sentences that name it (the whole
    # comment when none does); blank until the background analysis reaches it.
    sentiment = models.FloatField(null=True, blank=True)
    probability = models.FloatField(null=True, blank=True, help_text="The text model's probability (model tags).")
    model = models.ForeignKey(
        "rootcause.TextModel", null=True, blank=True, on_delete=models.CASCADE, related_name="tags", db_index=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "sub_theme"], name="comment_tag_unique"),
            models.CheckConstraint(
                condition=Q(origin="model", model__isnull=False, probability__isnull=False)
                | Q(~Q(origin="model"), model__isnull=True),
                name="comment_tag_model_origin",
            ),
        ]
        indexes = [
            models.Index(fields=["sub_theme", "rejected"]),
            # The review queue: a model's least sure tags first.
            models.Index(fields=["model", "probability"], name="comment_tag_review"),
        ]

    def __str__(self) -> str:
        return f"{self.response} → {self.sub_theme}"


class ParetoSnapshot(models.Model):
    """A saved Pareto analysis: its filters and rows, to compare the vital few over time."""

    filters = models.JSONField(default=dict)
    cutoff = models.FloatField(default=80.0)
    rows = models.JSONField(default=list, help_text="sub_theme, label, value, share, cumulative, vital")
    comments = models.IntegerField(default=0)
    created_by = models.ForeignKey(
        "cxgov.User", null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Pareto of {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def vital_labels(self) -> set[str]:
        return {row["label"] for row in self.rows if row["vital"]}


class Workflow(models.Model):
    """A process a function owns (e.g. the monthly invoice run) in which decision points sit."""

    name = models.CharField(max_length=150, unique=True)
    description = models.TextField(blank=True)
    function = models.ForeignKey("cxgov.Function", on_delete=models.PROTECT, related_name="workflows")
    history = ConfigHistory()

    class Meta:
        ordering = ["function__name", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def owning_function_id(self) -> int:
        return self.function_id


class DecisionKind(models.TextChoices):
    STRATEGIC = "strategic", "Strategic"
    REGULATORY = "regulatory", "Regulatory"
    OPERATIONAL = "operational", "Operational"


class DecisionPoint(models.Model):
    """A rule inside a workflow that lets bad output through (a "faulty filter"): where the 5 whys end."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="decision_points")
    rule = models.CharField(max_length=250, help_text="e.g. Orders after 14:00 wait for the next day's batch.")
    kind = models.CharField(max_length=12, choices=DecisionKind.choices, default=DecisionKind.OPERATIONAL)
    description = models.TextField(blank=True)
    history = ConfigHistory()

    class Meta:
        ordering = ["workflow__name", "rule"]
        constraints = [models.UniqueConstraint(fields=["workflow", "rule"], name="decision_point_unique_rule")]

    def __str__(self) -> str:
        return self.rule

    @property
    def owning_function_id(self) -> int:
        return self.workflow.function_id


class Priority(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


# Most urgent first: order issues with ``order_by(PRIORITY_RANK)``, not by the text.
PRIORITY_RANK = models.Case(
    *(models.When(priority=value, then=rank) for rank, value in enumerate(["critical", "high", "medium", "low"])),
    default=9,
    output_field=models.IntegerField(),
)


class IssueState(models.TextChoices):
    NEW = "new", "New"
    INVESTIGATING = "investigating", "Investigating"
    ROOT_CAUSE = "root_cause", "Root cause identified"
    ACTIONS = "actions", "Actions in progress"
    VERIFYING = "verifying", "Verifying"
    CLOSED_EFFECTIVE = "closed_effective", "Closed: effective"
    CLOSED_PARTIAL = "closed_partial", "Closed: partially effective"
    CLOSED_NOT_EFFECTIVE = "closed_not_effective", "Closed: not effective"
    REOPENED = "reopened", "Reopened"


CLOSED_STATES = (IssueState.CLOSED_EFFECTIVE, IssueState.CLOSED_PARTIAL, IssueState.CLOSED_NOT_EFFECTIVE)
_QUARTER = re.compile(r"^\s*(?:(\d{4})\s*[-/ ]?\s*q([1-4])|q([1-4])\s*[-/ ]?\s*(\d{4}))\s*$", re.IGNORECASE)


def parse_quarter(text: str) -> str | None:
    """A quarter as stored (``2026-Q4``) from how people write it (``Q4 2026``, ``2026-Q4``,
    ``q4-2026``); None when the text is no quarter."""
    found = _QUARTER.match(text or "")
    if not found:
        return None
    year, quarter = (found[1], found[2]) if found[1] else (found[4], found[3])
    return f"{year}-Q{quarter}"


# The way an open issue moves forward (closing is "Close": its verification decides how).
FLOW = (IssueState.NEW, IssueState.INVESTIGATING, IssueState.ROOT_CAUSE, IssueState.ACTIONS, IssueState.VERIFYING)


def next_states(state: str) -> list[str]:
    """The open states after ``state``, the next one first; a reopened issue is investigated again."""
    if state == IssueState.REOPENED:
        return list(FLOW[1:])
    return list(FLOW[FLOW.index(state) + 1 :]) if state in FLOW else []


class MeasureKind(models.TextChoices):
    SHARE = "share", "The sub-theme's share of comments"
    SERIES = "series", "A failure-demand series"
    METRIC = "metric", "A metric"


class Verdict(models.TextChoices):
    EFFECTIVE = "effective", "Effective"
    PARTIAL = "partial", "Partially effective"
    NOT_EFFECTIVE = "not_effective", "Not effective"
    INCONCLUSIVE = "inconclusive", "Too little data to tell"


# An issue's long fields (the evidence alone is about a kilobyte of JSON, decoded per row): lists leave them.
ISSUE_TEXT = ("evidence", "verification", "description", "root_cause")


class Issue(models.Model):
    """A root-cause investigation: from a vital-few sub-theme or an alert to a decision point in a
    function's workflow, the actions that change it, and the measure that proves they worked."""

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    sub_theme = models.ForeignKey(SubTheme, null=True, blank=True, on_delete=models.SET_NULL, related_name="issues")
    metric = models.ForeignKey(
        "metrics.Metric",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="issues",
        help_text="The metric that showed the problem, and the measure to verify when the kind is “metric”.",
    )
    period = models.DateField(null=True, blank=True, help_text="The period the problem was seen in.")
    alert_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="The alert it was opened from.")
    evidence = models.JSONField(default=dict, blank=True, help_text="Counts, trend, verbatims, revenue at risk.")
    # The annual revenue at risk in the evidence, kept by the database beside it: the ownership pages sum it
    # over thousands of issues, and reading it out of each issue's evidence (verbatims and all) cost more
    # than the rest of their queries.
    revenue_at_risk = models.GeneratedField(
        expression=Coalesce(Cast(KT("evidence__revenue_at_risk__annual"), models.FloatField()), Value(0.0)),
        output_field=models.FloatField(),
        db_persist=True,
    )
    cx_owner = models.ForeignKey(
        "cxgov.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="cx_issues"
    )
    function = models.ForeignKey(
        "cxgov.Function",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="issues",
        verbose_name="owning function",
        help_text="Accountable for the issue in the register.",
    )
    owner = models.ForeignKey(
        "cxgov.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_issues",
        help_text="The person in the owning function who answers for it.",
    )
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.MEDIUM)
    target_quarter = models.CharField(
        max_length=7,
        blank=True,
        validators=[RegexValidator(r"^\d{4}-Q[1-4]$", "Write the quarter as YYYY-Qn, e.g. 2026-Q4.")],
    )
    state = models.CharField(max_length=20, choices=IssueState.choices, default=IssueState.NEW)
    root_cause = models.TextField(blank=True)
    decision_point = models.ForeignKey(
        DecisionPoint, null=True, blank=True, on_delete=models.PROTECT, related_name="issues"
    )
    measure_kind = models.CharField(max_length=6, choices=MeasureKind.choices, blank=True)
    measure_series = models.CharField(max_length=64, blank=True, help_text="The observation source, e.g. repeat-calls.")
    baseline_start = models.DateField(null=True, blank=True)
    baseline_end = models.DateField(null=True, blank=True)
    check_start = models.DateField(null=True, blank=True)
    check_end = models.DateField(null=True, blank=True)
    expected_improvement = models.FloatField(
        default=20.0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Relative improvement (%) that counts as fully effective.",
    )
    verdict = models.CharField(max_length=13, choices=Verdict.choices, blank=True)
    verification = models.JSONField(default=dict, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "cxgov.User", null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["revenue_at_risk"])

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["function", "state"]), models.Index(fields=["state", "target_quarter"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(baseline_end__isnull=True) | Q(baseline_start__lte=F("baseline_end")),
                name="issue_baseline_window_ordered",
            ),
            models.CheckConstraint(
                condition=Q(check_end__isnull=True) | Q(check_start__lte=F("check_end")),
                name="issue_check_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def owning_function_id(self) -> int | None:
        return self.function_id

    @property
    def closed(self) -> bool:
        return self.state in CLOSED_STATES


class Why(models.Model):
    """One step of an issue's 5 whys: why did this happen, because..., with its evidence."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="whys")
    position = models.PositiveSmallIntegerField()
    why = models.CharField(max_length=300)
    because = models.CharField(max_length=300)
    evidence = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["issue", "position"]
        constraints = [models.UniqueConstraint(fields=["issue", "position"], name="why_unique_position")]

    def __str__(self) -> str:
        return f"{self.position}. {self.why}"


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    BLOCKED = "blocked", "Blocked"
    DONE = "done", "Done"


class ActionItemQuerySet(models.QuerySet):
    def overdue(self, today=None):
        """Not done and past the due date: computed, never stored."""
        return self.exclude(status=ActionStatus.DONE).filter(due_date__lt=today or timezone.localdate())


class ActionItem(models.Model):
    """A dated piece of work a function's leader keeps until the fix is in."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="action_items")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    function = models.ForeignKey("cxgov.Function", on_delete=models.PROTECT, related_name="action_items")
    owner = models.ForeignKey(
        "cxgov.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="action_items"
    )
    due_date = models.DateField()
    status = models.CharField(max_length=11, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    blocked_reason = models.CharField(max_length=300, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "cxgov.User", null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    objects = ActionItemQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "pk"]
        indexes = [
            models.Index(fields=["function", "status", "due_date"]),
            # A leader's items not yet done, most urgent first: read in due-date order, a page at a time.
            models.Index(
                fields=["function", "due_date"], condition=~Q(status=ActionStatus.DONE), name="action_item_open_by_due"
            ),
            # The blocked items CX triage lists, most urgent first: the first 30 in index order.
            models.Index(
                fields=["due_date", "id"], condition=Q(status=ActionStatus.BLOCKED), name="action_item_blocked_by_due"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="blocked") | ~Q(blocked_reason=""), name="action_item_blocked_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def owning_function_id(self) -> int:
        return self.function_id

    def is_overdue(self, today=None) -> bool:
        return self.status != ActionStatus.DONE and self.due_date < (today or timezone.localdate())


class ActionUpdate(models.Model):
    """A progress note on an action item's timeline (with the status it was given, if it changed)."""

    item = models.ForeignKey(ActionItem, on_delete=models.CASCADE, related_name="updates")
    author = models.ForeignKey("cxgov.User", null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(blank=True)
    status = models.CharField(max_length=11, choices=ActionStatus.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.item}: {self.text[:40]}"


class TaggingRun(models.Model):
    """Progress of a background re-tagging of every comment after the rules changed."""

    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"Re-tagging of {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def percent(self) -> int:
        return 100 if self.finished_at else int(self.done * 100 / self.total) if self.total else 0


class BulkAction(models.TextChoices):
    ADD = "add", "Add the sub-theme"
    REMOVE = "remove", "Remove the sub-theme"


class BulkTagJob(models.Model):
    """The CX team adding a sub-theme to, or removing it from, every comment a filter matches: a
    background job with its progress. It resumes after ``last_response_id``, so a second run (a
    redelivered task, a second worker) continues where the first stopped and changes nothing twice."""

    action = models.CharField(max_length=6, choices=BulkAction.choices)
    sub_theme = models.ForeignKey(SubTheme, on_delete=models.CASCADE, related_name="bulk_jobs")
    filters = models.JSONField(default=dict, blank=True, help_text="The comment filters, as on the comments page.")
    total = models.PositiveIntegerField(default=0, help_text="Matching comments in the key driver's scope.")
    out_of_scope = models.PositiveIntegerField(
        default=0, help_text="Matching comments the key driver does not apply to."
    )
    done = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    last_response_id = models.PositiveBigIntegerField(default=0)
    created_by = models.ForeignKey(
        "cxgov.User", null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} “{self.sub_theme_id}” on {self.total} comments"

    @property
    def percent(self) -> int:
        if self.finished_at and not self.error:
            return 100
        return min(100, int(self.done * 100 / self.total)) if self.total else 0


class ModelStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to train"
    TRAINING = "training", "Training"
    READY = "ready", "Trained: check its evaluation, then switch it on"
    ACTIVE = "active", "Active: tags comments"
    RETIRED = "retired", "Retired"
    FAILED = "failed", "Failed"


PENDING_MODEL_STATES = (ModelStatus.QUEUED, ModelStatus.TRAINING)


class TextModel(models.Model):
    """A version of a key driver's text classifier, trained on the comments people labelled (manual
    and imported tags), with its held-out evaluation; one version per driver tags comments (active)."""

    driver = models.ForeignKey(KeyDriver, on_delete=models.CASCADE, related_name="text_models")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=ModelStatus.choices, default=ModelStatus.QUEUED)
    progress = models.FloatField(default=0.0, help_text="Training progress, 0 to 1.")
    n_labels = models.PositiveIntegerField(default=0, help_text="Labelled comments it was trained on.")
    metrics = models.JSONField(default=dict, blank=True, help_text="Held-out evaluation per sub-theme.")
    error = models.TextField(blank=True)
    reason = models.CharField(max_length=200, blank=True, help_text="Why it was trained.")
    tag_total = models.PositiveIntegerField(default=0, help_text="Comments to tag once switched on.")
    tag_done = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        "cxgov.User", null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    trained_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["driver__name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["driver", "version"], name="text_model_unique_version"),
            # At most one version per driver tags comments, and at most one is being trained.
            models.UniqueConstraint(
                fields=["driver"], condition=Q(status="active"), name="text_model_one_active_per_driver"
            ),
            models.UniqueConstraint(
                fields=["driver"], condition=Q(status__in=["queued", "training"]), name="text_model_one_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.driver.name} v{self.version}"

    @property
    def percent(self) -> int:
        return int(round(self.progress * 100))

    @property
    def tag_percent(self) -> int:
        return min(100, int(self.tag_done * 100 / self.tag_total)) if self.tag_total else 0


class TextModelFile(models.Model):
    """The fitted pipeline of a text model (joblib bytes), apart so that lists never load it."""

    model = models.OneToOneField(TextModel, on_delete=models.CASCADE, primary_key=True, related_name="file")
    data = models.BinaryField()

    def __str__(self) -> str:
        return f"Pipeline of {self.model_id}"


class DiscoveryRun(models.Model):
    """Theme discovery: the untagged and low-confidence comments of a scope clustered into candidate
    sub-themes (top terms, size, examples) for the CX team to adopt; a background job with progress."""

    filters = models.JSONField(default=dict, blank=True, help_text="source, start, end: the comments clustered.")
    clusters = models.PositiveSmallIntegerField(default=8)
    seed = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0, help_text="Comments clustered.")
    done = models.PositiveIntegerField(default=0, help_text="Steps done out of 3 (read, cluster, describe).")
    candidates = models.JSONField(
        default=list, blank=True, help_text="[{terms, size, examples: [{id, comment}], adopted: sub-theme id}]"
    )
    created_by = models.ForeignKey(
        "cxgov.User", null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Theme discovery of {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def percent(self) -> int:
        if self.finished_at and not self.error:
            return 100
        return min(99, self.done * 33)

    @property
    def running(self) -> bool:
        return self.finished_at is None
