from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from alerts import emails, selectors, services
from alerts.forms import KIND_HELP, KIND_SHORT, AlertRuleForm, MuteForm
from alerts.models import Alert, AlertRule, AlertState, RuleKind
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


def _rule_for(request, slug, pk) -> tuple[AlertRule, Metric]:
    if not permissions.can_write_alert_rules(request.user):
        raise PermissionDenied("Only administrators and the CX team write alert rules.")
    if pk:
        rule = get_object_or_404(AlertRule.objects.select_related("metric"), pk=pk)
        return rule, rule.metric
    metric = get_object_or_404(Metric, slug=slug)
    return AlertRule(metric=metric), metric


def _chosen_kind(request, rule: AlertRule) -> str | None:
    """The kind the form is for: the one asked for (?kind= or the posted form), else the rule's own."""
    kind = request.POST.get("kind") or request.GET.get("kind") or rule.kind
    return kind if kind in RuleKind.values else None


def _form_fields(form: AlertRuleForm) -> tuple[dict, list]:
    data = dict(form.cleaned_data)
    return data, list(data.pop("subscribers", []))


def _preview(request, form: AlertRuleForm, rule: AlertRule) -> dict:
    """Where the rule as filled in would have fired over the metric's history, or why it cannot be
    judged: the field errors of the form or of the service's checks."""
    if form._errors is None:  # not validated yet (a preview, not a save): a rule needs no name to be tried
        form.fields["name"].required = False
    if not form.is_valid():
        return {"errors": _labelled(form, form.errors)}
    fields, _ = _form_fields(form)
    try:
        draft = services.rule_check(user=request.user, rule=rule, fields=fields)
    except ValidationError as exc:
        return {
            "errors": _labelled(form, exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages})
        }
    return selectors.rule_preview(rule=draft)


def _labelled(form: AlertRuleForm, errors) -> list[tuple[str, str, list[str]]]:
    """(field name, its label as the form shows it, messages) for each field with errors."""
    out = []
    for name, messages_ in errors.items():
        field = form.fields.get(name)
        label = "" if name == "__all__" else str(field.label or name.replace("_", " ").capitalize()) if field else name
        out.append((name, label, list(messages_)))
    return out


def rule_edit(request, slug=None, pk=None):
    """A rule's form, for one kind at a time: a new rule starts by choosing its kind; the form then
    shows only that kind's settings, with a preview of where it would have fired (nothing saved)."""
    rule, metric = _rule_for(request, slug, pk)
    kind = _chosen_kind(request, rule)
    if kind is None:
        kinds = [(value, label, KIND_HELP[value]) for value, label in RuleKind.choices]
        return render(request, "alerts/rule_kind.html", {"rule": rule, "metric": metric, "kinds": kinds})
    previewing = request.method == "GET" and "preview" in request.GET  # the Preview button without htmx
    data = request.POST if request.method == "POST" else (request.GET if previewing else None)
    form = AlertRuleForm(data, instance=rule, segments=_segments(metric), kind=kind)
    if request.method == "POST" and form.is_valid():
        fields, subscribers = _form_fields(form)
        try:
            rule = services.rule_save(
                user=request.user,
                rule=AlertRule.objects.get(pk=rule.pk) if rule.pk else AlertRule(metric=metric),
                fields=fields,
                subscribers=subscribers,
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, f"Saved “{rule.name}”; it is being evaluated.")
            return redirect("alert-rules", slug=metric.slug)
    context = {
        "form": form,
        "rule": rule,
        "metric": metric,
        "kind": kind,
        "kind_label": RuleKind(kind).label,
        "kind_help": KIND_HELP[kind],
        "other_kinds": [(value, KIND_SHORT[value]) for value in RuleKind.values if value != kind],
        "preview": _preview(request, form, rule) if form.is_bound else None,
    }
    return render(request, "alerts/rule_form.html", context)


@require_GET
def rule_preview(request, slug=None, pk=None):
    """The preview part of the rule form, for the form's values (htmx swaps it in as they change)."""
    rule, metric = _rule_for(request, slug, pk)
    kind = _chosen_kind(request, rule)
    if kind is None:  # nothing to preview before a kind is chosen
        return render(request, "alerts/partials/rule_preview.html", {"preview": None, "metric": metric})
    form = AlertRuleForm(request.GET, instance=rule, segments=_segments(metric), kind=kind)
    return render(
        request, "alerts/partials/rule_preview.html", {"preview": _preview(request, form, rule), "metric": metric}
    )


def rule_index(request):
    """Every metric's alert rules in one list (the Alerts menu), with a way to add one to any metric."""
    return render(
        request,
        "alerts/rule_index.html",
        {"metrics": selectors.rule_index(), "can_write": permissions.can_write_alert_rules(request.user)},
    )


@require_POST
def rule_delete(request, pk):
    rule = get_object_or_404(AlertRule.objects.select_related("metric"), pk=pk)
    services.rule_delete(user=request.user, rule=rule)
    messages.success(request, f"Deleted “{rule.name}” and its alerts.")
    return redirect("alert-rules", slug=rule.metric.slug)
