"""Writes of customer categories and canvases: drafts are edited, approval freezes a version."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.text import slugify

from cxgov.lib import permissions
from cxgov.lib.history import record_as
from cxgov.lib.services import model_update
from cxgov.models import Raci
from cxgov.services import accountability_link, accountability_unlink
from outcomes.models import Canvas, CanvasState, CustomerCategory, MomentOfTruth, Need

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
