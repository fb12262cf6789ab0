from rest_framework import serializers

from cxgov import services
from cxgov.lib.serializers import StrictModelSerializer
from cxgov.models import Accountability, Function, Membership, User


class PersonSummarySerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "name", "title", "role"]


class FunctionSummarySerializer(serializers.ModelSerializer):
    """A function as other answers name it."""

    class Meta:
        model = Function
        fields = ["id", "name", "slug", "customer_facing"]
        read_only_fields = fields


class FunctionSerializer(StrictModelSerializer):
    leader_detail = PersonSummarySerializer(source="leader", read_only=True, allow_null=True)
    member_count = serializers.IntegerField(read_only=True)
    accountability_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Function
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "customer_facing",
            "parent",
            "leader",
            "leader_detail",
            "member_count",
            "accountability_count",
        ]
        extra_kwargs = {"slug": {"required": False}}

    def save(self, **kwargs):
        self.instance = services.function_save(
            user=self.context["request"].user, function=self.instance or Function(), fields=self.validated_data
        )
        return self.instance


class MembershipSerializer(StrictModelSerializer):
    person_detail = PersonSummarySerializer(source="person", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "person", "person_detail", "function", "position", "joined_on"]

    def save(self, **kwargs):
        self.instance = services.membership_save(
            user=self.context["request"].user, membership=self.instance or Membership(), fields=self.validated_data
        )
        return self.instance


class AccountabilitySerializer(StrictModelSerializer):
    function_name = serializers.CharField(source="function.name", read_only=True)
    role_display = serializers.CharField(source="get_role_display", read_only=True)
    subject_type = serializers.SlugRelatedField(slug_field="model", read_only=True, allow_null=True)

    class Meta:
        model = Accountability
        fields = [
            "id",
            "function",
            "function_name",
            "role",
            "role_display",
            "subject",
            "subject_type",
            "subject_id",
            "note",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["subject_id", "created_at", "updated_at"]
        validators = []  # the service turns constraint refusals into clear messages

    def save(self, **kwargs):
        data = self.validated_data
        self.instance = services.accountability_save(
            user=self.context["request"].user,
            accountability=self.instance or Accountability(),
            function=data.get("function", getattr(self.instance, "function", None)),
            role=data.get("role", getattr(self.instance, "role", "")),
            subject=data.get("subject", getattr(self.instance, "subject", "")),
            note=data.get("note", getattr(self.instance, "note", "")),
        )
        return self.instance
