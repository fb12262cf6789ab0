from collections import defaultdict

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_POST

from cxgov.lib import heavy, permissions
from cxgov.lib.forms import form_errors, positive_id
from cxgov.models import Function
from metrics.models import Metric, SurveyResponse
from rootcause import selectors, services
from rootcause.forms import (
    ActionItemForm,
    ActionUpdateForm,
    AdoptForm,
    BulkTagForm,
    CommentFilterForm,
    DecisionPointForm,
    DiscoveryForm,
    IssueForm,
    KeyDriverForm,
    ParetoForm,
    SubThemeForm,
    WhyFormSet,
    WorkflowForm,
    record_update,
)
from rootcause.models import (
    CLOSED_STATES,
    PRIORITY_RANK,
    ActionItem,
    ActionUpdate,
    DecisionKind,
    DecisionPoint,
    DiscoveryRun,
    Issue,
    IssueState,
    KeyDriver,
    MeasureKind,
    ModelStatus,
    SubTheme,
    TaggingRun,
    Workflow,
    next_states,
    parse_quarter,
)


def taxonomy(request):
    return render(
        request,
        "rootcause/taxonomy.html",
        {
            "drivers": selectors.taxonomy(),
            "can_edit": permissions.can_edit_taxonomy(request.user),
            "retag": TaggingRun.objects.order_by("-started_at", "-pk").first(),
        },
    )


def _theme_edit(request, form_class, instance, title):
    if not permissions.can_edit_taxonomy(request.user):
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
            "can_tag": permissions.can_edit_taxonomy(request.user),
        },
    )


def _comment_filters(request, themes) -> tuple[CommentFilterForm, dict | None]:
    """The comments page's filter form and its filters (None when they are not valid)."""
    form = CommentFilterForm(request.GET or None, themes=themes)
    if not request.GET:
        return form, {}
    return form, form.comment_filters() if form.is_valid() else None


def comments(request):
    """Every comment, filtered, with its sub-themes; the CX team adds or removes a sub-theme on all
    the matching comments at once (a background job whose progress shows here)."""
    themes = list(SubTheme.objects.select_related("driver").order_by("driver__name", "name"))
    form, filters = _comment_filters(request, themes)
    responses = selectors.comments_matching(**filters) if filters is not None else SurveyResponse.objects.none()
    page = Paginator(selectors.comment_page(responses), 25).get_page(request.GET.get("page"))
    can_tag = permissions.can_tag_comments(request.user)
    job = None
    if can_tag:
        job = selectors.bulk_tag_jobs().filter(pk=positive_id(request.GET.get("job")) or 0).first()
    query = request.GET.copy()
    for name in ("page", "job"):
        query.pop(name, None)
    return render(
        request,
        "rootcause/comments.html",
        {
            "form": form,
            "page": page,
            "can_tag": can_tag,
            "bulk_form": BulkTagForm(themes=themes) if can_tag else None,
            "job": job,
            "query": query.urlencode(),
        },
    )


