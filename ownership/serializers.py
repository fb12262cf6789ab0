"""What the ownership API answers: the map and the scorecard, as their pages show them."""

from drf_spectacular.utils import extend_schema_field
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


# --- The value ledger ------------------------------------------------------------------------------


class FigureSerializer(serializers.Serializer):
    """One figure of a business case: null value means not enough data (the note says why)."""

    value = serializers.FloatField(allow_null=True)
    low = serializers.FloatField(allow_null=True)
    high = serializers.FloatField(allow_null=True)
    formula = serializers.CharField()
    inputs = serializers.DictField(child=serializers.JSONField(allow_null=True))
    note = serializers.CharField(allow_blank=True)


class LedgerTotalsSerializer(serializers.Serializer):
    delivered = serializers.FloatField(allow_null=True)
    delivered_low = serializers.FloatField(allow_null=True)
    delivered_high = serializers.FloatField(allow_null=True)
    at_risk = serializers.FloatField(allow_null=True)
    revenue_at_risk = serializers.FloatField(allow_null=True)
    failure_cost = serializers.FloatField(allow_null=True)
    verified = serializers.IntegerField()
    open = serializers.IntegerField()
    open_unknown = serializers.IntegerField()


class LedgerQuarterSerializer(serializers.Serializer):
    quarter = serializers.CharField()
    delivered = serializers.FloatField(allow_null=True)
    delivered_low = serializers.FloatField(allow_null=True)
    delivered_high = serializers.FloatField(allow_null=True)
    verified = serializers.IntegerField()
    at_risk = serializers.FloatField(allow_null=True)
    opened = serializers.IntegerField()


class LedgerFunctionSerializer(serializers.Serializer):
    function_id = serializers.IntegerField(allow_null=True)
    function = serializers.CharField(allow_null=True)
    customer_facing = serializers.BooleanField(allow_null=True)
    delivered = serializers.FloatField(allow_null=True)
    delivered_low = serializers.FloatField(allow_null=True)
    delivered_high = serializers.FloatField(allow_null=True)
    at_risk = serializers.FloatField(allow_null=True)
    verified = serializers.IntegerField()
    open = serializers.IntegerField()


class LedgerDecisionPointSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    rule = serializers.CharField()
    kind = serializers.CharField()
    workflow = serializers.CharField()
    function = serializers.CharField()
    delivered = serializers.FloatField(allow_null=True)
    at_risk = serializers.FloatField(allow_null=True)


class ContactCostSerializer(serializers.Serializer):
    channel = serializers.CharField(allow_blank=True)
    cost_per_contact = serializers.DecimalField(max_digits=10, decimal_places=2)


class NcfShareSerializer(serializers.Serializer):
    delivered = serializers.FloatField(allow_null=True)
    at_risk = serializers.FloatField(allow_null=True)


class LedgerSerializer(serializers.Serializer):
    """The ledger page: totals, the non-customer-facing share, by quarter, function and decision point."""

    currency = serializers.CharField()
    discount_rate = serializers.DecimalField(max_digits=5, decimal_places=2)
    contact_costs = ContactCostSerializer(many=True)
    totals = LedgerTotalsSerializer()
    ncf_share = NcfShareSerializer()
    quarters = LedgerQuarterSerializer(many=True)
    by_function = LedgerFunctionSerializer(many=True)
    by_decision_point = LedgerDecisionPointSerializer(many=True)


class BusinessCaseSerializer(serializers.Serializer):
    """One issue's business case, each figure with its inputs and formula."""

    issue = serializers.IntegerField(source="issue_id")
    title = serializers.CharField(source="issue.title")
    state = serializers.ChoiceField(source="issue.state", choices=IssueState.choices)
    function = serializers.IntegerField(source="issue.function_id", allow_null=True)
    currency = serializers.SerializerMethodField()
    affected_customers = serializers.IntegerField()
    revenue_at_risk = serializers.FloatField(allow_null=True)
    expected_loss = serializers.FloatField(allow_null=True)
    failure_cost = serializers.FloatField(allow_null=True)
    value_at_risk = serializers.FloatField(allow_null=True)
    value_realised = serializers.FloatField(allow_null=True)
    realised_low = serializers.FloatField(allow_null=True)
    realised_high = serializers.FloatField(allow_null=True)
    figures = serializers.SerializerMethodField()
    by_category = serializers.DictField(child=serializers.DictField(child=serializers.FloatField()))
    computed_at = serializers.DateTimeField()

    def get_currency(self, case) -> str:
        return case.figures.get("currency", "")

    @extend_schema_field(serializers.DictField(child=FigureSerializer()))
    def get_figures(self, case) -> dict:
        return {name: f for name, f in case.figures.items() if isinstance(f, dict)}
