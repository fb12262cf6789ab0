"""Writes to the organisation core. Views, the API, tasks and commands call these."""

from __future__ import annotations

import secrets
import socket

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model, ProtectedError
from django.utils import timezone
from django.utils.text import slugify
from simple_history.utils import bulk_create_with_history

from cxgov.lib import permissions
from cxgov.lib.history import record_as
from cxgov.lib.services import model_update
from cxgov.models import Accountability, Function, Heartbeat, Membership, Raci, User

PERSON_FIELDS = ("username", "first_name", "last_name", "email", "title", "role", "is_active")
FUNCTION_FIELDS = ("name", "slug", "description", "customer_facing", "parent", "leader")
ADMIN_APPS = ["cxgov", "metrics", "outcomes", "rootcause", "alerts", "digests", "django_celery_beat", "authtoken"]


def heartbeat_record(*, name: str, error: str = "") -> None:
    """Note that a background process is alive now (upsert on its name), and what keeps it from
    working if anything does (``error``: beat cannot hand tasks to the broker)."""
    Heartbeat.objects.update_or_create(
        name=name, defaults={"seen_at": timezone.now(), "hostname": socket.gethostname()[:255], "error": error[:2000]}
    )


def _check_parent(function: Function, parent: Function | None) -> None:
    seen = {function.pk}
    node = parent
    while node is not None:
        if node.pk in seen:
            raise ValidationError({"parent": "A function cannot sit under itself or one of its own sub-functions."})
        seen.add(node.pk)
        node = node.parent


@transaction.atomic
def function_save(*, user: User, function: Function, fields: dict) -> Function:
    """Create or change a function. Structure (name, parent, leader...) is configuration;
    a function's own leader may change its description only (other fields sent unchanged are fine)."""
    changed = model_update(function, fields, fields=FUNCTION_FIELDS)
    if function.pk is None or set(changed) - {"description"}:
        permissions.require_configure_organisation(user)
    else:
        permissions.require_change(user, function)
    if not function.slug:
        function.slug = slugify(function.name)[:120]
    if function.pk is not None and "parent" in fields:
        _check_parent(function, function.parent)
    function.full_clean()
    record_as(function, user).save()
    if function.leader_id:
        # The leader is a member of the function they lead.
        Membership.objects.get_or_create(person_id=function.leader_id, function=function)
    return function


# What a deleted function takes with it (memberships: their history keeps them) or simply forgets.
_GO_WITH_A_FUNCTION = {"memberships", "suggested_sub_themes"}
_IN_USE_LABELS = {
    "children": ("sub-function", "sub-functions"),
    "accountabilities": ("entry in the accountability register", "entries in the accountability register"),
    "metrics": ("metric it owns", "metrics it owns"),
    "canvases": ("outcome canvas naming it accountable", "outcome canvases naming it accountable"),
    "moments_of_truth": ("moment of truth", "moments of truth"),
}


@transaction.atomic
def function_delete(*, user: User, function: Function) -> None:
    """Delete a function (administrators: it is configuration). Refused while anything but its
    memberships still refers to it (workflows, issues, action items, register entries, metrics,
    canvases, sub-functions...): those are moved or removed first, so nothing is lost by accident."""
    permissions.require_configure_organisation(user)
    in_use, examples = [], []
    for relation in Function._meta.related_objects:
        name = relation.get_accessor_name()
        if name in _GO_WITH_A_FUNCTION:
            continue
        related = getattr(function, name).all()
        count = related.count()
        if count:
            singular, plural = _IN_USE_LABELS.get(
                name, (relation.related_model._meta.verbose_name, relation.related_model._meta.verbose_name_plural)
            )
            in_use.append(f"{count} {singular if count == 1 else plural}")
            examples.extend(related[:5])
    if in_use:
        raise ProtectedError(
            f"{function} still has {', '.join(in_use)}: move or remove them first; nothing was deleted.", examples
        )
    for membership in Membership.objects.filter(function=function):
        record_as(membership, user).delete()  # one by one, so the history records each removal
    record_as(function, user).delete()


@transaction.atomic
def membership_save(*, user: User, membership: Membership, fields: dict) -> Membership:
    """Put a person in a function, or change their position in it (administrators)."""
    permissions.require_configure_organisation(user)
    model_update(membership, fields, fields=("person", "function", "position", "joined_on"))
    membership.full_clean()
    record_as(membership, user).save()
    return membership


@transaction.atomic
def membership_delete(*, user: User, membership: Membership) -> None:
    """Take a person out of a function (administrators)."""
    permissions.require_configure_organisation(user)
    record_as(membership, user).delete()


