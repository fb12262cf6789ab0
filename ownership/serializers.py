"""What the ownership API answers: the map and the scorecard, as their pages show them."""

from rest_framework import serializers

from cxgov.serializers import FunctionSummarySerializer
from rootcause.models import IssueState


class ItemCountsSerializer(serializers.Serializer):
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()
    blocked = serializers.IntegerField()


class DriverIssuesSerializer(serializers.Serializer):
    name = serializers.CharField()
    open_issues = serializers.IntegerField()


class TopIssueSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    state = serializers.ChoiceField(choices=IssueState.choices)
    revenue_at_risk = serializers.FloatField()


class MapRowSerializer(serializers.Serializer):
    """One function's row of the map (function null: the unowned issues)."""

    function = FunctionSummarySerializer(allow_null=True)
    issues = serializers.IntegerField()
    open_issues = serializers.IntegerField()
    revenue_at_risk = serializers.FloatField()
    decision_points = serializers.IntegerField()
    action_items = ItemCountsSerializer()
    key_drivers = DriverIssuesSerializer(many=True)
    top_issues = TopIssueSerializer(many=True)


class MapShareSerializer(serializers.Serializer):
    open_issues = serializers.IntegerField()
    revenue_at_risk = serializers.FloatField()
    non_customer_facing = serializers.IntegerField(help_text="Open issues owned by non-customer-facing functions.")
    customer_facing = serializers.IntegerField(help_text="Open issues owned by customer-facing functions.")
    unowned = serializers.IntegerField(help_text="Open issues without an owning function.")
    non_customer_facing_open_share = serializers.FloatField(allow_null=True, help_text="Percent.")
    non_customer_facing_revenue_share = serializers.FloatField(allow_null=True, help_text="Percent.")


class OwnershipMapSerializer(serializers.Serializer):
    filters = serializers.DictField(help_text="The filters applied.")
    share = MapShareSerializer()
    functions = MapRowSerializer(many=True)
    unowned = MapRowSerializer()


class ScorecardItemsSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    done_on_time = serializers.IntegerField()
    on_time_rate = serializers.FloatField(allow_null=True, help_text="Percent; null when none is done.")
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()
    blocked = serializers.IntegerField()


class ScorecardIssuesSerializer(serializers.Serializer):
    open = serializers.IntegerField()
    closed = serializers.IntegerField()
    closed_effective = serializers.IntegerField()
    effective_share = serializers.FloatField(allow_null=True, help_text="Percent; null when none is closed.")
    reopened = serializers.IntegerField()


class ScorecardSerializer(serializers.Serializer):
    functions = serializers.ListField(child=serializers.IntegerField(), help_text="The functions scored together.")
    action_items = ScorecardItemsSerializer()
    issues = ScorecardIssuesSerializer()
    average_days_in_state = serializers.DictField(
        child=serializers.FloatField(allow_null=True), help_text="Average days an issue spends in each open state."
    )
