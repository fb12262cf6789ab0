"""Customer data that metrics are computed from: customers and survey responses."""

from django.db import models

from cxgov.lib.history import ConfigHistory


class Customer(models.Model):
    """A customer of the company, with the category they belong to and what they bring in."""

    external_id = models.CharField(max_length=64, unique=True)
    category = models.CharField(max_length=100, blank=True)  # indexed in Meta: equality lookups only
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True, help_text="Set when the customer churned.")
    monthly_revenue = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    monthly_margin = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["external_id"]
        indexes = [models.Index(fields=["category"], name="customer_category")]  # (no LIKE index)

    def __str__(self) -> str:
        return self.external_id


class Scale(models.TextChoices):
    NPS = "nps", "0-10 likelihood to recommend"
    CSAT = "csat", "1-5 satisfaction"
    CES = "ces", "1-7 effort"


class Sentiment(models.TextChoices):
    NEGATIVE = "negative", "Negative"
    NEUTRAL = "neutral", "Neutral"
    POSITIVE = "positive", "Positive"


class SurveyResponseQuerySet(models.QuerySet):
    def scored(self):
        """Responses with a score: what score metrics (NPS, CSAT, mean) read."""
        return self.filter(score__isnull=False)


class SurveyResponse(models.Model):
    """One customer's answer to a survey or a comment: a score on a scale (none for a comment-only
    source such as social listening), optional driver ratings and the comment."""

    source = models.CharField(max_length=64)
    external_id = models.CharField(max_length=128)
    customer_id = models.CharField(max_length=64, blank=True)  # indexed in Meta: equality lookups only
    responded_at = models.DateTimeField(db_index=True)
    score = models.SmallIntegerField(null=True, blank=True, help_text="Blank for a comment without a score.")
    scale = models.CharField(max_length=8, choices=Scale.choices, blank=True)
    driver_ratings = models.JSONField(default=dict, blank=True)
    comment = models.TextField(blank=True)
    segment = models.CharField(max_length=100, blank=True)
    channel = models.CharField(max_length=100, blank=True)
    product = models.CharField(max_length=100, blank=True)
    touchpoint = models.CharField(max_length=100, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    # Text analysis of the comment (rootcause.text), filled in the background after arrival.
    sentiment = models.FloatField(
        null=True, blank=True, help_text="VADER compound score, -1 to 1; blank until analysed."
    )
    sentiment_label = models.CharField(max_length=8, choices=Sentiment.choices, blank=True, db_default="")
    language = models.CharField(  # a database default: the ingestion's SQL upsert names its columns
        max_length=8,
        db_default="",
        blank=True,
        help_text="ISO 639-1 code detected; blank when the comment is too short to tell.",
    )
    analysed_checksum = models.BigIntegerField(
        null=True,
        blank=True,
        editable=False,
        help_text="CRC-32 of the comment analysed: a changed comment is analysed again.",
    )

    objects = SurveyResponseQuerySet.as_manager()

    class Meta:
        ordering = ["-responded_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="response_unique_source_external_id"),
            models.CheckConstraint(
                condition=(
                    models.Q(score__isnull=True)
                    | models.Q(scale="nps", score__gte=0, score__lte=10)
                    | models.Q(scale="csat", score__gte=1, score__lte=5)
                    | models.Q(scale="ces", score__gte=1, score__lte=7)
                ),
                name="response_score_within_scale",
            ),
        ]
        # A plain B-tree: responses are matched to customers by equal ids; Django's db_index would add
        # a second, varchar_pattern_ops index for LIKE on PostgreSQL, which no query uses and every
        # import pays for.
        indexes = [models.Index(fields=["customer_id"], name="response_customer_id")]

    def __str__(self) -> str:
        return f"{self.source}/{self.external_id}"


class Observation(models.Model):
    """One point of a numeric series pushed from elsewhere (contacts handled, cost to serve...)."""

    source = models.CharField(max_length=64, help_text="The series key, e.g. failure-demand-contacts.")
    external_id = models.CharField(max_length=128)
    observed_at = models.DateTimeField(db_index=True)
    value = models.FloatField()
    dimensions = models.JSONField(default=dict, blank=True)
    segment = models.CharField(max_length=100, blank=True)
    channel = models.CharField(max_length=100, blank=True)
    product = models.CharField(max_length=100, blank=True)
    touchpoint = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-observed_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="observation_unique_source_external_id"),
        ]
        indexes = [models.Index(fields=["source", "observed_at"])]

    def __str__(self) -> str:
        return f"{self.source}/{self.external_id}={self.value}"


class Kind(models.TextChoices):
    OUTCOME = "outcome", "Outcome"
    OUTPUT = "output", "Output"
    BUSINESS = "business", "Business"


