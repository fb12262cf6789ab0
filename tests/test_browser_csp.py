"""The Content-Security-Policy blocks nothing the app itself does: each role's main pages, in Chromium."""

import pytest

from tests.test_browser import _log_in, page  # noqa: F401  (page is a fixture)

pytestmark = pytest.mark.browser

PAGES = [
    "/",
    "/functions/",
    "/functions/billing/",
    "/accountabilities/",
    "/people/",
    "/ownership/",
    "/ownership/executive/",
    "/ownership/ledger/",
    "/ownership/ledger/costs/",
    "/outcomes/",
    "/rootcause/issues/",
    "/rootcause/pareto/",
    "/rootcause/pareto/what-works/",
    "/rootcause/discovery/",
    "/rootcause/models/",
    "/rootcause/review/",
    "/metrics/",
    "/demo/",
    "/metrics/csat/",
    "/metrics/driver-analysis/",
    "/metrics/csat/schedule/",
    "/alerts/",
    "/alerts/rules/",
    "/alerts/metric/csat/new/",
    "/alerts/metric/csat/new/?kind=control",
    "/digests/",
    "/digests/preview/",
    "/api/docs/",
    "/no/such/page/",
]


@pytest.mark.parametrize("username", ["admin", "cx", "leader", "stakeholder"])
def test_main_pages_run_under_the_policy_without_violations(transactional_db, org, live_server, page, username):  # noqa: F811
    from metrics.models import Metric

    Metric.objects.create(name="CSAT", slug="csat", calculator="csat", kind="outcome", owning_function=org["billing"])
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append((page.url, message.text)) if "Content Security Policy" in message.text else None
        ),
    )
    _log_in(page, live_server, username)
    page.wait_for_load_state("networkidle")
    for path in PAGES:
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
    assert violations == []
