"""Alert rules on metrics, their episodes (alerts), the history of each, and who was told."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from cxgov.lib.history import ConfigHistory


class RuleKind(models.TextChoices):
    THRESHOLD = "threshold", "Threshold crossing (RAG status worsens)"
    TARGET = "target", "Target missed for N consecutive periods"
    CHANGE = "change", "Change against an earlier period"
    CONTROL = "control", "Control-chart signal (Western Electric rules)"
    MISSING = "missing", "Missing data (no value for N periods)"


class Severity(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class Level(models.TextChoices):
    AMBER = "amber", "Amber or worse"
    RED = "red", "Red"


class Comparison(models.TextChoices):
    PREVIOUS = "previous", "The previous period"
    LAST_YEAR = "last_year", "The same period last year"


class ChangeMode(models.TextChoices):
    ABSOLUTE = "absolute", "Absolute (metric units)"
    PERCENT = "percent", "Relative (%)"


class ChartKind(models.TextChoices):
    AUTO = "auto", "Automatic (p/Laney p′ for proportions, c for counts, u for rates per unit, individuals otherwise)"
    INDIVIDUALS = "individuals", "Individuals chart"
    P = "p", "p-chart"
    LANEY = "laney", "Laney p′-chart"
    C = "c", "c-chart"
    U = "u", "u-chart (rate per unit)"


# Control charts: the periods a baseline needs before its limits are trusted, and the fewer it may
# judge with, marked provisional (documented defaults; each rule may change both).
CHART_PERIODS = 10
PROVISIONAL_PERIODS = 5


def default_chart_tests() -> list[int]:
    return [1, 2, 3, 4]


class Verdict(models.TextChoices):
    PENDING = "pending", "Not evaluated yet"
    WAITING = "waiting", "Cannot judge yet"
    PROVISIONAL = "provisional", "Judged with provisional limits"
    JUDGED = "judged", "Judged"


class AlertRule(models.Model):
    """A condition on a metric that, when it holds, raises an alert to the metric's owner and subscribers."""

    metric = models.ForeignKey("metrics.Metric", on_delete=models.CASCADE, related_name="alert_rules")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=12, choices=RuleKind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.WARNING)
    segment = models.CharField(max_length=100, blank=True, help_text="Blank: everyone.")
    level = models.CharField(max_length=5, choices=Level.choices, default=Level.RED, blank=True)
    comparison = models.CharField(max_length=10, choices=Comparison.choices, default=Comparison.PREVIOUS, blank=True)
    change_mode = models.CharField(max_length=10, choices=ChangeMode.choices, default=ChangeMode.ABSOLUTE, blank=True)
    change_limit = models.FloatField(
        null=True, blank=True, help_text="Fire when the value moves this much in the wrong direction."
    )
    chart = models.CharField(max_length=12, choices=ChartKind.choices, default=ChartKind.AUTO, blank=True)
    baseline_from = models.DateField(null=True, blank=True, help_text="Control limits from periods on or after.")
    baseline_to = models.DateField(null=True, blank=True, help_text="Control limits from periods on or before.")
    chart_periods = models.PositiveSmallIntegerField(
        default=CHART_PERIODS,
        help_text=f"Control charts: periods with values the baseline needs for firm limits (default {CHART_PERIODS}).",
    )
    provisional_periods = models.PositiveSmallIntegerField(
        default=PROVISIONAL_PERIODS,
        help_text=(
            "Control charts: with at least this many periods (and fewer than the above) the rule judges "
            f"with limits marked provisional; with fewer it cannot judge yet (default {PROVISIONAL_PERIODS})."
        ),
    )
    chart_tests = models.JSONField(
        default=default_chart_tests,
        blank=True,
        help_text="Control charts: which Western Electric / Nelson tests apply (numbers, see alerts/charts.py).",
    )
    min_periods = models.PositiveSmallIntegerField(
        default=1, help_text="Consecutive periods the condition must hold before the alert fires."
    )
    clear_periods = models.PositiveSmallIntegerField(
        default=1, help_text="Consecutive clear periods before the alert resolves."
    )
    hysteresis = models.FloatField(
        default=0, help_text="Margin (metric units) by which the value must be back on the good side to resolve."
    )
    notify_owner = models.BooleanField(default=True, help_text="Notify the leader of the metric's owning function.")
    subscribers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="alert_subscriptions")
    muted_until = models.DateField(null=True, blank=True, help_text="No notifications until the end of this day.")
    active = models.BooleanField(default=True)
    replay_pending = models.BooleanField(
        default=True, help_text="The next evaluation judges every past period and records past episodes."
    )
    verdict = models.CharField(max_length=12, choices=Verdict.choices, default=Verdict.PENDING, editable=False)
    verdict_note = models.CharField(max_length=200, blank=True, editable=False)
    judged_at = models.DateTimeField(null=True, blank=True, editable=False)
    evaluated = models.CharField(
        max_length=32,
        blank=True,
        editable=False,
        help_text="A digest of what its last evaluation read (alerts.services.metric_evaluate): unchanged, skipped.",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = ConfigHistory(excluded_fields=["replay_pending", "verdict", "verdict_note", "judged_at", "evaluated"])

    class Meta:
        ordering = ["metric__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["metric", "name"], name="alert_rule_unique_name_per_metric"),
            models.CheckConstraint(condition=Q(min_periods__gte=1), name="alert_rule_min_periods_positive"),
            models.CheckConstraint(condition=Q(clear_periods__gte=1), name="alert_rule_clear_periods_positive"),
            models.CheckConstraint(condition=Q(hysteresis__gte=0), name="alert_rule_hysteresis_not_negative"),
            models.CheckConstraint(
                condition=Q(provisional_periods__gte=2, chart_periods__gte=F("provisional_periods")),
                name="alert_rule_chart_periods_sane",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.metric_id and self.metric})"

    @property
    def owning_function_id(self) -> int | None:
        return self.metric.owning_function_id


class AlertState(models.TextChoices):
    FIRING = "firing", "Firing"
    RESOLVED = "resolved", "Resolved"


class Alert(models.Model):
    """One episode of a rule: from the period it fired to the period it resolved."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    metric = models.ForeignKey("metrics.Metric", on_delete=models.CASCADE, related_name="alerts")
    severity = models.CharField(max_length=10, choices=Severity.choices)
    state = models.CharField(max_length=10, choices=AlertState.choices, default=AlertState.FIRING)
    opened_period = models.DateField(help_text="The period at which the condition had held long enough.")
    resolved_period = models.DateField(null=True, blank=True)
    message = models.TextField()
    values = models.JSONField(default=list, help_text="The periods and values that triggered it.")
    limits = models.JSONField(
        default=dict,
        blank=True,
        help_text="Control charts: the centre and limits it was judged with, kept as they were.",
    )
    from_history = models.BooleanField(
        default=False, help_text="Recorded by replaying history after it had closed: nobody was told."
    )
    fired_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-fired_at", "-pk"]
        indexes = [models.Index(fields=["state", "-fired_at"]), models.Index(fields=["metric", "-fired_at"])]
        constraints = [
            # An episode is identified by the period it opened at: re-evaluating never duplicates it.
            models.UniqueConstraint(fields=["rule", "opened_period"], name="alert_unique_rule_opened_period"),
            # And a rule has at most one open episode, whatever two workers decide at once.
            models.UniqueConstraint(fields=["rule"], condition=Q(state="firing"), name="alert_one_firing_per_rule"),
            # Whatever order corrections arrive in, an episode never resolves before it opened.
            models.CheckConstraint(
                condition=Q(resolved_period__isnull=True) | Q(resolved_period__gte=F("opened_period")),
                name="alert_resolved_not_before_opened",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule.name}: {self.get_state_display()} since {self.opened_period}"

    @property
    def owning_function_id(self) -> int | None:
        return self.metric.owning_function_id


class EventKind(models.TextChoices):
    FIRED = "fired", "Fired"
    RESOLVED = "resolved", "Resolved"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    MUTED = "muted", "Muted"


class AlertEvent(models.Model):
    """A change in an alert's life (fired, resolved, acknowledged, muted) with the values behind it."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    at = models.DateTimeField()
    period = models.DateField(null=True, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(blank=True)
    values = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            # Firing and resolving happen once per episode: a re-run cannot write them twice.
            models.UniqueConstraint(
                fields=["alert", "kind"], condition=Q(kind__in=["fired", "resolved"]), name="alert_event_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.alert_id} {self.kind} at {self.at:%Y-%m-%d %H:%M}"


class DeliveryKind(models.TextChoices):
    FIRE = "fire", "Fired"
    RESOLVE = "resolve", "Resolved"


class Delivery(models.Model):
    """One notice to one person about one alert (fired or resolved): an inbox entry and an email.

    The row is inserted (insert-or-nothing on its unique key) with its email in the outbox, in the
    evaluation's transaction, so a retried task or a second worker finds it and queues nothing twice."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_deliveries")
    kind = models.CharField(max_length=8, choices=DeliveryKind.choices)
    created_at = models.DateTimeField()
    email = models.ForeignKey(
        "cxgov.Email", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="None: no address."
    )
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["alert", "recipient", "kind"], name="delivery_once_per_recipient"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.alert_id} to {self.recipient_id}"


class EvaluationStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    RETRY = "retry", "Failed, will retry"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Evaluation(models.Model):
    """One evaluation of a metric's alert rules after a recalculation: queued, run once, recorded."""

    metric = models.ForeignKey("metrics.Metric", on_delete=models.CASCADE, related_name="alert_evaluations")
    status = models.CharField(max_length=8, choices=EvaluationStatus.choices, default=EvaluationStatus.QUEUED)
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(help_text="Last change of status; a stale one is requeued.")
    attempts = models.PositiveSmallIntegerField(default=0)
    rules = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["status", "updated_at"])]
        constraints = [
            # Recalculations that pile up while one evaluation waits are served by that one.
            models.UniqueConstraint(fields=["metric"], condition=Q(status="queued"), name="evaluation_one_queued"),
        ]

    def __str__(self) -> str:
        return f"Evaluation of {self.metric_id}: {self.status}"


class FailureNotice(models.Model):
    """An administrator told that a metric's alert evaluation failed; once per failure."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="notices")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()
    email = models.ForeignKey("cxgov.Email", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "recipient"], name="failure_notice_once"),
        ]

    def __str__(self) -> str:
        return f"Failure of evaluation {self.evaluation_id} to {self.recipient_id}"