@require_POST
def comments_bulk(request):
    """Start a bulk job on the comments the page's filters (in the query string) match."""
    if not permissions.can_tag_comments(request.user):
        raise PermissionDenied("Only the CX team and administrators tag comments.")
    themes = list(SubTheme.objects.select_related("driver"))
    form, filters = _comment_filters(request, themes)
    bulk = BulkTagForm(request.POST, themes=themes)
    query = request.GET.copy()
    for name in ("page", "job"):
        query.pop(name, None)
    back = f"{reverse('comments')}?{query.urlencode()}"
    if filters is None or not bulk.is_valid():
        messages.error(request, "Choose an action and a sub-theme, and correct the filters.")
        return redirect(back)
    theme = next(t for t in themes if t.pk == bulk.cleaned_data["sub_theme"])
    try:
        job = services.bulk_tag_start(
            user=request.user, action=bulk.cleaned_data["action"], sub_theme=theme, filters=filters
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    query["job"] = job.pk
    return redirect(f"{reverse('comments')}?{query.urlencode()}")


def bulk_job_progress(request, pk):
    job = get_object_or_404(selectors.bulk_tag_jobs(), pk=pk)
    return render(request, "rootcause/partials/bulk_progress.html", {"job": job})


@require_POST
def tag(request):
    response = get_object_or_404(SurveyResponse, pk=positive_id(request.POST.get("response")) or 0)
    theme = get_object_or_404(SubTheme, pk=positive_id(request.POST.get("sub_theme")) or 0)
    try:
        services.tag_set(
            user=request.user, response=response, sub_theme=theme, present=request.POST.get("present") != "0"
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Tagged “{theme}”; the matching rules will leave this tag alone.")
    return redirect(request.POST.get("next") if request.POST.get("next", "").startswith("/rootcause/") else "untagged")


def _unavailable(request, template: str, context: dict, exc: heavy.AnalysisUnavailable):
    """The page without its analysis, saying why (busy, or too slow for this filter): a 503 at once."""
    response = render(request, template, {**context, "analysis": None, "unavailable": str(exc)}, status=503)
    response["Retry-After"] = str(exc.retry_after)
    return response


def pareto(request, view: str = "problems"):
    """The problems Pareto, or (``view`` "praise") what works: the praise sub-themes' positive comments."""
    praise = view == "praise"
    form = ParetoForm(request.GET or None, praise=praise)
    analysis = None
    if form.is_valid() or not request.GET:
        data = form.cleaned_data if request.GET else {}
        comment_filters = form.comment_filters() if request.GET else {}
        try:
            analysis = selectors.pareto_cached(
                filters=comment_filters,
                weight_by_revenue=data.get("weight_by_revenue", False),
                cutoff=data.get("cutoff") or 80.0,
                view=view,
                sentiment=data.get("sentiment") or "problems",
            )
        except heavy.AnalysisUnavailable as exc:
            return _unavailable(request, "rootcause/pareto.html", {"form": form, "praise_view": praise}, exc)
        analysis = dict(analysis)  # the cached answer stays as it was
        if praise:
            data = {**data, "view": "praise"}  # a snapshot of what works is compared with its own kind
        filters = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items() if v}
        analysis["comparison"] = selectors.pareto_comparison(
            filters=filters, current_vital={str(item["theme"]) for item in analysis["rows"] if item["row"].vital}
        )
        if request.method == "POST":
            services.pareto_snapshot_save(user=request.user, filters=filters, analysis=analysis)
            messages.success(request, "Snapshot saved: the next analysis with these filters is compared with it.")
            return redirect(request.get_full_path())
        open_issues = dict(
            Issue.objects.exclude(state__in=CLOSED_STATES)
            .filter(sub_theme__in=[item["theme"].pk for item in analysis["rows"]])
            .order_by("sub_theme_id", "-pk")
            .values_list("sub_theme_id", "pk")
        )
        for item in analysis["rows"]:
            item["issue"] = open_issues.get(item["theme"].pk)
        # "Open an issue" carries the filter, so the issue's evidence is that of these comments.
        carried = QueryDict(mutable=True)
        carried.update({name: request.GET[name] for name in comment_filters})
        analysis["filter_query"] = carried.urlencode()
        analysis["chart"] = {
            "labels": [r["theme"].name for r in analysis["rows"]],
            "values": [r["row"].value for r in analysis["rows"]],
            "cumulative": [round(r["row"].cumulative, 2) for r in analysis["rows"]],
            "cutoff": analysis["cutoff"],
        }
    return render(
        request,
        "rootcause/pareto.html",
        {
            "form": form,
            "analysis": analysis,
            "can_save": permissions.can_save_pareto_snapshots(request.user),
            "can_open": not praise and permissions.changeable_functions(request.user).exists(),
            "praise_view": praise,
        },
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


# --- Issues ---------------------------------------------------------------------------------------


def issue_list(request):
    function_id = positive_id(request.GET.get("function"))
    facing = {"yes": True, "no": False}.get(request.GET.get("customer_facing", ""))
    state = request.GET.get("state", "open")
    if state not in IssueState.values and state not in ("open", "all"):
        state = "open"
    quarter_text = request.GET.get("quarter", "").strip()
    quarter = parse_quarter(quarter_text)
    quarter_error = ""
    if quarter_text and quarter is None:  # refused, not silently matching nothing
        quarter_error = f"“{quarter_text}” is not a quarter: write it as Q4 2026 or 2026-Q4."
    qs = selectors.issues(
        function_id=function_id,
        customer_facing=facing,
        state="" if state == "all" else state,
        quarter=quarter or "",
    ).order_by("function__customer_facing", PRIORITY_RANK, "-created_at", "-pk")
    if quarter_error:
        qs = qs.none()
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "rootcause/issue_list.html",
        {
            "page": page,
            "functions": Function.objects.order_by("name").only("pk", "name"),
            "states": IssueState.choices,
            "filters": {
                "function": function_id,
                "customer_facing": request.GET.get("customer_facing", ""),
                "state": state,
                "quarter": quarter or quarter_text,
            },
            "quarter_error": quarter_error,
            "query": query.urlencode(),
            "can_open": permissions.changeable_functions(request.user).exists(),
        },
    )


def issue_create(request):
    functions = permissions.changeable_functions(request.user)
    if not functions.exists():
        raise PermissionDenied("Only the CX team, administrators and functional leaders open issues.")
    initial, source = {}, {}
    sub_theme = SubTheme.objects.filter(pk=positive_id(request.GET.get("sub_theme")) or 0).first()
    metric = Metric.objects.filter(pk=positive_id(request.GET.get("metric")) or 0).first()
    period = _date(request.GET.get("period", ""))
    if sub_theme:
        initial.update(
            sub_theme=sub_theme,
            title=f"{sub_theme.name} ({sub_theme.driver.name})",
            function=sub_theme.suggested_function_id,
            measure_kind=MeasureKind.SHARE,
        )
    if metric:
        initial.update(
            metric=metric,
            period=period,
            title=initial.get("title") or f"{metric.name} off track",
            measure_kind=initial.get("measure_kind") or MeasureKind.METRIC,
        )
    if permissions.can_be_cx_owner(request.user):
        initial["cx_owner"] = request.user.pk
    # Opened from a Pareto row: the evidence is that of the comments its filter keeps.
    pareto_form = ParetoForm(request.GET)
    comment_filters = pareto_form.comment_filters() if pareto_form.is_valid() else {}
    form = IssueForm(request.POST or None, initial=initial, functions=functions)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        issue = Issue(
            evidence=selectors.issue_evidence(
                sub_theme=data.get("sub_theme"),
                metric=data.get("metric"),
                period=data.get("period"),
                filters=comment_filters,
            ),
            alert_id=positive_id(request.POST.get("alert")),
        )
        try:
            issue = services.issue_save(user=request.user, issue=issue, fields=data)
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, f"Opened “{issue}”.")
            return redirect("issue-detail", issue.pk)
    source = selectors.issue_evidence(sub_theme=sub_theme, metric=metric, period=period, filters=comment_filters)
    return render(
        request,
        "rootcause/issue_form.html",
        {"form": form, "title": "Open an issue", "evidence": source, "alert": positive_id(request.GET.get("alert"))},
    )


