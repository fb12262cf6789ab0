from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from cxgov.filters import FilterSet, StrictBooleanFilter
from cxgov.lib.api import ReadBackMixin
from cxgov.lib.forms import positive_id
from cxgov.lib.permissions import EditTaxonomyPermission, TagCommentsPermission
from rootcause import selectors, services
from rootcause.models import CLOSED_STATES, ActionItem, CommentTag, Issue, KeyDriver, TextModel, Workflow
from rootcause.serializers import (
    ActionItemHistorySerializer,
    ActionItemSerializer,
    ActionUpdateSerializer,
    BulkTagJobSerializer,
    BulkTagSerializer,
    CommentFilterSerializer,
    CommentSerializer,
    CommentTagSerializer,
    DiscoveryAdoptSerializer,
    DiscoveryRunSerializer,
    DiscoveryStartSerializer,
    IssueSerializer,
    KeyDriverSerializer,
    ParetoQuerySerializer,
    ParetoSerializer,
    ReviewLabelSerializer,
    ReviewTagSerializer,
    SubThemeSerializer,
    TextModelSerializer,
    TrainSerializer,
    TransitionSerializer,
    WhySerializer,
    WorkflowSerializer,
)


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

    @extend_schema(parameters=[ParetoQuerySerializer], responses={200: ParetoSerializer})
    def get(self, request):
        query = ParetoQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        filters = {
            "start": data.get("start"),
            "end": data.get("end"),
            "source": data["source"],
            "segment": data["segment"],
            "product": data["product"],
            "dissatisfied_only": data["dissatisfied_only"],
        }
        analysis = selectors.pareto_cached(
            filters={name: value for name, value in filters.items() if value},
            weight_by_revenue=data["weight_by_revenue"],
            cutoff=data["cutoff"],
            view=data["view"],
            sentiment=data["sentiment"],
        )
        corrected = analysis["corrected"]
        coverage = analysis["text"]
        return Response(
            {
                "comments": analysis["comments"],
                "tagged": analysis["tagged"],
                "cutoff": analysis["cutoff"],
                "view": analysis["view"],
                "sentiment": analysis["sentiment"],
                "corrected": corrected is not None,
                "corrected_total": corrected["total"] if corrected else None,
                "models": [{"driver": m.driver.slug, "version": m.version} for m in corrected["models"]]
                if corrected
                else [],
                "rows": [
                    {
                        "sub_theme": item["theme"].slug,
                        "label": item["row"].label,
                        "value": item["row"].value,
                        "share": round(item["row"].share, 3),
                        "cumulative": round(item["row"].cumulative, 3),
                        "vital": item["row"].vital,
                        # Where a model is on: share is corrected, with its interval, and the raw count.
                        "raw_count": item["raw"].value if corrected else item["row"].value,
                        "interval": [round(item["low"], 3), round(item["high"], 3)] if corrected else None,
                        "correction": item.get("method") if corrected else None,
                        "samples": [s["comment"] for s in item["samples"]],
                        "positive_share": _rounded(item["sentiment"]["share"]),
                        "sentiment_sample": item["sentiment"]["analysed"],
                    }
                    for item in analysis["rows"]
                ],
                "praise": [
                    {
                        "sub_theme": p["theme"].slug,
                        "label": str(p["theme"]),
                        "positive_share": _rounded(p["sentiment"]["share"]),
                        "sentiment_sample": p["sentiment"]["analysed"],
                    }
                    for p in analysis["praise"]
                ],
                "text": {**coverage, "languages": dict(coverage["languages"])},
            }
        )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


class DiscoveryRunViewSet(viewsets.ReadOnlyModelViewSet):
    """Theme discovery: everyone reads the runs and their candidates; the CX team and administrators
    start one (``POST``: a background job; follow ``percent``) and turn a candidate into a sub-theme
    (``POST …/{id}/adopt/``: the kept examples become its first labels, manual tags)."""

    queryset = selectors.discovery_runs()
    serializer_class = DiscoveryRunSerializer
    permission_classes = [EditTaxonomyPermission]
    filter_backends = []

    @extend_schema(request=DiscoveryStartSerializer, responses={202: DiscoveryRunSerializer})
    def create(self, request, *args, **kwargs):
        body = DiscoveryStartSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        run = services.discovery_start(user=request.user, filters=data, clusters=data["clusters"])
        return Response(DiscoveryRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=DiscoveryAdoptSerializer, responses={201: SubThemeSerializer})
    @action(detail=True, methods=["post"])
    def adopt(self, request, pk=None):
        run = self.get_object()
        body = DiscoveryAdoptSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        theme = services.discovery_adopt(
            user=request.user,
            run=run,
            index=data["candidate"] - 1,
            driver=data["driver"],
            name=data["name"],
            keywords=data["keywords"],
            keep=data["keep"],
        )
        return Response(SubThemeSerializer(theme).data, status=status.HTTP_201_CREATED)


