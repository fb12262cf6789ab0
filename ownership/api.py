"""The ownership map and the scorecard for systems and BI tools, with the pages' filters and rules."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from cxgov.lib import permissions
from ownership import selectors
from ownership.forms import STATE_CHOICES
from ownership.serializers import (
    BusinessCaseSerializer,
    LedgerSerializer,
    OwnershipMapSerializer,
    ScorecardSerializer,
)

MAX_ID = 2**63 - 1  # larger ids are refused with a 400, not sent to the database


class MapQuerySerializer(serializers.Serializer):
    quarter = serializers.RegexField(r"^\d{4}-Q[1-4]$", required=False, default="")
    driver = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    state = serializers.ChoiceField(
        choices=[value for value, _ in STATE_CHOICES], required=False, default="open", allow_blank=True
    )
    category = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)


def _function(function) -> dict | None:
    if function is None:
        return None
    return {
        "id": function.pk,
        "name": function.name,
        "slug": function.slug,
        "customer_facing": function.customer_facing,
    }


def _row(row: dict) -> dict:
    return {
        "function": _function(row["function"]),
        "issues": row["issues"],
        "open_issues": row["open_issues"],
        "revenue_at_risk": round(row["revenue"], 2),
        "decision_points": row["decision_points"],
        "action_items": {"open": row["items_open"], "overdue": row["items_overdue"], "blocked": row["items_blocked"]},
        "key_drivers": [{"name": d["name"], "open_issues": d["issues"]} for d in row["drivers"]],
        "top_issues": [
            {"id": i["pk"], "title": i["title"], "state": i["state"], "revenue_at_risk": round(i["revenue"], 2)}
            for i in row["top_issues"]
        ],
    }


class OwnershipMapView(APIView):
    """Every function (non-customer-facing first) against the issues it owns, the unowned issues, and
    the share of open issues and revenue at risk owned by non-customer-facing functions."""

    @extend_schema(parameters=[MapQuerySerializer], responses={200: OwnershipMapSerializer})
    def get(self, request):
        query = MapQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        filters = selectors.MapFilters(
            quarter=data["quarter"], driver_id=data.get("driver"), state=data["state"], category_id=data.get("category")
        )
        result = selectors.ownership_map(filters=filters, per_page=None)
        shares = result["shares"]
        return Response(
            {
                "filters": {k: v for k, v in data.items() if v not in ("", None)},
                "share": {
                    "open_issues": shares["total_open"],
                    "revenue_at_risk": round(shares["total_revenue"], 2),
                    "non_customer_facing": shares["ncf"]["open"],
                    "customer_facing": shares["cf"]["open"],
                    "unowned": shares["unowned"]["open"],
                    "non_customer_facing_open_share": shares["ncf_open_share"],
                    "non_customer_facing_revenue_share": shares["ncf_revenue_share"],
                },
                "functions": [_row(row) for row in result["rows"]],
                "unowned": _row(result["unowned"]),
            }
        )


class ScorecardQuerySerializer(serializers.Serializer):
    function = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False)


class ScorecardView(APIView):
    """The scorecard of the given functions together (``?function=1&function=2``), by default of the
    caller's own functions: on-time completion, overdue items, average days per state, share of
    closed issues verified effective, issues reopened."""

    @extend_schema(parameters=[ScorecardQuerySerializer], responses={200: ScorecardSerializer})
    def get(self, request):
        query = ScorecardQuerySerializer(data={"function": request.query_params.getlist("function")})
        query.is_valid(raise_exception=True)
        ids = query.validated_data.get("function") or sorted(permissions.function_ids(request.user))
        card = selectors.scorecard(function_ids=ids)
        return Response(
            {
                "functions": ids,
                "action_items": {
                    "done": card["items_done"],
                    "done_on_time": card["items_on_time"],
                    "on_time_rate": card["on_time_rate"],
                    "open": card["items_open"],
                    "overdue": card["overdue"],
                    "blocked": card["blocked"],
                },
                "issues": {
                    "open": card["issues_open"],
                    "closed": card["issues_closed"],
                    "closed_effective": card["issues_effective"],
                    "effective_share": card["effective_share"],
                    "reopened": card["reopened"],
                },
                "average_days_in_state": {row["state"]: row["days"] for row in card["state_days"]},
            }
        )


class LedgerView(APIView):
    """The value ledger: value delivered by verified fixes and value at risk in open issues, in total,
    by quarter, by owning function (non-customer-facing first) and by decision point, with the
    currency and costs it uses. Money is in ``currency``; null means not enough data."""

    @extend_schema(responses={200: LedgerSerializer})
    def get(self, request):
        from outcomes import selectors as outcome_selectors

        data = outcome_selectors.ledger()
        payload = LedgerSerializer(
            {
                "currency": data["settings"].currency,
                "discount_rate": data["settings"].discount_rate,
                "contact_costs": [
                    {"channel": c.channel, "cost_per_contact": c.cost_per_contact} for c in data["costs"]
                ],
                "totals": data["totals"],
                "ncf_share": data["ncf_share"],
                "quarters": data["quarters"],
                "by_function": data["by_function"],
                "by_decision_point": [
                    {
                        "id": r["issue__decision_point_id"],
                        "rule": r["issue__decision_point__rule"],
                        "kind": r["issue__decision_point__kind"],
                        "workflow": r["issue__decision_point__workflow__name"],
                        "function": r["issue__decision_point__workflow__function__name"],
                        "delivered": r["delivered"],
                        "at_risk": r["at_risk"],
                    }
                    for r in data["by_decision_point"]
                ],
            }
        )
        return Response(payload.data)


class BusinessCaseQuerySerializer(serializers.Serializer):
    issue = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)


class BusinessCaseList(ListAPIView):
    """Every issue's business case (``?issue=ID`` for one), most at stake first, each figure with its
    inputs, formula and interval."""

    serializer_class = BusinessCaseSerializer
    filter_backends: list = []

    def get_queryset(self):
        from django.db.models import F

        from outcomes.models import BusinessCase

        cases = BusinessCase.objects.select_related("issue").order_by(
            F("value_at_risk").desc(nulls_last=True), "-issue_id"
        )
        query = BusinessCaseQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        if query.validated_data.get("issue"):
            cases = cases.filter(issue_id=query.validated_data["issue"])
        return cases

    @extend_schema(parameters=[BusinessCaseQuerySerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
