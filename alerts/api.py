import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from alerts import selectors, services
from alerts.models import Alert, AlertRule
from alerts.serializers import AlertRuleSerializer, AlertSerializer, MuteSerializer
from cxgov.filters import FilterSet
from cxgov.lib.permissions import AlertRulePermission


class AlertRuleFilter(FilterSet):
    metric_slug = django_filters.CharFilter(field_name="metric__slug")

    class Meta:
        model = AlertRule
        fields = ["metric", "kind", "severity", "active"]


class AlertFilter(FilterSet):
    metric_slug = django_filters.CharFilter(field_name="metric__slug")
    scope = django_filters.ChoiceFilter(
        choices=list(selectors.SCOPES.items()), method="filter_scope", help_text="mine, functions or all"
    )

    class Meta:
        model = Alert
        fields = ["state", "metric", "rule", "severity"]

    def filter_scope(self, queryset, name, value):
        return queryset.filter(pk__in=selectors.alert_list(user=self.request.user, scope=value).values("pk"))


class AlertRuleViewSet(viewsets.ModelViewSet):
    """Alert rules on metrics: everyone reads; administrators and the CX team write."""

    queryset = (
        AlertRule.objects.select_related("metric").prefetch_related("subscribers").order_by("metric__name", "name")
    )
    serializer_class = AlertRuleSerializer
    filterset_class = AlertRuleFilter
    permission_classes = [AlertRulePermission]
    search_fields = ["name"]

    def perform_destroy(self, instance):
        services.rule_delete(user=self.request.user, rule=instance)

    @extend_schema(request=None, responses={200: AlertRuleSerializer})
    @action(detail=True, methods=["post"])
    def replay(self, request, pk=None):
        """Judge every past period again: episodes not yet recorded are recorded as history (no
        notice for closed ones; one still open is told once). Runs with the next evaluation."""
        rule = services.rule_replay(user=request.user, rule=self.get_object())
        return Response(AlertRuleSerializer(rule, context={"request": request}).data)


class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    """Alerts (episodes of a rule): filter by state, metric, rule, severity or scope; acknowledge and mute."""

    queryset = Alert.objects.none()  # per request: get_queryset
    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    ordering_fields = ["fired_at", "opened_period"]

    def get_queryset(self):
        return selectors.alert_list(user=self.request.user)

    def _act(self, fn, **kwargs):
        alert = self.get_object()
        fn(user=self.request.user, alert=alert, **kwargs)
        return Response(AlertSerializer(Alert.objects.get(pk=alert.pk)).data)

    @extend_schema(request=None, responses={200: AlertSerializer})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """The owning function's leader, the CX team or an administrator takes note of the alert."""
        return self._act(services.alert_acknowledge)

    @extend_schema(request=MuteSerializer, responses={200: AlertSerializer})
    @action(detail=True, methods=["post"])
    def mute(self, request, pk=None):
        """Mute the alert's rule until a day (null unmutes)."""
        data = MuteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._act(services.alert_mute, until=data.validated_data["until"])
