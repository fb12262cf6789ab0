"""Emails of the ownership pages: one function per message, text and HTML parts from templates/emails/."""

from __future__ import annotations

from django.core.mail import get_connection

from cxgov.lib.emails import templated_email


def issues_assigned(*, recipients, function, issues, by) -> int:
    """Tell each new owner (the function's leader, the named person) which issues are now theirs.
    People without an email address are skipped; returns the number of messages sent."""
    messages = []
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
        message = templated_email("issues_assigned", context, [person.email])
        messages.append(message)
    if not messages:
        return 0
    return get_connection().send_messages(messages)
