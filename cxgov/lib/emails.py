"""Emails from templates: ``templates/emails/NAME_subject.txt``, ``NAME.txt`` and ``NAME.html``."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def templated_email(name: str, context: dict, to: list[str], headers: dict | None = None) -> EmailMultiAlternatives:
    """A two-part email (plain text and HTML) built from the NAME templates; the context also gets
    ``site_url`` for absolute links. The subject is one line, whatever the template's spacing."""
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject, body=render_to_string(f"emails/{name}.txt", context), to=to, headers=headers
    )
    message.attach_alternative(render_to_string(f"emails/{name}.html", context), "text/html")
    return message
