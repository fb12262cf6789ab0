"""Unsubscribe links work without a login for 60 days; an older one sends the person to log in."""

import time

import pytest
from django.core import signing

from digests import services
from digests.models import DigestPreference


def _token_made_days_ago(monkeypatch, user, days: float) -> str:
    then = time.time() - days * 24 * 3600
    with monkeypatch.context() as patched:
        patched.setattr(signing.time, "time", lambda: then)
        return services.unsubscribe_token(user)


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_link_older_than_60_days_offers_to_log_in_instead(org, client, monkeypatch, method):
    token = _token_made_days_ago(monkeypatch, org["leader"], 61)
    response = getattr(client, method)(f"/digests/unsubscribe/{token}/")
    assert response.status_code == 400
    page = response.content.decode()
    assert "This unsubscribe link has expired" in page and "60 days" in page
    assert "/accounts/login/?next=/digests/" in page
    assert not DigestPreference.objects.filter(user=org["leader"], frequency="off").exists()


def test_a_link_59_days_old_still_unsubscribes(org, client, monkeypatch):
    token = _token_made_days_ago(monkeypatch, org["leader"], 59)
    response = client.post(f"/digests/unsubscribe/{token}/")
    assert response.status_code == 200 and "You are unsubscribed" in response.content.decode()
    assert DigestPreference.objects.get(user=org["leader"]).frequency == "off"


def test_a_link_signed_with_another_key_is_refused(org, client, settings):
    settings.SECRET_KEY = "the-old-public-constant-anyone-could-read-in-the-source-code-0123"
    forged = services.unsubscribe_token(org["leader"])
    settings.SECRET_KEY = "a-different-key-made-for-this-install-only-abcdefghijklmnopqrstuv"
    response = client.post(f"/digests/unsubscribe/{forged}/")
    assert response.status_code == 400 and "This link does not work" in response.content.decode()