def _date(text: str):
    """A date from a query string (YYYY-MM-DD), or None when it is missing or not a real date."""
    try:
        return parse_date(text or "")
    except ValueError:
        return None


def issue_edit(request, pk):
    issue = get_object_or_404(Issue, pk=pk)
    permissions.require_change(request.user, issue)
    functions = permissions.changeable_functions(request.user)
    if issue.function_id and not permissions.can_assign_issues(request.user):
        functions = Function.objects.filter(pk=issue.function_id)
    form = IssueForm(request.POST or None, instance=issue, functions=functions)
    if request.method == "POST" and form.is_valid():
        try:
            services.issue_save(user=request.user, issue=Issue.objects.get(pk=pk), fields=form.cleaned_data)
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("issue-detail", pk)
    return render(request, "rootcause/issue_form.html", {"form": form, "title": f"Edit “{issue}”", "issue": issue})


def issue_detail(request, pk):
    issue = selectors.issue_detail(pk)
    can_edit = permissions.can_change(request.user, issue)
    today = timezone.localdate()
    items = list(issue.action_items.all())
    for item in items:
        item.can_update = permissions.can_change(request.user, item)
        item.overdue = item.is_overdue(today)
    chart = selectors.verification_chart(issue)
    return render(
        request,
        "rootcause/issue_detail.html",
        {
            "issue": issue,
            "items": items,
            "can_edit": can_edit,
            "can_add_item": permissions.can_add_action_item(request.user, issue),
            "close_problems": services.close_problems(issue) if not issue.closed else [],
            "next_states": [(v, IssueState(v).label) for v in next_states(issue.state)],
            "chart": chart,
            "history": selectors.history_changes(issue.history),
            "update_form": ActionUpdateForm(),
        },
    )


