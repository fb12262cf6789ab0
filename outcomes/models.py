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


class LedgerSettings(models.Model):
    """The value ledger's settings: the currency its money is in and the discount rate of lifetime value."""

    currency = models.CharField(max_length=3, default="EUR", help_text="ISO 4217 code, e.g. EUR, GBP, USD.")
    discount_rate = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=0,
        help_text="Annual discount rate of customer lifetime value, in % (0: undiscounted).",
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = ConfigHistory()

    class Meta:
        verbose_name_plural = "ledger settings"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="ledger_settings_single_row")]

    def __str__(self) -> str:
        return f"Ledger in {self.currency}"


class ContactCost(models.Model):
    """What one customer contact costs on a channel (phone, chat, email...): failure demand is priced with it.
    The channel "" is the cost of any channel without its own."""

    channel = models.CharField(max_length=100, unique=True, blank=True)
    cost_per_contact = models.DecimalField(max_digits=10, decimal_places=2)
    history = ConfigHistory()

    class Meta:
        ordering = ["channel"]
        constraints = [models.CheckConstraint(condition=Q(cost_per_contact__gte=0), name="contact_cost_not_negative")]

    def __str__(self) -> str:
        return f"{self.channel or 'any other channel'}: {self.cost_per_contact}"


class BusinessCase(models.Model):
    """An issue's money: revenue at risk, excess churn, expected loss, failure demand and, once verified,
    the value its fix realised. Computed from the data and kept current; ``figures`` holds every figure
    with its inputs, formula and interval, the columns the ledger adds up."""

    issue = models.OneToOneField("rootcause.Issue", on_delete=models.CASCADE, related_name="business_case")
    figures = models.JSONField(default=dict)
    affected_customers = models.IntegerField(default=0)
    revenue_at_risk = models.FloatField(null=True, blank=True)
    expected_loss = models.FloatField(null=True, blank=True)
    failure_cost = models.FloatField(null=True, blank=True)
    value_at_risk = models.FloatField(null=True, blank=True, help_text="Expected annual loss + failure demand.")
    value_realised = models.FloatField(null=True, blank=True)
    realised_low = models.FloatField(null=True, blank=True)
    realised_high = models.FloatField(null=True, blank=True)
    by_category = models.JSONField(default=dict, blank=True, help_text="Affected customers and revenue per category.")
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["-issue_id"]

    def __str__(self) -> str:
        return f"Business case of issue {self.issue_id}"
