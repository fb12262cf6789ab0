"""Writes of customer categories and canvases: drafts are edited, approval freezes a version."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.text import slugify

from cxgov.lib import dispatch, permissions
from cxgov.lib.history import record_as
from cxgov.lib.money import currency_changed, currency_problem
from cxgov.lib.services import model_update
from cxgov.models import PendingTask, Raci
from cxgov.services import accountability_link, accountability_unlink
from outcomes.models import (
    BusinessCase,
    Canvas,
    CanvasState,
    ContactCost,
    CustomerCategory,
    LedgerSettings,
    MomentOfTruth,
    Need,
)

CANVAS_TEXT_FIELDS = ["who", "expectations", "outcomes", "cost_to_serve", "service", "revenue"]


def _require_writer(user) -> None:
    if not permissions.can_write_canvases(user):
        raise PermissionDenied("Only the CX team and administrators write canvases.")


@transaction.atomic
def category_save(*, user, category: CustomerCategory, fields: dict) -> CustomerCategory:
    """Create or change a customer category (the CX team, administrators)."""
    _require_writer(user)
    model_update(category, fields, fields=("name", "slug", "description", "data_category"))
    if not category.slug:
        category.slug = slugify(category.name)[:120]
    category.full_clean()
    record_as(category, user).save()
    return category


@transaction.atomic
def category_delete(*, user, category: CustomerCategory) -> None:
    """Delete a customer category with its drafts. Refused while it has an approved or retired
    canvas: those versions are frozen and stay readable."""
    _require_writer(user)
    frozen = Canvas.objects.filter(category=category).exclude(state=CanvasState.DRAFT)
    if frozen.exists():
        versions = ", ".join(f"v{c.version} {c.get_state_display().lower()}" for c in frozen.order_by("version"))
        raise ProtectedError(
            f"“{category}” has approved canvas versions ({versions}); they are frozen and stay readable, "
            "so the category cannot be deleted.",
            list(frozen),
        )
    accountability_unlink(subject_object=category)
    record_as(category, user).delete()


@transaction.atomic
def canvas_draft(*, user, category: CustomerCategory) -> Canvas:
    """The category's draft, started if needed as a copy of its latest version (never changing it)."""
    _require_writer(user)
    CustomerCategory.objects.select_for_update().get(pk=category.pk)
    draft = Canvas.objects.filter(category=category, state=CanvasState.DRAFT).first()
    if draft:
        return draft
    latest = Canvas.objects.filter(category=category).order_by("-version").first()
    draft = Canvas.objects.create(
        category=category,
        version=(latest.version + 1) if latest else 1,
        **({f: getattr(latest, f) for f in CANVAS_TEXT_FIELDS} if latest else {}),
    )
    if latest:
        draft.measures.set(latest.measures.all())
        draft.accountable_functions.set(latest.accountable_functions.all())
        for need in latest.needs.all():
            need.pk, need.canvas = None, draft
            need.save()
        for moment in latest.moments.prefetch_related("functions"):
            functions = list(moment.functions.all())
            moment.pk, moment.canvas, moment._prefetched_objects_cache = None, draft, {}
            moment.save()
            moment.functions.set(functions)
    return draft


@transaction.atomic
def canvas_save(*, user, canvas: Canvas, fields: dict, measures, functions, needs: list[dict], moments: list[dict]):
    """Change a draft: its texts, measures, accountable functions, SMART needs and moments of truth."""
    _require_writer(user)
    canvas = Canvas.objects.select_for_update().get(pk=canvas.pk)
    if canvas.state != CanvasState.DRAFT:
        raise ValidationError("Approved and retired versions are frozen: start a new draft to change the canvas.")
    for key in CANVAS_TEXT_FIELDS:
        setattr(canvas, key, fields.get(key, getattr(canvas, key)))
    canvas.save()
    canvas.measures.set(measures)
    canvas.accountable_functions.set(functions)
    canvas.needs.all().delete()
    for position, need in enumerate(needs):
        Need.objects.create(canvas=canvas, position=position, **need)
    canvas.moments.all().delete()
    for position, moment in enumerate(moments):
        moment = dict(moment)
        acting = moment.pop("functions", [])
        created = MomentOfTruth.objects.create(canvas=canvas, position=position, **moment)
        created.functions.set(acting)
    return canvas


@transaction.atomic
def canvas_approve(*, user, canvas: Canvas) -> Canvas:
    """Approve a draft: it becomes the category's canvas (the previous one retires) and is frozen.
    Its accountable functions are recorded in the accountability register."""
    _require_writer(user)
    canvas = Canvas.objects.select_for_update().get(pk=canvas.pk)
    if canvas.state != CanvasState.DRAFT:
        raise ValidationError("Only a draft can be approved.")
    if not canvas.outcome_lines:
        raise ValidationError("Write at least one successful outcome statement before approving.")
    Canvas.objects.filter(category=canvas.category, state=CanvasState.APPROVED).update(state=CanvasState.RETIRED)
    canvas.state, canvas.approved_at, canvas.approved_by = CanvasState.APPROVED, timezone.now(), user
    canvas.save(update_fields=["state", "approved_at", "approved_by"])
    for function in canvas.accountable_functions.all():
        accountability_link(
            function=function,
            subject_object=canvas.category,
            role=Raci.RESPONSIBLE,
            subject=f"Outcome canvas: {canvas.category.name}",
        )
    return canvas


