"""The one place that decides what a user may see and change.

Views, the API, forms, digests and exports all ask this module; none compares roles itself.

Every rule is a *capability* named for what it allows, with one row in ``CAPABILITIES``: the
roles that hold it everywhere, and whether a functional leader also holds it for the things of
the functions they lead (membership alone gives no write access). The ``can_*`` functions below
read that table, the ``can`` template filter reads it, and ``tests/test_permission_matrix.py``
generates its expectations from it. A superuser counts as an administrator; an inactive or
anonymous user holds nothing.

An object is "owned by a function" through its ``owning_function_id`` attribute. A model that
is configuration (``is_configuration = True``, e.g. metric definitions, or people and
memberships) is changed by those who configure the organisation.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from rest_framework import permissions as drf_permissions

from cxgov.models import Function, Membership, Role, User

ADMIN, CX, LEADER, STAKEHOLDER = Role.ADMINISTRATOR, Role.CX_TEAM, Role.LEADER, Role.STAKEHOLDER
ROLES: tuple[str, ...] = (ADMIN, CX, LEADER, STAKEHOLDER)


@dataclass(frozen=True)
class Rule:
    """Who holds a capability: these roles for everything; leaders too, for their own functions."""

    roles: frozenset[str]
    led_functions: bool = False  # a functional leader holds it for the functions they lead
    allows: str = ""


def _rule(*roles: str, led_functions: bool = False, allows: str) -> Rule:
    return Rule(frozenset(roles), led_functions, allows)


CAPABILITIES: dict[str, Rule] = {
    "view": _rule(*ROLES, allows="read the organisation's work: pages, the API, exports, one's own digest schedule"),
    "configure_organisation": _rule(
        ADMIN,
        allows="change functions' structure, people, roles, memberships, metric definitions and digest "
        "defaults; read everyone's digests",
    ),
    "read_audit": _rule(ADMIN, allows="read the audit trail: who changed the configuration, and what"),
    "import_data": _rule(ADMIN, CX, allows="push customer data: file imports and the bulk ingestion API"),
    "edit_taxonomy": _rule(
        ADMIN,
        CX,
        allows="write key drivers and sub-themes, correct comment tags, train text models and switch them on",
    ),
    "tag_comments": _rule(
        ADMIN, CX, allows="put sub-themes on comments or take them off, one by one or in bulk (comments page, tags API)"
    ),
    "save_pareto_snapshots": _rule(ADMIN, CX, allows="keep a Pareto analysis to compare later ones with"),
    "write_canvases": _rule(ADMIN, CX, allows="write customer categories and outcome canvases"),
    "set_ledger_costs": _rule(
        ADMIN, CX, allows="set the value ledger's currency, discount rate and cost per contact of each channel"
    ),
    "write_alert_rules": _rule(ADMIN, CX, allows="write alert rules on metrics"),
    "assign_issues": _rule(
        ADMIN,
        CX,
        allows="assign issues and action items to any function (CX triage, moving them), see unowned issues",
    ),
    "be_cx_owner": _rule(ADMIN, CX, allows="be named an issue's CX owner"),
    "lead_functions": _rule(LEADER, allows="be named a function's leader"),
    "change_function": _rule(
        ADMIN,
        CX,
        led_functions=True,
        allows="record and change a function's governed work: accountabilities, workflows, decision points, "
        "issues, 5 whys, action items",
    ),
    "add_action_items": _rule(
        ADMIN,
        CX,
        led_functions=True,
        allows="add action items to an issue (a leader: to the issues of the functions they lead; the item's "
        "own function is checked by change_function)",
    ),
    "edit_function_profile": _rule(ADMIN, led_functions=True, allows="change a function's description"),
    "acknowledge_alerts": _rule(
        ADMIN, CX, led_functions=True, allows="acknowledge or mute an alert on a function's metric"
    ),
}

# Role homes: where "/" takes each role (administrators keep the organisation overview).
HOMES: dict[str, str] = {LEADER: "workspace", CX: "triage", STAKEHOLDER: "executive"}

# Organisation configuration: only those who configure the organisation change these.
CONFIGURATION_MODELS: tuple[type, ...] = (User, Membership)


def is_active_user(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def role_of(user) -> str | None:
    """The role the rules apply to: none for anonymous or inactive users; superusers are administrators."""
    if not is_active_user(user):
        return None
    return ADMIN if user.is_superuser else user.role


def holds(user, capability: str, function_id: int | None = None, *, anywhere: bool = False) -> bool:
    """Does this user hold this capability, for things of the function with this id?

    ``anywhere=True`` asks whether they hold it for some function at all (their role allows it);
    objects decide the rest."""
    rule = CAPABILITIES[capability]
    role = role_of(user)
    if role is None:
        return False
    if role in rule.roles:
        return True
    if rule.led_functions and role == LEADER:
        return anywhere or (function_id is not None and function_id in led_function_ids(user))
    return False


def holders(capability: str) -> QuerySet[User]:
    """The active people whose role gives them this capability (everywhere, or for functions they lead)."""
    rule = CAPABILITIES[capability]
    roles = set(rule.roles) | ({LEADER} if rule.led_functions else set())
    who = Q(role__in=sorted(roles))
    if ADMIN in roles:
        who |= Q(is_superuser=True)
    return User.objects.filter(who, is_active=True)


def home_page(user) -> str | None:
    """The name of this user's home view in the ``ownership`` app, or None for the organisation overview."""
    return HOMES.get(role_of(user))


