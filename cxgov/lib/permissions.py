"""The one place that decides what a user may see and change.

Views, the API, digests and exports all ask this module; none writes its own rule.

The rules, by role:
- administrators see and change everything, including the organisation's configuration
  (functions, people, memberships);
- the CX team sees everything and changes the governed work (accountabilities and, later,
  themes, issues, action items, canvases), but not the organisation's configuration;
- a functional leader sees everything and changes only things owned by the functions
  they lead, including those functions' profiles (membership alone gives no write access);
- a stakeholder reads.

An object is "owned by a function" through its ``owning_function_id`` attribute; objects
without one can be changed only by the roles above that change everything. A model that is
configuration (``is_configuration = True``, e.g. metric definitions) is for administrators.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from rest_framework import permissions as drf_permissions

from cxgov.models import Function, Membership, Role, User

# Organisation configuration: only administrators change these.
CONFIGURATION_MODELS: tuple[type, ...] = (User, Membership)


def is_active_user(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def is_administrator(user) -> bool:
    return is_active_user(user) and (user.is_superuser or user.role == Role.ADMINISTRATOR)


def is_cx_team(user) -> bool:
    return is_active_user(user) and user.role == Role.CX_TEAM


def is_leader(user) -> bool:
    return is_active_user(user) and user.role == Role.LEADER


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


def can_configure(user) -> bool:
    """May this user change the organisation itself: functions, people, memberships, roles?"""
    return is_administrator(user)


def can_read_audit(user) -> bool:
    """May this user read the audit trail (who changed the configuration, and what)? Administrators."""
    return is_administrator(user)


def can_import(user) -> bool:
    """May this user push customer data (files, the bulk API)? Administrators and the CX team."""
    return is_administrator(user) or is_cx_team(user)


def can_write_canvases(user) -> bool:
    """May this user write outcome canvases and customer categories? The CX team and administrators."""
    return is_administrator(user) or is_cx_team(user)


def can_tag_comments(user) -> bool:
    """May this user put sub-themes on comments or take them off, one by one or in bulk (pages and
    the tags API)? The CX team and administrators."""
    return is_administrator(user) or is_cx_team(user)


class TagCommentsPermission(drf_permissions.BasePermission):
    """Comment tags: everyone reads; the CX team and administrators add and remove them."""

    def has_permission(self, request, view) -> bool:
        if not is_active_user(request.user):
            return False
        return request.method in drf_permissions.SAFE_METHODS or can_tag_comments(request.user)


def can_write_alert_rules(user) -> bool:
    """May this user write alert rules on metrics? Administrators and the CX team."""
    return is_administrator(user) or is_cx_team(user)


def can_acknowledge_alert(user, alert) -> bool:
    """May this user acknowledge or mute an alert? Its owner (the leader of the metric's owning
    function), the CX team and administrators."""
    return can_change_function(user, alert.owning_function_id)


def can_triage(user) -> bool:
    """May this user assign owning functions and people to issues from CX triage? The CX team and
    administrators; leaders change their own functions' issues on the issue pages instead."""
    return is_administrator(user) or is_cx_team(user)


def can_add_action_item(user, issue) -> bool:
    """May this user add an action item to this issue? Only someone who may change the issue: a
    leader may not put work on another function's issue (and move it on by finishing that work)."""
    return can_change(user, issue)


def can_view(user, obj=None) -> bool:
    """May this user see this object? Every active user reads the organisation's work."""
    return is_active_user(user)


def can_change_function(user, function_id: int | None) -> bool:
    """May this user change things owned by the function with this id (or create them there)?"""
    if is_administrator(user):
        return True
    if is_cx_team(user):
        return True
    if is_leader(user):
        return function_id is not None and function_id in led_function_ids(user)
    return False


def can_change(user, obj) -> bool:
    """May this user change (edit or delete) this object?"""
    if is_administrator(user):
        return True
    if isinstance(obj, CONFIGURATION_MODELS) or getattr(obj, "is_configuration", False):
        return False
    if isinstance(obj, Function):
        # A function's profile belongs to its own leader; structure belongs to administrators.
        return is_leader(user) and obj.pk in led_function_ids(user)
    return can_change_function(user, getattr(obj, "owning_function_id", None))


def changeable_functions(user) -> QuerySet[Function]:
    """The functions in which this user may change or create things."""
    functions = Function.objects.order_by("name")
    if is_administrator(user) or is_cx_team(user):
        return functions
    if is_leader(user):
        return functions.filter(pk__in=led_function_ids(user))
    return functions.none()


def require_change(user, obj) -> None:
    if not can_change(user, obj):
        raise PermissionDenied(f"You may not change {obj}.")


def require_configure(user) -> None:
    if not can_configure(user):
        raise PermissionDenied("Only administrators change the organisation's configuration.")


class ObjectPermission(drf_permissions.BasePermission):
    """DRF permission backed by this module: reads for every active user, writes per object.

    Creation is decided by the view's serializer, which knows the function the new object
    will belong to (see ``require_function_for_create``); configuration endpoints add
    ``ConfigurationPermission``.
    """

    def has_permission(self, request, view) -> bool:
        if not is_active_user(request.user):
            return False
        if request.method in drf_permissions.SAFE_METHODS:
            return True
        return request.user.role != Role.STAKEHOLDER or request.user.is_superuser

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in drf_permissions.SAFE_METHODS:
            return can_view(request.user, obj)
        return can_change(request.user, obj)


class ConfigurationPermission(drf_permissions.BasePermission):
    """Writes to the organisation's configuration are for administrators only."""

    def has_permission(self, request, view) -> bool:
        return request.method in drf_permissions.SAFE_METHODS or can_configure(request.user)


class AlertRulePermission(drf_permissions.BasePermission):
    """Alert rules: everyone reads; administrators and the CX team write."""

    def has_permission(self, request, view) -> bool:
        if not is_active_user(request.user):
            return False
        return request.method in drf_permissions.SAFE_METHODS or can_write_alert_rules(request.user)


class IngestPermission(drf_permissions.BasePermission):
    """Pushing customer data (survey tools, CRMs): administrators and the CX team."""

    def has_permission(self, request, view) -> bool:
        return can_import(request.user)
