"""Tagging real review comments, manual tags, tagging on ingestion, and the pages."""

from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from metrics.models import SurveyResponse
from rootcause import services
from rootcause.models import CommentTag, KeyDriver, SubTheme, TaggingRun


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def _themes(external_id):
    response = SurveyResponse.objects.get(source="clothing-reviews", external_id=external_id)
    return sorted(response.tags.filter(rejected=False).values_list("sub_theme__name", flat=True))


def test_real_review_comments_get_their_known_sub_themes(demo):
    # Row 0: "Absolutely wonderful - silky and sexy and comfortable"
    assert _themes("0") == ["Soft and comfortable"]
    # Row 1: "Love this dress! it's sooo pretty. ... i bought a petite and am 5'8". i love the length ..."
    assert "Length and proportions" in _themes("1") and "Love the style" in _themes("1")
    # Row 4: "This shirt is very flattering to all due to the adjustable front tie ..."
    assert "Fits well" in _themes("4")
    covered = SurveyResponse.objects.exclude(comment="").filter(tags__rejected=False).distinct().count()
    assert covered / SurveyResponse.objects.exclude(comment="").count() > 0.9


def test_negative_keywords_and_word_boundaries(db):
    driver = KeyDriver.objects.create(name="Fit", slug="fit")
    theme = SubTheme.objects.create(
        driver=driver, name="Small", slug="small", keywords="too small\ntight", negative_keywords="not tight"
    )
    rows = [("1", "It is too small"), ("2", "Not tight at all"), ("3", "Tightly woven, lovely"), ("4", "")]
    SurveyResponse.objects.bulk_create(
        SurveyResponse(
            source="s", external_id=i, responded_at=datetime(2026, 1, 1, tzinfo=UTC), score=3, scale="csat", comment=c
        )
        for i, c in rows
    )
    services.comments_tag()
    assert set(CommentTag.objects.values_list("response__external_id", flat=True)) == {"1"}
    assert CommentTag.objects.get().sub_theme == theme


def test_manual_tags_are_never_overwritten_by_the_rules(demo):
    from cxgov.models import User

    cx = User.objects.get(username="cx")
    response = SurveyResponse.objects.get(source="clothing-reviews", external_id="0")
    soft = SubTheme.objects.get(slug="soft-and-comfortable")
    price = SubTheme.objects.get(slug="price-and-value")
    services.tag_set(user=cx, response=response, sub_theme=soft, present=False)  # CX says: not this
    services.tag_set(user=cx, response=response, sub_theme=price, present=True)  # and add this
    services.comments_tag()
    assert _themes("0") == ["Price and value"]
    assert CommentTag.objects.get(response=response, sub_theme=soft).rejected


def test_editing_rules_retags_and_removes_stale_rule_tags(demo):
    soft = SubTheme.objects.get(slug="soft-and-comfortable")
    soft.keywords = "silky"
    soft.save()
    stats = services.comments_tag()
    assert stats["removed"] > 0
    assert _themes("0") == ["Soft and comfortable"]  # "silky" still matches row 0
    assert CommentTag.objects.filter(sub_theme=soft, rejected=False).count() < 351


@pytest.mark.django_db(transaction=True)
def test_ingested_comments_are_queued_for_tagging(org, api_for, sent_tasks):
    rows = [
        {
            "source": "pulse",
            "external_id": "1",
            "responded_at": "2026-10-01T10:00:00Z",
            "score": 2,
            "scale": "csat",
            "comment": "The bill was wrong",
        }
    ]
    assert api_for(org["cx"]).post("/api/ingest/responses/", rows, format="json").status_code == 200
    [(name, kwargs)] = [sent for sent in sent_tasks if sent[0] == "rootcause.tag_comments"]
    assert kwargs["sources"] == ["pulse"]


@pytest.mark.parametrize("username", ["leader", "stakeholder"])
def test_only_cx_and_administrators_tag_by_hand(org, client_for, username, db):
    driver = KeyDriver.objects.create(name="Fit", slug="fit")
    theme = SubTheme.objects.create(driver=driver, name="Small", slug="small", keywords="small")
    response = SurveyResponse.objects.create(
        source="s", external_id="1", responded_at=datetime(2026, 1, 1, tzinfo=UTC), score=3, scale="csat", comment="meh"
    )
    result = client_for(org[username]).post("/rootcause/tags/", {"response": response.pk, "sub_theme": theme.pk})
    assert result.status_code == 403
    assert not CommentTag.objects.exists()