def issue_whys(request, pk):
    issue = get_object_or_404(Issue, pk=pk)
    permissions.require_change(request.user, issue)
    initial = [{"why": w.why, "because": w.because, "evidence": w.evidence} for w in issue.whys.all()]
    formset = WhyFormSet(request.POST or None, initial=initial or [{} for _ in range(3)])
    if request.method == "POST" and formset.is_valid():
        try:
            services.whys_save(user=request.user, issue=issue, steps=[f.cleaned_data for f in formset.forms])
        except ValidationError as exc:
            formset._non_form_errors = formset.error_class(exc.messages)
        else:
            messages.success(request, "5 whys saved.")
            return redirect("issue-detail", pk)
    return render(request, "rootcause/issue_whys.html", {"issue": issue, "formset": formset})


@require_POST
def issue_state(request, pk):
    issue = get_object_or_404(Issue, pk=pk)
    try:
        issue = services.issue_transition(user=request.user, issue=issue, state=request.POST.get("state", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"The issue is now “{issue.get_state_display()}”.")
    return redirect("issue-detail", pk)


@require_POST
def issue_verify(request, pk):
    issue = get_object_or_404(Issue, pk=pk)
    permissions.require_change(request.user, issue)
    if issue.closed:
        messages.error(request, "This issue is closed: reopen it to verify again.")
    elif not issue.check_end or issue.check_end >= timezone.localdate():
        messages.error(request, "The check window has not ended yet: verification runs the day after it ends.")
    elif not issue.measure_kind:
        messages.error(request, "Choose the measure that must move before verifying.")
    else:
        issue = services.issue_verify(issue_id=pk, force=True, user=request.user)
        messages.success(request, f"Verified: {issue.get_verdict_display()}. {issue.verification.get('reason', '')}")
    return redirect("issue-detail", pk)


def action_item_edit(request, pk=None, issue_pk=None):
    if pk:
        item = get_object_or_404(ActionItem.objects.select_related("issue", "function"), pk=pk)
        permissions.require_change(request.user, item)
        issue = item.issue
    else:
        issue = get_object_or_404(Issue, pk=issue_pk)
        if not permissions.can_add_action_item(request.user, issue):
            raise PermissionDenied("Only someone who may change this issue adds action items to it.")
        item = ActionItem(issue=issue, function_id=issue.function_id)
    functions = permissions.changeable_functions(request.user)
    if not functions.exists():
        raise PermissionDenied("You may not create action items.")
    initial = {} if pk else {"function": issue.function_id, "owner": issue.owner_id}
    form = ActionItemForm(request.POST or None, instance=item, initial=initial, functions=functions)
    if request.method == "POST" and form.is_valid():
        fresh = ActionItem.objects.get(pk=pk) if pk else ActionItem(issue=issue)
        try:
            services.action_item_save(user=request.user, item=fresh, fields=form.cleaned_data)
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, "Action item saved.")
            return redirect("issue-detail", issue.pk)
    return render(
        request,
        "rootcause/theme_form.html",
        {"form": form, "title": f"Edit “{item}”" if pk else f"New action item for “{issue}”"},
    )