class Timing(models.TextChoices):
    LEADING = "leading", "Leading"
    LAGGING = "lagging", "Lagging"


class Direction(models.TextChoices):
    HIGHER = "higher", "Higher is better"
    LOWER = "lower", "Lower is better"


class Calculator(models.TextChoices):
    NPS = "nps", "Net Promoter Score"
    CSAT = "csat", "CSAT (top-two-box %)"
    MEAN = "mean", "Mean score"
    COUNT = "count", "Count"
    SUM = "sum", "Sum of a series"
    RATIO = "ratio", "Ratio of two series"
    PROPORTION = "proportion", "Proportion of responses (a field has a value)"
    SERIES_PROPORTION = "series_proportion", "Proportion of two series (part / whole, %)"
    RATE = "rate", "Rate per unit (events / units)"
    CHURN = "churn", "Churn rate"
    CLV = "clv", "Customer lifetime value"
    REVENUE_AT_RISK = "revenue_at_risk", "Revenue at risk"
    FAILURE_COST = "failure_cost", "Cost of failure demand"
    COST_TO_SERVE = "cost_to_serve", "Cost to serve per customer (a cost series / active customers)"
    COST_TO_ACQUIRE = "cost_to_acquire", "Cost to acquire a customer (a cost series / new customers)"
    NET_GROWTH = "net_growth", "Net customer growth (new − lost)"
    SHARE_OF_WALLET = "share_of_wallet", "Penetration / share of wallet (% of two series)"
    CLV_DISCOUNTED = "clv_discounted", "Discounted customer lifetime value"


class Granularity(models.TextChoices):
    DAY = "day", "Day"
    WEEK = "week", "Week"
    MONTH = "month", "Month"
    QUARTER = "quarter", "Quarter"


class SegmentBy(models.TextChoices):
    NONE = "", "No breakdown"
    SEGMENT = "segment", "Customer category / segment"
    CHANNEL = "channel", "Channel"
    PRODUCT = "product", "Product"
    TOUCHPOINT = "touchpoint", "Touchpoint"


class Rag(models.TextChoices):
    GREEN = "green", "On track"
    AMBER = "amber", "At risk"
    RED = "red", "Off track"


class Metric(models.Model):
    """A measure the organisation tracks: how it is computed, its target, and who owns it."""

    is_configuration = True  # administrators define metrics (cxgov.lib.permissions)
    # What an administrator sets, in the order the form and the API present it.
    DEFINITION_FIELDS = [
        "name",
        "slug",
        "description",
        "unit",
        "kind",
        "timing",
        "direction",
        "calculator",
        "source",
        "denominator_source",
        "condition_field",
        "condition_values",
        "unit_cost",
        "discount_rate",
        "filter_segment",
        "filter_channel",
        "filter_product",
        "filter_touchpoint",
        "segment_by",
        "granularity",
        "target",
        "amber_threshold",
        "red_threshold",
        "owning_function",
        "north_star",
        "active",
    ]

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    unit = models.CharField(max_length=20, blank=True, help_text="e.g. %, points, €, contacts")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    timing = models.CharField(max_length=10, choices=Timing.choices, default=Timing.LAGGING)
    direction = models.CharField(max_length=10, choices=Direction.choices, default=Direction.HIGHER)
    calculator = models.CharField(max_length=20, choices=Calculator.choices)
    source = models.CharField(
        max_length=64, blank=True, help_text="Survey source or series key the metric reads (blank: all surveys)."
    )
    denominator_source = models.CharField(
        max_length=64,
        blank=True,
        help_text="Series key of the denominator: of a ratio, of a proportion (the whole) or of a rate (the units).",
    )
    condition_field = models.CharField(
        max_length=64,
        blank=True,
        help_text="Proportion of responses: the field to look at — segment, channel, product, touchpoint, score, "
        "or a field mapped at import / sent as an attribute (e.g. sentiment).",
    )
    condition_values = models.CharField(
        max_length=500,
        blank=True,
        help_text="Proportion of responses: the values that count, separated by commas (e.g. negative; or Yes).",
    )
    unit_cost = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, help_text="Cost per contact, for failure demand."
    )
    discount_rate = models.FloatField(
        null=True,
        blank=True,
        help_text="Discounted lifetime value: the annual discount rate, in % (e.g. 8).",
    )
    filter_segment = models.CharField(max_length=100, blank=True)
    filter_channel = models.CharField(max_length=100, blank=True)
    filter_product = models.CharField(max_length=100, blank=True)
    filter_touchpoint = models.CharField(max_length=100, blank=True)
    segment_by = models.CharField(max_length=20, choices=SegmentBy.choices, blank=True)
    granularity = models.CharField(max_length=10, choices=Granularity.choices, default=Granularity.MONTH)
    target = models.FloatField(null=True, blank=True)
    amber_threshold = models.FloatField(
        null=True,
        blank=True,
        help_text="Values on the good side of this are green (on track); between it and red, amber. "
        "Without it, the target is the green line.",
    )
    red_threshold = models.FloatField(null=True, blank=True, help_text="Values at or beyond this are red.")
    owning_function = models.ForeignKey(
        "cxgov.Function", null=True, blank=True, on_delete=models.SET_NULL, related_name="metrics"
    )
    north_star = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    recalculated_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    history = ConfigHistory(excluded_fields=["recalculated_at", "last_error", "last_error_at"])

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["north_star"],
                condition=models.Q(north_star=True, active=True),
                name="metric_one_active_north_star",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def schedule_name(self) -> str:
        """The name of this metric's django-celery-beat entry."""
        return f"Recalculate metric {self.pk}"

    def rag(self, value: float | None) -> str | None:
        """Green, amber or red for a value: green on the good side of the amber threshold (or of
        the target when no thresholds are set), red at or beyond the red threshold, amber between."""
        if value is None:
            return None
        sign = 1 if self.direction == Direction.HIGHER else -1
        green_from = self.amber_threshold if self.amber_threshold is not None else self.target
        if green_from is None:
            return None
        if sign * (value - green_from) >= 0:
            return Rag.GREEN
        if self.red_threshold is not None and sign * (value - self.red_threshold) <= 0:
            return Rag.RED
        return Rag.AMBER if self.red_threshold is not None or self.amber_threshold is not None else Rag.RED


