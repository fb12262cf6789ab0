"""Writes for root-cause work: the taxonomy and tags, the register, issues, action items, verification."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import timedelta

import joblib
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, Max, OuterRef
from django.dispatch import Signal
from django.utils import timezone

from cxgov.lib import dispatch, heavy, permissions
from cxgov.lib.history import record_as
from cxgov.lib.services import model_update
from metrics.models import SurveyResponse
from rootcause import classifier, tagging, text
from rootcause.models import (
    CLOSED_STATES,
    PENDING_MODEL_STATES,
    ActionItem,
    ActionStatus,
    ActionUpdate,
    BulkAction,
    BulkTagJob,
    CommentTag,
    DecisionPoint,
    DiscoveryRun,
    Issue,
    IssueState,
    KeyDriver,
    MeasureKind,
    ModelStatus,
    ParetoSnapshot,
    SubTheme,
    TaggingRun,
    TagOrigin,
    TextModel,
    TextModelFile,
    Verdict,
    Why,
    Workflow,
)


def _rules() -> list[tagging.Rule]:
    return tagging.compile_rules(
        [
            (
                s.pk,
                SubTheme.phrases(s.keywords),
                SubTheme.phrases(s.negative_keywords),
                s.driver.sources,
                s.driver.segments,
            )
            for s in SubTheme.objects.select_related("driver")
        ]
    )


def _insert_rule_tags(pairs: list[tuple[int, int]]) -> None:
    """New rule tags, (response id, sub-theme id), in one statement: the ORM's ``bulk_create`` builds
    a model instance per row and spends five times the matching on it."""
    if not pairs:
        return
    table = connection.ops.quote_name(CommentTag._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (response_id, sub_theme_id, origin, rejected, tagged_at) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (response_id, sub_theme_id) DO NOTHING",
            [(r, t, TagOrigin.RULE.value, False, now) for r, t in pairs],
        )


def comments_tag(*, responses=None, chunk: int = 5000, on_progress=None) -> dict[str, int]:
    """Apply the matching rules to comments (all, or a queryset of responses); safe to run again.

    Rule tags are added where the rules match and removed where they no longer do (a key driver
    applies only to the sources and segments it is written for: outside them its rule tags go);
    tags set or removed by the CX team (origin manual) and tags from imported labels (origin
    imported) are left exactly as they are. Comments detected in a language other than English
    (``comments_analyse``) get no rule tags."""
    matcher = tagging.Matcher(_rules())
    qs = (responses if responses is not None else SurveyResponse.objects.all()).exclude(comment="").order_by("pk")
    stats = {"comments": 0, "added": 0, "removed": 0}
    last_pk = 0
    while True:
        rows = list(qs.filter(pk__gt=last_pk).values_list("pk", "comment", "source", "segment", "language")[:chunk])
        if not rows:
            break
        last_pk = rows[-1][0]
        wanted = {
            (pk, theme)
            for pk, comment, source, segment, language in rows
            if text.handled(language)  # English rules never tag a comment in another language
            for theme in matcher.match(comment, source=source, segment=segment)
        }
        ids = {row[0] for row in rows}
        with transaction.atomic():
            # By range (a list of 5,000 ids costs the ORM more than the query), then kept to the chunk.
            existing = {
                (r, t): (pk, origin)
                for pk, r, t, origin in CommentTag.objects.filter(
                    response_id__gte=rows[0][0], response_id__lte=last_pk
                ).values_list("pk", "response_id", "sub_theme_id", "origin")
                if r in ids
            }
            new = sorted(wanted - existing.keys())
            _insert_rule_tags(new)
            # A rule that matches where the model tagged the same sub-theme makes it a rule tag.
            promoted = [pk for key, (pk, origin) in existing.items() if origin == TagOrigin.MODEL and key in wanted]
            if promoted:
                CommentTag.objects.filter(pk__in=promoted).update(origin=TagOrigin.RULE, probability=None, model=None)
            if wanted:
                _drop_outranked_model_tags(list(ids))
            stale = [pk for key, (pk, origin) in existing.items() if origin == TagOrigin.RULE and key not in wanted]
            if stale:
                CommentTag.objects.filter(pk__in=stale, origin=TagOrigin.RULE).delete()
            if new or stale:
                heavy.bump(heavy.FEEDBACK)
        stats["comments"] += len(rows)
        stats["added"] += len(new)
        stats["removed"] += len(stale)
        if on_progress:
            on_progress(stats["comments"])
    return stats


def comments_analyse(*, responses=None, chunk: int = 2000, on_progress=None) -> dict[str, int]:
    """Sentiment (VADER compound and label) and language of each comment not yet analysed or
    changed since (by checksum); safe to run again and to stop midway. A changed comment's tags
    lose their sentiment, so ``tags_analyse`` scores them again."""
    qs = (responses if responses is not None else SurveyResponse.objects.all()).exclude(comment="").order_by("pk")
    stats = {"comments": 0, "analysed": 0}
    last_pk = 0
    while True:
        rows = list(qs.filter(pk__gt=last_pk).values_list("pk", "comment", "analysed_checksum")[:chunk])
        if not rows:
            break
        last_pk = rows[-1][0]
        changed = []
        for pk, comment, stored in rows:
            crc = text.checksum(comment)
            if crc != stored:
                score = text.sentiment(comment)
                changed.append(
                    SurveyResponse(
                        pk=pk,
                        sentiment=score,
                        sentiment_label=text.label(score),
                        language=text.language(comment),
                        analysed_checksum=crc,
                    )
                )
        if changed:
            with transaction.atomic():
                SurveyResponse.objects.bulk_update(
                    changed, ["sentiment", "sentiment_label", "language", "analysed_checksum"]
                )
                CommentTag.objects.filter(response_id__in=[r.pk for r in changed]).update(sentiment=None)
        stats["comments"] += len(rows)
        stats["analysed"] += len(changed)
        if on_progress:
            on_progress(stats["comments"])
    return stats


def tags_analyse(*, responses=None, chunk: int = 2000) -> int:
    """The sentiment of each tag still without one: what the comment says about that sub-theme
    (``text.aspect_sentiments``); safe to run again. Returns how many tags were scored."""
    matcher = tagging.Matcher(_rules())
    tags = CommentTag.objects.filter(sentiment__isnull=True)
    if responses is not None:
        tags = tags.filter(response__in=responses.values("pk"))
    scored = 0
    while True:
        ids = list(tags.order_by("response_id").values_list("response_id", flat=True).distinct()[:chunk])
        if not ids:
            break
        pending = defaultdict(list)
        found_tags = tags.filter(response_id__in=ids).values_list("pk", "response_id", "sub_theme_id")
        for pk, response_id, theme_id in found_tags:
            pending[response_id].append((pk, theme_id))
        updates = []
        for pk, comment, source, segment in SurveyResponse.objects.filter(pk__in=ids).values_list(
            "pk", "comment", "source", "segment"
        ):
            found = text.aspect_sentiments(
                comment,
                [theme for _, theme in pending[pk]],
                lambda part, source=source, segment=segment: matcher.match(part, source=source, segment=segment),
            )
            updates += [CommentTag(pk=tag_pk, sentiment=found[theme]) for tag_pk, theme in pending[pk]]
        CommentTag.objects.bulk_update(updates, ["sentiment"])
        scored += len(updates)
    return scored


IMPORTED_KEYWORDS = ""  # a sub-theme made from imported labels has no matching rule until someone writes one


def labels_import(*, source: str, driver: str, labels: dict[str, str], chunk: int = 5000) -> dict:
    """Tag a source's responses with the sub-themes their imported labels name, under the key
    driver of that name (created if new; its new sub-themes too). Called inside the import's
    transaction, so all of it is written or none.

    The tags have origin "imported": the rules never add, change or remove them; a tag the CX team
    set or removed by hand is left as it is; a response whose label changed since its last import
    loses its old imported tag under this driver. Safe to run again with the same labels."""
    from django.utils.text import slugify

    key_driver = KeyDriver.objects.filter(name__iexact=driver).first()
    if key_driver is None:
        # Written for this source's labels: scoped to it, so it never tags another source's comments.
        key_driver = KeyDriver.objects.create(
            name=driver, slug=_free_slug(KeyDriver, slugify(driver) or "driver"), sources=[source]
        )
    themes = {t.name.casefold(): t for t in SubTheme.objects.filter(driver=key_driver)}
    created = []
    for name in sorted({label for label in labels.values() if label}, key=str.casefold):
        if name.casefold() not in themes:
            themes[name.casefold()] = SubTheme.objects.create(
                driver=key_driver,
                name=name,
                slug=_free_slug(SubTheme, slugify(f"{key_driver.slug}-{name}")[:100] or "sub-theme"),
                keywords=IMPORTED_KEYWORDS,
            )
            created.append(name)
    theme_ids = [t.pk for t in themes.values()]
    # Two reads for the whole file (a million labels included), then batched writes.
    responses = dict(
        SurveyResponse.objects.filter(source=source).values_list("external_id", "pk").iterator(chunk_size=chunk)
    )
    wanted = {
        (responses[external_id], themes[label.casefold()].pk)
        for external_id, label in labels.items()
        if label and external_id in responses
    }
    existing = {
        (r, t): origin
        for r, t, origin in CommentTag.objects.filter(response__source=source, sub_theme_id__in=theme_ids)
        .values_list("response_id", "sub_theme_id", "origin")
        .iterator(chunk_size=chunk)
    }
    CommentTag.objects.bulk_create(
        [CommentTag(response_id=r, sub_theme_id=t, origin=TagOrigin.IMPORTED) for r, t in wanted - existing.keys()],
        ignore_conflicts=True,
        batch_size=chunk,
    )
    in_file = {responses[external_id] for external_id in labels if external_id in responses}
    upgrade, stale = defaultdict(list), defaultdict(list)
    for key, origin in existing.items():
        if key in wanted and origin in (TagOrigin.RULE, TagOrigin.MODEL):
            upgrade[key[1]].append(key[0])
        elif key not in wanted and origin == TagOrigin.IMPORTED and key[0] in in_file:
            stale[key[1]].append(key[0])
    for changes, action in ((upgrade, "upgrade"), (stale, "delete")):
        for theme_id, response_ids in changes.items():
            for start in range(0, len(response_ids), chunk):
                part = CommentTag.objects.filter(
                    sub_theme_id=theme_id, response_id__in=response_ids[start : start + chunk]
                )
                if action == "upgrade":
                    part.filter(origin__in=(TagOrigin.RULE, TagOrigin.MODEL)).update(
                        origin=TagOrigin.IMPORTED, probability=None, model=None
                    )
                else:
                    part.filter(origin=TagOrigin.IMPORTED).delete()
    labelled = sorted({r for r, _ in wanted})
    for start in range(0, len(labelled), chunk):
        _drop_outranked_model_tags(labelled[start : start + chunk])
    heavy.bump(heavy.FEEDBACK)
    tagged = len(wanted)
    return {"tagged": tagged, "driver": key_driver.name, "created": created}


def _free_slug(model, base: str) -> str:
    slug, n = base, 1
    while model.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base[:110]}-{n}"
    return slug


def tag_set(*, user, response: SurveyResponse, sub_theme: SubTheme, present: bool) -> CommentTag:
    """The CX team puts a sub-theme on a comment or takes it off; the rules never undo it."""
    if not permissions.can_tag_comments(user):
        raise PermissionDenied("Only the CX team and administrators correct tags.")
    driver = sub_theme.driver
    if present and not driver.applies_to(response.source, response.segment):
        raise ValidationError(
            {"sub_theme": f"“{driver}” is written for {driver.scope_label}, not for this comment ({response.source})."}
        )
    tag, _ = CommentTag.objects.update_or_create(
        response=response,
        sub_theme=sub_theme,
        defaults={"origin": TagOrigin.MANUAL, "rejected": not present, "probability": None, "model": None},
    )
    if present:
        _drop_outranked_model_tags([response.pk])
    heavy.bump(heavy.FEEDBACK)
    return tag


# The comment filters of the comments page, the tags API and bulk jobs (selectors.comments_matching).
COMMENT_FILTERS = ("source", "segment", "start", "end", "q", "sub_theme", "untagged", "origin")
BULK_CHUNK = 5000


def _stored(filters: dict) -> dict:
    """Filters as a job keeps them (JSON): set ones only, dates as ISO text, a sub-theme by id."""
    stored = {}
    for name, value in filters.items():
        if value in (None, "", False):
            continue
        stored[name] = value.isoformat() if hasattr(value, "isoformat") else getattr(value, "pk", value)
    return stored


def _parsed(stored: dict) -> dict:
    from datetime import date

    return {k: date.fromisoformat(v) if k in ("start", "end") else v for k, v in stored.items()}


@transaction.atomic
def bulk_tag_start(*, user, action: str, sub_theme: SubTheme, filters: dict) -> BulkTagJob:
    """Add a sub-theme to, or remove it from, every comment the filters match (within its key
    driver's scope), as a background job; the tags are the CX team's own (origin manual)."""
    from rootcause import selectors

    if not permissions.can_tag_comments(user):
        raise PermissionDenied("Only the CX team and administrators tag comments.")
    if action not in BulkAction.values:
        raise ValidationError({"action": f"“{action}” is not a bulk action; use add or remove."})
    unknown = sorted(set(filters) - set(COMMENT_FILTERS))
    if unknown:
        raise ValidationError({"filters": f"Unknown filter(s): {', '.join(unknown)}."})
    stored = _stored(filters)
    matching = selectors.comments_matching(**_parsed(stored))
    total = selectors.in_scope(matching, sub_theme.driver).count()
    out_of_scope = matching.count() - total
    if not total:
        driver = sub_theme.driver
        message = (
            f"None of the {out_of_scope} matching comments is within “{driver}”'s scope ({driver.scope_label})"
            if out_of_scope
            else "No comment matches these filters"
        )
        raise ValidationError({"filters": f"{message}: nothing to change."})
    job = BulkTagJob.objects.create(
        action=action, sub_theme=sub_theme, filters=stored, total=total, out_of_scope=out_of_scope, created_by=user
    )
    dispatch.enqueue("rootcause.bulk_tag", {"job_id": job.pk})
    return job


def _bulk_add(chunk, sub_theme_id: int, now) -> int:
    """Put the sub-theme on every comment of ``chunk`` (a queryset of responses); how many got it."""
    tags = CommentTag.objects.filter(response__in=chunk.values("pk"), sub_theme_id=sub_theme_id)
    revived = tags.filter(rejected=True).update(origin=TagOrigin.MANUAL, rejected=False, tagged_at=now)
    # Rule and model tags become the CX team's, so a later change of rules keeps them; imported ones stay imported.
    tags.filter(origin__in=(TagOrigin.RULE, TagOrigin.MODEL)).update(
        origin=TagOrigin.MANUAL, probability=None, model=None, tagged_at=now
    )
    # One INSERT ... SELECT for the comments that do not have it yet (the unique pair skips the rest).
    select, params = chunk.order_by().values("pk").query.sql_with_params()
    table = CommentTag._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (response_id, sub_theme_id, origin, rejected, tagged_at) "  # noqa: S608 (names, not input)
            # The WHERE also keeps SQLite from reading ON CONFLICT as a join's ON.
            f"SELECT id, %s, %s, %s, %s FROM {SurveyResponse._meta.db_table} WHERE id IN ({select}) "
            "ON CONFLICT (response_id, sub_theme_id) DO NOTHING",
            [sub_theme_id, TagOrigin.MANUAL, False, now, *params],
        )
        inserted = cursor.rowcount
    _drop_outranked_model_tags(list(chunk.values_list("pk", flat=True)))
    return revived + inserted


def _bulk_remove(chunk, sub_theme_id: int, now) -> int:
    # Kept as rejected by the CX team, so the rules do not put it back.
    return CommentTag.objects.filter(response__in=chunk.values("pk"), sub_theme_id=sub_theme_id, rejected=False).update(
        origin=TagOrigin.MANUAL, rejected=True, probability=None, model=None, tagged_at=now
    )


def bulk_tag_run(*, job_id: int, chunk: int = BULK_CHUNK) -> BulkTagJob | None:
    """Work through a bulk job in chunks of comments (by id), recording progress with each chunk in
    the same transaction. Safe to run twice, even at once: each chunk first takes the job's row, so
    a second runner waits and then continues after the first one's last comment; a finished job is
    left alone."""
    from rootcause import selectors

    job = BulkTagJob.objects.select_related("sub_theme__driver").filter(pk=job_id).first()
    if job is None or job.finished_at:
        return job
    comments = selectors.in_scope(selectors.comments_matching(**_parsed(job.filters)), job.sub_theme.driver)
    write = _bulk_add if job.action == BulkAction.ADD else _bulk_remove
    rows = BulkTagJob.objects.filter(pk=job_id)
    try:
        while True:
            with transaction.atomic():
                now = timezone.now()
                rows.update(done=F("done"))  # a write first: locks the row (SQLite: the database) for this chunk
                last, finished = rows.select_for_update().values_list("last_response_id", "finished_at").get()
                if finished:
                    break
                # A chunk is a range of response ids (read from the primary key alone, which stays fast
                # whatever the filter), then the filter within it.
                upper = SurveyResponse.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:chunk]
                upper = max(upper, default=None)
                if upper is None:
                    rows.update(finished_at=now)
                    break
                part = comments.filter(pk__gt=last, pk__lte=upper)
                matched = part.count()
                changed = write(part, job.sub_theme_id, now) if matched else 0
                if changed:
                    heavy.bump(heavy.FEEDBACK)
                rows.update(last_response_id=upper, done=F("done") + matched, changed=F("changed") + changed)
    except Exception as exc:
        rows.update(error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now())
        raise
    job.refresh_from_db()
    return job


THEME_FIELDS = {
    KeyDriver: ("name", "slug", "description", "sources", "segments"),
    SubTheme: ("driver", "name", "slug", "keywords", "negative_keywords", "suggested_function"),
}


@transaction.atomic
def theme_save(*, user, instance, fields: dict):
    """Create or change a key driver or sub-theme (CX team, administrators). Changed rules or a
    driver's changed scope re-tag every comment in the background (manual tags are kept)."""
    from django.utils.text import slugify

    if not permissions.can_edit_taxonomy(user):
        raise PermissionDenied("Only the CX team and administrators edit themes.")
    # A new driver has no sub-themes yet: only an existing one's changed scope re-tags.
    scope = (instance.sources, instance.segments) if isinstance(instance, KeyDriver) and instance.pk else None
    model_update(instance, fields, fields=THEME_FIELDS[type(instance)])
    if not instance.slug:
        instance.slug = slugify(instance.name)[:120]
    instance.full_clean()
    record_as(instance, user).save()
    heavy.bump(heavy.FEEDBACK)  # names and scopes show in the analyses
    rescoped = scope is not None and scope != (instance.sources, instance.segments)
    if isinstance(instance, SubTheme) or rescoped:
        run = TaggingRun.objects.create()
        dispatch.enqueue("rootcause.tag_comments", {"run_id": run.pk})
    return instance


DISCOVERY_FILTERS = ("source", "start", "end")


def discovery_start(*, user, filters: dict, clusters: int = 8) -> DiscoveryRun:
    """The CX team asks for candidate themes among the untagged (or only unsurely model-tagged)
    comments of a scope: a background job."""
    if not permissions.can_edit_taxonomy(user):
        raise PermissionDenied("Only the CX team and administrators discover themes.")
    if not 2 <= clusters <= 30:
        raise ValidationError({"clusters": "Choose between 2 and 30 candidates."})
    stored = _stored({k: v for k, v in filters.items() if k in DISCOVERY_FILTERS})
    run = DiscoveryRun.objects.create(filters=stored, clusters=clusters, created_by=user)
    dispatch.enqueue("rootcause.discover_themes", {"run_id": run.pk})
    return run


def discovery_run(*, run_id: int) -> DiscoveryRun | None:
    """Cluster the run's comments and store the candidates. Seeded, so a second run of the same job
    (a redelivered task) writes the same candidates; a finished run is left as it is."""
    from rootcause.selectors import discovery_comments

    run = DiscoveryRun.objects.filter(pk=run_id, finished_at__isnull=True).first()
    if run is None:
        return None
    try:
        rows = list(discovery_comments(_parsed(run.filters)).values_list("pk", "comment")[: text.DISCOVERY_MAX])
        DiscoveryRun.objects.filter(pk=run.pk).update(total=len(rows), done=1)
        found = text.discover([comment for _, comment in rows], clusters=run.clusters, seed=run.seed)
        DiscoveryRun.objects.filter(pk=run.pk).update(done=2)
        candidates = [
            {
                "terms": c["terms"],
                "size": c["size"],
                "examples": [
                    {"id": rows[i][0], "comment": rows[i][1][:500]} for i in c["members"][: text.DISCOVERY_EXAMPLES]
                ],
                "adopted": None,
            }
            for c in found
        ]
        DiscoveryRun.objects.filter(pk=run.pk).update(candidates=candidates, done=3, finished_at=timezone.now())
    except Exception as exc:
        DiscoveryRun.objects.filter(pk=run.pk).update(error=f"{type(exc).__name__}: {exc}", finished_at=timezone.now())
        raise
    run.refresh_from_db()
    return run


@transaction.atomic
def discovery_adopt(
    *, user, run: DiscoveryRun, index: int, driver: KeyDriver, name: str, keywords: list[str], keep: list[int]
) -> SubTheme:
    """Turn a candidate into a sub-theme of ``driver``: its rules are the keywords chosen, and the
    examples the user keeps become its first labels (manual tags, which the rules never undo)."""
    if not permissions.can_edit_taxonomy(user):
        raise PermissionDenied("Only the CX team and administrators turn candidates into sub-themes.")
    run = DiscoveryRun.objects.select_for_update().get(pk=run.pk)
    if not 0 <= index < len(run.candidates):
        raise ValidationError({"candidate": f"There is no candidate {index + 1} in this run."})
    candidate = run.candidates[index]
    if candidate.get("adopted"):
        raise ValidationError({"candidate": "This candidate is already a sub-theme."})
    examples = {e["id"] for e in candidate["examples"]}
    if not set(keep) <= examples:
        raise ValidationError({"keep": "Keep only comments shown as this candidate's examples."})
    if not keywords:
        raise ValidationError({"keywords": "Give at least one keyword, so new comments find the sub-theme."})
    theme = theme_save(
        user=user,
        instance=SubTheme(),
        fields={"driver": driver, "name": name, "keywords": "\n".join(keywords), "negative_keywords": ""},
    )
    for response in SurveyResponse.objects.filter(pk__in=keep):
        tag_set(user=user, response=response, sub_theme=theme, present=True)
    run.candidates[index] = {**candidate, "adopted": theme.pk}
    run.save(update_fields=["candidates"])
    return theme


def pareto_snapshot_save(*, user, filters: dict, analysis: dict) -> ParetoSnapshot:
    """Keep a Pareto analysis as it is now, to see later which sub-themes entered or left the vital few."""
    if not permissions.can_save_pareto_snapshots(user):
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
    model_update(workflow, fields, fields=("name", "function", "description"))
    _require_function(user, workflow.function_id)
    workflow.full_clean()
    record_as(workflow, user).save()
    return workflow


@transaction.atomic
def decision_point_save(*, user, point: DecisionPoint, fields: dict) -> DecisionPoint:
    """Create or change a decision point; it belongs to its workflow's function."""
    if point.pk:
        permissions.require_change(user, point)
    model_update(point, fields, fields=("workflow", "rule", "kind", "description"))
    _require_function(user, point.workflow.function_id)
    point.full_clean()
    record_as(point, user).save()
    return point


# --- Issues, 5 whys, action items, verification -------------------------------------------------

ISSUE_FIELDS = (
    "title",
    "description",
    "sub_theme",
    "metric",
    "period",
    "cx_owner",
    "function",
    "owner",
    "priority",
    "target_quarter",
    "root_cause",
    "decision_point",
    "measure_kind",
    "measure_series",
    "baseline_start",
    "baseline_end",
    "check_start",
    "check_end",
    "expected_improvement",
)


# Sent (inside the writing transaction) when an issue was opened, changed, moved or verified, with its
# id; the value ledger (outcomes) recomputes its business case without rootcause importing it.
issue_changed = Signal()


ACTION_FIELDS = ("title", "description", "function", "owner", "due_date", "status", "blocked_reason")


MEASURE_FIELDS = (
    "measure_kind",
    "measure_series",
    "metric",
    "sub_theme",
    "baseline_start",
    "baseline_end",
    "check_start",
    "check_end",
    "expected_improvement",
)


def _measure_changed(old: Issue, new: Issue) -> bool:
    attnames = [Issue._meta.get_field(name).attname for name in MEASURE_FIELDS]
    return any(getattr(old, a) != getattr(new, a) for a in attnames)


def _require_issue_write(user, function_id: int | None) -> None:
    if not permissions.can_change_function(user, function_id):
        raise PermissionDenied("You may only change issues owned by functions you lead.")


def _check_issue(issue: Issue) -> None:
    errors = {}
    if (
        issue.owner_id
        and issue.function_id
        and not (
            issue.function.leader_id == issue.owner_id
            or issue.function.memberships.filter(person_id=issue.owner_id).exists()
        )
    ):
        errors["owner"] = f"{issue.owner} is not in {issue.function}; choose one of its people or its leader."
    if issue.measure_kind == MeasureKind.SHARE and not issue.sub_theme_id:
        errors["measure_kind"] = "A comment-share measure needs the issue's sub-theme."
    if issue.measure_kind == MeasureKind.METRIC and not issue.metric_id:
        errors["measure_kind"] = "A metric measure needs the issue's metric."
    if issue.measure_kind == MeasureKind.SERIES and not issue.measure_series:
        errors["measure_series"] = "Name the failure-demand series (its observation source)."
    # The database computes the revenue column from this figure (Issue.revenue_at_risk): a text or an
    # out-of-range number would fail the write on PostgreSQL rather than say what is wrong.
    at_risk = issue.evidence.get("revenue_at_risk") if isinstance(issue.evidence, dict) else None
    annual = at_risk.get("annual") if isinstance(at_risk, dict) else None
    # (NaN, infinities and huge integers all fail "abs(annual) <= 1e15".)
    number = isinstance(annual, int | float) and not isinstance(annual, bool)
    if annual is not None and not (number and abs(annual) <= 1e15):
        errors["evidence"] = "The evidence's annual revenue at risk must be a number (of at most 15 digits)."
    windows = [issue.baseline_start, issue.baseline_end, issue.check_start, issue.check_end]
    if any(windows) and not all(windows):
        errors["check_end"] = "Give both windows in full: baseline start and end, check start and end."
    elif all(windows):
        if issue.baseline_start > issue.baseline_end or issue.check_start > issue.check_end:
            errors["check_end"] = "Each window must start before it ends."
        elif issue.check_start <= issue.baseline_end:
            errors["check_start"] = "The check window must start after the baseline window ends."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def issue_save(*, user, issue: Issue, fields: dict) -> Issue:
    """Open or change an issue. The CX team opens and assigns any; a leader changes the issues of the
    functions they lead. The owning function is the Accountable one in the register; a decision point
    makes its workflow's function the owner when none is chosen."""
    from cxgov.selectors import register_subject_taken
    from cxgov.services import accountability_link, accountability_unlink

    old = None
    if issue.pk:
        permissions.require_change(user, issue)
        old = Issue.objects.get(pk=issue.pk)
        if old.closed:
            raise ValidationError("This issue is closed: reopen it to change it.")
    before = old.function_id if old else None
    model_update(issue, fields, fields=ISSUE_FIELDS)
    if issue.decision_point_id and not issue.function_id:
        issue.function_id = issue.decision_point.workflow.function_id
    if old is None:
        issue.created_by = user
        _require_issue_write(user, issue.function_id)
    elif issue.function_id != before and not permissions.can_assign_issues(user):
        # Only the CX team hands an issue to another function (a leader of two included).
        raise PermissionDenied("Only the CX team and administrators move an issue to another function.")
    if old is not None and issue.verdict and _measure_changed(old, issue):
        # A result is about one measure and one pair of windows: a new question needs a new answer.
        issue.verdict, issue.verification, issue.verified_at = "", {}, None
    issue.full_clean()
    _check_issue(issue)
    moved = issue.function_id != before
    relink = issue.function_id and (moved or old.title != issue.title)
    subject = f"Issue: {issue.title}"
    if relink and register_subject_taken(function_id=issue.function_id, subject=subject, subject_object=issue):
        # The function is Accountable for each of its issues by title in the register: one title, one issue.
        if old is not None and moved:
            raise ValidationError(
                {"function": f"{issue.function} already has an issue titled “{issue.title}”: rename this one first."}
            )
        raise ValidationError(
            {"title": f"{issue.function} already has an issue titled “{issue.title}”: choose another title."}
        )
    issue._history_user = user
    issue.save()
    issue_changed.send(sender=Issue, issue_id=issue.pk)
    if relink:
        accountability_link(function=issue.function, subject_object=issue, subject=subject)
    elif issue.function_id is None and before is not None:
        accountability_unlink(subject_object=issue)
    return issue


@transaction.atomic
def whys_save(*, user, issue: Issue, steps: list[dict]) -> list[Why]:
    """Replace an issue's 5-whys chain with these ordered steps (why, because, evidence)."""
    permissions.require_change(user, issue)
    steps = [s for s in steps if (s.get("why") or "").strip() or (s.get("because") or "").strip()]
    errors = [
        f"Step {n}: give both the why and the because."
        for n, s in enumerate(steps, 1)
        if not (s.get("why") or "").strip() or not (s.get("because") or "").strip()
    ]
    if errors:
        raise ValidationError(errors)
    if issue.closed:
        raise ValidationError("This issue is closed: reopen it to change its 5 whys.")
    for old in issue.whys.all():  # one by one, so the history records who removed each step
        old._history_user = user
        old.delete()
    whys = [
        Why(
            issue=issue,
            position=n,
            why=s["why"].strip()[:300],
            because=s["because"].strip()[:300],
            evidence=(s.get("evidence") or "").strip(),
        )
        for n, s in enumerate(steps, 1)
    ]
    for why in whys:
        why.full_clean(exclude=["issue"])
        why._history_user = user
        why.save()
    if steps and issue.state == IssueState.NEW:
        issue.state = IssueState.INVESTIGATING
        issue._history_user = user
        issue.save(update_fields=["state", "updated_at"])
    return whys


def close_problems(issue: Issue) -> list[str]:
    """What stops this issue from being closed (empty when it may be)."""
    problems = []
    if not issue.root_cause.strip():
        problems.append("write down the root cause")
    if not issue.decision_point_id:
        problems.append("name the decision point the 5 whys end at")
    if not issue.action_items.filter(status=ActionStatus.DONE).exists():
        problems.append("finish at least one action item")
    if issue.verdict not in (Verdict.EFFECTIVE, Verdict.PARTIAL, Verdict.NOT_EFFECTIVE):
        problems.append("get a verification result (effective, partial or not effective)")
    return problems


CLOSING = {
    Verdict.EFFECTIVE: IssueState.CLOSED_EFFECTIVE,
    Verdict.PARTIAL: IssueState.CLOSED_PARTIAL,
    Verdict.NOT_EFFECTIVE: IssueState.CLOSED_NOT_EFFECTIVE,
}


@transaction.atomic
def issue_transition(*, user, issue: Issue, state: str) -> Issue:
    """Move an issue to another state. ``close`` closes it as its verification found (effective,
    partial, not effective) and only once it has a root cause, a decision point, a done action
    item and a verification result; a closed issue can only be reopened."""
    permissions.require_change(user, issue)
    issue = Issue.objects.select_for_update().get(pk=issue.pk)
    if state == "close":
        problems = close_problems(issue)
        if problems:
            raise ValidationError({"state": f"This issue cannot be closed yet: {'; '.join(problems)}."})
        state = CLOSING[issue.verdict]
    elif state in CLOSED_STATES:
        raise ValidationError({"state": "Close an issue with “Close”: its verification decides how it closes."})
    elif state not in IssueState.values:
        raise ValidationError({"state": f"“{state}” is not an issue state."})
    elif issue.closed and state != IssueState.REOPENED:
        raise ValidationError({"state": "A closed issue can only be reopened."})
    elif state == IssueState.REOPENED and not issue.closed and issue.state != IssueState.REOPENED:
        raise ValidationError({"state": "Only a closed issue is reopened."})
    issue.state = state
    if state == IssueState.REOPENED:
        issue.verdict, issue.verification, issue.verified_at = "", {}, None
    issue._history_user = user
    issue.save()
    issue_changed.send(sender=Issue, issue_id=issue.pk)
    return issue


def _check_item(item: ActionItem) -> None:
    errors = {}
    if item.status == ActionStatus.BLOCKED and not item.blocked_reason.strip():
        errors["blocked_reason"] = "Say what blocks this item."
    if item.owner_id and not (
        item.function.leader_id == item.owner_id or item.function.memberships.filter(person_id=item.owner_id).exists()
    ):
        errors["owner"] = f"{item.owner} is not in {item.function}; choose one of its people or its leader."
    if errors:
        raise ValidationError(errors)


def _set_status(item: ActionItem) -> None:
    if item.status != ActionStatus.BLOCKED:
        item.blocked_reason = ""
    if item.status == ActionStatus.DONE and not item.completed_at:
        item.completed_at = timezone.now()
    elif item.status != ActionStatus.DONE:
        item.completed_at = None


@transaction.atomic
def action_item_save(*, user, item: ActionItem, fields: dict) -> ActionItem:
    """Create or change an action item: a leader for the functions they lead, the CX team any."""
    if item.pk:
        permissions.require_change(user, item)
        old_status, old_function = ActionItem.objects.values_list("status", "function_id").get(pk=item.pk)
    else:
        old_status = old_function = None
        if not permissions.can_add_action_item(user, item.issue):
            raise PermissionDenied("Only someone who may change this issue adds action items to it.")
    model_update(item, fields, fields=ACTION_FIELDS)
    _require_open_issue(item.issue_id)
    if not permissions.can_change_function(user, item.function_id):
        raise PermissionDenied("You may only create action items in functions you lead.")
    if old_function is not None and item.function_id != old_function and not permissions.can_assign_issues(user):
        raise PermissionDenied("Only the CX team and administrators move an action item to another function.")
    created = item.pk is None
    if created:
        item.created_by = user
    _set_status(item)
    item.full_clean()
    _check_item(item)
    item._history_user = user
    item.save()
    if created:
        # The first action item puts an issue whose cause is found into "actions in progress".
        _move_issue(
            item.issue_id, [IssueState.NEW, IssueState.INVESTIGATING, IssueState.ROOT_CAUSE], IssueState.ACTIONS, user
        )
    if old_status is not None and old_status != item.status:
        ActionUpdate.objects.create(item=item, author=user, status=item.status, text=item.blocked_reason)
    if item.status != ActionStatus.DONE or old_status == ActionStatus.DONE:
        return item
    _advance_issue(item.issue_id, user)
    return item


def _require_open_issue(issue_id: int) -> None:
    if Issue.objects.filter(pk=issue_id, state__in=CLOSED_STATES).exists():
        raise ValidationError("This issue is closed: reopen it to change its action items.")


def _move_issue(issue_id: int, from_states: list[str], to_state: str, user) -> None:
    """Move an issue on automatically (recorded in its history as done by ``user``)."""
    issue = Issue.objects.filter(pk=issue_id, state__in=from_states).first()
    if issue is not None:
        issue.state = to_state
        issue._history_user = user
        issue.save(update_fields=["state", "updated_at"])


def _advance_issue(issue_id: int, user) -> None:
    """When the last open action item of an issue is done, the issue moves on to verification."""
    if not ActionItem.objects.filter(issue_id=issue_id).exclude(status=ActionStatus.DONE).exists():
        _move_issue(issue_id, [IssueState.ACTIONS], IssueState.VERIFYING, user)


@transaction.atomic
def action_item_update(
    *, user, item: ActionItem, status: str | None = None, text: str = "", blocked_reason: str = ""
) -> ActionUpdate:
    """A progress update from the owner: an optional new status and a note on the timeline."""
    permissions.require_change(user, item)
    item = ActionItem.objects.select_for_update().select_related("function").get(pk=item.pk)
    _require_open_issue(item.issue_id)
    text = (text or "").strip()
    changed = bool(status) and status != item.status
    if status and status not in ActionStatus.values:
        raise ValidationError({"status": f"“{status}” is not an action item status."})
    if not changed and not text:
        raise ValidationError({"text": "Write a progress note or change the status."})
    if changed:
        item.status = status
        item.blocked_reason = (blocked_reason or "").strip()[:300]
        _set_status(item)
        _check_item(item)
        item._history_user = user
        item.save()
        if status == ActionStatus.DONE:
            _advance_issue(item.issue_id, user)
    return ActionUpdate.objects.create(item=item, author=user, text=text, status=item.status if changed else "")


def issue_verify(*, issue_id: int, today=None, force: bool = False, user=None) -> Issue | None:
    """Compare the issue's measure before and after its fix once the check window has ended, record
    the result, and reopen the issue when the fix was not effective. Safe to run again: an issue
    already verified is left alone unless ``force`` (someone asked to verify again)."""
    from rootcause import selectors, verification

    today = today or timezone.localdate()
    with transaction.atomic():
        issue = (
            Issue.objects.select_for_update(of=("self",))
            .select_related("metric", "sub_theme")
            .filter(pk=issue_id)
            .first()
        )
        if issue is None or issue.closed or not issue.check_end or issue.check_end >= today:
            return issue
        if not issue.measure_kind or (issue.verdict and not force):
            return issue
        windows = (issue.baseline_start, issue.baseline_end, issue.check_start, issue.check_end)
        missing = {
            MeasureKind.SHARE: issue.sub_theme_id is None,
            MeasureKind.METRIC: issue.metric_id is None,
            MeasureKind.SERIES: not issue.measure_series,
        }.get(issue.measure_kind, True)
        if missing:
            result = verification.Result(
                Verdict.INCONCLUSIVE,
                "none",
                None,
                None,
                None,
                None,
                0,
                0,
                f"The measure ({issue.get_measure_kind_display().lower()}) no longer exists: choose another.",
            )
        elif issue.measure_kind == MeasureKind.SHARE:
            before, after = selectors.share_counts(issue.sub_theme_id, windows)
            result = verification.compare_shares(*before, *after, expected=issue.expected_improvement)
        else:
            before, after = selectors.measure_values(issue, windows)
            lower = issue.measure_kind == MeasureKind.SERIES or issue.metric.direction == "lower"
            result = verification.compare_series(before, after, lower, expected=issue.expected_improvement)
        issue.verdict = result.verdict
        issue.verification = result.as_dict() | {"windows": [d.isoformat() for d in windows]}
        issue.verified_at = timezone.now()
        if result.verdict == Verdict.NOT_EFFECTIVE:
            issue.state = IssueState.REOPENED
        elif issue.state in (IssueState.ACTIONS, IssueState.ROOT_CAUSE):
            issue.state = IssueState.VERIFYING
        issue._history_user = user
        issue.save()
        issue_changed.send(sender=Issue, issue_id=issue.pk)
        return issue


# --- text models ----------------------------------------------------------------------------------

# A model tag below this probability goes to the review queue.
REVIEW_BELOW = 0.6
# Beat retrains a key driver's model once it has this much more labelled comments than the last one.
RETRAIN_GROWTH = 0.2
MODEL_CHUNK = 10_000  # comments per transaction: fewer commits, still little memory
_LOADED: dict[tuple, classifier.Trained] = {}


def _require_models(user) -> None:
    if not permissions.can_edit_taxonomy(user):
        raise PermissionDenied("Only the CX team and administrators train text models and switch them on.")


def model_train_start(*, user, driver: KeyDriver, reason: str = "Asked for") -> TextModel:
    """Queue the training of a new version of the key driver's model (a person asked, or beat saw
    enough new labels). While one is waiting or training, that one is returned: never two at once."""
    from rootcause import selectors

    if user is not None:
        _require_models(user)
    counts = selectors.label_counts(driver)
    enough = [n for n in counts.values() if n >= classifier.MIN_LABELS]
    if len(enough) < 2:
        raise ValidationError(
            {
                "driver": f"“{driver}” needs at least two sub-themes with {classifier.MIN_LABELS} or more labelled "
                f"comments each (manual or imported tags); it has {len(enough)}."
            }
        )
    # A training whose worker died (past the task time limit) would block every new one.
    TextModel.objects.filter(
        driver=driver,
        status=ModelStatus.TRAINING,
        created_at__lt=timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60),
    ).update(status=ModelStatus.FAILED, error="The training stopped (its worker ended before it finished).")
    with transaction.atomic():
        pending = TextModel.objects.filter(driver=driver, status__in=PENDING_MODEL_STATES).first()
        if pending:
            return pending
        version = (TextModel.objects.filter(driver=driver).aggregate(v=Max("version"))["v"] or 0) + 1
        try:
            with transaction.atomic():
                model = TextModel.objects.create(
                    driver=driver,
                    version=version,
                    created_by=user,
                    reason=reason[:200],
                    n_labels=selectors.labelled_comment_count(driver),
                )
        except IntegrityError:  # another request or beat queued one at the same moment
            return TextModel.objects.get(driver=driver, status__in=PENDING_MODEL_STATES)
        dispatch.enqueue("rootcause.train_model", {"model_id": model.pk})
    return model


