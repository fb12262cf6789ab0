"""The demo's ledger: real figures from the shared data, computed by the real services, loaded twice."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

pytestmark = pytest.mark.skipif(
    not (Path(settings.SHARED_DATA_DIR) / "telco-customer-churn.csv").exists(), reason="the shared data is not here"
)


def test_demo_ledger_has_real_figures_and_loading_again_changes_nothing(db, client):
    from cxgov.models import User
    from outcomes import selectors
    from outcomes.models import BusinessCase, ContactCost
    from rootcause.models import Issue

    quiet = open("/dev/null", "w")  # noqa: SIM115
    call_command("load_demo", stdout=quiet)
    assert BusinessCase.objects.count() == Issue.objects.count() > 0
    assert BusinessCase.objects.filter(revenue_at_risk__gt=0).exists()  # comments linked to paying customers
    assert ContactCost.objects.filter(channel="").exists()
    first = selectors.ledger_headline()
    assert first["at_risk"] is not None and first["currency"] == "USD"
    call_command("load_demo", stdout=quiet)
    again = selectors.ledger_headline()
    assert again == first
    client.force_login(User.objects.get(username="stakeholder"))
    html = client.get("/").content.decode()
    assert "Value ledger" in html and "Value at risk in open issues" in html