def function_ids(user) -> frozenset[int]:
    """The functions a user leads or belongs to: "their functions" on pages and in digests."""
    if not is_active_user(user):
        return frozenset()
    cached = getattr(user, "_cxgov_function_ids", None)
    if cached is None:
        led = Function.objects.filter(leader=user).order_by().values_list("pk", flat=True)
        member = Membership.objects.filter(person=user).order_by().values_list("function_id", flat=True)
        cached = frozenset(led.union(member))
        user._cxgov_function_ids = cached
    return cached


def led_function_ids(user) -> frozenset[int]:
    """The functions a user leads: the only ones whose things a functional leader may change.

    Membership alone gives no write access, so a replaced leader loses it at once."""
    if not is_active_user(user):
        return frozenset()
    cached = getattr(user, "_cxgov_led_function_ids", None)
    if cached is None:
        cached = frozenset(Function.objects.filter(leader=user).values_list("pk", flat=True))
        user._cxgov_led_function_ids = cached
    return cached


# --- The capabilities, one function each ----------------------------------------------------------


def can_view(user, obj=None) -> bool:
    """May this user see this object? Every active user reads the organisation's work."""
    return holds(user, "view")


def can_configure_organisation(user) -> bool:
    """May this user change the organisation itself: functions, people, memberships, roles, metric
    definitions, digest defaults?"""
    return holds(user, "configure_organisation")


def can_read_audit(user) -> bool:
    """May this user read the audit trail (who changed the configuration, and what)?"""
    return holds(user, "read_audit")


def can_import_data(user) -> bool:
    """May this user push customer data (files, the bulk API)?"""
    return holds(user, "import_data")


def can_edit_taxonomy(user) -> bool:
    """May this user write key drivers and sub-themes and correct comment tags?"""
    return holds(user, "edit_taxonomy")


def can_save_pareto_snapshots(user) -> bool:
    """May this user keep a Pareto analysis to compare later ones with?"""
    return holds(user, "save_pareto_snapshots")


def can_set_ledger_costs(user) -> bool:
    """May this user set the value ledger's currency, discount rate and costs per contact?"""
    return holds(user, "set_ledger_costs")


def can_write_canvases(user) -> bool:
    """May this user write outcome canvases and customer categories?"""
    return holds(user, "write_canvases")


def can_tag_comments(user) -> bool:
    """May this user put sub-themes on comments or take them off, one by one or in bulk?"""
    return holds(user, "tag_comments")


def can_write_alert_rules(user) -> bool:
    """May this user write alert rules on metrics?"""
    return holds(user, "write_alert_rules")


def can_assign_issues(user) -> bool:
    """May this user assign issues and action items to any function (CX triage, or moving one to
    another function)? Leaders change their own functions' issues on the issue pages instead."""
    return holds(user, "assign_issues")


def can_be_cx_owner(user) -> bool:
    """May this user be named an issue's CX owner?"""
    return holds(user, "be_cx_owner")


def can_lead_functions(user) -> bool:
    """May this user be named a function's leader (and have a leader's workspace)?"""
    return holds(user, "lead_functions")


def can_change_function(user, function_id: int | None) -> bool:
    """May this user change things owned by the function with this id (or create them there)?"""
    return holds(user, "change_function", function_id)


