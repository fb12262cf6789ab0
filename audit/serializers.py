from rest_framework import serializers

from audit import selectors


class AuditQuerySerializer(serializers.Serializer):
    """Filters of the audit trail."""

    model = serializers.ChoiceField(choices=selectors.AUDITED_MODELS, required=False, help_text="e.g. metrics.metric")
    user = serializers.IntegerField(min_value=1, required=False, help_text="Id of the person who made the change.")
    action = serializers.ChoiceField(choices=selectors.ACTION_CHOICES, required=False)


class AuditPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__")


class FieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    label = serializers.CharField()
    old = serializers.CharField(allow_null=True)
    new = serializers.CharField(allow_null=True)


class AuditEntrySerializer(serializers.Serializer):
    """One change of one configuration object."""

    model = serializers.CharField(help_text="app_label.model of the object changed")
    kind = serializers.CharField()
    object_id = serializers.IntegerField()
    object = serializers.CharField()
    action = serializers.ChoiceField(choices=selectors.ACTION_CHOICES)
    at = serializers.DateTimeField()
    user = AuditPersonSerializer(allow_null=True, help_text="Who made the change; null for the system.")
    reason = serializers.CharField(allow_blank=True)
    first_record = serializers.BooleanField(
        help_text="No earlier record of this object: `changes` are its values after this change."
    )
    changes = FieldChangeSerializer(many=True)
