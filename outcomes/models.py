"""Customer categories, Successful Customer Outcome canvases (versioned) and their parts."""

from django.db import models
from django.db.models import Q

from cxgov.lib.history import ConfigHistory


class CustomerCategory(models.Model):
    """A segment or persona the canvases are written for, tied to the customer data's category."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    data_category = models.CharField(
        max_length=100, blank=True, help_text="The category value in the customer data (e.g. Month-to-month)."
    )
    history = ConfigHistory()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "customer categories"

    def __str__(self) -> str:
        return self.name


class CanvasState(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"
    RETIRED = "retired", "Retired"


class Canvas(models.Model):
    """One version of a category's Successful Customer Outcome canvas; approved versions are frozen."""

    category = models.ForeignKey(CustomerCategory, on_delete=models.CASCADE, related_name="canvases")
    version = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=CanvasState.choices, default=CanvasState.DRAFT)
    who = models.TextField("who the customer is", blank=True)
    expectations = models.TextField("what they expect today", blank=True)
    outcomes = models.TextField("successful outcome statements", blank=True, help_text="One statement per line.")
    cost_to_serve = models.TextField("triple crown: cost to serve", blank=True)
    service = models.TextField("triple crown: service", blank=True)
    revenue = models.TextField("triple crown: revenue", blank=True)
    measures = models.ManyToManyField("metrics.Metric", blank=True, related_name="canvases")
    accountable_functions = models.ManyToManyField("cxgov.Function", blank=True, related_name="canvases")
    created_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey("cxgov.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["category__name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["category", "version"], name="canvas_unique_version"),
            models.UniqueConstraint(
                fields=["category"], condition=Q(state="draft"), name="canvas_one_draft_per_category"
            ),
            models.UniqueConstraint(
                fields=["category"], condition=Q(state="approved"), name="canvas_one_approved_per_category"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} canvas v{self.version} ({self.get_state_display()})"

    @property
    def outcome_lines(self) -> list[str]:
        return [line.strip() for line in self.outcomes.splitlines() if line.strip()]


class Need(models.Model):
    """A SMART need of the customer on a canvas, with its five qualities checked."""

    canvas = models.ForeignKey(Canvas, on_delete=models.CASCADE, related_name="needs")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=300)
    specific = models.BooleanField(default=False)
    measurable = models.BooleanField(default=False)
    achievable = models.BooleanField(default=False)
    relevant = models.BooleanField(default=False)
    time_bound = models.BooleanField(default=False)
    due_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.text

    @property
    def is_smart(self) -> bool:
        return all((self.specific, self.measurable, self.achievable, self.relevant, self.time_bound))


class MomentOfTruth(models.Model):
    """A moment on the customer's way to the outcome, and the functions that act there."""

    canvas = models.ForeignKey(Canvas, on_delete=models.CASCADE, related_name="moments")
    position = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=120)
    what_happens = models.TextField(blank=True)
    functions = models.ManyToManyField("cxgov.Function", blank=True, related_name="moments_of_truth")

    class Meta:
        ordering = ["position", "pk"]
        verbose_name_plural = "moments of truth"

    def __str__(self) -> str:
        return self.stage
