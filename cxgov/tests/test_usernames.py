"""Usernames ignore case: at login, and as a unique name."""

import pytest

from conftest import PASSWORD


def test_login_ignores_the_case_of_the_username(org, client):
    response = client.post("/accounts/login/", {"username": "LEADER", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").context["user"] == org["leader"]


def test_a_username_differing_only_in_case_is_refused_with_a_message(org, client_for):
    page = client_for(org["admin"]).post(
        "/people/new/", {"username": "Leader", "first_name": "Other", "role": "stakeholder", "is_active": "on"}
    )
    assert page.status_code == 200
    assert "Someone has this username already (usernames ignore case)." in page.content.decode()


@pytest.mark.django_db
def test_the_database_refuses_a_case_variant_too(org):
    from django.db import IntegrityError

    from cxgov.models import User

    with pytest.raises(IntegrityError):
        User.objects.create(username="ADMIN")
