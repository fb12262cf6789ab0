"""Writes of alerts: rules, evaluation after each recalculation, episodes, notices, acknowledgement.

Evaluation is safe to run twice, at once, on two workers: episodes are unique per (rule, opened
period) with at most one firing per rule, history rows once per (alert, fired|resolved), and each
notice is a row unique per (alert, recipient, fired|resolved) inserted before anything is sent.
"""

from __future__ import annotations

import copy
import hashlib
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, prefetch_related_objects
from django.utils import timezone

from alerts import charts, emails, evaluation
from alerts.models import (
    CHART_PERIODS,
    PROVISIONAL_PERIODS,
    Alert,
    AlertEvent,
    AlertRule,
    AlertState,
    Delivery,
    DeliveryKind,
    Evaluation,
    EvaluationStatus,
    EventKind,
    FailureNotice,
    RuleKind,
)
from cxgov.lib import dispatch, permissions
from cxgov.lib.history import record_as
from cxgov.lib.retry import retry_on_conflict
from cxgov.lib.services import model_update
from cxgov.models import User
from metrics import calculations
from metrics.models import Metric, MetricValue

RULE_FIELDS = [
    "name",
    "kind",
    "severity",
    "segment",
    "level",
    "comparison",
    "change_mode",
    "change_limit",
    "chart",
    "baseline_from",
    "baseline_to",
    "chart_periods",
    "provisional_periods",
    "chart_tests",
    "min_periods",
    "clear_periods",
    "hysteresis",
    "notify_owner",
    "active",
]


# --- rules ------------------------------------------------------------------------------------


# Settings that only some kinds use; a blank one (a form field hidden for another kind) takes its default.
CHOICE_DEFAULTS = {"level": "red", "comparison": "previous", "change_mode": "absolute", "chart": "auto"}


def _check_rule(rule: AlertRule) -> None:
    metric = rule.metric
    for name, default in CHOICE_DEFAULTS.items():
        if not getattr(rule, name):
            setattr(rule, name, default)
    if rule.chart_periods is None:
        rule.chart_periods = CHART_PERIODS
    if rule.provisional_periods is None:
        rule.provisional_periods = min(PROVISIONAL_PERIODS, rule.chart_periods)
    if not rule.chart_tests and rule.kind != RuleKind.CONTROL:
        rule.chart_tests = list(charts.WESTERN_ELECTRIC)
    errors = {}
    if rule.kind == RuleKind.THRESHOLD and metric.amber_threshold is None and metric.target is None:
        errors["kind"] = f"“{metric}” has no target or thresholds, so its RAG status cannot worsen."
    if (
        rule.kind == RuleKind.THRESHOLD
        and rule.level == "amber"
        and metric.red_threshold is None
        and (metric.amber_threshold is None)
    ):
        errors["level"] = "This metric is only green or red: alert on red."
    if rule.kind == RuleKind.TARGET and metric.target is None:
        errors["kind"] = f"“{metric}” has no target."
    if rule.kind == RuleKind.CHANGE:
        if rule.change_limit is None or rule.change_limit <= 0:
            errors["change_limit"] = "Give the change (above zero) in the wrong direction that should fire."
        if rule.hysteresis and rule.change_limit and rule.hysteresis >= rule.change_limit:
            errors["hysteresis"] = "The margin must be smaller than the change that fires."
    if rule.kind == RuleKind.CONTROL:
        if rule.chart in ("p", "laney") and rule.chart not in calculations.chart_kinds(metric.calculator):
            errors["chart"] = (
                "p-charts are for proportions of a sample (CSAT, churn, a proportion of responses or of two "
                "series); use an individuals chart."
            )
        if rule.baseline_from and rule.baseline_to and rule.baseline_from > rule.baseline_to:
            errors["baseline_to"] = "The baseline ends before it starts."
        tests = rule.chart_tests if isinstance(rule.chart_tests, list) else None
        if not tests or any(not isinstance(t, int) or isinstance(t, bool) or t not in charts.RULES for t in tests):
            errors["chart_tests"] = f"Choose one or more of the tests {', '.join(map(str, charts.RULES))}."
        else:
            rule.chart_tests = sorted(set(tests))
        if rule.provisional_periods is None or rule.provisional_periods < 2:
            errors["provisional_periods"] = "A chart needs at least 2 periods, even provisionally."
        elif rule.chart_periods is None or rule.chart_periods < rule.provisional_periods:
            errors["chart_periods"] = "The full number of periods cannot be below the provisional one."
    if rule.segment and not MetricValue.objects.filter(metric=metric, segment=rule.segment).exists():
        errors["segment"] = f"“{metric}” has no values for the segment “{rule.segment}”."
    if errors:
        raise ValidationError(errors)


