from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from cxgov.lib import permissions
from cxgov.lib.forms import form_errors, positive_id
from outcomes import selectors, services
from outcomes.forms import CanvasForm, MomentFormSet, NeedFormSet
from outcomes.models import Canvas, CanvasState, CustomerCategory


def category_list(request):
    return render(
        request,
        "outcomes/category_list.html",
        {"categories": selectors.category_list(), "can_write": permissions.can_write_canvases(request.user)},
    )


def canvas_detail(request, slug):
    try:
        category, canvas, versions = selectors.canvas_detail(
            category_slug=slug, version=positive_id(request.GET.get("version"))
        )
    except CustomerCategory.DoesNotExist:
        raise Http404("No such customer category.") from None
    return render(
        request,
        "outcomes/canvas_detail.html",
        {
            "category": category,
            "canvas": canvas,
            "versions": versions,
            "draft": next((v for v in versions if v.state == CanvasState.DRAFT), None),
            "can_write": permissions.can_write_canvases(request.user),
            "crown": selectors.triple_crown(data_category=category.data_category) if category.data_category else None,
        },
    )


@require_POST
def canvas_start_draft(request, slug):
    category = get_object_or_404(CustomerCategory, slug=slug)
    services.canvas_draft(user=request.user, category=category)
    return redirect("canvas-edit", slug=slug)


def canvas_edit(request, slug):
    if not permissions.can_write_canvases(request.user):
        raise PermissionDenied("Only the CX team and administrators write canvases.")
    category = get_object_or_404(CustomerCategory, slug=slug)
    canvas = Canvas.objects.filter(category=category, state=CanvasState.DRAFT).first()
    if canvas is None:
        messages.info(request, "Start a draft to change this canvas; the approved version stays as it is.")
        return redirect("canvas-detail", slug=slug)
    data = request.POST or None
    form = CanvasForm(data, instance=canvas)
    needs = NeedFormSet(data, prefix="needs", queryset=canvas.needs.all())
    moments = MomentFormSet(data, prefix="moments", queryset=canvas.moments.all())
    if request.method == "POST" and form.is_valid() and needs.is_valid() and moments.is_valid():
        keep = [f for f in needs.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        keep_moments = [f for f in moments.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        try:
            services.canvas_save(
                user=request.user,
                canvas=canvas,
                fields=form.cleaned_data,
                measures=form.cleaned_data["measures"],
                functions=form.cleaned_data["accountable_functions"],
                needs=[{k: v for k, v in f.cleaned_data.items() if k not in ("id", "DELETE")} for f in keep],
                moments=[{k: v for k, v in f.cleaned_data.items() if k not in ("id", "DELETE")} for f in keep_moments],
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, f"Saved draft v{canvas.version}.")
            return redirect("canvas-detail", slug=slug)
    return render(
        request,
        "outcomes/canvas_form.html",
        {"category": category, "canvas": canvas, "form": form, "needs": needs, "moments": moments},
    )


@require_POST
def canvas_approve(request, slug):
    category = get_object_or_404(CustomerCategory, slug=slug)
    canvas = get_object_or_404(Canvas, category=category, state=CanvasState.DRAFT)
    try:
        services.canvas_approve(user=request.user, canvas=canvas)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Approved v{canvas.version}; earlier versions stay readable.")
    return redirect("canvas-detail", slug=slug)


def north_star(request):
    return render(request, "outcomes/north_star.html", selectors.north_star_line_of_sight())
