"""Money carries the site's currency (CXGOV_CURRENCY, ISO 4217) wherever it is shown: pages through
the one ``money`` filter, export headers, and a bad code stops start-up with a message."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.template import Context, Template, TemplateSyntaxError

from cxgov.lib.money import currency_problem, format_money, money_header
from cxgov.tests.test_settings import manage

pytestmark = pytest.mark.django_db  # the currency an administrator stored is read (once a minute)


def render(source: str, **context) -> str:
    return Template("{% load cxgov_tags %}" + source).render(Context(context))


@pytest.mark.parametrize(
    ("code", "compact", "exact"),
    [
        ("USD", "$12K", "$12,000.00"),
        ("EUR", "€12K", "€12,000.00"),
        ("GBP", "£12K", "£12,000.00"),
        ("JPY", "¥12K", "¥12,000"),  # no minor unit in yen
        ("CHF", "CHF 12K", "CHF 12,000.00"),
    ],
)
def test_money_filter_writes_the_configured_currency(settings, code, compact, exact):
    settings.CXGOV_CURRENCY = code
    assert render("{{ v|money }}", v=Decimal("12000")).replace("\xa0", " ") == compact
    assert render('{{ v|money:"exact" }}', v=12000.0).replace("\xa0", " ") == exact


def test_money_filter_compact_sizes_and_missing_values(settings):
    settings.CXGOV_CURRENCY = "EUR"
    assert format_money(845) == "€845"  # below a thousand: whole units, no "0.8K"
    assert format_money(Decimal("2500000")) == "€2.5M"
    assert format_money(-1500) == "-€1.5K"
    assert format_money(None) == "—" and format_money(0) == "—"  # compact sums: 0 means none recorded
    assert format_money(0, exact=True) == "€0.00" and format_money(None, exact=True) == "—"
    assert format_money("not a number") == "—" and format_money(float("nan")) == "—"


def test_money_filter_refuses_an_unknown_style():
    with pytest.raises(TemplateSyntaxError, match="exact"):
        render('{{ v|money:"short" }}', v=1)


def test_ownership_tags_money_is_the_same_filter(settings):
    settings.CXGOV_CURRENCY = "EUR"
    assert Template("{% load ownership_tags %}{{ v|money }}").render(Context({"v": 1500})) == "€1.5K"


def test_currency_codes_are_checked():
    assert currency_problem("EUR") is None
    assert "is not an ISO 4217 currency code" in currency_problem("EURO")
    assert currency_problem("eur") is not None  # settings upper-case it first


def test_export_headers_name_the_currency(settings):
    settings.CXGOV_CURRENCY = "GBP"
    assert money_header("Revenue at risk (annual)") == "Revenue at risk (annual, GBP)"
    assert money_header("Monthly revenue") == "Monthly revenue (GBP)"


def test_ownership_export_header_and_map_use_the_setting(settings, org, client_for):
    settings.CXGOV_CURRENCY = "EUR"
    from ownership.selectors import MapFilters, export_rows

    assert "Revenue at risk (annual, EUR)" in next(iter(export_rows(filters=MapFilters())))
    response = client_for(org["stakeholder"]).get("/ownership/export.csv")
    header = next(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert "Revenue at risk (annual, EUR)" in header


def test_a_bad_currency_stops_start_up_with_a_message():
    result = manage("check", CXGOV_CURRENCY="EURO")
    assert result.returncode != 0
    assert "CXGOV_CURRENCY: 'EURO' is not an ISO 4217 currency code" in result.stderr
    assert manage("check", CXGOV_CURRENCY="eur").returncode == 0  # case does not matter


def test_the_currency_an_administrator_sets_for_the_ledger_is_the_sites(
    settings, org, client_for, django_capture_on_commit_callbacks
):
    from outcomes.services import ledger_settings_save

    settings.CXGOV_CURRENCY = "USD"
    assert format_money(1500) == "$1.5K"  # nothing stored: the start-up setting
    with pytest.raises(ValidationError, match="three-letter code"):
        ledger_settings_save(user=org["admin"], currency="XYZ", discount_rate=8)  # three letters, not a currency
    client = client_for(org["cx"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/ownership/ledger/costs/", {"action": "settings", "currency": "gbp", "discount_rate": "8"})
    assert format_money(1500) == "£1.5K"  # the cached code was forgotten on saving


def test_money_costs_at_most_one_query_per_page_whatever_the_figures(settings, django_assert_num_queries):
    settings.CXGOV_CURRENCY = "EUR"
    with django_assert_num_queries(1):
        render("{% for v in values %}{{ v|money }}{% endfor %}", values=list(range(1000, 50000, 1000)))
    with django_assert_num_queries(0):  # cached for the next pages
        render("{{ v|money }}", v=1)


def test_a_page_of_amounts_reads_the_shared_cache_once(settings, monkeypatch):
    """Hundreds of amounts on a page (the ownership map) ask the shared cache (Redis in production:
    a network round trip each) once, not once per amount; a change saved here is seen at once."""
    from django.core.cache import cache

    from cxgov.lib import money

    settings.CXGOV_CURRENCY = "EUR"
    reads = []
    real_get = cache.get
    monkeypatch.setattr(cache, "get", lambda *a, **k: reads.append(a) or real_get(*a, **k))
    render("{% for v in values %}{{ v|money }}{% endfor %}", values=list(range(1000, 300000, 1000)))
    assert len(reads) == 1
    money.currency_changed()
    assert format_money(1500) == "€1.5K" and len(reads) == 2  # forgotten here at once, read again
    monkeypatch.setattr(money.time, "monotonic", lambda: 10**9)  # later than LOCAL_SECONDS
    format_money(1500)
    assert len(reads) == 3


def test_written_amounts_are_remembered_per_currency_and_equal_values_read_alike(settings):
    """Each process remembers the amounts it wrote (Babel is slow): the currency is part of what is
    remembered, so a change of currency writes new figures; -0 is written as zero whatever came first."""
    settings.CXGOV_CURRENCY = "EUR"
    assert format_money(-0.0, exact=True) == "€0.00" and format_money(0, exact=True) == "€0.00"
    assert format_money(Decimal("1234.5")) == "€1.2K" and format_money(1234.5) == "€1.2K"
    settings.CXGOV_CURRENCY = "USD"
    from cxgov.lib import money

    money.currency_changed()
    assert format_money(1234.5) == "$1.2K" and format_money(Decimal("1234.50"), exact=True) == "$1,234.50"
    assert format_money(Decimal("1234.5"), exact=True) == "$1,234.50"
