from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from rootcause import selectors
from rootcause.models import KeyDriver, Workflow
from rootcause.serializers import KeyDriverSerializer, ParetoQuerySerializer, WorkflowSerializer


class KeyDriverViewSet(viewsets.ReadOnlyModelViewSet):
    """The comment taxonomy: key drivers with their sub-themes and matching rules."""

    queryset = KeyDriver.objects.prefetch_related("sub_themes").order_by("name")
    serializer_class = KeyDriverSerializer


class WorkflowViewSet(viewsets.ReadOnlyModelViewSet):
    """Workflows owned by functions, with the decision points inside them."""

    queryset = Workflow.objects.prefetch_related("decision_points").order_by("name")
    serializer_class = WorkflowSerializer
    filterset_fields = ["function"]


class ParetoView(APIView):
    """The Pareto analysis of comment themes for the given filters (as on the Pareto page)."""

    @extend_schema(parameters=[ParetoQuerySerializer], responses={200: dict})
    def get(self, request):
        query = ParetoQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        analysis = selectors.pareto_analysis(
            responses=selectors.responses_for(
                start=data.get("start"),
                end=data.get("end"),
                segment=data["segment"],
                product=data["product"],
                dissatisfied_only=data["dissatisfied_only"],
            ),
            weight_by_revenue=data["weight_by_revenue"],
            cutoff=data["cutoff"],
        )
        return Response(
            {
                "comments": analysis["comments"],
                "tagged": analysis["tagged"],
                "cutoff": analysis["cutoff"],
                "rows": [
                    {
                        "sub_theme": item["theme"].slug,
                        "label": item["row"].label,
                        "value": item["row"].value,
                        "share": round(item["row"].share, 3),
                        "cumulative": round(item["row"].cumulative, 3),
                        "vital": item["row"].vital,
                        "samples": [s["comment"] for s in item["samples"]],
                    }
                    for item in analysis["rows"]
                ],
            }
        )
