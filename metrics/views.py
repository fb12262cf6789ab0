import csv
import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from cxgov.lib import heavy, permissions
from cxgov.lib.forms import form_errors
from metrics import drivers as kda
from metrics import ingestion, schedules, selectors, services
from metrics.forms import DriverAnalysisForm, ImportMappingForm, ImportUploadForm, MetricForm, MetricScheduleForm
from metrics.models import DataKind, ImportJob, ImportMapping, ImportStatus, Metric


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
    schedule_allowed = permissions.can_configure_organisation(request.user)
    schedule = selectors.metric_schedule_entry(metric=metric) if schedule_allowed else None
    schedule_form = MetricScheduleForm(initial=MetricScheduleForm.initial_for(schedule)) if schedule_allowed else None
    return render(
        request,
        "metrics/metric_detail.html",
        {
            "schedule": schedule,
            "schedule_form": schedule_form,
            "schedule_preview": _schedule_preview(schedule_form, schedule) if schedule_form else None,
            "metric": metric,
            "unscored": selectors.metric_unscored(metric=metric),
            "no_values_reason": "" if values else selectors.metric_no_values_reason(metric=metric),
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
    method = request.GET.get("method") if request.GET.get("method") in kda.METHODS else kda.LMG
    context = {"metric": metric, "methods": list(kda.METHODS.items())}
    try:
        analysis = selectors.key_drivers_cached(metric=metric, method=method)
    except heavy.AnalysisUnavailable as exc:
        response = render(
            request, "metrics/key_drivers.html", {**context, "analysis": {}, "unavailable": str(exc)}, status=503
        )
        response["Retry-After"] = str(exc.retry_after)
        return response
    chart = [
        {"x": round(d["mean"], 3), "y": round(d["share"], 2), "label": d["driver"]} for d in analysis.get("drivers", [])
    ]
    return render(
        request,
        "metrics/key_drivers.html",
        {**context, "analysis": analysis, "chart": chart},
    )


def demo_about(request):
    """What the demo company is, what in it is real data and what the demo derived."""
    from cxgov.demo import ABOUT, COMPANY, FUNCTIONS, PEOPLE
    from metrics import demo

    return render(
        request,
        "metrics/demo_about.html",
        {
            "company": COMPANY,
            "about": ABOUT,
            "functions": len(FUNCTIONS),
            "people": len(PEOPLE),
            "snapshot": demo.SNAPSHOT,
            "churn_months": demo.CHURN_MONTHS,
            "reviews_from": demo.REVIEWS_FROM,
            "summary": selectors.demo_summary(),
        },
    )


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
    guide = [
        {
            "kind": kind,
            "label": label,
            "fields": [
                {"name": name, "label": ingestion.LABELS[name], "required": name in ingestion.FIELDS[kind]["required"]}
                | {"help": ingestion.HELP.get(name, "")}
                for name in ingestion.FIELDS[kind]["required"] + ingestion.FIELDS[kind]["optional"]
            ],
        }
        for kind, label in DataKind.choices
    ]
    return render(
        request, "metrics/import_list.html", {"form": form, "jobs": jobs, "mappings": mappings, "guide": guide}
    )


@require_GET
def import_template(request):
    """A CSV with the columns one kind of file takes and an example row, ready to fill in."""
    _require_importer(request.user)
    kind = request.GET.get("kind", "responses")
    if kind not in ingestion.FIELDS:
        raise Http404("Choose responses, customers or observations.")
    spec = ingestion.FIELDS[kind]
    names = spec["required"] + spec["optional"]
    example = ingestion.EXAMPLES[kind]
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(names)
    writer.writerow([example.get(name, "") for name in names])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="cxgov-{kind}-template.csv"'
    return response


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


def _importance_chart(analysis: dict | None) -> list[dict]:
    return [
        {
            "driver": d["driver"],
            "share": round(d["share"], 2),
            "low": None if d["share_low"] is None else round(d["share_low"], 2),
            "high": None if d["share_high"] is None else round(d["share_high"], 2),
        }
        for d in (analysis or {}).get("drivers", [])
    ]


def driver_analysis(request):
    """Key drivers of any numeric outcome: choose the data, the outcome, the drivers and the method."""
    choices = selectors.driver_data_choices()
    data = request.GET.get("data") or (choices[0][0] if choices else "")
    fields = selectors.driver_fields(data=data) if data in dict(choices) else []
    bound = "outcome" in request.GET
    form = DriverAnalysisForm(
        request.GET if bound else None, data_choices=choices, fields=fields, initial={"data": data}
    )
    analysis = None
    if bound and form.is_valid():
        analysis = selectors.driver_analysis(
            data=form.cleaned_data["data"],
            outcome=form.cleaned_data["outcome"],
            driver_names=form.cleaned_data["drivers"],
            method=form.cleaned_data["method"],
        )
    return render(
        request,
        "metrics/driver_analysis.html",
        {"form": form, "analysis": analysis, "chart": _importance_chart(analysis), "has_data": bool(choices)},
    )


def _schedule_preview(form: MetricScheduleForm, task) -> dict:
    """What a schedule form says in plain language and its next three runs, or why it cannot."""
    data = form.data if form.is_bound else form.initial
    try:
        checked = schedules.check(
            kind=data.get("kind", ""),
            every=data.get("every"),
            period=data.get("period", ""),
            cron=data.get("cron", ""),
            tz=data.get("timezone", ""),
        )
    except ValidationError as exc:
        return {"errors": exc.message_dict}
    last_run_at = task.last_run_at if task is not None else None
    return {"schedule": checked, "description": checked.describe(), "runs": checked.next_runs(last_run_at=last_run_at)}


def metric_schedule(request, slug):
    """Administrators set when a metric is recalculated (saved to django-celery-beat by the service)."""
    permissions.require_configure_organisation(request.user)
    metric = get_object_or_404(Metric, slug=slug)
    task = selectors.metric_schedule_entry(metric=metric)
    if request.method == "POST":
        form = MetricScheduleForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                task = services.metric_schedule_set(
                    user=request.user,
                    metric=metric,
                    kind=data["kind"],
                    every=data["every"],
                    period=data["period"],
                    cron=data["cron"],
                    tz=data["timezone"],
                    enabled=data["enabled"],
                )
            except ValidationError as exc:
                form_errors(form, exc)
            else:
                saved = schedules.from_task(task)
                state = "" if task.enabled else " (switched off)"
                described = _lower_first(saved.describe())
                messages.success(request, f"Schedule saved: {metric} is recalculated {described}{state}.")
                return redirect(f"{reverse('metric-detail', args=[metric.slug])}#schedule")
    elif "kind" in request.GET:  # the Preview button without JavaScript: show, save nothing
        form = MetricScheduleForm(request.GET)
    else:
        form = MetricScheduleForm(initial=MetricScheduleForm.initial_for(task))
    return render(
        request,
        "metrics/metric_schedule.html",
        {"metric": metric, "schedule": task, "schedule_form": form, "schedule_preview": _schedule_preview(form, task)},
    )


@require_GET
def metric_schedule_preview(request, slug):
    """The plain-language preview of the schedule being typed (htmx swaps it in as the form changes)."""
    permissions.require_configure_organisation(request.user)
    metric = get_object_or_404(Metric, slug=slug)
    task = selectors.metric_schedule_entry(metric=metric)
    form = MetricScheduleForm(request.GET)
    preview = _schedule_preview(form, task)
    return render(request, "metrics/partials/schedule_preview.html", {"schedule_preview": preview})


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
