"""The comment taxonomy (key drivers and sub-themes) and the tags it puts on customer comments."""

from django.db import models


class KeyDriver(models.Model):
    """The first level of the comment taxonomy: what drives the customer's experience."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


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


class CommentTag(models.Model):
    """A sub-theme on a survey comment. Tags set or removed by hand (``origin`` manual) are never
    changed by the rules; a removed one stays as ``rejected`` so the rules do not add it back."""

    response = models.ForeignKey("metrics.SurveyResponse", on_delete=models.CASCADE, related_name="tags")
    sub_theme = models.ForeignKey(SubTheme, on_delete=models.CASCADE, related_name="tags")
    origin = models.CharField(max_length=6, choices=TagOrigin.choices, default=TagOrigin.RULE)
    rejected = models.BooleanField(default=False)
    tagged_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["response", "sub_theme"], name="comment_tag_unique")]
        indexes = [models.Index(fields=["sub_theme", "rejected"])]

    def __str__(self) -> str:
        return f"{self.response} → {self.sub_theme}"


class ParetoSnapshot(models.Model):
    """A saved Pareto analysis: its filters and rows, to compare the vital few over time."""

    filters = models.JSONField(default=dict)
    cutoff = models.FloatField(default=80.0)
    rows = models.JSONField(default=list, help_text="sub_theme, label, value, share, cumulative, vital")
    comments = models.IntegerField(default=0)
    created_by = models.ForeignKey("cxgov.User", null=True, on_delete=models.SET_NULL, related_name="+")
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

    class Meta:
        ordering = ["workflow__name", "rule"]
        constraints = [models.UniqueConstraint(fields=["workflow", "rule"], name="decision_point_unique_rule")]

    def __str__(self) -> str:
        return self.rule

    @property
    def owning_function_id(self) -> int:
        return self.workflow.function_id