def can_add_action_item(user, issue) -> bool:
    """May this user add an action item to this issue? Only someone who may change the issue: a
    leader may not put work on another function's issue (and move it on by finishing that work)."""
    return holds(user, "add_action_items", issue.owning_function_id)


def can_edit_function_profile(user, function: Function) -> bool:
    """May this user change this function's description (its leader, or an administrator)?"""
    return holds(user, "edit_function_profile", function.pk)


def can_acknowledge_alert(user, alert) -> bool:
    """May this user acknowledge or mute an alert? The leader of the metric's owning function, the
    CX team and administrators."""
    return holds(user, "acknowledge_alerts", alert.owning_function_id)


def can_change_person(user, person: User) -> bool:
    """May this user change this person? Those who configure the organisation; a superuser only by a superuser."""
    return can_configure_organisation(user) and (user.is_superuser or not person.is_superuser)


def grant_first_administrator(person: User) -> None:
    """Make an installation's first person (``manage.py create_admin``) its administrator and a
    superuser, so they can configure everything else."""
    person.role = Role.ADMINISTRATOR
    person.is_staff = person.is_superuser = True


def may_use_admin_site(person: User) -> bool:
    """Does this person get the Django admin (schedules, tokens) with their role? Administrators do."""
    return person.is_superuser or person.role == ADMIN


def can_change(user, obj) -> bool:
    """May this user change (edit or delete) this object? Configuration is for those who configure
    the organisation, a function's profile for its leader, everything else for its owning function."""
    if isinstance(obj, CONFIGURATION_MODELS) or getattr(obj, "is_configuration", False):
        return can_configure_organisation(user)
    if isinstance(obj, Function):
        return can_edit_function_profile(user, obj)
    return can_change_function(user, getattr(obj, "owning_function_id", None))


def changeable_functions(user) -> QuerySet[Function]:
    """The functions in which this user may change or create things."""
    functions = Function.objects.order_by("name")
    if holds(user, "change_function"):
        return functions
    if holds(user, "change_function", anywhere=True):
        return functions.filter(pk__in=led_function_ids(user))
    return functions.none()


def require_change(user, obj) -> None:
    if not can_change(user, obj):
        raise PermissionDenied(f"You may not change {obj}.")


def require_configure_organisation(user) -> None:
    if not can_configure_organisation(user):
        raise PermissionDenied("Only administrators change the organisation's configuration.")


# --- DRF permission classes, backed by the same table ---------------------------------------------


class ObjectPermission(drf_permissions.BasePermission):
    """Reads for every active user; writes for those who change some function's work, per object.

    Creation is decided by the view's service, which knows the function the new object will
    belong to; configuration endpoints add ``ConfigurationPermission``.
    """

    def has_permission(self, request, view) -> bool:
        if request.method in drf_permissions.SAFE_METHODS:
            return can_view(request.user)
        return holds(request.user, "change_function", anywhere=True)

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in drf_permissions.SAFE_METHODS:
            return can_view(request.user, obj)
        return can_change(request.user, obj)


class CapabilityPermission(drf_permissions.BasePermission):
    """Everyone active reads; writes need ``capability`` (set on a subclass)."""

    capability: str

    def has_permission(self, request, view) -> bool:
        if request.method in drf_permissions.SAFE_METHODS:
            return can_view(request.user)
        return holds(request.user, self.capability)


class ConfigurationPermission(CapabilityPermission):
    """Writes to the organisation's configuration."""

    capability = "configure_organisation"


class AlertRulePermission(CapabilityPermission):
    """Alert rules: everyone reads; those who write alert rules write."""

    capability = "write_alert_rules"


class CanvasPermission(CapabilityPermission):
    """Customer categories and canvases: everyone reads; canvas writers write."""

    capability = "write_canvases"


class TagCommentsPermission(CapabilityPermission):
    """Comment tags: everyone reads; those who tag comments add and remove them."""

    capability = "tag_comments"


class EditTaxonomyPermission(CapabilityPermission):
    """The taxonomy and its text models: everyone reads; those who edit the taxonomy train and switch on."""

    capability = "edit_taxonomy"


class IngestPermission(drf_permissions.BasePermission):
    """Pushing customer data (survey tools, CRMs): reads and writes need ``import_data``."""

    def has_permission(self, request, view) -> bool:
        return can_import_data(request.user)