def model_train_run(*, model_id: int) -> TextModel | None:
    """Train a queued model: claimed with a conditional UPDATE, so a second run (a redelivered task,
    a second worker) finds it taken and does nothing. Progress is saved as the folds finish."""
    from rootcause import selectors

    if not TextModel.objects.filter(pk=model_id, status=ModelStatus.QUEUED).update(
        status=ModelStatus.TRAINING, progress=0.0
    ):
        return TextModel.objects.filter(pk=model_id).first()
    model = TextModel.objects.select_related("driver").get(pk=model_id)
    rows = TextModel.objects.filter(pk=model_id)
    _, texts, labels = selectors.training_labels(model.driver)
    try:
        trained = classifier.train(texts, labels, on_progress=lambda f: rows.update(progress=min(f, 0.99)))
    except Exception as exc:
        rows.update(status=ModelStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
        if isinstance(exc, ValueError):  # not enough labels: said on the model, nothing to retry
            return TextModel.objects.get(pk=model_id)
        raise
    left_out = {int(pk): n for pk, n in trained.metrics["left_out"].items()}
    names = dict(SubTheme.objects.filter(pk__in=[*trained.classes, *left_out]).values_list("pk", "name"))
    for row in trained.metrics["classes"]:
        row["name"] = names.get(row["class"], "(deleted)")
    trained.metrics["left_out"] = {names.get(pk, "(deleted)"): n for pk, n in left_out.items()}
    buffer = io.BytesIO()
    joblib.dump(
        {"pipeline": trained.pipeline, "classes": trained.classes, "multilabel": trained.multilabel}, buffer, compress=3
    )
    with transaction.atomic():
        TextModelFile.objects.update_or_create(model_id=model_id, defaults={"data": buffer.getvalue()})
        rows.update(
            status=ModelStatus.READY,
            progress=1.0,
            metrics=trained.metrics,
            n_labels=len(texts),
            trained_at=timezone.now(),
        )
    return TextModel.objects.get(pk=model_id)


def model_loaded(model: TextModel) -> classifier.Trained:
    """The fitted pipeline of a model, read from the database once per process (keyed by id and
    training time: an id can come back after a rolled-back transaction)."""
    key = (model.pk, model.trained_at)
    if key not in _LOADED:
        data = TextModelFile.objects.filter(model_id=model.pk).values_list("data", flat=True).get()
        blob = joblib.load(io.BytesIO(bytes(data)))
        if len(_LOADED) >= 4:
            _LOADED.clear()
        _LOADED[key] = classifier.Trained(blob["pipeline"], blob["classes"], blob["multilabel"])
    return _LOADED[key]


def model_activate(*, user, model: TextModel) -> TextModel:
    """Switch a trained model on (after the CX team read its evaluation): the driver's previous
    model retires, and the comments are tagged again in the background."""
    _require_models(user)
    if model.status not in (ModelStatus.READY, ModelStatus.RETIRED, ModelStatus.ACTIVE):
        raise ValidationError(
            {"status": f"Only a trained model can be switched on; v{model.version} is {model.get_status_display()}."}
        )
    with transaction.atomic():
        TextModel.objects.filter(driver_id=model.driver_id, status=ModelStatus.ACTIVE).exclude(pk=model.pk).update(
            status=ModelStatus.RETIRED
        )
        TextModel.objects.filter(pk=model.pk).update(
            status=ModelStatus.ACTIVE, activated_at=timezone.now(), tag_total=0, tag_done=0
        )
        dispatch.enqueue("rootcause.model_tag", {"model_id": model.pk})
        heavy.bump(heavy.FEEDBACK)  # the corrected Pareto now uses this model
    model.refresh_from_db()
    return model


def model_deactivate(*, user, model: TextModel) -> TextModel:
    """Switch a model off: its tags go, and the Pareto counts the other tags alone again."""
    _require_models(user)
    if model.status != ModelStatus.ACTIVE:
        raise ValidationError({"status": f"v{model.version} is not switched on."})
    with transaction.atomic():
        TextModel.objects.filter(pk=model.pk).update(status=ModelStatus.RETIRED)
        CommentTag.objects.filter(origin=TagOrigin.MODEL, sub_theme__driver=model.driver_id).delete()
        heavy.bump(heavy.FEEDBACK)
    model.refresh_from_db()
    return model


def comments_model_tag(
    *, model: TextModel, responses=None, chunk: int = MODEL_CHUNK, on_progress=None
) -> dict[str, int]:
    """Tag with the key driver's model the comments in the driver's scope that carry no manual,
    imported or rule tag of the driver (those win); earlier model tags of the driver on these
    comments are replaced, a sub-theme the CX team rejected on a comment is never put back. Safe to
    run again: the result is the same."""
    from rootcause import selectors

    trained = model_loaded(model)
    theme_ids = list(SubTheme.objects.filter(driver_id=model.driver_id).values_list("pk", flat=True))
    comments = selectors.model_scope(responses if responses is not None else SurveyResponse.objects.all(), model.driver)
    stats = {"comments": 0, "tagged": 0}
    last = 0
    while True:
        rows = list(comments.filter(pk__gt=last).order_by("pk").values_list("pk", "comment")[:chunk])
        if not rows:
            break
        last = rows[-1][0]
        ids = [pk for pk, _ in rows]
        chosen, proba = classifier.predict(trained, [text for _, text in rows])
        found_rows, found_cols = chosen.nonzero()
        now = timezone.now()
        tagged = [ids[i] for i in found_rows.tolist()]
        themes = [trained.classes[j] for j in found_cols.tolist()]
        probabilities = [float(p) for p in proba[found_rows, found_cols]]
        with transaction.atomic():
            _model_tags_replace(model, ids, theme_ids, tagged, themes, probabilities, now)
            heavy.bump(heavy.FEEDBACK)
        stats["comments"] += len(rows)
        stats["tagged"] += len(tagged)
        if on_progress:
            on_progress(stats["comments"])
    return stats


def _model_tags_replace(model, ids, theme_ids, tagged, themes, probabilities, now) -> None:
    """Replace the model tags of the driver on the comments ``ids`` by the new ones (``tagged[k]``
    gets ``themes[k]`` with ``probabilities[k]``): one DELETE and one INSERT a chunk. A tag a person
    or a rule put (or rejected) on the same sub-theme meanwhile stays (the unique pair; on
    PostgreSQL the update is for model tags only).
    On PostgreSQL the rows go as arrays (``unnest``), one statement whatever their number (a row per
    statement was half the tagging's time); elsewhere as one prepared INSERT run for every row
    (Django's bulk_create splits it into batches of a few hundred rows on SQLite)."""
    table = CommentTag._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Model tags are derived (tagging again makes them): the chunk's commit need not wait
            # for its WAL to reach the disk (a crash loses at most the last chunks, never corrupts).
            cursor.execute("SET LOCAL synchronous_commit = off")
            # Only what changed is written: the model tags no longer given go, new ones come, and
            # a tag given again keeps its row unless its model or probability moved.
            cursor.execute(
                f"SELECT id, response_id, sub_theme_id FROM {table} "  # noqa: S608
                "WHERE response_id = ANY(%s) AND sub_theme_id = ANY(%s) AND origin = %s",
                [ids, theme_ids, TagOrigin.MODEL],
            )
            given = set(zip(tagged, themes, strict=True))
            stale = [pk for pk, response, theme in cursor.fetchall() if (response, theme) not in given]
            if stale:
                cursor.execute(f"DELETE FROM {table} WHERE id = ANY(%s)", [stale])  # noqa: S608
            cursor.execute(
                f"INSERT INTO {table} AS t "  # noqa: S608 (a table name, not input)
                "(response_id, sub_theme_id, origin, rejected, tagged_at, probability, model_id) "
                "SELECT r, s, %s, false, %s, p, %s FROM unnest(%s::bigint[], %s::bigint[], %s::float8[]) AS n(r, s, p) "
                "ON CONFLICT (response_id, sub_theme_id) DO UPDATE SET probability = EXCLUDED.probability, "
                "model_id = EXCLUDED.model_id, tagged_at = EXCLUDED.tagged_at WHERE t.origin = %s "
                "AND (t.model_id, t.probability) IS DISTINCT FROM (EXCLUDED.model_id, EXCLUDED.probability)",
                [TagOrigin.MODEL, now, model.pk, tagged, themes, probabilities, TagOrigin.MODEL],
            )
            return
    CommentTag.objects.filter(response_id__in=ids, sub_theme_id__in=theme_ids, origin=TagOrigin.MODEL).delete()
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} "  # noqa: S608 (a table name, not input)
            "(response_id, sub_theme_id, origin, rejected, tagged_at, probability, model_id) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (response_id, sub_theme_id) DO NOTHING",
            [
                (r, s, TagOrigin.MODEL, False, now, p, model.pk)
                for r, s, p in zip(tagged, themes, probabilities, strict=True)
            ],
        )


