from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from alerts import emails, selectors, services
from alerts.forms import AlertRuleForm, MuteForm
from alerts.models import Alert, AlertRule, AlertState
from cxgov.lib import permissions
from cxgov.lib.forms import form_errors
from metrics.models import Metric, MetricValue


def alert_inbox(request):
    scope = request.GET.get("scope", "mine")
    scope = scope if scope in selectors.SCOPES else "mine"
    state = request.GET.get("state", "")
    state = state if state in AlertState.values else ""
    alerts = selectors.alert_list(user=request.user, scope=scope, state=state)
    return render(
        request,
        "alerts/inbox.html",
        {
            "page": Paginator(alerts, 50).get_page(request.GET.get("page")),
            "scope": scope,
            "scopes": selectors.SCOPES,
            "state": state,
            "states": AlertState.choices,
        },
    )


def _alert(pk) -> Alert:
    try:
        return selectors.alert_detail(pk=pk)
    except Alert.DoesNotExist:
        raise Http404("No such alert.") from None


def alert_detail(request, pk):
    alert = _alert(pk)
    services.deliveries_mark_read(user=request.user, alert=alert)
    return render(
        request,
        "alerts/alert_detail.html",
        {
            "alert": alert,
            "rule": alert.rule,
            "metric": alert.metric,
            "chart": selectors.alert_chart(alert=alert),
            "can_act": permissions.can_acknowledge_alert(request.user, alert),
            "mute_form": MuteForm(initial={"until": alert.rule.muted_until}),
            "issue_url": emails.issue_link(alert),
        },
    )


@require_POST
def alert_acknowledge(request, pk):
    alert = get_object_or_404(Alert.objects.select_related("metric"), pk=pk)
    services.alert_acknowledge(user=request.user, alert=alert, note=request.POST.get("note", "")[:2000])
    messages.success(request, "Acknowledged.")
    return redirect("alert-detail", pk=pk)


@require_POST
def alert_mute(request, pk):
    alert = get_object_or_404(Alert.objects.select_related("metric"), pk=pk)
    if request.POST.get("unmute"):
        services.alert_mute(user=request.user, alert=alert, until=None)
        messages.success(request, "The rule notifies again.")
        return redirect("alert-detail", pk=pk)
    form = MuteForm(request.POST)
    if form.is_valid():
        try:
            rule = services.alert_mute(user=request.user, alert=alert, until=form.cleaned_data["until"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"“{rule.name}” is muted until {rule.muted_until:%d %b %Y}.")
    else:
        messages.error(request, "Give a valid date to mute until.")
    return redirect("alert-detail", pk=pk)


def rule_list(request, slug):
    metric = get_object_or_404(Metric.objects.select_related("owning_function__leader"), slug=slug)
    return render(
        request,
        "alerts/rules.html",
        {
            "metric": metric,
            "rules": selectors.rule_list(metric=metric),
            "can_write": permissions.can_write_alert_rules(request.user),
            "recent": selectors.alert_list(user=request.user, metric_id=metric.pk)[:10],
        },
    )


def rule_detail(request, pk):
    rule = get_object_or_404(AlertRule.objects.select_related("metric__owning_function"), pk=pk)
    return render(
        request,
        "alerts/rule_detail.html",
        {
            "rule": rule,
            "metric": rule.metric,
            "chart": selectors.rule_chart(rule=rule, metric=rule.metric),
            "episodes": selectors.rule_episodes(rule=rule),
            "can_write": permissions.can_write_alert_rules(request.user),
        },
    )


@require_POST
def rule_replay(request, pk):
    rule = get_object_or_404(AlertRule.objects.select_related("metric"), pk=pk)
    services.rule_replay(user=request.user, rule=rule)
    messages.success(request, f"“{rule.name}” will judge its whole history at its next evaluation (queued).")
    return redirect("alert-rule-detail", pk=pk)


def _segments(metric: Metric) -> list[str]:
    return list(
        MetricValue.objects.filter(metric=metric)
        .exclude(segment="")
        .order_by("segment")
        .values_list("segment", flat=True)
        .distinct()
    )


def rule_edit(request, slug=None, pk=None):
    if not permissions.can_write_alert_rules(request.user):
        raise PermissionDenied("Only administrators and the CX team write alert rules.")
    if pk:
        rule = get_object_or_404(AlertRule.objects.select_related("metric"), pk=pk)
        metric = rule.metric
    else:
        metric = get_object_or_404(Metric, slug=slug)
        rule = AlertRule(metric=metric)
    form = AlertRuleForm(request.POST or None, instance=rule, segments=_segments(metric))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        subscribers = list(data.pop("subscribers"))
        try:
            rule = services.rule_save(
                user=request.user,
                rule=AlertRule.objects.get(pk=rule.pk) if rule.pk else AlertRule(metric=metric),
                fields=data,
                subscribers=subscribers,
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, f"Saved “{rule.name}”; it is being evaluated.")
            return redirect("alert-rules", slug=metric.slug)
    return render(request, "alerts/rule_form.html", {"form": form, "rule": rule, "metric": metric})


@require_POST
def rule_delete(request, pk):
    rule = get_object_or_404(AlertRule.objects.select_related("metric"), pk=pk)
    services.rule_delete(user=request.user, rule=rule)
    messages.success(request, f"Deleted “{rule.name}” and its alerts.")
    return redirect("alert-rules", slug=rule.metric.slug)