@require_POST
def action_item_update(request, pk):
    """Inline status and progress update from the issue page (HTMX swaps the row; a plain form
    post redirects back to the issue)."""
    item = get_object_or_404(ActionItem.objects.select_related("function", "owner"), pk=pk)
    form, error = record_update(user=request.user, item=item, data=request.POST)
    if not request.headers.get("HX-Request"):
        (messages.error if error else messages.success)(request, error or "Update recorded.")
        return redirect("issue-detail", item.issue_id)
    item = (
        ActionItem.objects.select_related("function", "owner")
        .prefetch_related(Prefetch("updates", queryset=ActionUpdate.objects.select_related("author")))
        .get(pk=pk)
    )
    item.can_update = permissions.can_change(request.user, item)
    item.overdue = item.is_overdue()
    return render(
        request,
        "rootcause/partials/action_item.html",
        # 200 even with an error: htmx swaps only successful responses, and the row shows the error.
        {"item": item, "error": error, "update_form": ActionUpdateForm(), "posted": form.data if error else None},
    )


def action_item_history(request, pk):
    item = get_object_or_404(ActionItem.objects.select_related("issue", "function"), pk=pk)
    return render(
        request,
        "rootcause/action_item_history.html",
        {
            "item": item,
            "changes": selectors.history_changes(item.history, limit=200),
            "updates": item.updates.select_related("author"),
        },
    )


def retag_progress(request):
    run = TaggingRun.objects.order_by("-started_at", "-pk").first()
    return render(request, "rootcause/partials/retag_progress.html", {"run": run})


# --- text models ----------------------------------------------------------------------------------


def text_models(request):
    """Every key driver's models with their held-out quality; the CX team trains a new version."""
    if request.method == "POST":
        if not permissions.can_edit_taxonomy(request.user):
            raise PermissionDenied
        driver = get_object_or_404(KeyDriver, pk=positive_id(request.POST.get("driver")) or 0)
        try:
            model = services.model_train_start(user=request.user, driver=driver)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("text-models")
        messages.success(request, f"Training {model} on the labelled comments; its evaluation shows when it is done.")
        return redirect("text-model-detail", pk=model.pk)
    models = list(selectors.text_models())
    labels = selectors.labelled_comment_counts()
    drivers = [
        {"driver": d, "labels": labels.get(d.pk, 0), "models": [m for m in models if m.driver_id == d.pk]}
        for d in KeyDriver.objects.order_by("name")
    ]
    return render(
        request,
        "rootcause/text_models.html",
        {"drivers": drivers, "can_edit": permissions.can_edit_taxonomy(request.user)},
    )


def text_model_detail(request, pk):
    model = get_object_or_404(selectors.text_models(), pk=pk)
    partial = bool(request.GET.get("partial"))
    template = "rootcause/partials/text_model_status.html" if partial else "rootcause/text_model.html"
    response = render(
        request,
        template,
        {
            "model": model,
            "evaluation": selectors.model_evaluation(model),
            "can_edit": permissions.can_edit_taxonomy(request.user),
        },
    )
    if partial and model.status in (ModelStatus.READY, ModelStatus.FAILED):
        response["HX-Refresh"] = "true"  # training ended while the page watched: show the evaluation
    return response


@require_POST
def text_model_switch(request, pk, on: bool = True):
    model = get_object_or_404(selectors.text_models(), pk=pk)
    try:
        if on:
            services.model_activate(user=request.user, model=model)
        else:
            services.model_deactivate(user=request.user, model=model)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"{model} is switched on: it tags the comments no person or rule tagged under “{model.driver}”."
            if on
            else f"{model} is switched off and its tags are gone.",
        )
    return redirect("text-model-detail", pk=model.pk)


def review(request):
    """The model's least sure tags, least sure first; the CX team accepts or corrects each."""
    if request.method == "POST":
        if not permissions.can_tag_comments(request.user):
            raise PermissionDenied
        tag = selectors.review_queue(below=1.01).filter(pk=positive_id(request.POST.get("tag")) or 0).first()
        theme = SubTheme.objects.filter(pk=positive_id(request.POST.get("sub_theme")) or 0).first()
        if tag is None or theme is None:
            messages.error(
                request, "That suggestion is gone (someone labelled the comment already) or the sub-theme is unknown."
            )
            return redirect("review")
        try:
            services.review_label(user=request.user, tag=tag, sub_theme=theme)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Labelled “{theme}”: the next model learns from it.")
        return redirect(request.get_full_path())
    driver = KeyDriver.objects.filter(pk=positive_id(request.GET.get("driver")) or 0).first()
    queue = selectors.review_queue(driver=driver)
    page = Paginator(queue, 25).get_page(request.GET.get("page"))
    themes = defaultdict(list)
    for theme in SubTheme.objects.filter(driver__in={t.sub_theme.driver_id for t in page}).order_by("name"):
        themes[theme.driver_id].append(theme)
    for tag in page:
        tag.choices = themes[tag.sub_theme.driver_id]
    return render(
        request,
        "rootcause/review.html",
        {
            "page": page,
            "driver": driver,
            "drivers": KeyDriver.objects.filter(text_models__status="active").order_by("name"),
            "below": services.REVIEW_BELOW,
            "can_label": permissions.can_tag_comments(request.user),
        },
    )


