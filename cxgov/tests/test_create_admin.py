"""Without the demo there is nobody to log in as: ``manage.py create_admin`` makes the first
administrator and prints a one-time password; ``--hint`` says how when nobody exists."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cxgov.models import Role, User


def _run(*args):
    out = StringIO()
    call_command("create_admin", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_create_admin_prints_a_password_that_logs_in_as_an_administrator(client):
    out = _run("chief", "--email", "chief@example.com")
    password = re.search(r"one-time password: (\S+)", out).group(1)
    chief = User.objects.get(username="chief")
    assert chief.role == Role.ADMINISTRATOR and chief.is_superuser and chief.email == "chief@example.com"
    response = client.post("/accounts/login/", {"username": "chief", "password": password})
    assert response.status_code == 302 and client.get("/").context["user"] == chief
    assert "/accounts/password/" in out


@pytest.mark.django_db
def test_create_admin_refuses_a_name_taken_in_any_case(org):
    with pytest.raises(CommandError, match="exists already"):
        _run(org["admin"].username.upper())


@pytest.mark.django_db
def test_the_run_command_hint_shows_only_while_nobody_can_log_in():
    assert "manage.py create_admin" in _run("--hint")
    _run("chief")
    assert _run("--hint") == ""
