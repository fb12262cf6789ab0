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


@require_GET
def triage_choices(request, kind):
    """The suggestions under a function or person field of triage, for what was typed there (the
    field's own value, sent by htmx as the user types): at most a screenful, whatever the company's size."""
    _require_triage(request.user)
    if kind == "functions":
        found = selectors.function_choices(request.GET.get("function", ""))
    elif kind == "people":
        found = selectors.people_choices(request.GET.get("owner", ""))
    else:
        raise Http404("Suggestions are of functions or people.")
    return render(request, "ownership/partials/triage_choices.html", {"kind": kind, "found": found})


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


# --- The value ledger ------------------------------------------------------------------------------


def ledger(request):
    from outcomes import selectors as outcome_selectors

    return render(request, "ownership/ledger.html", outcome_selectors.ledger())


@require_GET
def ledger_export(request, fmt):
    from outcomes import selectors as outcome_selectors

    if fmt not in ("csv", "xlsx"):
        raise Http404("Export as csv or xlsx.")
    name = f"value-ledger-{timezone.localdate():%Y-%m-%d}.{fmt}"
    rows = outcome_selectors.export_rows()
    if fmt == "csv":
        return exports.csv_response(rows, name)
    return exports.xlsx_response(rows, name, title="Value ledger")


def ledger_costs(request):
    """The ledger's currency, discount rate and cost per contact of each channel: everyone reads them,
    the CX team and administrators change them (the business cases are then recomputed)."""
    from outcomes import selectors as outcome_selectors
    from outcomes import services as outcome_services
    from outcomes.models import ContactCost
    from ownership.forms import ContactCostForm, LedgerSettingsForm

    current = outcome_selectors.ledger_settings()
    settings_form = LedgerSettingsForm(
        initial={"currency": current["settings"].currency, "discount_rate": current["settings"].discount_rate}
    )
    cost_form = ContactCostForm()
    if request.method == "POST":
        if not permissions.can_set_ledger_costs(request.user):
            raise PermissionDenied("Only the CX team and administrators set the ledger's costs.")
        action = request.POST.get("action")
        try:
            if action == "settings":
                settings_form = LedgerSettingsForm(request.POST)
                if settings_form.is_valid():
                    outcome_services.ledger_settings_save(user=request.user, **settings_form.cleaned_data)
                    messages.success(request, "Ledger settings saved; the business cases are being recomputed.")
                    return redirect("ownership:ledger-costs")
            elif action == "delete":
                cost_id = request.POST.get("cost", "")
                if not cost_id.isdigit() or len(cost_id) > 18:
                    raise Http404("No such cost.")
                cost = get_object_or_404(ContactCost, pk=int(cost_id))
                outcome_services.contact_cost_delete(user=request.user, cost=cost)
                messages.success(request, "Cost removed; the business cases are being recomputed.")
                return redirect("ownership:ledger-costs")
            else:
                cost_form = ContactCostForm(request.POST)
                if cost_form.is_valid():
                    outcome_services.contact_cost_save(user=request.user, **cost_form.cleaned_data)
                    messages.success(request, "Cost saved; the business cases are being recomputed.")
                    return redirect("ownership:ledger-costs")
        except ValidationError as exc:
            form = settings_form if action == "settings" else cost_form
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
    return render(
        request,
        "ownership/ledger_costs.html",
        {**current, "settings_form": settings_form, "cost_form": cost_form},
    )