def rule_check(*, user: User, rule: AlertRule, fields: dict) -> AlertRule:
    """Apply ``fields`` to an unsaved copy of ``rule`` and check them as saving would (defaults for
    blank kind-specific settings included), writing nothing: for the form's preview. Raises
    ``ValidationError`` naming the fields, as ``rule_save`` does."""
    if not permissions.can_write_alert_rules(user):
        raise PermissionDenied("Only administrators and the CX team write alert rules.")
    draft = copy.copy(rule)
    model_update(draft, fields, fields=RULE_FIELDS)
    draft.name = (draft.name or "").strip() or "Preview"
    _check_rule(draft)
    draft.full_clean(exclude=["created_by", "metric"], validate_unique=False, validate_constraints=False)
    return draft


def rule_save(*, user: User, rule: AlertRule, fields: dict, subscribers: list[User] | None = None) -> AlertRule:
    """Create or change an alert rule (administrators and the CX team); evaluate it at once.
    A save that loses a race with its metric's recalculation or evaluation is run again."""
    if not permissions.can_write_alert_rules(user):
        raise PermissionDenied("Only administrators and the CX team write alert rules.")
    adding = rule._state.adding

    @retry_on_conflict
    def attempt() -> AlertRule:
        if adding:  # a rolled-back insert left its id on the instance
            rule.pk, rule._state.adding = None, True
        return _rule_save(user=user, rule=rule, fields=fields, subscribers=subscribers)

    return attempt()


@transaction.atomic
def _rule_save(*, user: User, rule: AlertRule, fields: dict, subscribers: list[User] | None) -> AlertRule:
    model_update(rule, fields, fields=RULE_FIELDS)
    if rule.pk is None:
        rule.created_by = user
    rule.name = (rule.name or "").strip()
    _check_rule(rule)
    rule.full_clean(exclude=["created_by"], validate_constraints=False)
    reason = _subscribers_change(rule, subscribers) if subscribers is not None else ""
    try:
        with transaction.atomic():
            record_as(rule, user, reason).save()
    except IntegrityError:
        if AlertRule.objects.filter(metric=rule.metric, name=rule.name).exclude(pk=rule.pk).exists():
            raise ValidationError({"name": f"“{rule.metric}” already has a rule named “{rule.name}”."}) from None
        raise ValidationError(
            "These settings are out of range: periods before firing or resolving must be at least 1, and "
            "the hysteresis margin and thresholds must not be negative."
        ) from None
    if subscribers is not None:
        rule.subscribers.set(subscribers)
    if not rule.active:
        _close_open_episode(rule=rule, user=user)
    evaluation_request(metric_id=rule.metric_id)
    return rule


def _subscribers_change(rule: AlertRule, subscribers: list[User]) -> str:
    """Who a save subscribes and unsubscribes, for the rule's history (its audit trail)."""
    before = {person.pk: person for person in rule.subscribers.all()} if rule.pk else {}
    after = {person.pk: person for person in subscribers}
    parts = []
    if added := sorted(str(after[pk]) for pk in after.keys() - before.keys()):
        parts.append("Subscribed " + ", ".join(added))
    if removed := sorted(str(before[pk]) for pk in before.keys() - after.keys()):
        parts.append("Unsubscribed " + ", ".join(removed))
    text = "; ".join(parts)
    return text if len(text) <= 100 else text[:99] + "…"  # the history's reason holds 100 characters


def _close_open_episode(*, rule: AlertRule, user: User) -> None:
    """A rule switched off stops watching: its open episode is closed quietly (no notice), so it
    does not stay "firing" for ever."""
    now = timezone.now()
    period = evaluation.period_of(timezone.localdate(), rule.metric.granularity)
    for alert in Alert.objects.filter(rule=rule, state=AlertState.FIRING):
        if Alert.objects.filter(pk=alert.pk, state=AlertState.FIRING).update(
            state=AlertState.RESOLVED, resolved_at=now, resolved_period=max(period, alert.opened_period)
        ):
            AlertEvent.objects.create(
                alert=alert, kind=EventKind.RESOLVED, at=now, by=user, note="Closed: the rule was switched off."
            )


