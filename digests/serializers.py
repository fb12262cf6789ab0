from rest_framework import serializers

from digests.models import DigestDelivery, DigestPreference


class PreferenceSerializer(serializers.ModelSerializer):
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)  # null: your role's default
    own = serializers.SerializerMethodField()

    class Meta:
        model = DigestPreference
        fields = ["frequency", "weekday", "day_of_month", "hour", "time_zone", "updated_at", "own"]

    def get_own(self, preference) -> bool:
        """Whether this is a schedule you saved (false: your role's default)."""
        return preference.pk is not None


class DeliverySerializer(serializers.ModelSerializer):
    user = serializers.StringRelatedField()

    class Meta:
        model = DigestDelivery
        fields = [
            "id",
            "user",
            "period",
            "frequency",
            "status",
            "attempts",
            "error",
            "subject",
            "since",
            "claimed_at",
            "sent_at",
        ]
