"""Writes for root-cause work: tagging comments with the taxonomy."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction

from cxgov.lib import permissions
from metrics.models import SurveyResponse
from rootcause import tagging
from rootcause.models import CommentTag, DecisionPoint, ParetoSnapshot, SubTheme, TagOrigin, Workflow


def _rules() -> list[tagging.Rule]:
    return tagging.compile_rules(
        [(s.pk, SubTheme.phrases(s.keywords), SubTheme.phrases(s.negative_keywords)) for s in SubTheme.objects.all()]
    )


def comments_tag(*, responses=None, chunk: int = 5000, on_progress=None) -> dict[str, int]:
    """Apply the matching rules to comments (all, or a queryset of responses); safe to run again.

    Rule tags are added where the rules match and removed where they no longer do; tags set or
    removed by the CX team (origin manual) are left exactly as they are."""
    rules = _rules()
    qs = (responses if responses is not None else SurveyResponse.objects.all()).exclude(comment="").order_by("pk")
    stats = {"comments": 0, "added": 0, "removed": 0}
    last_pk = 0
    while True:
        rows = list(qs.filter(pk__gt=last_pk).values_list("pk", "comment")[:chunk])
        if not rows:
            break
        last_pk = rows[-1][0]
        wanted = {(pk, theme) for pk, comment in rows for theme in tagging.match(comment, rules)}
        ids = [pk for pk, _ in rows]
        with transaction.atomic():
            existing = {
                (r, t): origin
                for r, t, origin in CommentTag.objects.filter(response_id__in=ids).values_list(
                    "response_id", "sub_theme_id", "origin"
                )
            }
            new = [CommentTag(response_id=r, sub_theme_id=t) for r, t in wanted - existing.keys()]
            CommentTag.objects.bulk_create(new, ignore_conflicts=True)
            stale = [key for key, origin in existing.items() if origin == TagOrigin.RULE and key not in wanted]
            for response_id, theme_id in stale:
                CommentTag.objects.filter(
                    response_id=response_id, sub_theme_id=theme_id, origin=TagOrigin.RULE
                ).delete()
        stats["comments"] += len(rows)
        stats["added"] += len(new)
        stats["removed"] += len(stale)
        if on_progress:
            on_progress(stats["comments"])
    return stats


def tag_set(*, user, response: SurveyResponse, sub_theme: SubTheme, present: bool) -> CommentTag:
    """The CX team puts a sub-theme on a comment or takes it off; the rules never undo it."""
    if not permissions.can_write_canvases(user):
        raise PermissionDenied("Only the CX team and administrators correct tags.")
    tag, _ = CommentTag.objects.update_or_create(
        response=response, sub_theme=sub_theme, defaults={"origin": TagOrigin.MANUAL, "rejected": not present}
    )
    return tag


@transaction.atomic
def theme_save(*, user, instance, fields: dict):
    """Create or change a key driver or sub-theme (CX team, administrators). Changed rules re-tag
    every comment in the background (manual tags are kept)."""
    from django.utils.text import slugify

    from rootcause import tasks

    if not permissions.can_write_canvases(user):
        raise PermissionDenied("Only the CX team and administrators edit themes.")
    for key, value in fields.items():
        setattr(instance, key, value)
    if not instance.slug:
        instance.slug = slugify(instance.name)[:120]
    instance.full_clean()
    instance.save()
    if isinstance(instance, SubTheme):
        transaction.on_commit(lambda: tasks.tag_comments.delay())
    return instance


def pareto_snapshot_save(*, user, filters: dict, analysis: dict) -> ParetoSnapshot:
    """Keep a Pareto analysis as it is now, to see later which sub-themes entered or left the vital few."""
    if not permissions.can_write_canvases(user):
        raise PermissionDenied("Only the CX team and administrators save Pareto snapshots.")
    return ParetoSnapshot.objects.create(
        filters=filters,
        cutoff=analysis["cutoff"],
        comments=analysis["comments"],
        created_by=user,
        rows=[
            {
                "sub_theme": item["theme"].pk,
                "label": str(item["theme"]),
                "value": item["row"].value,
                "share": item["row"].share,
                "cumulative": item["row"].cumulative,
                "vital": item["row"].vital,
            }
            for item in analysis["rows"]
        ],
    )


def _require_function(user, function_id: int | None) -> None:
    if not permissions.can_change_function(user, function_id):
        raise PermissionDenied("You may only record workflows and decision points of functions you lead.")


@transaction.atomic
def workflow_save(*, user, workflow: Workflow, fields: dict) -> Workflow:
    """Create or change a workflow of a function (its leader, the CX team, administrators)."""
    if workflow.pk:
        permissions.require_change(user, workflow)
    for key, value in fields.items():
        setattr(workflow, key, value)
    _require_function(user, workflow.function_id)
    workflow.full_clean()
    workflow.save()
    return workflow


@transaction.atomic
def decision_point_save(*, user, point: DecisionPoint, fields: dict) -> DecisionPoint:
    """Create or change a decision point; it belongs to its workflow's function."""
    if point.pk:
        permissions.require_change(user, point)
    for key, value in fields.items():
        setattr(point, key, value)
    _require_function(user, point.workflow.function_id)
    point.full_clean()
    point.save()
    return point
