"""Shared fixtures: a small organisation with one named user per role (as in hc/test.py)."""

import pytest
from rest_framework.test import APIClient

from cxgov.models import Accountability, Function, Membership, Role, User

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashers are slow on purpose; tests only need passwords to round-trip.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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


@pytest.fixture
def sent_tasks(monkeypatch):
    """Background tasks handed to the broker by ``cxgov.lib.dispatch``, recorded as (name, kwargs)
    instead of being sent."""
    from cxgov.lib import dispatch

    sent = []
    monkeypatch.setattr(dispatch, "_publish", lambda pending: sent.append((pending.task, pending.kwargs)))
    return sent