class MetricValue(models.Model):
    """A metric's value for one period and segment ("" is everyone), with its sample size and interval."""

    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="values")
    period_start = models.DateField()
    segment = models.CharField(max_length=100, blank=True)
    value = models.FloatField()
    sample_size = models.IntegerField(null=True, blank=True)
    ci_low = models.FloatField(null=True, blank=True)
    ci_high = models.FloatField(null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["metric", "period_start", "segment"]
        constraints = [
            models.UniqueConstraint(fields=["metric", "period_start", "segment"], name="metric_value_unique_period"),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.period_start} {self.segment or 'all'} = {self.value:.2f}"


class DataKind(models.TextChoices):
    RESPONSES = "responses", "Survey responses"
    CUSTOMERS = "customers", "Customers"
    OBSERVATIONS = "observations", "Observations (a numeric series)"


class ImportMapping(models.Model):
    """How the columns of one source's files map to fields; saved and reused for the next file."""

    kind = models.CharField(max_length=20, choices=DataKind.choices)
    source = models.CharField(max_length=64, blank=True, help_text="Survey source or series key; blank for customers.")
    mapping = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "source"], name="import_mapping_unique_kind_source")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.source}".strip()


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded: map the columns"
    QUEUED = "queued", "Queued"
    VALIDATING = "validating", "Checking every row"
    WRITING = "writing", "Writing"
    DONE = "done", "Imported"
    INVALID = "invalid", "Rejected: nothing was written"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    """One uploaded file on its way in: checked completely before anything is written."""

    kind = models.CharField(max_length=20, choices=DataKind.choices)
    source = models.CharField(max_length=64, blank=True)
    file_name = models.CharField(max_length=255)
    stored_path = models.CharField(max_length=500)
    mapping = models.JSONField(default=dict)
    status = models.CharField(max_length=12, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    total_rows = models.IntegerField(default=0)
    processed_rows = models.IntegerField(default=0)
    written_rows = models.IntegerField(default=0)
    error_count = models.IntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="The first errors: row, column, message.")
    message = models.TextField(blank=True)
    created_by = models.ForeignKey("cxgov.User", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(null=True, blank=True, help_text="Last sign of progress.")
    finished_at = models.DateTimeField(null=True, blank=True)
    # The worker running the job ("host:pid") renews its lease while it works; a lease that ran
    # out means that worker died, and the redelivered task or the next check takes the job over.
    worker = models.CharField(max_length=300, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.DONE:
            return 100
        if not self.total_rows:
            return 0
        # Checking is the first half of the work, writing the second.
        done = self.processed_rows + (self.written_rows if self.status == ImportStatus.WRITING else 0)
        return min(99, int(done * 50 / self.total_rows))

    @property
    def running(self) -> bool:
        return self.status in {ImportStatus.QUEUED, ImportStatus.VALIDATING, ImportStatus.WRITING}

    @property
    def worker_lost(self) -> bool:
        """Checking or writing, but the worker's lease ran out: it died and is being replaced."""
        from django.utils import timezone

        return (
            self.status in {ImportStatus.VALIDATING, ImportStatus.WRITING}
            and self.lease_until is not None
            and self.lease_until < timezone.now()
        )