@transaction.atomic
def person_save(*, user: User, person: User, fields: dict, function_ids: set[int], password: str = "") -> User:
    """Create or change a person: identity, role, functions and (optionally) password."""
    permissions.require_configure_organisation(user)
    if not permissions.can_change_person(user, person):
        raise PermissionDenied("Only a superuser may change a superuser.")
    # Staff and superuser flags are never among them: they follow the role, below.
    model_update(person, fields, fields=PERSON_FIELDS)
    # Administrators use the Django admin for configuration; nobody else needs it.
    admin_site = permissions.may_use_admin_site(person)
    person.is_staff = admin_site
    if password:
        person.set_password(password)
    elif person.pk is None:
        person.set_unusable_password()
    person.full_clean(exclude=["password"])
    record_as(person, user, "Password set" if password else "").save()
    # Administrators configure in the Django admin (schedules, tokens, metrics): give them
    # its permissions with the role, and take them away with it.
    if admin_site:
        person.user_permissions.set(Permission.objects.filter(content_type__app_label__in=ADMIN_APPS))
    else:
        person.user_permissions.clear()
    membership_set(user=user, person=person, function_ids=function_ids)
    return person


@transaction.atomic
def membership_set(*, user: User, person: User, function_ids: set[int]) -> None:
    """Make a person a member of exactly these functions."""
    permissions.require_configure_organisation(user)
    current = set(Membership.objects.filter(person=person).values_list("function_id", flat=True))
    for membership in Membership.objects.filter(person=person, function_id__in=current - function_ids):
        record_as(membership, user).delete()  # one by one, so the history records each removal
    bulk_create_with_history(
        [Membership(person=person, function_id=pk) for pk in sorted(function_ids - current)],
        Membership,
        default_user=user,
    )


def _require_function_for_write(user: User, function: Function) -> None:
    if not permissions.can_change_function(user, function.pk):
        raise PermissionDenied(f"You may not change {function}'s accountabilities.")


def accountability_save(
    *,
    user: User,
    accountability: Accountability,
    function: Function,
    role: str,
    subject: str,
    note: str = "",
    subject_object: Model | None = None,
) -> Accountability:
    """Create or change an entry of the accountability register.

    A leader may only record accountabilities of their own functions, and may not move
    one away from a function they lead to another function.
    """
    if accountability.pk is not None:
        permissions.require_change(user, accountability)
    _require_function_for_write(user, function)
    if role not in Raci.values:
        raise ValidationError({"role": f"{role!r} is not a RACI role (R, A, C or I)."})
    accountability.function = function
    accountability.role = role
    accountability.subject = subject.strip()
    accountability.note = note
    if subject_object is not None:
        accountability.subject_type = ContentType.objects.get_for_model(subject_object)
        accountability.subject_id = subject_object.pk
    accountability.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            record_as(accountability, user).save()
    except IntegrityError:
        # The database constraints are the guard; turn their refusal into a clear message.
        if role == Raci.ACCOUNTABLE:
            raise ValidationError(
                {
                    "role": f"Another function is already Accountable for “{accountability.subject}”: "
                    "there is exactly one Accountable function per subject."
                }
            ) from None
        raise ValidationError(
            {"subject": f"{function} already has the role {Raci(role).label} for “{accountability.subject}”."}
        ) from None
    return accountability


@transaction.atomic
def accountability_delete(*, user: User, accountability: Accountability) -> None:
    """Remove an entry of the accountability register (its function's leader, the CX team, administrators)."""
    permissions.require_change(user, accountability)
    record_as(accountability, user).delete()


def accountability_link(
    *, function: Function, subject_object: Model, subject: str, role: str = Raci.ACCOUNTABLE
) -> Accountability:
    """Record that a function holds a RACI role for an object of the product (a metric, an issue...).

    Idempotent; for the Accountable role the object's single entry moves to the new function."""
    content_type = ContentType.objects.get_for_model(subject_object)
    lookup = {"subject_type": content_type, "subject_id": subject_object.pk, "role": role}
    if role != Raci.ACCOUNTABLE:
        lookup["function"] = function
    entry, _ = Accountability.objects.update_or_create(
        **lookup, defaults={"function": function, "subject": subject[:200]}
    )
    return entry


def accountability_unlink(*, subject_object: Model) -> None:
    """Remove every register entry attached to an object of the product (it was deleted or unowned)."""
    Accountability.objects.filter(
        subject_type=ContentType.objects.get_for_model(subject_object), subject_id=subject_object.pk
    ).delete()


def administrator_create(*, username: str, email: str = "") -> tuple[User, str]:
    """The first administrator of an installation without the demo (``manage.py create_admin``):
    a superuser with a random password, returned once so the command can print it."""
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": f"A person named {username!r} exists already."})
    password = secrets.token_urlsafe(12)
    person = User(username=username, email=email)
    permissions.grant_first_administrator(person)
    person.set_password(password)
    person.full_clean(exclude=["password"])
    person.save()
    person.user_permissions.set(Permission.objects.filter(content_type__app_label__in=ADMIN_APPS))
    return person, password