def rule_replay(*, user: User, rule: AlertRule) -> AlertRule:
    """Judge every past period of the rule again at its next evaluation (queued now): episodes not
    yet recorded are recorded as history, with no notice for those already closed."""
    if not permissions.can_write_alert_rules(user):
        raise PermissionDenied("Only administrators and the CX team replay alert rules.")
    with transaction.atomic():
        AlertRule.objects.filter(pk=rule.pk).update(replay_pending=True)
        evaluation_request(metric_id=rule.metric_id)
    rule.refresh_from_db()
    return rule


def rule_delete(*, user: User, rule: AlertRule) -> None:
    if not permissions.can_write_alert_rules(user):
        raise PermissionDenied("Only administrators and the CX team write alert rules.")
    record_as(rule, user).delete()


# --- acknowledging and muting -------------------------------------------------------------------


def alert_acknowledge(*, user: User, alert: Alert, note: str = "") -> Alert:
    """The owner (leader of the owning function), the CX team or an administrator takes note."""
    if not permissions.can_acknowledge_alert(user, alert):
        raise PermissionDenied("Only the owning function's leader, the CX team and administrators acknowledge.")
    now = timezone.now()
    with transaction.atomic():
        if Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
            acknowledged_by=user, acknowledged_at=now
        ):
            AlertEvent.objects.create(alert=alert, kind=EventKind.ACKNOWLEDGED, at=now, by=user, note=note[:2000])
    alert.refresh_from_db()
    return alert


def alert_mute(*, user: User, alert: Alert, until: date | None, note: str = "") -> AlertRule:
    """Silence the alert's rule until the end of a day (no notices; episodes are still recorded).
    ``None`` unmutes."""
    if not permissions.can_acknowledge_alert(user, alert):
        raise PermissionDenied("Only the owning function's leader, the CX team and administrators mute alerts.")
    today = timezone.localdate()
    if until is not None and until < today:
        raise ValidationError({"until": "Choose today or a later day."})
    if until is not None and until > today + timedelta(days=366):
        raise ValidationError({"until": "Mute for at most a year; deactivate the rule instead."})
    with transaction.atomic():
        AlertRule.objects.filter(pk=alert.rule_id).update(muted_until=until)
        text = f"muted until {until:%d %b %Y}" if until else "unmuted"
        AlertEvent.objects.create(
            alert=alert, kind=EventKind.MUTED, at=timezone.now(), by=user, note=(f"{text}. {note}".strip())[:2000]
        )
    return AlertRule.objects.get(pk=alert.rule_id)


def deliveries_mark_read(*, user: User, alert: Alert) -> None:
    Delivery.objects.filter(alert=alert, recipient=user, read_at__isnull=True).update(read_at=timezone.now())


# --- evaluation ---------------------------------------------------------------------------------


def evaluation_request(*, metric_id: int) -> Evaluation | None:
    """Queue an evaluation of a metric's rules (sent on commit); None when one is already queued."""
    now = timezone.now()
    try:
        with transaction.atomic():
            queued = Evaluation.objects.create(metric_id=metric_id, requested_at=now, updated_at=now)
    except IntegrityError:
        return None  # a queued evaluation will read the new values when it runs
    dispatch.enqueue("alerts.evaluate", {"evaluation_id": queued.pk})
    return queued


