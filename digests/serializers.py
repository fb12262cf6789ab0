from rest_framework import serializers

from cxgov.lib.serializers import StrictModelSerializer
from digests.models import DigestDelivery, DigestPreference


class PreferenceSerializer(StrictModelSerializer):
    class Meta:
        model = DigestPreference
        fields = ["frequency", "weekday", "day_of_month", "hour", "time_zone", "updated_at"]
        read_only_fields = ["updated_at"]


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
