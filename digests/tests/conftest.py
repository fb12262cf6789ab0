"""A real SMTP server on 127.0.0.1 (aiosmtpd) that the digests are sent through."""

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller


class Inbox:
    """Keeps every message the server accepted; ``fail`` makes it answer the next DATA commands
    with the given SMTP replies (e.g. "451 try later", "550 no such user")."""

    def __init__(self):
        self.messages = []
        self.fail = []

    async def handle_DATA(self, server, session, envelope):
        if self.fail:
            return self.fail.pop(0)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.SITE_URL = "https://cxgov.example.com"
    yield inbox
    controller.stop()