def evaluation_run(*, evaluation_id: int, today: date | None = None) -> Evaluation | None:
    """Run a queued evaluation once: claimed with a conditional UPDATE, so a duplicate message,
    a retry of a finished one or a second worker does nothing. Notices are emailed from the outbox."""
    now = timezone.now()
    claimed = Evaluation.objects.filter(
        pk=evaluation_id, status__in=[EvaluationStatus.QUEUED, EvaluationStatus.RETRY]
    ).update(status=EvaluationStatus.RUNNING, started_at=now, updated_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return None
    job = Evaluation.objects.select_related("metric").get(pk=evaluation_id)
    touched = metric_evaluate(metric=job.metric, today=today)
    Evaluation.objects.filter(pk=evaluation_id).update(
        status=EvaluationStatus.DONE, finished_at=timezone.now(), updated_at=timezone.now(), error="", rules=touched
    )
    return Evaluation.objects.get(pk=evaluation_id)


def evaluation_record_failure(*, evaluation_id: int, error: str, final: bool) -> None:
    """Record an error. A final failure fails the health page and tells the administrators, once
    per run of failures of the metric (a later good evaluation ends the run)."""
    now = timezone.now()
    status = EvaluationStatus.FAILED if final else EvaluationStatus.RETRY
    Evaluation.objects.filter(pk=evaluation_id).update(
        status=status, error=error[:4000], updated_at=now, finished_at=now if final else None
    )
    if not final:
        return
    failed = Evaluation.objects.get(pk=evaluation_id)
    previous = (
        Evaluation.objects.filter(
            metric_id=failed.metric_id,
            status__in=[EvaluationStatus.DONE, EvaluationStatus.FAILED],
            finished_at__isnull=False,
            pk__lt=failed.pk,
        )
        .order_by("-pk")
        .values_list("status", flat=True)
        .first()
    )
    if previous == EvaluationStatus.FAILED:
        return  # the administrators already know this metric's evaluation is failing
    admins = permissions.holders("configure_organisation")
    with transaction.atomic():  # each notice and its email in the outbox, together and once
        FailureNotice.objects.bulk_create(
            [FailureNotice(evaluation=failed, recipient=a, created_at=now) for a in admins], ignore_conflicts=True
        )
        for notice in FailureNotice.objects.filter(evaluation=failed, email__isnull=True).select_related(
            "recipient", "evaluation__metric"
        ):
            email = emails.evaluation_failed(notice)
            if email is not None:
                FailureNotice.objects.filter(pk=notice.pk).update(email=email)


def evaluations_requeue_stuck() -> int:
    """Send again the evaluations whose worker died or whose message was lost (no change of status
    for ``ALERTS_STUCK_AFTER`` seconds). Claimed on ``updated_at`` so two beats requeue once;
    running them stays claimed by ``evaluation_run``."""
    cutoff = timezone.now() - timedelta(seconds=settings.ALERTS_STUCK_AFTER)
    stuck = Evaluation.objects.filter(
        status__in=[EvaluationStatus.QUEUED, EvaluationStatus.RETRY, EvaluationStatus.RUNNING], updated_at__lt=cutoff
    ).values_list("pk", "status", "updated_at")
    count = 0
    for pk, status, updated in stuck:
        new_status = EvaluationStatus.RETRY if status == EvaluationStatus.RUNNING else status
        if Evaluation.objects.filter(pk=pk, updated_at=updated, status=status).update(
            status=new_status, updated_at=timezone.now()
        ):
            dispatch.enqueue("alerts.evaluate", {"evaluation_id": pk})
            count += 1
    return count


def evaluations_prune(*, keep_days: int = 30) -> int:
    """Forget successful evaluations older than ``keep_days`` (one is recorded per recalculation);
    failures stay for the health page until a later success supersedes them."""
    cutoff = timezone.now() - timedelta(days=keep_days)
    later_success = Evaluation.objects.filter(
        metric_id=OuterRef("metric_id"), status=EvaluationStatus.DONE, pk__gt=OuterRef("pk")
    )
    # Failures a later success superseded go first, so pruning that success cannot revive them.
    superseded, _ = Evaluation.objects.filter(status=EvaluationStatus.FAILED).filter(Exists(later_success)).delete()
    deleted, _ = Evaluation.objects.filter(status=EvaluationStatus.DONE, finished_at__lt=cutoff).delete()
    return superseded + deleted


def _recipients(rule: AlertRule, leader: User | None) -> list[User]:
    people = {}
    if rule.notify_owner and leader is not None and leader.is_active:
        people[leader.pk] = leader
    for person in rule.subscribers.all():  # prefetched
        if person.is_active:
            people[person.pk] = person
    return list(people.values())


def _values_json(
    points: list[evaluation.Point], indices: list[int], notes: dict[int, str], conditions=None
) -> list[dict]:
    out = []
    for i in indices:
        row = {
            "period": points[i].period.isoformat(),
            "value": points[i].value,
            "sample_size": points[i].sample_size,
            "note": notes.get(i, ""),
        }
        if conditions is not None and conditions[i].limits:
            limits = conditions[i].limits
            row.update(centre=limits["centre"], lower=limits["lower"], upper=limits["upper"])
        out.append(row)
    return out


def _message(rule: AlertRule, metric: Metric, values: list[dict], fired: bool) -> str:
    what = "; ".join(f"{v['period']}: {v['note'] or v['value']}" for v in values)
    verb = "fired" if fired else "resolved"
    segment = f" ({rule.segment})" if rule.segment else ""
    return f"{rule.get_kind_display()} rule “{rule.name}” on {metric.name}{segment} {verb}: {what}."


def metric_evaluate(*, metric: Metric, today: date | None = None) -> int:
    """Evaluate every active rule of a metric against its complete periods; open and resolve
    episodes and queue their notices. Returns the number of rules evaluated.

    A fixed number of queries per metric plus writes only where an episode changes, so the
    cost per rule does not grow with the number of rules or of values. When every rule would read
    what it read last time (its digest: its settings, its metric's, the current period and a
    fingerprint of its values), no value is read or judged: the locks and the fingerprints only.
    (The locks come first even then: a recalculation or a rule edit holding them when this
    evaluation was claimed for it is waited for, and its change judged.)"""
    today = today or timezone.localdate()
    with transaction.atomic():
        # The metric before its rules, in the order deleting a metric takes them, so the two wait
        # for each other instead of deadlocking; a metric deleted meanwhile has nothing to judge.
        metric = (
            Metric.objects.select_for_update(no_key=True, of=("self",))
            .select_related("owning_function__leader")
            .filter(pk=metric.pk)
            .order_by()
            .first()
        )
        if metric is None:
            return 0
        rules = list(
            AlertRule.objects.select_for_update(of=("self",)).filter(metric=metric, active=True).order_by("pk")
        )
        if not rules:
            return 0
        leader = metric.owning_function.leader if metric.owning_function else None
        current = evaluation.period_of(today, metric.granularity)
        segments = {r.segment for r in rules}
        if _unchanged(rules, metric, current, _fingerprints(metric, segments, current)):
            return len(rules)
        series, prints = _values(metric, segments, current)
        plans, series_points, digests = [], {}, {}
        for rule in rules:
            known = series.get(rule.segment, {})
            digest = _digest(rule, metric, current, prints.get(rule.segment))
            if digest == rule.evaluated and not rule.replay_pending:
                continue  # it reads what it read last time: the same verdict, episodes and alerts
            digests[rule.pk] = digest
            start = min([*known, timezone.localtime(rule.created_at).date()])
            key = (rule.segment, evaluation.period_of(start, metric.granularity))
            if key not in series_points:  # rules on the same segment share the walk over periods
                periods = evaluation.complete_periods(start, today, metric.granularity)
                series_points[key] = evaluation.Series(
                    [evaluation.Point(p, *known.get(p, (None, None))) for p in periods]
                )
            points = series_points[key]
            conditions = evaluation.checks_array(rule, metric, points, metric.granularity)
            found = evaluation.episodes_array(rule, conditions)
            plans.append((rule, points, found, conditions))
        if not plans:  # every rule reads what it read last time: nothing to judge, record or tell
            return len(rules)
        # Only the rules judged now can open or close an alert, or need their subscribers.
        judged = [plan[0] for plan in plans]
        prefetch_related_objects(judged, "subscribers")
        open_alerts = {a.rule_id: a for a in Alert.objects.filter(rule__in=judged, state=AlertState.FIRING).order_by()}
        _record_verdicts(metric, plans)
        now = timezone.now()
        _replay_history(metric, [plan for plan in plans if plan[0].replay_pending], now)
        candidates = {points[f[-1].opened].period for _, points, f, _ in plans if f and f[-1].resolved is None}
        seen = {
            (rule_id, period): state
            for rule_id, period, state in Alert.objects.filter(
                rule__in=rules, opened_period__in=candidates
            ).values_list("rule_id", "opened_period", "state")
        }
        for rule, points, found, conditions in plans:
            recorded = open_alerts.get(rule.pk)
            last = found[-1] if found else None
            firing = last is not None and last.resolved is None
            opened = points[last.opened].period if firing else None
            if recorded is not None:
                if not firing:
                    _resolve(rule, metric, recorded, points, last.resolved if last else None, now, today)
                    continue
                # Still firing. A later opening period is a new episode only if the condition
                # cleared in between (a backfill); otherwise it is the same trouble, seen through
                # revised values or moved control limits, and the recorded episode goes on.
                cleared = [
                    e.resolved
                    for e in found
                    if e.resolved is not None and recorded.opened_period <= points[e.resolved].period <= opened
                ]
                if not cleared:
                    continue
                _resolve(rule, metric, recorded, points, cleared[0], now, today)
            if firing and (rule.pk, opened) not in seen:
                _fire(rule, metric, leader, points, last, now, today, conditions)
            elif firing and recorded is None and seen[(rule.pk, opened)] == AlertState.RESOLVED:
                # Its alert was closed (the rule was switched off, or the data could not be judged)
                # while the trouble went on: a new episode opens at the latest period, and is told.
                _fire(rule, metric, leader, points, last, now, today, conditions, opened_at=points[-1].period)
        for rule in judged:
            rule.evaluated = digests[rule.pk]
        AlertRule.objects.bulk_update(judged, ["evaluated"])
    return len(rules)


# What an evaluation reads besides the values: every field of the rule and of the metric but those
# evaluations themselves write (or that say nothing about the judgement).
_RULE_WRITTEN = {"evaluated", "verdict", "verdict_note", "judged_at", "replay_pending"}
_METRIC_WRITTEN = {"recalculated_at", "last_error", "last_error_at"}


def _digest(rule: AlertRule, metric: Metric, current: date, values: tuple | None) -> str:
    """What an evaluation of the rule reads: its settings, its metric's, the current period and
    its segment's values before it (``values``: their first period and fingerprint, ``_values``).
    Its alerts are not in it: only evaluations and changes of the rule (which are in it) open or
    close them."""
    found = hashlib.blake2b(digest_size=16)
    for instance, written in ((rule, _RULE_WRITTEN), (metric, _METRIC_WRITTEN)):
        for f in instance._meta.concrete_fields:
            if f.attname not in written:
                found.update(f"{f.attname}={getattr(instance, f.attname)!r};".encode())
    # The walk over periods starts at the first value or the rule's local creation day, whichever
    # is first (the site's time zone can move that day).
    found.update(f"{current}|{timezone.localtime(rule.created_at).date()}|{values!r}".encode())
    return found.hexdigest()


def _unchanged(rules: list[AlertRule], metric: Metric, current: date, prints: dict[str, tuple] | None) -> bool:
    """Every rule would read what it read last time, and none was asked to replay (``prints``:
    ``_fingerprints``, None where there is no cheaper way to read them than the values)."""
    if prints is None or any(rule.replay_pending or not rule.evaluated for rule in rules):
        return False
    return all(_digest(rule, metric, current, prints.get(rule.segment)) == rule.evaluated for rule in rules)


# A segment's values before the current period: their first period and a fingerprint of every
# (period, value, sample size) (SHA-256; md5 is refused where FIPS is enforced), computed by
# PostgreSQL without sending the rows.
_PRINT = (
    "encode(sha256(convert_to(string_agg(period_start::text || ':' || coalesce(value::text, '') || ':' || "
    "coalesce(sample_size::text, ''), ',' ORDER BY period_start), 'UTF8')), 'hex')"
)


def _fingerprints(metric: Metric, segments: set[str], current: date) -> dict[str, tuple] | None:
    """``{segment: (first period, fingerprint)}`` of the metric's values before ``current``, computed
    by PostgreSQL; None elsewhere (they are computed from the values as they are read)."""
    if connection.vendor != "postgresql":
        return None
    table = MetricValue._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT segment, min(period_start), {_PRINT} FROM {table} "  # noqa: S608 - fixed names
            "WHERE metric_id = %s AND segment = ANY(%s) AND period_start < %s GROUP BY segment",
            [metric.pk, list(segments), current],
        )
        return {segment: (first, found) for segment, first, found in cursor.fetchall()}