class IssueFilter(FilterSet):
    customer_facing = StrictBooleanFilter(field_name="function__customer_facing")
    open = StrictBooleanFilter(method="filter_open", label="Open (not closed)")
    unowned = StrictBooleanFilter(field_name="function", lookup_expr="isnull")

    class Meta:
        model = Issue
        fields = ["function", "state", "target_quarter", "sub_theme", "metric", "priority"]

    def filter_open(self, queryset, name, value):
        return queryset.exclude(state__in=CLOSED_STATES) if value else queryset.filter(state__in=CLOSED_STATES)


class IssueViewSet(ReadBackMixin, viewsets.ModelViewSet):
    """Root-cause issues. The CX team opens and assigns any; a functional leader changes the issues
    of the functions they lead. ``POST …/transition/`` moves the state (``close`` closes as verified);
    ``PUT …/whys/`` replaces the 5-whys chain."""

    queryset = Issue.objects.none()  # see get_queryset: "overdue" depends on today's date
    serializer_class = IssueSerializer
    filterset_class = IssueFilter
    search_fields = ["title", "description", "root_cause"]
    ordering_fields = ["created_at", "priority", "target_quarter", "state"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.issues().prefetch_related("whys").order_by("-created_at", "-pk")

    @extend_schema(request=TransitionSerializer, responses={200: IssueSerializer})
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        issue = self.get_object()
        body = TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.issue_transition(user=request.user, issue=issue, state=body.validated_data["state"])
        return Response(self.get_serializer(self.get_queryset().get(pk=issue.pk)).data)

    @extend_schema(request=WhySerializer(many=True), responses={200: WhySerializer(many=True)})
    @action(detail=True, methods=["put"], pagination_class=None, filter_backends=[])
    def whys(self, request, pk=None):
        issue = self.get_object()
        body = WhySerializer(data=request.data, many=True)
        body.is_valid(raise_exception=True)
        whys = services.whys_save(user=request.user, issue=issue, steps=body.validated_data)
        return Response(WhySerializer(whys, many=True).data)


class ActionItemFilter(FilterSet):
    overdue = StrictBooleanFilter(method="filter_overdue")

    class Meta:
        model = ActionItem
        fields = ["issue", "function", "owner", "status"]

    def filter_overdue(self, queryset, name, value):
        overdue = ActionItem.objects.overdue()
        return queryset.filter(pk__in=overdue) if value else queryset.exclude(pk__in=overdue)


class ActionItemViewSet(viewsets.ModelViewSet):
    """Action items. A functional leader creates and updates the items of the functions they lead;
    the CX team creates and assigns any. ``POST …/updates/`` records a progress update (and a status
    change); ``GET …/history/`` lists every change."""

    queryset = ActionItem.objects.select_related("function").order_by("due_date", "pk")
    serializer_class = ActionItemSerializer
    filterset_class = ActionItemFilter
    search_fields = ["title", "description"]
    ordering_fields = ["due_date", "status", "created_at"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    @extend_schema(methods=["GET"], responses={200: ActionUpdateSerializer(many=True)})
    @extend_schema(methods=["POST"], request=ActionUpdateSerializer, responses={201: ActionUpdateSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def updates(self, request, pk=None):
        item = self.get_object()
        if request.method == "GET":
            return Response(ActionUpdateSerializer(item.updates.select_related("author"), many=True).data)
        body = ActionUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        update = services.action_item_update(
            user=request.user,
            item=item,
            status=body.validated_data.get("status") or None,
            text=body.validated_data.get("text", ""),
            blocked_reason=body.validated_data.get("blocked_reason", ""),
        )
        return Response(ActionUpdateSerializer(update).data, status=201)

    @extend_schema(responses={200: ActionItemHistorySerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        item = self.get_object()
        records = item.history.select_related("history_user").order_by("history_date", "history_id")
        return Response(ActionItemHistorySerializer(records, many=True).data)


class CommentViewSet(viewsets.ReadOnlyModelViewSet):
    """Customer comments with their sub-themes, filtered as on the comments page (source, segment,
    start, end, q, sub_theme, untagged, origin)."""

    serializer_class = CommentSerializer
    filter_backends = []  # the comment filters below, validated (a bad value is a 400, not every row)

    @extend_schema(parameters=[CommentFilterSerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        if self.action != "list":
            return selectors.comment_page(selectors.comments_matching())
        params = {k: v for k, v in self.request.query_params.items() if k != self.paginator.page_query_param}
        query = CommentFilterSerializer(data=params)
        query.is_valid(raise_exception=True)
        return selectors.comment_page(selectors.comments_matching(**query.validated_data))


class CommentTagFilter(FilterSet):
    class Meta:
        model = CommentTag
        fields = ["response", "sub_theme", "origin", "rejected"]


class CommentTagViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Sub-themes on comments. Everyone reads; the CX team and administrators add one
    (``POST``: the tag becomes theirs, origin manual), remove one (``POST …/{id}/remove/``: kept as
    rejected so the rules do not put it back), or add or remove a sub-theme on every comment a
    filter matches (``POST …/bulk/``: a background job, followed at ``/api/tag-jobs/{id}/``)."""

    queryset = CommentTag.objects.select_related("response", "sub_theme__driver").order_by("-pk")
    serializer_class = CommentTagSerializer
    filterset_class = CommentTagFilter
    permission_classes = [TagCommentsPermission]

    @extend_schema(request=None, responses={200: CommentTagSerializer})
    @action(detail=True, methods=["post"])
    def remove(self, request, pk=None):
        tag = self.get_object()
        tag = services.tag_set(user=request.user, response=tag.response, sub_theme=tag.sub_theme, present=False)
        return Response(CommentTagSerializer(tag).data)

    @extend_schema(request=BulkTagSerializer, responses={202: BulkTagJobSerializer})
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        body = BulkTagSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        job = services.bulk_tag_start(
            user=request.user, action=data["action"], sub_theme=data["sub_theme"], filters=data["filters"]
        )
        return Response(BulkTagJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class BulkTagJobViewSet(viewsets.ReadOnlyModelViewSet):
    """Bulk tagging jobs and their progress (comments done of the total)."""

    queryset = selectors.bulk_tag_jobs()
    serializer_class = BulkTagJobSerializer
    filter_backends = []


class TextModelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Key drivers' text models with their held-out evaluation. The CX team and administrators train
    a new version (``POST …/train/`` with the driver's slug: a background job, its progress on the
    model) and switch one on or off (``POST …/{id}/activate/``, ``…/deactivate/``)."""

    queryset = TextModel.objects.select_related("driver").order_by("driver__name", "-version")
    serializer_class = TextModelSerializer
    filterset_fields = ["driver", "status"]
    permission_classes = [EditTaxonomyPermission]

    @extend_schema(request=TrainSerializer, responses={202: TextModelSerializer})
    @action(detail=False, methods=["post"])
    def train(self, request):
        body = TrainSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        model = services.model_train_start(user=request.user, driver=body.validated_data["driver"])
        return Response(TextModelSerializer(model).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: TextModelSerializer})
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        model = services.model_activate(user=request.user, model=self.get_object())
        return Response(TextModelSerializer(model).data)

    @extend_schema(request=None, responses={200: TextModelSerializer})
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        model = services.model_deactivate(user=request.user, model=self.get_object())
        return Response(TextModelSerializer(model).data)


class ReviewQueueViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The switched-on models' tags below the review threshold, least sure first (``?driver=`` a
    key driver's id). ``POST …/{id}/label/`` with a sub-theme accepts or corrects one: the CX team's
    label (origin manual), which the next model learns from."""

    serializer_class = ReviewTagSerializer
    permission_classes = [TagCommentsPermission]
    filter_backends = []  # the queue's order is its point: least sure first

    def get_queryset(self):
        driver = None
        if self.action == "list" and self.request.query_params.get("driver"):
            driver = KeyDriver.objects.filter(pk=positive_id(self.request.query_params["driver"]) or 0).first()
            if driver is None:
                raise ValidationError({"driver": "No key driver has this id."})
        # A tag taken off the queue by a label is no longer the model's; past the threshold it is read only.
        return selectors.review_queue(driver=driver, below=None if self.action == "list" else 1.01)

    @extend_schema(request=ReviewLabelSerializer, responses={200: CommentTagSerializer})
    @action(detail=True, methods=["post"])
    def label(self, request, pk=None):
        body = ReviewLabelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        tag = services.review_label(
            user=request.user, tag=self.get_object(), sub_theme=body.validated_data["sub_theme"]
        )
        return Response(CommentTagSerializer(tag).data)