def canvas_retire(*, user, canvas: Canvas) -> Canvas:
    _require_writer(user)
    if canvas.state != CanvasState.APPROVED:
        raise ValidationError("Only the approved canvas can be retired.")
    Canvas.objects.filter(pk=canvas.pk).update(state=CanvasState.RETIRED)
    canvas.refresh_from_db()
    return canvas


# --- The value ledger: costs, settings and each issue's business case --------------------------------


def _require_cost_setter(user) -> None:
    if not permissions.can_set_ledger_costs(user):
        raise PermissionDenied("Only the CX team and administrators set the ledger's costs.")


@transaction.atomic
def ledger_settings_save(*, user, currency: str, discount_rate) -> LedgerSettings:
    """Set the ledger's currency and the discount rate of lifetime value; business cases are recomputed."""
    from decimal import Decimal, InvalidOperation

    _require_cost_setter(user)
    row = LedgerSettings.objects.select_for_update().filter(pk=1).first() or LedgerSettings(pk=1)
    code = (currency or "").strip().upper()
    errors = {}
    if len(code) != 3 or not code.isalpha() or currency_problem(code):
        errors["currency"] = "Give the currency as its three-letter code (ISO 4217), e.g. EUR, GBP or USD."
    try:
        rate = Decimal(str(discount_rate))
    except (InvalidOperation, ValueError):
        rate = None
    if rate is None or not rate.is_finite() or not Decimal(0) <= rate < Decimal(100):
        errors["discount_rate"] = "The discount rate is a percentage from 0 to 99.99 a year."
    if errors:
        raise ValidationError(errors)
    row.currency, row.discount_rate = code, rate.quantize(Decimal("0.01"))
    row.full_clean()
    record_as(row, user).save()
    transaction.on_commit(currency_changed)  # every page writes money in the new currency
    business_cases_queue()
    return row


@transaction.atomic
def contact_cost_save(*, user, channel: str, cost_per_contact) -> ContactCost:
    """Set what one contact costs on a channel ("" is any channel without its own cost)."""
    from decimal import Decimal, InvalidOperation

    _require_cost_setter(user)
    channel = (channel or "").strip()
    try:
        cost = Decimal(str(cost_per_contact))
    except (InvalidOperation, ValueError):
        cost = None
    if cost is None or not cost.is_finite() or cost < 0 or cost >= Decimal("1e8"):
        raise ValidationError({"cost_per_contact": "Give the cost of one contact as a number from 0 up."})
    if len(channel) > 100:
        raise ValidationError({"channel": "A channel's name has at most 100 characters."})
    row = ContactCost.objects.filter(channel=channel).first() or ContactCost(channel=channel)
    row.cost_per_contact = cost.quantize(Decimal("0.01"))
    row.full_clean()
    record_as(row, user).save()
    transaction.on_commit(currency_changed)  # every page writes money in the new currency
    business_cases_queue()
    return row


@transaction.atomic
def contact_cost_delete(*, user, cost: ContactCost) -> None:
    _require_cost_setter(user)
    record_as(cost, user).delete()
    business_cases_queue()


def business_case_refresh(*, issue_id: int, context=None) -> BusinessCase | None:
    """Compute an issue's business case from the data and store it (upserted on the issue: running it
    twice, or two workers at once, leaves one current case). None when the issue is gone."""
    from outcomes import ledger
    from rootcause.models import Issue

    issue = Issue.objects.select_related("metric").filter(pk=issue_id).first()
    if issue is None:
        return None
    result = ledger.compute(issue, context or ledger.load_context())
    case, _ = BusinessCase.objects.update_or_create(issue=issue, defaults=result | {"computed_at": timezone.now()})
    return case


def business_cases_refresh() -> int:
    """Recompute every issue's business case (the data changed, or the hourly schedule): the
    customers, settings and costs are read once for all of them."""
    from outcomes import ledger
    from rootcause.models import Issue

    context = ledger.load_context()
    count = 0
    for pk in Issue.objects.order_by("pk").values_list("pk", flat=True):
        if business_case_refresh(issue_id=pk, context=context) is not None:
            count += 1
    return count


def business_case_queue(*, issue_id: int) -> None:
    """Recompute one issue's business case after the current transaction commits."""
    dispatch.enqueue("outcomes.refresh_business_case", {"issue_id": issue_id})


def business_cases_queue() -> None:
    """Recompute every business case after the current transaction commits (one waiting run is enough)."""
    if not PendingTask.objects.filter(task="outcomes.refresh_business_cases").exists():
        dispatch.enqueue("outcomes.refresh_business_cases")
