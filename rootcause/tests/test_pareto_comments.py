"""Pareto counts comments (a comment with several sub-themes counts in each, the total once),
filters by source, and an issue opened from a filtered row quotes that filter's comments."""

from datetime import UTC, datetime

import pytest

from metrics.models import SurveyResponse
from rootcause import selectors
from rootcause.models import CommentTag, Issue, KeyDriver, SubTheme
from rootcause.pareto import pareto


def _comment(external_id, text, *themes, source="shop", score=1, scale="csat"):
    response = SurveyResponse.objects.create(
        source=source,
        external_id=external_id,
        responded_at=datetime(2026, 3, 1, tzinfo=UTC),
        score=score,
        scale=scale,
        comment=text,
    )
    for theme in themes:
        CommentTag.objects.create(response=response, sub_theme=theme)
    return response


@pytest.fixture
def themes(db):
    driver = KeyDriver.objects.create(name="Service", slug="service")
    return [
        SubTheme.objects.create(driver=driver, name=name, slug=name.lower(), keywords=name.lower())
        for name in ("Alpha", "Beta", "Gamma")
    ]


def test_shares_are_of_comments_with_the_cumulative_counting_each_comment_once():
    rows = pareto(
        {"a": ("A", 2), "b": ("B", 2), "c": ("C", 1)},
        cutoff=80,
        total=4,  # four comments carry a sub-theme; one of them carries A and B
        covered=[2, 3, 4],
    )
    assert [(r.label, r.share, r.cumulative, r.vital) for r in rows] == [
        ("A", 50.0, 50.0, True),
        ("B", 50.0, 75.0, True),
        ("C", 25.0, 100.0, True),  # A and B cover only 75% of the comments
    ]


def test_a_comment_with_two_sub_themes_counts_in_each_row_and_once_in_the_total(themes):
    alpha, beta, gamma = themes
    _comment("1", "alpha and beta", alpha, beta)
    _comment("2", "alpha", alpha)
    _comment("3", "beta", beta)
    _comment("4", "gamma", gamma)
    _comment("5", "nothing")
    analysis = selectors.pareto_analysis(responses=selectors.responses_for(), cutoff=80)
    assert (analysis["comments"], analysis["tagged"]) == (5, 4)
    assert [(i["theme"].name, i["row"].value, i["row"].share, i["row"].cumulative) for i in analysis["rows"]] == [
        ("Alpha", 2, 50.0, 50.0),
        ("Beta", 2, 50.0, 75.0),
        ("Gamma", 1, 25.0, 100.0),
    ]


def test_revenue_weighted_shares_count_each_comment_once_in_the_total(themes):
    from metrics.models import Customer

    alpha, beta, _ = themes
    Customer.objects.create(external_id="c1", monthly_revenue=30)
    Customer.objects.create(external_id="c2", monthly_revenue=10)
    both = _comment("1", "alpha and beta", alpha, beta)
    one = _comment("2", "beta", beta)
    SurveyResponse.objects.filter(pk=both.pk).update(customer_id="c1")
    SurveyResponse.objects.filter(pk=one.pk).update(customer_id="c2")
    analysis = selectors.pareto_analysis(responses=selectors.responses_for(), weight_by_revenue=True)
    assert [(i["theme"].name, i["row"].value, i["row"].share, i["row"].cumulative) for i in analysis["rows"]] == [
        ("Beta", 40, 100.0, 100.0),
        ("Alpha", 30, 75.0, 100.0),
    ]


def test_the_pareto_page_states_the_comments_and_how_a_comment_with_several_sub_themes_counts(org, client_for, themes):
    alpha, beta, _ = themes
    _comment("1", "alpha and beta", alpha, beta)
    _comment("2", "nothing")
    html = client_for(org["cx"]).get("/rootcause/pareto/").content.decode()
    assert "<strong>2</strong> comments match these filters; <strong>1</strong> carry a sub-theme" in html
    assert "a comment with several sub-themes counts in each" in html


def test_pareto_filters_by_source_on_the_page_and_in_the_api(org, client_for, api_for, themes):
    alpha, beta, _ = themes
    _comment("1", "alpha", alpha, source="shop")
    _comment("2", "beta", beta, source="airline")
    _comment("3", "beta", beta, source="airline")
    page = client_for(org["cx"]).get("/rootcause/pareto/?source=airline")
    assert [i["theme"].name for i in page.context["analysis"]["rows"]] == ["Beta"]
    assert page.context["analysis"]["comments"] == 2
    assert '<option value="airline" selected>airline</option>' in page.content.decode()
    body = api_for(org["stakeholder"]).get("/api/pareto/?source=shop").json()
    assert body["comments"] == 1 and [r["label"] for r in body["rows"]] == ["Service › Alpha"]


def test_an_issue_opened_from_a_dissatisfied_only_pareto_row_quotes_only_those_comments(org, client_for, themes):
    alpha = themes[0]
    for i in range(10):
        _comment(f"praise-{i}", f"alpha is wonderful {i}", alpha, score=5)
    for i in range(3):
        _comment(f"complaint-{i}", f"alpha was awful {i}", alpha, score=1)
    client = client_for(org["cx"])
    pareto_page = client.get("/rootcause/pareto/?dissatisfied_only=on&source=shop").content.decode()
    link = f"/rootcause/issues/new/?sub_theme={alpha.pk}&amp;source=shop&amp;dissatisfied_only=on"
    assert link in pareto_page
    url = link.replace("&amp;", "&")
    form_page = client.get(url)
    assert form_page.context["evidence"]["comments"]["total"] == 3
    response = client.post(
        url,
        {
            "title": "Alpha",
            "sub_theme": alpha.pk,
            "priority": "high",
            "measure_kind": "share",
            "expected_improvement": 20,
        },
    )
    assert response.status_code == 302
    evidence = Issue.objects.get().evidence
    assert evidence["comments"]["total"] == 3
    assert evidence["verbatims"] and all("awful" in text for text in evidence["verbatims"])
    assert evidence["filters"] == {"source": "shop", "dissatisfied_only": True}
    assert (
        "From the Pareto of: Source shop · Dissatisfied"
        in client.get(f"/rootcause/issues/{Issue.objects.get().pk}/").content.decode()
    )