def _values(metric: Metric, segments: set[str], current: date) -> tuple[dict, dict]:
    """The metric's values before ``current`` (``{segment: {period: (value, sample size)}}``) and
    their fingerprints (as ``_fingerprints``), read in one statement so that both see the same data."""
    series: dict[str, dict[date, tuple]] = {}
    if connection.vendor == "postgresql":
        table = MetricValue._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH v AS (SELECT segment, period_start, value, sample_size FROM {table} "  # noqa: S608 - fixed names
                "WHERE metric_id = %s AND segment = ANY(%s) AND period_start < %s) "
                "SELECT segment, period_start, value, sample_size, NULL FROM v UNION ALL "
                f"SELECT segment, min(period_start), NULL, NULL, {_PRINT} FROM v GROUP BY segment "
                "ORDER BY 5 NULLS FIRST, 2",
                [metric.pk, list(segments), current],
            )
            prints = {}
            for segment, period, value, n, found in cursor.fetchall():
                if found is None:
                    series.setdefault(segment, {})[period] = (value, n)
                else:
                    prints[segment] = (period, found)
        return series, prints
    rows = (
        MetricValue.objects.filter(metric=metric, segment__in=segments, period_start__lt=current)
        .order_by("period_start")
        .values_list("segment", "period_start", "value", "sample_size")
    )
    for segment, period, value, n in rows:
        series.setdefault(segment, {})[period] = (value, n)
    prints = {}
    for segment, known in series.items():
        found = hashlib.blake2b(repr(sorted(known.items())).encode(), digest_size=16).hexdigest()
        prints[segment] = (min(known), found)
    return series, prints


