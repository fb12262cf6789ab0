from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from cxgov.lib import permissions
from cxgov.lib.forms import form_errors, positive_id
from cxgov.models import Role, User
from digests import schedule, selectors, services
from digests.forms import DefaultForm, PreferenceForm
from digests.models import DigestDefault, DigestDelivery, DigestPreference


def preferences(request):
    preference = DigestPreference.objects.filter(user=request.user).first()
    plan = selectors.plans([request.user])[request.user.pk]
    initial = (
        {}
        if preference
        else {k: getattr(plan, k) for k in ("frequency", "weekday", "day_of_month", "hour", "time_zone")}
    )
    form = PreferenceForm(request.POST or None, instance=preference, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.preference_save(user=request.user, fields=form.cleaned_data)
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, "Digest schedule saved.")
            return redirect("digest-preferences")
    return render(
        request,
        "digests/preferences.html",
        {"form": form, "own": preference is not None, "email": request.user.email},
    )


def preview(request):
    """The next digest as it would be sent now (administrators may preview anyone's)."""
    user = request.user
    if request.GET.get("user") and permissions.can_configure_organisation(request.user):
        user = get_object_or_404(User, pk=positive_id(request.GET["user"]) or 0)
    now = timezone.now()
    plan = selectors.plans([user])[user.pk]
    since = selectors.last_sent([user.pk]).get(user.pk) or schedule.previous_due(plan, now)
    content = selectors.digest_content(user, since, selectors.shared_content(now), time_zone=plan.time_zone)
    delivery = DigestDelivery(user=user, period="preview", frequency=plan.frequency, since=since)
    message = services.build_message(delivery, content)
    return render(
        request,
        "digests/preview.html",
        {
            "person": user,
            "message": message,
            "html": message.alternatives[0][0],
            "empty": content["empty"],
            "plan": plan,
        },
    )


@csrf_exempt  # RFC 8058 one-click: mail clients POST without a session or CSRF token
@login_not_required
def unsubscribe(request, token):
    """GET asks (link scanners in mail systems open links, and must not unsubscribe anyone); POST,
    from the button or from the mail client's one-click unsubscribe, turns the digest off."""
    try:
        if request.method != "POST":
            person = services.unsubscribe_person(token=token)
            return render(request, "digests/unsubscribed.html", {"person": person, "confirm": True})
        user = services.unsubscribe(token=token)
    except services.UnsubscribeLinkExpired:
        context = {"expired": True, "days": services.UNSUBSCRIBE_LINK_DAYS}
        return render(request, "digests/unsubscribed.html", context, status=400)
    except PermissionDenied:
        return render(request, "digests/unsubscribed.html", {"invalid": True}, status=400)
    return render(request, "digests/unsubscribed.html", {"person": user})


def deliveries(request):
    qs = DigestDelivery.objects.select_related("user", "email").defer("email__body", "email__html")
    everyone = permissions.can_configure_organisation(request.user)
    if not everyone:
        qs = qs.filter(user=request.user)
    status = request.GET.get("status", "")
    qs = selectors.in_state(qs, status).order_by("-claimed_at", "-pk")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "digests/deliveries.html",
        {"page": page, "everyone": everyone, "status": status, "statuses": selectors.STATES},
    )


def defaults(request):
    if not permissions.can_configure_organisation(request.user):
        raise PermissionDenied("Only administrators set the digest defaults.")
    role = request.POST.get("role") or request.GET.get("role")
    if role not in Role.values:
        role = DigestDefault.FIRST_SHOWN
    current = DigestDefault.objects.filter(role=role).first()
    form = DefaultForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.default_save(user=request.user, role=role, fields=form.cleaned_data)
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, f"Default digest schedule for {Role(role).label} saved.")
            return redirect(f"{request.path}?role={role}")
    rows = {d.role: d for d in DigestDefault.objects.all()}
    return render(
        request,
        "digests/defaults.html",
        {
            "form": form,
            "role": role,
            "roles": [(value, label, rows.get(value)) for value, label in Role.choices],
            "built_in": selectors.BUILT_IN,
        },
    )
