from rest_framework import serializers

from cxgov.lib.serializers import StrictModelSerializer
from digests.models import DigestDelivery, DigestPreference
from digests.selectors import STATES


class PreferenceSerializer(StrictModelSerializer):
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)  # null: your role's default
    own = serializers.SerializerMethodField()

    class Meta:
        model = DigestPreference
        fields = ["frequency", "weekday", "day_of_month", "hour", "time_zone", "updated_at", "own"]

    def get_own(self, preference) -> bool:
        """Whether this is a schedule you saved (false: your role's default)."""
        return preference.pk is not None


class DeliverySerializer(serializers.ModelSerializer):
    """A digest and, once it is in the outbox, its email's progress (``state``: sent, waiting, empty, failed)."""

    user = serializers.StringRelatedField()
    state = serializers.ChoiceField(choices=STATES, read_only=True)
    attempts = serializers.IntegerField(source="email.attempts", read_only=True, default=0)
    next_attempt_at = serializers.DateTimeField(source="email.next_attempt_at", read_only=True, default=None)
    sent_at = serializers.DateTimeField(source="email.sent_at", read_only=True, default=None)
    error = serializers.SerializerMethodField()

    class Meta:
        model = DigestDelivery
        fields = [
            "id",
            "user",
            "period",
            "frequency",
            "status",
            "state",
            "attempts",
            "next_attempt_at",
            "error",
            "subject",
            "since",
            "claimed_at",
            "sent_at",
        ]

    def get_error(self, delivery: DigestDelivery) -> str:
        return delivery.error or (delivery.email.error if delivery.email else "")