def _record_verdicts(metric: Metric, plans) -> None:
    """Store whether each rule could judge its data ("cannot judge yet: N of M periods",
    provisional limits, judged) where the page, the API and the rule's health read it."""
    changed = []
    for rule, points, _, conditions in plans:
        verdict, note = evaluation.verdict(rule, metric, points, conditions)
        if (verdict, note[:200]) != (rule.verdict, rule.verdict_note):
            rule.verdict, rule.verdict_note, rule.judged_at = verdict, note[:200], timezone.now()
            changed.append(rule)
    if changed:
        AlertRule.objects.bulk_update(changed, ["verdict", "verdict_note", "judged_at"])


def _replay_history(metric: Metric, plans, now) -> None:
    """Record the episodes a rule would have had over every past period (a new rule, or "replay
    history"): the closed ones as history, with no notice (they are over); the one still open, if
    any, is left to the normal path, which tells its people once. Episodes overlapping one already
    recorded are not recorded again, so replaying twice changes nothing."""
    if not plans:
        return
    recorded: dict[int, list[tuple]] = {}
    for rule_id, opened, resolved in Alert.objects.filter(rule__in=[p[0] for p in plans]).values_list(
        "rule_id", "opened_period", "resolved_period"
    ):
        recorded.setdefault(rule_id, []).append((opened, resolved))
    new = []
    for rule, points, found, conditions in plans:
        for episode in found:
            if episode.resolved is None:
                continue
            opened, resolved = points[episode.opened].period, points[episode.resolved].period
            if any(o <= resolved and (r is None or r >= opened) for o, r in recorded.get(rule.pk, [])):
                continue
            values = _values_json(points, [*episode.trigger, episode.resolved], episode.notes, conditions)
            text = _message(rule, metric, values[:-1], fired=True)
            new.append(
                Alert(
                    rule=rule,
                    metric=metric,
                    severity=rule.severity,
                    state=AlertState.RESOLVED,
                    opened_period=opened,
                    resolved_period=resolved,
                    message=f"{text} Resolved at {resolved}. Recorded from history: nobody was told.",
                    values=values[:-1],
                    limits=conditions[episode.opened].limits or {},
                    from_history=True,
                    fired_at=now,
                    resolved_at=now,
                )
            )
    alerts = Alert.objects.bulk_create(new, batch_size=500)
    events = []
    for alert in alerts:
        note = "Recorded from history (replayed when the rule was created or asked to replay); no notice."
        events.append(
            AlertEvent(
                alert=alert, kind=EventKind.FIRED, at=now, period=alert.opened_period, note=note, values=alert.values
            )
        )
        events.append(AlertEvent(alert=alert, kind=EventKind.RESOLVED, at=now, period=alert.resolved_period, note=note))
    AlertEvent.objects.bulk_create(events, batch_size=1000)
    AlertRule.objects.filter(pk__in=[p[0].pk for p in plans]).update(replay_pending=False)


