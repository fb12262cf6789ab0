"""Emails of the ownership pages: one function per message, text and HTML parts from templates/emails/,
stored in the outbox and sent by a worker after commit."""

from __future__ import annotations

from cxgov.lib import outbox
from cxgov.lib.emails import templated_email


def issues_assigned(*, recipients, function, issues, by) -> int:
    """Tell each new owner (the function's leader, the named person) which issues are now theirs.
    People without an email address are skipped; returns the number of emails queued."""
    seen = set()
    for person in recipients:
        if person.pk in seen or not person.email or not person.is_active:
            continue
        seen.add(person.pk)
        context = {
            "person": person,
            "function": function,
            "issues": issues,
            "by": by,
            "is_leader": person.pk == function.leader_id,
        }
        outbox.enqueue(templated_email("issues_assigned", context, [person.email]), kind="issues_assigned")
    return len(seen)
