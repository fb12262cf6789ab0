from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from cxgov import selectors, services
from cxgov.forms import AccountabilityForm, FunctionForm, FunctionProfileForm, PersonForm
from cxgov.lib import permissions
from cxgov.lib.forms import form_errors, positive_id
from cxgov.models import Accountability, Function, Raci, User


def _search(request) -> str:
    return request.GET.get("q", "").replace("\x00", "").strip()[:200]


def _id_param(request, name: str) -> int | None:
    return positive_id(request.GET.get(name))


def home(request):
    """Each role's home: a leader's workspace, the CX team's triage, the stakeholders' executive view;
    administrators keep the organisation overview."""
    from ownership import views as ownership_views

    role_home = permissions.home_page(request.user)
    if role_home is not None:
        return getattr(ownership_views, role_home)(request)
    return render(request, "cxgov/home.html", {"summary": selectors.home_summary(user=request.user)})


def function_list(request):
    facing = {"yes": True, "no": False}.get(request.GET.get("customer_facing", ""))
    functions = selectors.function_list(customer_facing=facing, search=_search(request))
    return render(
        request,
        "cxgov/function_list.html",
        {
            "functions": functions,
            "facing": request.GET.get("customer_facing", ""),
            "q": request.GET.get("q", ""),
            "can_configure": permissions.can_configure_organisation(request.user),
        },
    )


def function_detail(request, slug):
    try:
        function = selectors.function_detail(slug=slug)
    except Function.DoesNotExist:
        raise Http404("No such function.") from None
    return render(
        request,
        "cxgov/function_detail.html",
        {
            "function": function,
            "can_configure": permissions.can_configure_organisation(request.user),
            "can_edit_profile": permissions.can_edit_function_profile(request.user, function),
            "can_change_accountabilities": permissions.can_change_function(request.user, function.pk),
        },
    )


def function_edit(request, slug=None):
    """Administrators create and change functions; a function's leader edits its description."""
    function = get_object_or_404(Function, slug=slug) if slug else Function()
    if permissions.can_configure_organisation(request.user):
        form_class = FunctionForm
    elif function.pk and permissions.can_edit_function_profile(request.user, function):
        form_class = FunctionProfileForm
    else:
        raise PermissionDenied("You may not change this function.")
    form = form_class(request.POST or None, instance=function)
    if request.method == "POST" and form.is_valid():
        try:
            function = services.function_save(
                user=request.user,
                function=Function.objects.get(pk=function.pk) if function.pk else Function(),
                fields=form.cleaned_data,
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, f"Saved {function}.")
            return redirect("function-detail", slug=function.slug)
    return render(request, "cxgov/function_form.html", {"form": form, "function": function})


def accountability_list(request):
    function_id = _id_param(request, "function")
    role = request.GET.get("role", "")
    entries = selectors.accountability_list(
        function_id=function_id, role=role if role in Raci.values else "", search=_search(request)
    )
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "cxgov/accountability_list.html",
        {
            "page": page,
            "functions": Function.objects.order_by("name").only("pk", "name"),
            "roles": Raci.choices,
            "selected_function": str(function_id or ""),
            "selected_role": role,
            "q": request.GET.get("q", ""),
            "can_add": permissions.changeable_functions(request.user).exists(),
        },
    )


def accountability_edit(request, pk=None):
    accountability = get_object_or_404(Accountability, pk=pk) if pk else Accountability()
    if pk and not permissions.can_change(request.user, accountability):
        raise PermissionDenied("You may not change this accountability.")
    functions = permissions.changeable_functions(request.user)
    if not functions.exists():
        raise PermissionDenied("You may not record accountabilities.")
    initial = {}
    if pk:
        initial = {k: getattr(accountability, k) for k in ("function", "role", "subject", "note")}
    elif _id_param(request, "function"):
        initial = {"function": _id_param(request, "function")}
    form = AccountabilityForm(request.POST or None, initial=initial, function_queryset=functions)
    if request.method == "POST" and form.is_valid():
        try:
            accountability = services.accountability_save(
                user=request.user, accountability=accountability, **form.cleaned_data
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, f"Saved: {accountability}.")
            return redirect("function-detail", slug=accountability.function.slug)
    return render(request, "cxgov/accountability_form.html", {"form": form, "accountability": accountability})


@require_POST
def accountability_delete(request, pk):
    accountability = get_object_or_404(Accountability.objects.select_related("function"), pk=pk)
    services.accountability_delete(user=request.user, accountability=accountability)
    messages.success(request, f"Removed: {accountability}.")
    return redirect("function-detail", slug=accountability.function.slug)


def people_list(request):
    return render(
        request,
        "cxgov/people_list.html",
        {
            "page": Paginator(selectors.people_list(), 50).get_page(request.GET.get("page")),
            "can_configure": permissions.can_configure_organisation(request.user),
        },
    )


def person_edit(request, pk=None):
    permissions.require_configure_organisation(request.user)
    person = get_object_or_404(User, pk=pk) if pk else User()
    form = PersonForm(request.POST or None, instance=person)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        function_ids = {f.pk for f in data.pop("functions")}
        password = data.pop("password")
        try:
            person = services.person_save(
                user=request.user, person=person, fields=data, function_ids=function_ids, password=password
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, f"Saved {person}.")
            return redirect("people")
    return render(request, "cxgov/person_form.html", {"form": form, "person": person})


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """Machine-readable health for monitoring: 200 when all is well, 503 otherwise."""
    status = selectors.health_status()
    return JsonResponse(status, status=200 if status["ok"] else 503)


@login_not_required
@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico where a page names no icon (JSON, files): the site's icon."""
    return redirect(static("cxgov/favicon.svg"), permanent=True)


def not_found(request, exception):
    """handler404: the app's page, or JSON for an address under /api/ (as the API's own 404s)."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)