def model_tag_run(*, model_id: int) -> TextModel | None:
    """The background tagging after a model is switched on, with progress on the model."""
    from rootcause import selectors

    model = TextModel.objects.select_related("driver").filter(pk=model_id, status=ModelStatus.ACTIVE).first()
    if model is None:  # switched off or replaced meanwhile
        return None
    rows = TextModel.objects.filter(pk=model_id)
    rows.update(tag_total=selectors.model_scope(SurveyResponse.objects.all(), model.driver).count(), tag_done=0)
    comments_model_tag(model=model, on_progress=lambda done: rows.update(tag_done=done))
    model.refresh_from_db()
    return model


def active_models_tag(*, responses) -> None:
    """Newly arrived or re-tagged comments through every active model (after the rules)."""
    for model in TextModel.objects.select_related("driver").filter(status=ModelStatus.ACTIVE):
        comments_model_tag(model=model, responses=responses)


def _drop_outranked_model_tags(response_ids) -> int:
    """Model tags give way to any manual, imported or rule tag of the same key driver on a comment."""
    human = (
        CommentTag.objects.filter(
            response=OuterRef("response"), sub_theme__driver=OuterRef("sub_theme__driver"), rejected=False
        )
        .exclude(origin=TagOrigin.MODEL)
        .values("pk")
    )
    doomed = CommentTag.objects.filter(origin=TagOrigin.MODEL, response_id__in=response_ids).filter(Exists(human))
    return CommentTag.objects.filter(pk__in=list(doomed.values_list("pk", flat=True))).delete()[0]