def _muted(rule: AlertRule, today: date) -> bool:
    return rule.muted_until is not None and rule.muted_until >= today


def _fire(rule, metric, leader, points, episode, now, today, conditions=None, opened_at: date | None = None) -> None:
    values = _values_json(points, episode.trigger, episode.notes, conditions)
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                rule=rule,
                metric=metric,
                severity=rule.severity,
                opened_period=opened_at or points[episode.opened].period,
                message=_message(rule, metric, values, fired=True),
                values=values,
                limits=(conditions[episode.opened].limits or {}) if conditions else {},
                fired_at=now,
            )
    except IntegrityError:
        return  # another worker recorded this episode first
    AlertEvent.objects.create(
        alert=alert, kind=EventKind.FIRED, at=now, period=alert.opened_period, note=alert.message, values=values
    )
    if _muted(rule, today):
        AlertEvent.objects.create(
            alert=alert, kind=EventKind.MUTED, at=now, note=f"No notices: the rule is muted until {rule.muted_until}."
        )
        return
    Delivery.objects.bulk_create(
        [Delivery(alert=alert, recipient=r, kind=DeliveryKind.FIRE, created_at=now) for r in _recipients(rule, leader)],
        ignore_conflicts=True,
    )
    _queue_notices_of(alert, DeliveryKind.FIRE)


