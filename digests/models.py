"""Email digests: each person's schedule, the defaults per role, and one delivery record per
(person, period) claimed before anything is sent."""

from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from cxgov.lib.history import ConfigHistory
from cxgov.models import Role


class Frequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    OFF = "off", "Off"


WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"“{value}” is not a time zone name; use one like Europe/London or America/New_York.")


class Schedule(models.Model):
    """When a digest goes out: frequency, day, local hour and time zone."""

    frequency = models.CharField(max_length=7, choices=Frequency.choices, default=Frequency.WEEKLY)
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS, default=0, help_text="For weekly digests.")
    day_of_month = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(28)], help_text="For monthly digests (1-28)."
    )
    hour = models.PositiveSmallIntegerField(
        default=8, validators=[MaxValueValidator(23)], help_text="Local hour (0-23) at which it is sent."
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])

    class Meta:
        abstract = True


class DigestDefault(Schedule):
    """The schedule of everyone with a role who has not chosen their own (set by administrators)."""

    # Before an administrator sets a role's default: the CX team chases work daily, the others weekly.
    BUILT_IN = {
        Role.ADMINISTRATOR: Frequency.WEEKLY,
        Role.CX_TEAM: Frequency.DAILY,
        Role.LEADER: Frequency.WEEKLY,
        Role.STAKEHOLDER: Frequency.WEEKLY,
    }
    FIRST_SHOWN = Role.LEADER  # the defaults page opens on the role most digests go to

    role = models.CharField(max_length=12, choices=Role.choices, unique=True)
    history = ConfigHistory()

    class Meta:
        ordering = ["role"]

    def __str__(self) -> str:
        return f"Default for {self.get_role_display()}"


class DigestPreference(Schedule):
    """A person's own digest schedule."""

    user = models.OneToOneField("cxgov.User", on_delete=models.CASCADE, related_name="digest_preference")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Digest of {self.user}"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "In the outbox"
    EMPTY = "empty", "Nothing to report (not sent)"
    FAILED = "failed", "Could not be built"


class DigestDelivery(models.Model):
    """One digest for one person and one period. The row is inserted (claimed) with its email in
    the outbox, in one transaction; the unique constraint makes a second worker, beat or retry find
    it taken. Sending, retrying and their outcome are the email's (``cxgov.Email``)."""

    user = models.ForeignKey("cxgov.User", on_delete=models.CASCADE, related_name="digest_deliveries")
    period = models.CharField(max_length=32, help_text="e.g. weekly:2026-11-23 (the period's first local day).")
    frequency = models.CharField(max_length=7, choices=Frequency.choices)
    status = models.CharField(max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    error = models.TextField(blank=True, help_text="Why it could not be built.")
    subject = models.CharField(max_length=200, blank=True)
    since = models.DateTimeField(help_text="The digest reports what happened from here to claimed_at.")
    claimed_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    email = models.ForeignKey("cxgov.Email", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-claimed_at", "-pk"]
        verbose_name_plural = "digest deliveries"
        constraints = [models.UniqueConstraint(fields=["user", "period"], name="digest_delivery_once_per_period")]
        indexes = [models.Index(fields=["status", "claimed_at"])]

    def __str__(self) -> str:
        return f"{self.user} {self.period} ({self.status})"

    @property
    def state(self) -> str:
        """Where it is as a whole: empty, failed (not built or not sent), waiting, or sent (its email
        was pruned long after it went out). Needs ``email`` selected with it."""
        if self.status != DeliveryStatus.QUEUED:
            return self.status
        if self.email is None or self.email.status == "sent":
            return "sent"
        return "failed" if self.email.status == "failed" else "waiting"
