"""Writes for CX triage: assigning owning functions and people to issues, announced to the new owners."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from cxgov.lib import permissions
from cxgov.models import Function, User
from ownership import emails
from rootcause import services as rootcause_services
from rootcause.models import Issue

MAX_ASSIGN = 200


def issues_assign(*, user: User, issue_ids: list[int], function: Function, owner: User | None = None) -> list[Issue]:
    """Make ``function`` (and ``owner``, a person in it) own these issues, all or none. Each change is
    recorded in the issue's history and the register (``issue_save``); the function's leader and the
    named person each get one email listing the issues now theirs, stored in the outbox with the
    change and sent by a worker (a mail server that is down delays it, never fails the request)."""
    if not permissions.can_assign_issues(user):
        raise PermissionDenied("Only the CX team and administrators assign owners from triage.")
    ids = sorted(set(issue_ids))
    if not ids:
        raise ValidationError("Choose at least one issue to assign.")
    if len(ids) > MAX_ASSIGN:
        raise ValidationError(f"Assign at most {MAX_ASSIGN} issues at once.")
    with transaction.atomic():
        issues = list(Issue.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        if len(issues) != len(ids):
            raise ValidationError("Some of the chosen issues no longer exist; reload the page.")
        changed = []
        for issue in issues:
            if issue.function_id == function.pk and issue.owner_id == (owner.pk if owner else None):
                continue
            changed.append(
                rootcause_services.issue_save(user=user, issue=issue, fields={"function": function, "owner": owner})
            )
        if changed:
            recipients = [p for p in (function.leader, owner) if p is not None]
            emails.issues_assigned(recipients=recipients, function=function, issues=changed, by=user)
    return changed