def test_pages_show_html_in_comments_as_text(org, client_for, db):
    driver = KeyDriver.objects.create(name="Fit", slug="fit")
    SubTheme.objects.create(driver=driver, name="Small", slug="small", keywords="small")
    SurveyResponse.objects.create(
        source="s",
        external_id="1",
        responded_at=datetime(2026, 1, 1, tzinfo=UTC),
        score=1,
        scale="csat",
        comment="<script>alert(1)</script> too small",
    )
    SurveyResponse.objects.create(
        source="s",
        external_id="2",
        responded_at=datetime(2026, 1, 1, tzinfo=UTC),
        score=1,
        scale="csat",
        comment="<b>bold</b> untagged",
    )
    services.comments_tag()
    client = client_for(org["cx"])
    for url in ("/rootcause/pareto/", "/rootcause/untagged/"):
        html = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; too small" in client.get("/rootcause/pareto/").content.decode()


def test_pareto_page_on_the_demo_reviews(demo, client_for):
    from cxgov.models import User

    response = client_for(User.objects.get(username="stakeholder")).get("/rootcause/pareto/?dissatisfied_only=on")
    rows = response.context["analysis"]["rows"]
    assert rows and rows[0]["row"].vital and rows[-1]["row"].cumulative == pytest.approx(100)
    assert all(len(item["samples"]) <= 3 for item in rows)
    assert (
        response.context["analysis"]["comments"]
        == SurveyResponse.objects.exclude(comment="").filter(score__lte=2, scale="csat").count()
    )


@pytest.mark.parametrize(
    ("url", "queries"),
    [
        # Each reads the feedback version twice: for the cached source choices and the cached analysis;
        # the analysis, computed again after the new comments, reads it once more for the praise
        # sub-themes (over all comments: one more query, then cached).
        ("/rootcause/pareto/", 18),
        ("/rootcause/pareto/what-works/", 13),  # nothing is praise here: see test_text_analysis
        ("/rootcause/themes/", 6),
        ("/rootcause/untagged/", 5),
    ],
)
def test_root_cause_pages_keep_a_constant_number_of_queries(org, client_for, django_assert_num_queries, url, queries):
    from django.db import connection

    if connection.vendor == "postgresql" and url.startswith("/rootcause/pareto/"):
        # The analysis runs under a statement timeout (cxgov/lib/heavy.py), inside the test's
        # transaction: a savepoint, the setting read, set and restored, the savepoint released;
        # and it takes one of the site's slots (an advisory lock).
        queries += 6
    client = client_for(org["admin"])
    for batch in range(2):
        driver = KeyDriver.objects.create(name=f"D{batch}", slug=f"d{batch}")
        for i in range(3):
            SubTheme.objects.create(driver=driver, name=f"T{batch}{i}", slug=f"t{batch}{i}", keywords=f"word{batch}{i}")
            SurveyResponse.objects.create(
                source="s",
                external_id=f"{batch}-{i}",
                score=1,
                scale="csat",
                responded_at=datetime(2026, 1, 1, tzinfo=UTC),
                comment=f"word{batch}{i} x",
            )
            SurveyResponse.objects.create(
                source="s",
                external_id=f"u{batch}-{i}",
                score=1,
                scale="csat",
                responded_at=datetime(2026, 1, 1, tzinfo=UTC),
                comment="nothing",
            )
        services.comments_tag()
        with django_assert_num_queries(queries):
            assert client.get(url).status_code == 200


def test_cx_edits_a_sub_theme_and_comments_are_retagged(
    org, client_for, django_capture_on_commit_callbacks, sent_tasks
):
    driver = KeyDriver.objects.create(name="Billing", slug="billing")
    client = client_for(org["cx"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/rootcause/themes/sub-themes/new/",
            {
                "driver": driver.pk,
                "name": "Wrong bill",
                "keywords": " Wrong bill \n\ncharged twice",
                "negative_keywords": "",
            },
        )
    assert response.status_code == 302
    theme = SubTheme.objects.get(name="Wrong bill")
    assert (theme.slug, theme.keywords) == ("wrong-bill", "wrong bill\ncharged twice")
    assert sent_tasks == [("rootcause.tag_comments", {"run_id": TaggingRun.objects.get().pk})]
    empty = client.post(
        f"/rootcause/themes/sub-themes/{theme.pk}/",
        {"driver": driver.pk, "name": "Wrong bill", "slug": "wrong-bill", "keywords": "  \n"},
    )
    assert "This field is required" in empty.content.decode()
    theme.refresh_from_db()
    assert theme.keywords == "wrong bill\ncharged twice"


@pytest.mark.parametrize("username", ["leader", "stakeholder"])
def test_only_cx_and_administrators_edit_themes(org, client_for, username):
    client = client_for(org[username])
    assert client.get("/rootcause/themes/sub-themes/new/").status_code == 403
    assert client.post("/rootcause/themes/drivers/new/", {"name": "X"}).status_code == 403
    assert not KeyDriver.objects.exists()
