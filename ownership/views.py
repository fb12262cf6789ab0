from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from cxgov.lib import permissions
from cxgov.models import Function
from ownership import exports, selectors, services
from ownership.forms import AssignForm, MapFilterForm
from rootcause.forms import ActionUpdateForm, record_update
from rootcause.models import ActionItem


def ownership_map(request):
    form = MapFilterForm(request.GET)
    filters = form.filters()
    data = selectors.ownership_map(filters=filters, page_number=request.GET.get("page"), facing=form.customer_facing())
    return render(
        request,
        "ownership/map.html",
        {
            **data,
            # The unowned issues lead the table, as a row of their own.
            "table_rows": ([data["unowned"]] if data["unowned"]["issues"] else []) + data["rows"],
            "form": form,
            "matrix": selectors.driver_matrix(filters=filters),
            "query": request.GET.urlencode(),
        },
    )


@require_GET
def map_export(request, fmt):
    if fmt not in ("csv", "xlsx"):
        raise Http404("Export as csv or xlsx.")
    form = MapFilterForm(request.GET)
    if not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        return HttpResponseBadRequest(f"These filters are not valid, so nothing was exported: {problems}")
    rows = selectors.export_rows(filters=form.filters())
    name = f"ownership-map-{timezone.localdate():%Y-%m-%d}.{fmt}"
    if fmt == "csv":
        return exports.csv_response(rows, name)
    return exports.xlsx_response(rows, name, title="Ownership map")


def workspace(request):
    data = selectors.workspace(user=request.user, page_number=request.GET.get("page"))
    return render(
        request,
        "ownership/workspace.html",
        {**data, "update_form": ActionUpdateForm()},
    )


@require_GET
def scorecard(request):
    """The scorecard fragment, fetched again by htmx whenever an item on the page is updated."""
    ids = sorted(permissions.function_ids(request.user))
    return render(
        request,
        "ownership/partials/scorecard.html",
        {"scorecard": selectors.scorecard(function_ids=ids) if ids else None},
    )


@require_GET
def workspace_issues(request):
    """The open issues fragment, fetched again by htmx whenever an item on the page is updated."""
    ids = sorted(permissions.function_ids(request.user))
    return render(
        request,
        "ownership/partials/workspace_issues.html",
        {
            **selectors.owned_issues(function_ids=ids),
            "functions": Function.objects.filter(pk__in=ids).order_by("customer_facing", "name"),
        },
    )


@require_POST
def item_update(request, pk):
    """Inline status and progress update from the workspace: htmx swaps the row and tells the page
    (HX-Trigger "work-changed"), so the scorecard and the open issues refresh; a plain form post
    redirects back to the workspace."""
    item = get_object_or_404(ActionItem, pk=pk)
    form, error = record_update(user=request.user, item=item, data=request.POST)
    if not request.headers.get("HX-Request"):
        (messages.error if error else messages.success)(request, error or "Update recorded.")
        return redirect("ownership:workspace")
    item = selectors.decorate_items(selectors.work_item_queryset().filter(pk=pk), request.user)[0]
    ids = sorted(permissions.function_ids(request.user))
    response = render(
        request,
        "ownership/partials/work_item_updated.html",
        {
            "item": item,
            "error": error,
            "update_form": ActionUpdateForm(),
            "posted": form.data if error else None,
            "not_done": selectors.work_items(function_ids=ids).count(),
        },
    )
    if not error:
        response["HX-Trigger"] = "work-changed"
    return response


def _require_triage(user) -> None:
    if not permissions.can_assign_issues(user):
        raise PermissionDenied("CX triage is for the CX team and administrators.")


def triage(request):
    _require_triage(request.user)
    return render(request, "ownership/triage.html", selectors.triage(page_number=request.GET.get("page")))


@require_POST
def triage_assign(request):
    _require_triage(request.user)
    form = AssignForm(request.POST)
    back = reverse("ownership:triage") + (
        f"?page={request.POST['page']}" if request.POST.get("page", "").isdigit() else ""
    )
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
        return redirect(back)
    data = form.cleaned_data
    try:
        changed = services.issues_assign(
            user=request.user, issue_ids=data["issue"], function=data["function"], owner=data["owner"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    who = f"{data['function'].name}" + (f" ({data['owner']})" if data["owner"] else "")
    if changed:
        messages.success(
            request,
            f"Assigned {len(changed)} issue{'s' if len(changed) != 1 else ''} to {who}; "
            "the new owners have been told by email.",
        )
    else:
        messages.info(request, f"Nothing changed: {who} already owned the chosen issues.")
    return redirect(back)


def executive(request):
    return render(request, "ownership/executive.html", selectors.executive())
