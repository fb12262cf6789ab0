from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from cxgov.lib import permissions
from cxgov.lib.forms import form_errors
from metrics import ingestion, selectors, services
from metrics.forms import ImportMappingForm, ImportUploadForm, MetricForm
from metrics.models import ImportJob, ImportMapping, ImportStatus, Metric


def metric_list(request):
    return render(
        request,
        "metrics/metric_list.html",
        {"metrics": selectors.metric_list(), "can_configure": permissions.can_configure_organisation(request.user)},
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
    schedule = (
        selectors.metric_schedule_entry(metric=metric) if permissions.can_configure_organisation(request.user) else None
    )
    return render(
        request,
        "metrics/metric_detail.html",
        {
            "schedule": schedule,
            "metric": metric,
            "unscored": selectors.metric_unscored(metric=metric),
            "values": values,
            "segments": segments,
            "segment": segment,
            "chart": chart,
            "can_configure": permissions.can_configure_organisation(request.user),
        },
    )


def metric_edit(request, slug=None):
    permissions.require_configure_organisation(request.user)
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


def key_drivers(request, slug):
    metric = get_object_or_404(Metric.objects.select_related("owning_function"), slug=slug)
    analysis = selectors.key_drivers(metric=metric)
    chart = [
        {"x": round(d["mean"], 3), "y": round(d["share"], 2), "label": d["driver"]} for d in analysis.get("drivers", [])
    ]
    return render(request, "metrics/key_drivers.html", {"metric": metric, "analysis": analysis, "chart": chart})


def kpi_audit(request):
    return render(request, "metrics/kpi_audit.html", {"rows": selectors.kpi_audit()})


def business_impact(request):
    return render(request, "metrics/business_impact.html", selectors.business_impact())


def _require_importer(user):
    if not permissions.can_import_data(user):
        raise PermissionDenied("Only administrators and the CX team import data.")


def import_list(request):
    _require_importer(request.user)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_create(
                user=request.user,
                kind=form.cleaned_data["kind"],
                source=form.cleaned_data["source"],
                upload=form.cleaned_data["file"],
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            return redirect("import-detail", pk=job.pk)
    jobs = ImportJob.objects.select_related("created_by")[:30]
    mappings = ImportMapping.objects.order_by("kind", "source")
    return render(request, "metrics/import_list.html", {"form": form, "jobs": jobs, "mappings": mappings})


def import_detail(request, pk):
    _require_importer(request.user)
    job = get_object_or_404(ImportJob, pk=pk)
    context = {"job": job, "activity": selectors.import_activity(job)}
    if job.status == ImportStatus.UPLOADED:
        try:
            preview = services.import_preview(job=job)
        except ingestion.FileProblem as exc:
            context["job"] = services.import_reject(job=job, problem=str(exc))
            return render(request, "metrics/import_detail.html", context)
        form = ImportMappingForm(
            request.POST or None,
            kind=job.kind,
            columns=preview["columns"],
            mapping=ingestion.Mapping.from_json(job.mapping),
            drivers=list(preview["taxonomy"]),
        )
        if request.method == "POST" and form.is_valid() and request.POST.get("action") == "preview":
            services.import_remap(user=request.user, job=job, mapping=form.mapping())
            return redirect("import-detail", pk=job.pk)
        if request.method == "POST" and form.is_valid():
            try:
                services.import_configure(user=request.user, job=job, mapping=form.mapping())
            except ValidationError as exc:
                form_errors(form, exc)
            except ingestion.FileProblem as exc:
                services.import_reject(job=job, problem=str(exc))
                return redirect("import-detail", pk=job.pk)
            else:
                return redirect("import-detail", pk=job.pk)
        context.update(form=form, preview=preview)
    return render(request, "metrics/import_detail.html", context)


def import_progress(request, pk):
    """The progress fragment the import page polls while the job runs."""
    _require_importer(request.user)
    job = get_object_or_404(ImportJob, pk=pk)
    return render(
        request, "metrics/partials/import_progress.html", {"job": job, "activity": selectors.import_activity(job)}
    )
