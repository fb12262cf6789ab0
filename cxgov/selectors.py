"""Reads of the organisation core, each with a fixed number of queries."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from cxgov.lib import permissions
from cxgov.models import Accountability, Function, Heartbeat, Membership, Raci, Role, User


def _count_of(model, field: str) -> Coalesce:
    counts = (
        model.objects.filter(**{field: OuterRef("pk")}).order_by().values(field).annotate(n=Count("pk")).values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def words_match(search: str, *fields: str) -> Q:
    """Every word of ``search`` appears (ignoring case) in one of ``fields``, in any order:
    "dunning plans" finds "Fair dunning for customers on payment plans"."""
    found = Q()
    for word in search.split()[:10]:
        found &= Q.create([(f"{field}__icontains", word) for field in fields], connector=Q.OR)
    return found


def function_list(*, customer_facing: bool | None = None, search: str = "") -> QuerySet[Function]:
    """Functions with their leader, parent and counts; non-customer-facing ones first."""
    qs = Function.objects.select_related("leader", "parent").annotate(
        member_count=_count_of(Membership, "function"),
        accountability_count=_count_of(Accountability, "function"),
    )
    if customer_facing is not None:
        qs = qs.filter(customer_facing=customer_facing)
    if search:
        qs = qs.filter(words_match(search, "name", "description"))
    return qs.order_by("customer_facing", "name")


def function_detail(*, slug: str) -> Function:
    """One function with its members, sub-functions and accountabilities prefetched."""
    return (
        Function.objects.select_related("leader", "parent")
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.select_related("person").order_by(
                    "person__first_name", "person__last_name"
                ),
            ),
            Prefetch("children", queryset=Function.objects.order_by("name")),
            Prefetch("accountabilities", queryset=Accountability.objects.order_by("role", "subject")),
        )
        .get(slug=slug)
    )


def accountability_list(
    *, function_id: int | None = None, role: str = "", search: str = ""
) -> QuerySet[Accountability]:
    qs = Accountability.objects.select_related("function", "subject_type")
    if function_id:
        qs = qs.filter(function_id=function_id)
    if role:
        qs = qs.filter(role=role)
    if search:
        qs = qs.filter(words_match(search, "subject", "note", "function__name"))
    return qs.order_by("subject", "role", "function__name")


def register_subject_taken(
    *, function_id: int, subject: str, subject_object=None, role: str = Raci.ACCOUNTABLE
) -> bool:
    """Does this function already hold this role for this subject in the register (for something other
    than ``subject_object``)? One function holds a role once per subject (a database constraint)."""
    taken = Accountability.objects.filter(function_id=function_id, subject=subject[:200], role=role)
    if subject_object is not None and subject_object.pk is not None:
        taken = taken.exclude(
            subject_type=ContentType.objects.get_for_model(subject_object), subject_id=subject_object.pk
        )
    return taken.exists()


def people_list() -> QuerySet[User]:
    return (
        User.objects.all()
        .prefetch_related(Prefetch("functions", queryset=Function.objects.order_by("name")))
        .order_by("-is_active", "first_name", "last_name", "username")
    )


def home_summary(*, user: User) -> dict:
    """What the home page shows, which differs by role."""
    summary: dict = {}
    functions = function_list()
    mine = permissions.function_ids(user)
    if mine or permissions.can_lead_functions(user):
        summary["my_functions"] = [f for f in functions if f.pk in mine]
        summary["my_accountabilities"] = list(accountability_list().filter(function_id__in=mine))
    if permissions.can_configure_organisation(user):
        summary["people_by_role"] = {
            Role(role).label: n
            for role, n in User.objects.filter(is_active=True)
            .values_list("role")
            .annotate(n=Count("pk"))
            .order_by("role")
        }
        summary["functions_without_leader"] = [f for f in functions if f.leader_id is None]
        summary["health"] = health_status()
    if not permissions.can_lead_functions(user):  # leaders see their own functions' instead
        accountable = set(Accountability.objects.filter(role=Raci.ACCOUNTABLE).values_list("function_id", flat=True))
        summary["functions_without_accountability"] = [f for f in functions if f.pk not in accountable]
        summary["non_customer_facing"] = [f for f in functions if not f.customer_facing]
        summary["customer_facing"] = [f for f in functions if f.customer_facing]
        by_facing = dict(
            Accountability.objects.filter(role=Raci.ACCOUNTABLE)
            .values_list("function__customer_facing")
            .annotate(n=Count("pk"))
            .order_by()
        )
        summary["accountable_ncf"] = by_facing.get(False, 0)
        summary["accountable_cf"] = by_facing.get(True, 0)
    return summary


@dataclass(frozen=True)
class HealthCheck:
    """One named part of /healthz: a function answering {"ok": bool, "error": "...", ...}."""

    name: str
    check: Callable[[], dict]
    # Parts that read the database are reported "not checked" when it is down, not run into it.
    needs_database: bool = True


def health_checks() -> list[HealthCheck]:
    """Every part /healthz reports, in order: the core's, then each app's.

    An app adds parts with a ``health_checks`` attribute on its AppConfig: a mapping of name to a
    function (needing the database) or a list of HealthCheck."""
    from django.apps import apps

    @cache
    def heartbeats() -> dict[str, Heartbeat]:  # one query for both parts
        return {beat.name: beat for beat in Heartbeat.objects.all()}

    found = [
        HealthCheck("database", _check_database, needs_database=False),
        HealthCheck("broker", _check_broker, needs_database=False),
        HealthCheck("worker", lambda: _check_heartbeat(heartbeats(), "worker")),
        HealthCheck("beat", lambda: _check_heartbeat(heartbeats(), "beat")),
    ]
    for config in apps.get_app_configs():
        extra = getattr(config, "health_checks", ())
        if isinstance(extra, dict):
            extra = [HealthCheck(name, check) for name, check in extra.items()]
        found.extend(extra)
    return found


_state_lock = threading.Lock()
_state: tuple[float, dict[str, dict]] | None = None  # (when, the parts that read the database)


def health_status() -> dict:
    """Each part ok or not, with what is wrong; ``failing`` names the parts that are not ok.

    The database and the broker are asked at every call (can the site work at all?); the parts
    that read the state in the database (heartbeats, failed evaluations, imports, the outbox...)
    are read at most every HEALTH_STATE_SECONDS per process, so a monitor polling /healthz while
    the site is busy costs two cheap checks, not ten queries; ``state_age_seconds`` says how old
    they are. Never raises: a part whose check fails unexpectedly is reported as failing with the
    reason."""
    global _state
    parts = health_checks()
    checks: dict[str, dict] = {}
    for part in parts:
        if not part.needs_database:
            checks[part.name] = _run(part)
    database_ok = checks.get("database", {"ok": True})["ok"]
    age = 0.0
    if not database_ok:
        state = {p.name: {"ok": False, "error": "not checked: the database is unavailable"} for p in parts}
    else:
        now = time.monotonic()
        with _state_lock:
            cached = _state
        if cached is not None and now - cached[0] < settings.HEALTH_STATE_SECONDS:
            age, state = now - cached[0], cached[1]
        else:
            state = {p.name: _run(p) for p in parts if p.needs_database}
            with _state_lock:
                _state = (now, state)
    checks = {p.name: checks[p.name] if p.name in checks else state[p.name] for p in parts}
    failing = [name for name, result in checks.items() if not result["ok"]]
    return {"ok": not failing, "failing": failing, "checks": checks, "state_age_seconds": round(age, 1)}


def _run(part: HealthCheck) -> dict:
    try:
        return part.check()
    except Exception as exc:  # the point is to report any failure, whatever its type
        return {"ok": False, "error": f"the check failed: {exc}"[:300]}


def _check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # idem
        return {"ok": False, "error": str(exc)[:300]}
    return {"ok": True, "vendor": connection.vendor}


def _check_broker() -> dict:
    from cxgov.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
            transport = conn.transport_cls
    except Exception as exc:  # idem
        return {"ok": False, "error": str(exc)[:300]}
    return {"ok": True, "transport": str(transport)}


def _check_heartbeat(beats: dict[str, Heartbeat], name: str) -> dict:
    beat = beats.get(name)
    if beat is None:
        return {"ok": False, "error": f"no {name} has checked in yet", "last_seen": None}
    age = (timezone.now() - beat.seen_at).total_seconds()
    ok = age <= settings.HEALTH_HEARTBEAT_MAX_AGE
    result = {"ok": ok, "last_seen": beat.seen_at.isoformat(), "age_seconds": round(age, 1), "host": beat.hostname}
    if not ok:
        result["error"] = f"last check-in {round(age)} s ago (limit {settings.HEALTH_HEARTBEAT_MAX_AGE} s)"
    elif beat.error:  # alive but useless: e.g. beat whose tasks the broker refuses
        result.update(ok=False, error=beat.error)
    return result
