"""The Pareto as a heavy analysis: it follows its filter (dates as a range, verbatims of the
filtered comments), is cached per filter and data version (services bump it), refuses at once
with a 503 when every slot is busy, and stops past the statement timeout (PostgreSQL)."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cxgov.lib import heavy
from metrics.models import SurveyResponse
from metrics.services import responses_upsert
from rootcause import selectors, services
from rootcause.models import CommentTag, KeyDriver, SubTheme


def _comment(external_id, text, *themes, at=datetime(2026, 3, 2, 12, tzinfo=UTC), score=1, customer=""):
    response = SurveyResponse.objects.create(
        source="shop",
        external_id=external_id,
        responded_at=at,
        score=score,
        scale="csat",
        comment=text,
        customer_id=customer,
    )
    for theme in themes:
        CommentTag.objects.create(response=response, sub_theme=theme)
    return response


@pytest.fixture
def themes(db):
    driver = KeyDriver.objects.create(name="Service", slug="service")
    return [
        SubTheme.objects.create(driver=driver, name=name, slug=name.lower(), keywords=name.lower())
        for name in ("Alpha", "Beta")
    ]


def test_a_date_filter_keeps_whole_days_and_the_verbatims_come_from_the_filtered_comments(themes):
    alpha, beta = themes
    _comment("before", "alpha too early", alpha, at=datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC))
    _comment("first", "alpha first day", alpha, at=datetime(2026, 3, 1, 0, 0, tzinfo=UTC))
    _comment("last", "alpha and beta last day", alpha, beta, at=datetime(2026, 3, 7, 23, 59, 59, tzinfo=UTC))
    _comment("after", "beta too late", beta, at=datetime(2026, 3, 8, 0, 0, tzinfo=UTC))
    analysis = selectors.pareto_analysis(
        responses=selectors.responses_for(start=date(2026, 3, 1), end=date(2026, 3, 7))
    )
    assert (analysis["comments"], analysis["tagged"]) == (2, 2)
    rows = {item["theme"].name: item for item in analysis["rows"]}
    assert {name: item["row"].value for name, item in rows.items()} == {"Alpha": 2, "Beta": 1}
    assert [s["comment"] for s in rows["Alpha"]["samples"]] == ["alpha and beta last day", "alpha first day"]
    assert [s["comment"] for s in rows["Beta"]["samples"]] == ["alpha and beta last day"]


@pytest.mark.parametrize("window", [True, False])
def test_both_ways_of_reading_verbatims_give_the_latest_three_of_each_sub_theme(themes, window):
    alpha, beta = themes
    for i in range(5):
        _comment(f"a{i}", f"alpha {i}", alpha, *([beta] if i % 2 else []))
    tags = CommentTag.objects.filter(rejected=False, response__in=selectors.responses_for().values("pk"))
    found = selectors._samples(tags, [alpha.pk, beta.pk], window=window)
    by_theme = {pk: sorted(c for t, _, c, *_ in found if t == pk) for pk in (alpha.pk, beta.pk)}
    assert by_theme == {alpha.pk: ["alpha 2", "alpha 3", "alpha 4"], beta.pk: ["alpha 1", "alpha 3"]}


def test_revenue_weights_each_comment_by_its_customer_once_per_sub_theme(themes):
    from metrics.models import Customer

    alpha, beta = themes
    Customer.objects.create(external_id="c1", monthly_revenue=100)
    Customer.objects.create(external_id="c2", monthly_revenue=30)
    _comment("1", "alpha and beta", alpha, beta, customer="c1")
    _comment("2", "beta", beta, customer="c2")
    _comment("3", "beta, no customer", beta)
    analysis = selectors.pareto_analysis(responses=selectors.responses_for(), weight_by_revenue=True)
    assert [(i["theme"].name, i["row"].value, round(i["row"].cumulative, 2)) for i in analysis["rows"]] == [
        ("Beta", 130.0, 100.0),
        ("Alpha", 100.0, 100.0),
    ]
    assert analysis["tagged"] == 3


def test_the_page_is_cached_per_filter_until_a_service_changes_the_comments(themes, org, client_for):
    alpha, beta = themes
    response = _comment("1", "alpha", alpha)
    _comment("2", "beta", beta)
    client = client_for(org["cx"])
    first = client.get("/rootcause/pareto/").context["analysis"]
    assert [(i["theme"].name, i["row"].value) for i in first["rows"]] == [("Alpha", 1.0), ("Beta", 1.0)]
    # A direct write (not through a service) leaves the cached answer as it was...
    CommentTag.objects.create(response=response, sub_theme=beta)
    with CaptureQueriesContext(connection) as queries:  # no analysis query: the cached figures
        again = client.get("/rootcause/pareto/").context["analysis"]
    assert not [q for q in queries.captured_queries if "per.combo" in q["sql"]]
    assert [(i["theme"].name, i["row"].value) for i in again["rows"]] == [("Alpha", 1.0), ("Beta", 1.0)]
    # ...another filter is its own entry, computed now...
    other = client.get("/rootcause/pareto/?source=shop").context["analysis"]
    assert [(i["theme"].name, i["row"].value) for i in other["rows"]] == [("Beta", 2.0), ("Alpha", 1.0)]
    # ...and a service's change (here the CX team's tag) bumps the version: recomputed.
    before = heavy.current(heavy.FEEDBACK)
    services.tag_set(user=org["cx"], response=response, sub_theme=alpha, present=False)
    assert heavy.current(heavy.FEEDBACK) == before + 1
    after = client.get("/rootcause/pareto/").context["analysis"]
    assert [(i["theme"].name, i["row"].value) for i in after["rows"]] == [("Beta", 2.0)]


def test_imports_and_tagging_bump_the_feedback_version(themes):
    before = heavy.current(heavy.FEEDBACK)
    responses_upsert(
        responses=[
            SurveyResponse(
                source="shop", external_id="n1", responded_at=datetime(2026, 1, 1, tzinfo=UTC), comment="alpha"
            )
        ]
    )
    assert heavy.current(heavy.FEEDBACK) > before
    middle = heavy.current(heavy.FEEDBACK)
    services.comments_tag()
    assert heavy.current(heavy.FEEDBACK) > middle
    settled = heavy.current(heavy.FEEDBACK)
    services.comments_tag()  # nothing to change: the cached analyses stay valid
    assert heavy.current(heavy.FEEDBACK) == settled


def test_with_every_slot_busy_the_page_and_the_api_answer_503_at_once_and_health_still_answers(
    themes, org, client_for, api_for, settings
):
    _comment("1", "alpha", themes[0])
    semaphore = heavy._semaphore()
    held = 0
    while semaphore.acquire(blocking=False):
        held += 1
    try:
        assert held == settings.HEAVY_ANALYSIS_SLOTS
        page = client_for(org["cx"]).get("/rootcause/pareto/?source=shop")
        assert page.status_code == 503 and page["Retry-After"]
        assert "Other analyses are running" in page.content.decode()
        assert 'name="source"' in page.content.decode()  # the filter form is still there
        api = api_for(org["stakeholder"]).get("/api/pareto/?source=shop")
        assert api.status_code == 503 and "Other analyses are running" in api.json()["detail"]
        assert client_for(org["cx"]).get("/healthz").status_code in (200, 503)  # answered, not queued
    finally:
        for _ in range(held):
            semaphore.release()
    assert client_for(org["cx"]).get("/rootcause/pareto/?source=shop").status_code == 200


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the site's slots are PostgreSQL advisory locks")
def test_with_the_site_slots_taken_by_other_processes_this_one_answers_503_and_computes_once_one_is_free(
    themes, org, client_for, settings
):
    """Every web process counts against the same site slots: another process (here another
    database session) holding them all makes this one refuse at once; let go, it computes."""
    import psycopg

    _comment("1", "alpha", themes[0])
    settings.HEAVY_ANALYSIS_SITE_SLOTS = 2
    params = connection.get_connection_params()
    other = psycopg.connect(
        **{k: v for k, v in params.items() if k in ("dbname", "user", "host", "port", "password")}, autocommit=True
    )
    try:
        for n in range(2):
            other.execute("SELECT pg_advisory_lock(%s, %s)", [heavy.SITE_SLOT_LOCKS, n])
        page = client_for(org["cx"]).get("/rootcause/pareto/?source=shop")
        assert page.status_code == 503 and "Other analyses are running" in page.content.decode()
        other.execute("SELECT pg_advisory_unlock(%s, %s)", [heavy.SITE_SLOT_LOCKS, 1])
        page = client_for(org["cx"]).get("/rootcause/pareto/?source=shop")
        assert page.status_code == 200 and page.context["analysis"]["rows"]
    finally:
        other.close()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="statement_timeout is PostgreSQL's")
def test_past_the_statement_timeout_the_page_says_to_narrow_the_filter(
    themes, org, client_for, api_for, settings, monkeypatch
):
    def slow(**kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(2)")

    monkeypatch.setattr(selectors, "pareto_analysis", slow)
    settings.HEAVY_ANALYSIS_TIMEOUT = 0.05
    page = client_for(org["cx"]).get("/rootcause/pareto/?cutoff=70")
    assert page.status_code == 503 and "try a narrower filter" in page.content.decode()
    api = api_for(org["stakeholder"]).get("/api/pareto/?cutoff=70")
    assert api.status_code == 503 and "narrower filter" in api.json()["detail"]
    # The timeout was local to the analysis: the connection goes on without it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(0.1), current_setting('statement_timeout')")
        assert cursor.fetchone()[1] in ("0", "0ms")
