"""Customer data that metrics are computed from: customers and survey responses."""

from django.db import models


class Customer(models.Model):
    """A customer of the company, with the category they belong to and what they bring in."""

    external_id = models.CharField(max_length=64, unique=True)
    category = models.CharField(max_length=100, blank=True, db_index=True)
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True, help_text="Set when the customer churned.")
    monthly_revenue = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    monthly_margin = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["external_id"]

    def __str__(self) -> str:
        return self.external_id


class Scale(models.TextChoices):
    NPS = "nps", "0-10 likelihood to recommend"
    CSAT = "csat", "1-5 satisfaction"
    CES = "ces", "1-7 effort"


class SurveyResponse(models.Model):
    """One customer's answer to a survey: a score on a scale, optional driver ratings and a comment."""

    source = models.CharField(max_length=64)
    external_id = models.CharField(max_length=128)
    customer_id = models.CharField(max_length=64, blank=True, db_index=True)
    responded_at = models.DateTimeField(db_index=True)
    score = models.SmallIntegerField()
    scale = models.CharField(max_length=8, choices=Scale.choices)
    driver_ratings = models.JSONField(default=dict, blank=True)
    comment = models.TextField(blank=True)
    segment = models.CharField(max_length=100, blank=True)
    channel = models.CharField(max_length=100, blank=True)
    product = models.CharField(max_length=100, blank=True)
    touchpoint = models.CharField(max_length=100, blank=True)
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-responded_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="response_unique_source_external_id"),
            models.CheckConstraint(
                condition=(
                    models.Q(scale="nps", score__gte=0, score__lte=10)
                    | models.Q(scale="csat", score__gte=1, score__lte=5)
                    | models.Q(scale="ces", score__gte=1, score__lte=7)
                ),
                name="response_score_within_scale",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}/{self.external_id}"