def _queue_notices_of(alert: Alert, kind: str) -> None:
    pending = Delivery.objects.filter(alert=alert, kind=kind, email__isnull=True).exclude(recipient__email="")
    notices = list(pending.select_related("recipient"))
    for delivery in notices:
        delivery.alert = alert
    _queue_notices(notices)


def _resolve(rule, metric, alert, points, at_index, now, today) -> None:
    if at_index is not None and points[at_index].period < alert.opened_period:
        # Late corrections moved the clearing before this episode opened (the trouble was never
        # there as recorded): the episode ends where it began, never before.
        at_index = next((i for i, p in enumerate(points) if p.period >= alert.opened_period), None)
    period = points[at_index].period if at_index is not None else (points[-1].period if points else None)
    if period is None or period < alert.opened_period:
        period = alert.opened_period
    values = _values_json(points, [at_index], {}) if at_index is not None else []
    if not Alert.objects.filter(pk=alert.pk, state=AlertState.FIRING).update(
        state=AlertState.RESOLVED, resolved_period=period, resolved_at=now
    ):
        return
    shown = "; ".join(f"{v['period']}: {v['value']:.4g}" for v in values if v["value"] is not None)
    note = f"Resolved at {period}: {shown or 'the condition no longer holds on the current data'}."
    AlertEvent.objects.create(alert=alert, kind=EventKind.RESOLVED, at=now, period=period, note=note, values=values)
    # Muting stops new alarms, not the all-clear: whoever was told it fired is told it resolved.
    told = Delivery.objects.filter(alert=alert, kind=DeliveryKind.FIRE).values_list("recipient_id", flat=True)
    Delivery.objects.bulk_create(
        [Delivery(alert=alert, recipient_id=r, kind=DeliveryKind.RESOLVE, created_at=now) for r in told],
        ignore_conflicts=True,
    )
    alert.rule, alert.metric = rule, metric
    _queue_notices_of(alert, DeliveryKind.RESOLVE)


# --- emails ------------------------------------------------------------------------------------------


def _queue_notices(deliveries) -> int:
    """Store the email of each notice in the outbox (a worker sends it after commit) and link it."""
    queued = 0
    for delivery in deliveries:
        email = emails.alert_notice(delivery)
        if email is not None:
            Delivery.objects.filter(pk=delivery.pk).update(email=email)
            queued += 1
    return queued


def deliveries_queue_missing(*, within: timedelta = timedelta(days=1)) -> int:
    """Queue the emails of recent notices that have none although their recipient has an address
    (recorded before the outbox existed, or the address was added since)."""
    recent = Delivery.objects.filter(email__isnull=True, created_at__gte=timezone.now() - within)
    with transaction.atomic():
        return _queue_notices(
            recent.exclude(recipient__email="").select_related("alert__rule", "alert__metric", "recipient")
        )
