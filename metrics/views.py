from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from cxgov.lib import permissions
from cxgov.lib.forms import form_errors
from metrics import selectors, services
from metrics.forms import MetricForm
from metrics.models import Metric


def metric_list(request):
    return render(
        request,
        "metrics/metric_list.html",
        {"metrics": selectors.metric_list(), "can_configure": permissions.can_configure(request.user)},
    )


def metric_detail(request, slug):
    segment = request.GET.get("segment", "")
    try:
        metric, values, segments = selectors.metric_detail(slug=slug, segment=segment)
    except Metric.DoesNotExist:
        raise Http404("No such metric.") from None
    chart = {
        "labels": [v.period_start.isoformat() for v in values],
        "values": [round(v.value, 3) for v in values],
        "low": [None if v.ci_low is None else round(v.ci_low, 3) for v in values],
        "high": [None if v.ci_high is None else round(v.ci_high, 3) for v in values],
        "n": [v.sample_size for v in values],
        "target": metric.target,
        "amber": metric.amber_threshold,
        "red": metric.red_threshold,
        "unit": metric.unit,
    }
    return render(
        request,
        "metrics/metric_detail.html",
        {
            "metric": metric,
            "values": values,
            "segments": segments,
            "segment": segment,
            "chart": chart,
            "can_configure": permissions.can_configure(request.user),
        },
    )


def metric_edit(request, slug=None):
    permissions.require_configure(request.user)
    metric = get_object_or_404(Metric, slug=slug) if slug else Metric()
    form = MetricForm(request.POST or None, instance=metric)
    if request.method == "POST" and form.is_valid():
        try:
            metric = services.metric_save(
                user=request.user,
                metric=Metric.objects.get(pk=metric.pk) if metric.pk else Metric(),
                fields=form.cleaned_data,
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, f"Saved {metric}; its values are being recalculated.")
            return redirect("metric-detail", slug=metric.slug)
    return render(request, "metrics/metric_form.html", {"form": form, "metric": metric})


def kpi_audit(request):
    return render(request, "metrics/kpi_audit.html", {"rows": selectors.kpi_audit()})


def business_impact(request):
    return render(request, "metrics/business_impact.html", selectors.business_impact())
