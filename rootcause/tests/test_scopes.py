"""Scoped taxonomies: a key driver tags only the comments of the sources (and segments) it is
written for, when tagging and when re-tagging."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from metrics.models import SurveyResponse
from rootcause import services, tagging
from rootcause.models import CommentTag, KeyDriver, SubTheme, TaggingRun


def _comment(external_id, text, source, segment=""):
    return SurveyResponse.objects.create(
        source=source,
        external_id=external_id,
        responded_at=datetime(2026, 3, 1, tzinfo=UTC),
        score=1,
        scale="csat",
        comment=text,
        segment=segment,
    )


def _tagged(theme):
    return sorted(
        CommentTag.objects.filter(sub_theme=theme, rejected=False).values_list("response__external_id", flat=True)
    )


@pytest.fixture
def refund(db):
    driver = KeyDriver.objects.create(name="Returns", slug="returns", sources=["clothing-reviews"])
    return SubTheme.objects.create(driver=driver, name="Refund", slug="refund", keywords="refund")


def test_rules_apply_only_within_their_scope():
    [rule] = tagging.compile_rules([(1, ["refund"], [], ["shop"], ["gold"])])
    assert tagging.match("no refund yet", [rule], source="shop", segment="gold") == {1}
    assert tagging.match("no refund yet", [rule], source="airline", segment="gold") == set()
    assert tagging.match("no refund yet", [rule], source="shop", segment="silver") == set()
    [everywhere] = tagging.compile_rules([(2, ["refund"], [])])
    assert tagging.match("no refund yet", [everywhere], source="airline") == {2}


def test_one_sources_taxonomy_never_tags_another_sources_comments(refund):
    _comment("shop-1", "Still waiting for my refund", "clothing-reviews")
    _comment("air-1", "Still waiting for my refund after the cancelled flight", "airline")
    services.comments_tag()
    assert _tagged(refund) == ["shop-1"]


def test_segments_narrow_a_drivers_scope(refund):
    KeyDriver.objects.filter(pk=refund.driver_id).update(segments=["gold"])
    _comment("1", "refund please", "clothing-reviews", segment="gold")
    _comment("2", "refund please", "clothing-reviews", segment="basic")
    services.comments_tag()
    assert _tagged(refund) == ["1"]


def test_narrowing_a_scope_retags_and_removes_the_rule_tags_outside_it_but_keeps_manual_ones(
    org, client_for, django_capture_on_commit_callbacks, sent_tasks
):
    driver = KeyDriver.objects.create(name="Returns", slug="returns")
    refund = SubTheme.objects.create(driver=driver, name="Refund", slug="refund", keywords="refund")
    _comment("shop-1", "refund please", "clothing-reviews")
    air = _comment("air-1", "refund please", "airline")
    air_manual = _comment("air-2", "money back", "airline")
    services.comments_tag()
    services.tag_set(user=org["cx"], response=air_manual, sub_theme=refund, present=True)
    assert _tagged(refund) == ["air-1", "air-2", "shop-1"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(org["cx"]).post(
            f"/rootcause/themes/drivers/{driver.pk}/",
            {"name": "Returns", "slug": "returns", "sources": " clothing-reviews \n\nclothing-reviews", "segments": ""},
        )
    assert response.status_code == 302
    driver.refresh_from_db()
    assert (driver.sources, driver.segments) == (["clothing-reviews"], [])
    [(name, kwargs)] = sent_tasks
    assert (name, kwargs) == ("rootcause.tag_comments", {"run_id": TaggingRun.objects.get().pk})
    from rootcause.tasks import tag_comments

    tag_comments(**kwargs)
    assert _tagged(refund) == ["air-2", "shop-1"]  # the CX team's own tag stays
    assert not CommentTag.objects.filter(response=air).exists()
    page = client_for(org["cx"]).get("/rootcause/themes/").content.decode()
    assert "Tags comments from clothing-reviews." in page


def test_a_manual_tag_outside_the_drivers_scope_is_refused_with_a_clear_message(org, client_for, refund):
    air = _comment("air-1", "where is my money", "airline")
    with pytest.raises(ValidationError, match="written for clothing-reviews, not for this comment"):
        services.tag_set(user=org["cx"], response=air, sub_theme=refund, present=True)
    response = client_for(org["cx"]).post("/rootcause/tags/", {"response": air.pk, "sub_theme": refund.pk}, follow=True)
    assert response.status_code == 200 and "not for this comment (airline)" in response.content.decode()
    assert not CommentTag.objects.exists()


def test_the_demo_clothing_taxonomy_does_not_tag_airline_comments(db):
    from django.core.management import call_command

    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    airline = [
        _comment(f"air-{i}", text, "airline")
        for i, text in enumerate(
            ["I want a refund for my flight", "Lost my luggage, delivery of bags took days", "Online check-in broke"]
        )
    ]
    services.comments_tag()
    assert not CommentTag.objects.filter(response__in=airline).exists()
    assert CommentTag.objects.filter(response__source="clothing-reviews").exists()
