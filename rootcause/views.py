from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from cxgov.lib import permissions
from cxgov.lib.forms import form_errors, positive_id
from metrics.models import SurveyResponse
from rootcause import selectors, services
from rootcause.forms import DecisionPointForm, KeyDriverForm, ParetoForm, SubThemeForm, WorkflowForm
from rootcause.models import DecisionKind, DecisionPoint, KeyDriver, SubTheme, Workflow


def taxonomy(request):
    return render(
        request,
        "rootcause/taxonomy.html",
        {"drivers": selectors.taxonomy(), "can_edit": permissions.can_write_canvases(request.user)},
    )


def _theme_edit(request, form_class, instance, title):
    if not permissions.can_write_canvases(request.user):
        raise PermissionDenied("Only the CX team and administrators edit themes.")
    form = form_class(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.theme_save(
                user=request.user,
                instance=type(instance).objects.get(pk=instance.pk) if instance.pk else type(instance)(),
                fields=form.cleaned_data,
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            note = "; comments are being re-tagged in the background" if isinstance(saved, SubTheme) else ""
            messages.success(request, f"Saved “{saved}”{note}.")
            return redirect("taxonomy")
    return render(request, "rootcause/theme_form.html", {"form": form, "title": title})


def driver_edit(request, pk=None):
    driver = get_object_or_404(KeyDriver, pk=pk) if pk else KeyDriver()
    return _theme_edit(request, KeyDriverForm, driver, f"Edit {driver}" if pk else "New key driver")


def sub_theme_edit(request, pk=None):
    theme = get_object_or_404(SubTheme, pk=pk) if pk else SubTheme()
    return _theme_edit(request, SubThemeForm, theme, f"Edit {theme.name}" if pk else "New sub-theme")


def untagged(request):
    page = Paginator(selectors.untagged_comments(), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "rootcause/untagged.html",
        {
            "page": page,
            "themes": SubTheme.objects.select_related("driver").order_by("driver__name", "name"),
            "can_tag": permissions.can_write_canvases(request.user),
        },
    )


@require_POST
def tag(request):
    response = get_object_or_404(SurveyResponse, pk=positive_id(request.POST.get("response")) or 0)
    theme = get_object_or_404(SubTheme, pk=positive_id(request.POST.get("sub_theme")) or 0)
    services.tag_set(user=request.user, response=response, sub_theme=theme, present=request.POST.get("present") != "0")
    messages.success(request, f"Tagged “{theme}”; the matching rules will leave this tag alone.")
    return redirect(request.POST.get("next") if request.POST.get("next", "").startswith("/rootcause/") else "untagged")


def pareto(request):
    form = ParetoForm(request.GET or None)
    analysis = None
    if form.is_valid() or not request.GET:
        data = form.cleaned_data if request.GET else {}
        responses = selectors.responses_for(
            start=data.get("start"),
            end=data.get("end"),
            segment=data.get("segment", ""),
            product=data.get("product", ""),
            dissatisfied_only=data.get("dissatisfied_only", False),
        )
        analysis = selectors.pareto_analysis(
            responses=responses,
            weight_by_revenue=data.get("weight_by_revenue", False),
            cutoff=data.get("cutoff") or 80.0,
        )
        filters = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items() if v}
        analysis["comparison"] = selectors.pareto_comparison(
            filters=filters, current_vital={str(item["theme"]) for item in analysis["rows"] if item["row"].vital}
        )
        if request.method == "POST":
            services.pareto_snapshot_save(user=request.user, filters=filters, analysis=analysis)
            messages.success(request, "Snapshot saved: the next analysis with these filters is compared with it.")
            return redirect(request.get_full_path())
        analysis["chart"] = {
            "labels": [r["theme"].name for r in analysis["rows"]],
            "values": [r["row"].value for r in analysis["rows"]],
            "cumulative": [round(r["row"].cumulative, 2) for r in analysis["rows"]],
            "cutoff": analysis["cutoff"],
        }
    return render(
        request,
        "rootcause/pareto.html",
        {"form": form, "analysis": analysis, "can_save": permissions.can_write_canvases(request.user)},
    )


def decision_points(request):
    kind = request.GET.get("kind", "")
    workflows = selectors.decision_point_register(kind=kind if kind in DecisionKind.values else "")
    for workflow in workflows:
        workflow.can_edit = permissions.can_change(request.user, workflow)
    return render(
        request,
        "rootcause/decision_points.html",
        {
            "workflows": workflows,
            "kinds": DecisionKind.choices,
            "kind": kind,
            "can_add": permissions.changeable_functions(request.user).exists(),
        },
    )


def _register_edit(request, form_class, instance, save, title):
    functions = permissions.changeable_functions(request.user)
    if not functions.exists():
        raise PermissionDenied("You may not record workflows or decision points.")
    form = form_class(request.POST or None, instance=instance, functions=functions)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        try:
            save(user=request.user, fields=fields)
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("decision-points")
    return render(request, "rootcause/theme_form.html", {"form": form, "title": title})


def workflow_edit(request, pk=None):
    workflow = get_object_or_404(Workflow, pk=pk) if pk else Workflow()
    if pk and not permissions.can_change(request.user, workflow):
        raise PermissionDenied("You may not change this workflow.")
    fresh = Workflow.objects.get(pk=pk) if pk else Workflow()
    return _register_edit(
        request,
        WorkflowForm,
        workflow,
        lambda user, fields: services.workflow_save(user=user, workflow=fresh, fields=fields),
        f"Edit {workflow}" if pk else "New workflow",
    )


def decision_point_edit(request, pk=None):
    point = get_object_or_404(DecisionPoint.objects.select_related("workflow"), pk=pk) if pk else DecisionPoint()
    if pk and not permissions.can_change(request.user, point):
        raise PermissionDenied("You may not change this decision point.")
    fresh = DecisionPoint.objects.select_related("workflow").get(pk=pk) if pk else DecisionPoint()
    return _register_edit(
        request,
        DecisionPointForm,
        point,
        lambda user, fields: services.decision_point_save(user=user, point=fresh, fields=fields),
        "Edit decision point" if pk else "New decision point",
    )
