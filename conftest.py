"""Shared fixtures: a small organisation with one named user per role (as in hc/test.py), and a
real SMTP server."""

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller
from rest_framework.test import APIClient

from cxgov.models import Accountability, Function, Membership, Role, User

PASSWORD = "correct-horse-battery"


def pytest_collection_modifyitems(config, items):
    """The slowest tests, in a real browser, first: run side by side (bin/test), the other process
    works around them instead of waiting for the last of them at the end."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is None)


@pytest.fixture(autouse=True)
def _health_read_at_every_call(settings):
    # Tests change the state and read /healthz at once (cxgov/tests/test_health.py tests the reuse).
    settings.HEALTH_STATE_SECONDS = 0


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashers are slow on purpose; tests only need passwords to round-trip.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _forget_throttle_counts():
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    from cxgov.lib import money

    money._local.clear()  # the currency this process holds for a moment (each test stores its own)

    cache = caches["default"]  # the backend itself (``django.core.cache.cache`` is a proxy to it)
    if isinstance(cache, RedisCache):  # shared with other processes (and maybe the broker): only our keys
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=cache.make_key("throttle_*")))
        # Cached analyses are keyed by data versions, which every test's database starts again.
        keys += list(client.scan_iter(match=cache.make_key("heavy:*")))
        keys += list(client.scan_iter(match=cache.make_key("site:*")))  # the site's currency (cxgov/lib/money.py)
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _empty_broker_for_real_workers(request):
    """Tests that start real worker processes begin with an empty broker: the tasks earlier tests
    queued (their on-commit dispatches) would otherwise reach these workers first, one per poll of
    the filesystem transport, and hold the test's own task back past its wait."""
    if request.node.get_closest_marker("worker"):
        from cxgov.celery import app

        app.control.purge()


@pytest.fixture(autouse=True)
def _no_throttle_counts_carried_over():
    # API throttles count requests in the cache: every test starts with nothing counted against it.
    _forget_throttle_counts()


@pytest.fixture
def org(db):
    """Billing (led by `leader`) and Logistics (led by `other_leader`), both non-customer-facing,
    plus customer-facing Customer Care; one user per role."""

    def person(username, role, **extra):
        user = User(username=username, role=role, first_name=username.title(), **extra)
        user.set_password(PASSWORD)
        user.save()
        return user

    users = {
        "admin": person("admin", Role.ADMINISTRATOR),
        "cx": person("cx", Role.CX_TEAM),
        "leader": person("leader", Role.LEADER),
        "other_leader": person("other_leader", Role.LEADER),
        "stakeholder": person("stakeholder", Role.STAKEHOLDER),
    }
    billing = Function.objects.create(name="Billing", slug="billing", leader=users["leader"])
    logistics = Function.objects.create(name="Logistics", slug="logistics", leader=users["other_leader"])
    care = Function.objects.create(name="Customer Care", slug="customer-care", customer_facing=True)
    Membership.objects.create(person=users["leader"], function=billing)
    Membership.objects.create(person=users["other_leader"], function=logistics)
    Membership.objects.create(person=users["stakeholder"], function=billing)
    invoice = Accountability.objects.create(function=billing, role="A", subject="Invoice accuracy")
    delivery = Accountability.objects.create(function=logistics, role="A", subject="On-time delivery")
    return {
        **users,
        "billing": billing,
        "logistics": logistics,
        "care": care,
        "invoice": invoice,
        "delivery": delivery,
    }


@pytest.fixture
def client_for(client):
    """Log the Django test client in as the named user of `org`."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def api_for():
    """A DRF client authenticated with the user's token, as a system would call the API."""
    from rest_framework.authtoken.models import Token

    def make(user):
        api = APIClient()
        token, _ = Token.objects.get_or_create(user=user)
        api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return api

    return make


class Inbox:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it accepted. ``fail``
    makes it answer the next DATA commands with the given replies (e.g. "451 try later", "550 no
    such user"); ``stop()`` and ``start()`` take it down and bring it back on the same port."""

    def __init__(self):
        self.messages = []
        self.fail = []
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._controller = None

    async def handle_DATA(self, server, session, envelope):
        if self.fail:
            return self.fail.pop(0)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def start(self):
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)  # a stopped one cannot restart
        self._controller.start()

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    inbox.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", inbox.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.SITE_URL = "https://cxgov.example.com"
    yield inbox
    inbox.stop()


@pytest.fixture
def sent_tasks(monkeypatch):
    """Background tasks handed to the broker by ``cxgov.lib.dispatch``, recorded as (name, kwargs)
    instead of being sent."""
    from cxgov.lib import dispatch

    sent = []
    monkeypatch.setattr(dispatch, "_publish", lambda pending: sent.append((pending.task, pending.kwargs)))
    return sent
