"""Every page tells the browser to run only our own scripts and to refuse features cxgov never uses."""

import re
from pathlib import Path

import pytest


@pytest.mark.parametrize("url", ["/", "/accounts/login/", "/functions/", "/api/docs/"])
def test_pages_carry_a_strict_content_security_policy(org, client_for, url):
    response = client_for(org["cx"]).get(url)
    assert response.status_code == 200
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no inline script, no eval, no other host
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"


def test_pages_refuse_browser_features_cxgov_never_uses(org, client_for):
    response = client_for(org["leader"]).get("/")
    features = response["Permissions-Policy"]
    assert "camera=()" in features and "geolocation=()" in features and "microphone=()" in features


def test_the_api_docs_page_keeps_its_script_in_a_file(org, client_for):
    client = client_for(org["leader"])
    page = client.get("/api/docs/").content.decode()
    assert "<script>" not in page.replace(" ", "")
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|javascript:", re.IGNORECASE)


def test_page_templates_keep_scripts_and_handlers_in_files():
    # Emails are not pages (no policy applies in a mail client) and may carry their styles inline.
    root = Path(__file__).resolve().parents[2] / "templates"
    offenders = [
        f"{template.relative_to(root)}: {match.group()}"
        for template in root.rglob("*.html")
        if "emails" not in template.parts
        for match in INLINE_SCRIPT.finditer(template.read_text())
    ]
    assert offenders == []
