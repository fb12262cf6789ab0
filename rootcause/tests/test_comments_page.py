"""The comments page: filters, bulk add or remove of a sub-theme as a background job with its
progress, permissions per role, and a constant number of queries."""

from datetime import UTC, datetime

import pytest

from metrics.models import SurveyResponse
from rootcause import services
from rootcause.models import BulkTagJob, CommentTag, KeyDriver, SubTheme, TagOrigin
from rootcause.tasks import bulk_tag


def _comment(external_id, text, source="shop", segment="", day=1, score=1):
    return SurveyResponse.objects.create(
        source=source,
        external_id=external_id,
        responded_at=datetime(2026, 3, day, 12, tzinfo=UTC),
        score=score,
        scale="csat",
        comment=text,
        segment=segment,
    )


@pytest.fixture
def data(db):
    driver = KeyDriver.objects.create(name="Delivery", slug="delivery")
    late = SubTheme.objects.create(driver=driver, name="Late", slug="late", keywords="late")
    price = SubTheme.objects.create(driver=driver, name="Price", slug="price", keywords="price")
    _comment("1", "parcel late", day=1, segment="gold")
    _comment("2", "price too high", day=2)
    _comment("3", "lovely dress", source="airline", day=3)
    services.comments_tag()
    manual = _comment("4", "wrong colour", day=4)
    CommentTag.objects.create(response=manual, sub_theme=price, origin=TagOrigin.MANUAL)
    return {"late": late, "price": price}


def _ids(client, query):
    page = client.get(f"/rootcause/comments/?{query}")
    assert page.status_code == 200
    return sorted(r.external_id for r in page.context["page"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["1", "2", "3", "4"]),
        ("source=airline", ["3"]),
        ("segment=gold", ["1"]),
        ("start=2026-03-02&end=2026-03-03", ["2", "3"]),
        ("q=PARCEL", ["1"]),
        ("sub_theme={price}", ["2", "4"]),
        ("sub_theme={price}&origin=manual", ["4"]),
        ("origin=rule", ["1", "2"]),
        ("untagged=on", ["3"]),
    ],
)
def test_the_comments_page_filters(org, client_for, data, query, expected):
    assert _ids(client_for(org["stakeholder"]), query.format(price=data["price"].pk)) == expected


def test_a_bad_filter_is_shown_and_lists_nothing(org, client_for, data):
    page = client_for(org["cx"]).get("/rootcause/comments/?start=2026-03-05&end=2026-03-01")
    assert "The start is after the end." in page.content.decode() and not page.context["page"].object_list


@pytest.mark.django_db(transaction=True)
def test_the_cx_team_adds_a_sub_theme_to_all_matching_comments_with_a_progress_bar(org, client_for, data, sent_tasks):
    client = client_for(org["cx"])
    html = client.get("/rootcause/comments/?source=shop").content.decode()
    assert 'id="bulk-tag"' in html and "All 3 matching comments" in html
    response = client.post(
        "/rootcause/comments/bulk/?source=shop&page=2", {"action": "add", "sub_theme": data["late"].pk}
    )
    job = BulkTagJob.objects.get()
    assert response.status_code == 302 and response.url == f"/rootcause/comments/?source=shop&job={job.pk}"
    assert (job.total, job.filters, job.created_by) == (3, {"source": "shop"}, org["cx"])
    page = client.get(response.url).content.decode()
    assert 'role="progressbar"' in page and "0 of 3 comments" in page and 'hx-trigger="every 1s"' in page
    [(name, kwargs)] = [sent for sent in sent_tasks if sent[0] == "rootcause.bulk_tag"]
    bulk_tag(**kwargs)
    done = client.get(f"/rootcause/comments/jobs/{job.pk}/").content.decode()
    assert "3 comments done, 2 changed" in done and "hx-trigger" not in done
    tagged = CommentTag.objects.filter(sub_theme=data["late"], rejected=False)
    assert sorted(tagged.values_list("response__external_id", flat=True)) == ["1", "2", "4"]
    assert set(tagged.values_list("origin", flat=True)) == {"manual"}


def test_a_bulk_change_that_matches_nothing_says_so(org, client_for, data):
    client = client_for(org["cx"])
    response = client.post(
        "/rootcause/comments/bulk/?q=zebra", {"action": "add", "sub_theme": data["late"].pk}, follow=True
    )
    assert "No comment matches these filters: nothing to change." in response.content.decode()
    assert not BulkTagJob.objects.exists()


@pytest.mark.parametrize(
    ("username", "can_tag"), [("admin", True), ("cx", True), ("leader", False), ("stakeholder", False)]
)
def test_everyone_reads_the_comments_and_only_cx_and_administrators_tag_in_bulk(
    org, client_for, data, username, can_tag
):
    client = client_for(org[username])
    page = client.get("/rootcause/comments/")
    assert page.status_code == 200 and ('id="bulk-tag"' in page.content.decode()) is can_tag
    response = client.post("/rootcause/comments/bulk/", {"action": "remove", "sub_theme": data["price"].pk})
    assert response.status_code == (302 if can_tag else 403)
    assert BulkTagJob.objects.exists() is can_tag


def test_the_comments_page_keeps_a_constant_number_of_queries(org, client_for, django_assert_num_queries, data):
    client = client_for(org["cx"])
    job = services.bulk_tag_start(user=org["cx"], action="add", sub_theme=data["late"], filters={})
    for batch in range(2):
        for i in range(5):
            _comment(f"b{batch}-{i}", "late and price", segment=f"s{batch}{i}")
        SubTheme.objects.create(driver=data["late"].driver, name=f"T{batch}", slug=f"t{batch}", keywords=f"t{batch}")
        services.comments_tag()
        # 10: the source choices are cached per feedback version (tagging just bumped it): its read, then the DISTINCT.
        with django_assert_num_queries(10):
            assert client.get(f"/rootcause/comments/?job={job.pk}").status_code == 200