def review_label(*, user, tag: CommentTag, sub_theme: SubTheme) -> CommentTag:
    """The CX team answers the review queue: the comment's sub-theme is ``sub_theme`` (the model's
    own suggestion to accept it, another of the driver's to correct it). Either way it is a new
    label (origin manual) the next model learns from; a corrected suggestion is kept as rejected."""
    if not permissions.can_tag_comments(user):
        raise PermissionDenied("Only the CX team and administrators label comments.")
    if tag.origin != TagOrigin.MODEL:
        raise ValidationError({"tag": "This tag is no longer the model's: someone labelled the comment already."})
    if sub_theme.driver_id != tag.sub_theme.driver_id:
        raise ValidationError({"sub_theme": f"Choose a sub-theme of “{tag.sub_theme.driver}”."})
    with transaction.atomic():
        suggested = tag.sub_theme
        label = tag_set(user=user, response=tag.response, sub_theme=sub_theme, present=True)
        if suggested.pk != sub_theme.pk and not tag.model.metrics.get("multilabel"):
            tag_set(user=user, response=tag.response, sub_theme=suggested, present=False)
    return label


def models_retrain_due() -> list[TextModel]:
    """Periodic: queue a new version of every switched-on model whose key driver has
    RETRAIN_GROWTH more labelled comments than its latest version was given. Safe twice: a driver
    never has two models waiting."""
    from rootcause import selectors

    queued = []
    for active in TextModel.objects.select_related("driver").filter(status=ModelStatus.ACTIVE):
        latest = TextModel.objects.filter(driver_id=active.driver_id).order_by("-version").first()
        labels = selectors.labelled_comment_count(active.driver)
        if labels < latest.n_labels * (1 + RETRAIN_GROWTH) or latest.status in PENDING_MODEL_STATES:
            continue
        reason = f"{labels} labelled comments; v{latest.version} had {latest.n_labels}"
        try:
            queued.append(model_train_start(user=None, driver=active.driver, reason=reason))
        except ValidationError:
            continue
    return queued