def discovery(request):
    """Theme discovery: start a run (CX team) and see the recent ones."""
    can_discover = permissions.can_edit_taxonomy(request.user)
    form = DiscoveryForm(request.POST or None)
    if request.method == "POST":
        if not can_discover:
            raise PermissionDenied("Only the CX team and administrators discover themes.")
        if form.is_valid():
            data = form.cleaned_data
            run = services.discovery_start(user=request.user, filters=data, clusters=data["clusters"])
            return redirect("discovery-run", pk=run.pk)
    return render(
        request,
        "rootcause/discovery.html",
        {
            "form": form,
            "can_discover": can_discover,
            "runs": selectors.discovery_runs()[:10],
            "untagged": selectors.discovery_comments({}).count(),
            "review_below": services.REVIEW_BELOW * 100,
        },
    )


def discovery_run(request, pk):
    """A run's progress (polled while it works) and its candidates, each with a form to adopt it."""
    run = get_object_or_404(selectors.discovery_runs(), pk=pk)
    drivers = KeyDriver.objects.order_by("name")
    candidates = [
        {
            **c,
            "index": i,
            "number": i + 1,
            "form": AdoptForm(
                initial={"name": " ".join(c["terms"][:2]).capitalize(), "keywords": c["terms"][:3]},
                drivers=drivers,
                examples=[e["id"] for e in c["examples"]],
                prefix=f"c{i}",
            ),
        }
        for i, c in enumerate(run.candidates)
    ]
    adopted = {c["adopted"] for c in run.candidates if c.get("adopted")}
    themes = {t.pk: t for t in SubTheme.objects.filter(pk__in=adopted).select_related("driver")} if adopted else {}
    for c in candidates:
        c["theme"] = themes.get(c.get("adopted"))
    context = {"run": run, "candidates": candidates, "can_adopt": permissions.can_edit_taxonomy(request.user)}
    if request.headers.get("HX-Request"):
        return render(request, "rootcause/partials/discovery_progress.html", context)
    return render(request, "rootcause/discovery_run.html", context)


@require_POST
def discovery_adopt(request, pk):
    """One click: a candidate becomes a sub-theme, its kept examples its first (manual) labels."""
    if not permissions.can_edit_taxonomy(request.user):
        raise PermissionDenied("Only the CX team and administrators turn candidates into sub-themes.")
    run = get_object_or_404(DiscoveryRun, pk=pk)
    index = positive_id(request.POST.get("index"))
    if index is None or not 1 <= index <= len(run.candidates):
        messages.error(request, "Choose a candidate of this run.")
        return redirect("discovery-run", pk=pk)
    candidate = run.candidates[index - 1]
    form = AdoptForm(
        request.POST,
        drivers=KeyDriver.objects.order_by("name"),
        examples=[e["id"] for e in candidate["examples"]],
        prefix=f"c{index - 1}",
    )
    if not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        messages.error(request, f"Correct the candidate's form ({problems}).")
        return redirect("discovery-run", pk=pk)
    data = form.cleaned_data
    try:
        theme = services.discovery_adopt(
            user=request.user,
            run=run,
            index=index - 1,
            driver=data["driver"],
            name=data["name"],
            keywords=data["keywords"],
            keep=data["keep"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("discovery-run", pk=pk)
    messages.success(
        request,
        f"“{theme}” created with {len(data['keep'])} labelled comment{'s' if len(data['keep']) != 1 else ''}; "
        "the comments are re-tagged in the background.",
    )
    return redirect("discovery-run", pk=pk)
