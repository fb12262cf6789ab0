"""Emails of the ownership pages: one function per message, text and HTML parts from templates/emails/."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string


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
            "site_url": settings.SITE_URL,
            "is_leader": person.pk == function.leader_id,
        }
        subject = render_to_string("emails/issues_assigned_subject.txt", context).strip()
        message = EmailMultiAlternatives(
            subject=" ".join(subject.split()),
            body=render_to_string("emails/issues_assigned.txt", context),
            to=[person.email],
        )
        message.attach_alternative(render_to_string("emails/issues_assigned.html", context), "text/html")
        messages.append(message)
    if not messages:
        return 0
    return get_connection().send_messages(messages)
