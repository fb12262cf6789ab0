from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from cxgov.lib import permissions
from metrics.models import SurveyResponse
from rootcause import selectors, services
from rootcause.forms import ParetoForm
from rootcause.models import SubTheme


def taxonomy(request):
    return render(request, "rootcause/taxonomy.html", {"drivers": selectors.taxonomy()})


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
    response = get_object_or_404(SurveyResponse, pk=request.POST.get("response") or 0)
    theme = get_object_or_404(SubTheme, pk=request.POST.get("sub_theme") or 0)
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
        analysis["chart"] = {
            "labels": [r["theme"].name for r in analysis["rows"]],
            "values": [r["row"].value for r in analysis["rows"]],
            "cumulative": [round(r["row"].cumulative, 2) for r in analysis["rows"]],
            "cutoff": analysis["cutoff"],
        }
    return render(request, "rootcause/pareto.html", {"form": form, "analysis": analysis})
