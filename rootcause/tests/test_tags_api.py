"""The tags API: list comments and tags, add and remove a tag, bulk by filter as a job; the same
permissions as the pages (the CX team and administrators write, everyone reads)."""

from datetime import UTC, datetime

import pytest

from metrics.models import SurveyResponse
from rootcause import services
from rootcause.models import BulkTagJob, CommentTag, KeyDriver, SubTheme, TagOrigin
from rootcause.tasks import bulk_tag


def _comments(n, source="shop", text="parcel {i} arrived late", score=1, start=0):
    SurveyResponse.objects.bulk_create(
        SurveyResponse(
            source=source,
            external_id=f"{source}-{start + i}",
            responded_at=datetime(2026, 3, 1 + (start + i) % 28, tzinfo=UTC),
            score=score,
            scale="csat",
            comment=text.format(i=start + i),
        )
        for i in range(n)
    )


@pytest.fixture
def late(db):
    driver = KeyDriver.objects.create(name="Delivery", slug="delivery", sources=["shop"])
    return SubTheme.objects.create(driver=driver, name="Late", slug="late", keywords="late")


def _run(sent_tasks):
    for name, kwargs in sent_tasks:
        if name == "rootcause.bulk_tag":
            bulk_tag(**kwargs)


@pytest.mark.parametrize(
    ("username", "allowed"), [("admin", True), ("cx", True), ("leader", False), ("stakeholder", False)]
)
def test_adding_and_removing_a_tag_is_for_the_cx_team_and_administrators(org, api_for, late, username, allowed):
    _comments(1)
    response = SurveyResponse.objects.get()
    api = api_for(org[username])
    added = api.post("/api/comment-tags/", {"response": response.pk, "sub_theme": late.pk})
    assert added.status_code == (201 if allowed else 403)
    if not allowed:
        assert not CommentTag.objects.exists()
        assert api.get("/api/comment-tags/").status_code == 200
        return
    assert added.json()["origin"] == "manual" and not added.json()["rejected"]
    removed = api.post(f"/api/comment-tags/{added.json()['id']}/remove/")
    assert removed.status_code == 200 and removed.json()["rejected"] is True
    services.comments_tag()  # the rules match "late" but leave the CX team's rejection alone
    assert CommentTag.objects.get().rejected


def test_a_tag_outside_the_drivers_scope_is_a_400_naming_the_sub_theme(org, api_for, late):
    _comments(1, source="airline")
    answer = api_for(org["cx"]).post(
        "/api/comment-tags/", {"response": SurveyResponse.objects.get().pk, "sub_theme": late.pk}
    )
    assert answer.status_code == 400 and "not for this comment (airline)" in answer.json()["sub_theme"][0]


@pytest.mark.django_db(transaction=True)
def test_bulk_add_by_filter_runs_as_a_job_with_progress_and_tags_only_in_scope(org, api_for, late, sent_tasks):
    _comments(30)
    _comments(5, text="parcel {i} was fine", start=30)
    _comments(4, source="airline", text="flight {i} late")
    api = api_for(org["cx"])
    answer = api.post(
        "/api/comment-tags/bulk/", {"action": "add", "sub_theme": late.pk, "filters": {"q": "late"}}, format="json"
    )
    assert answer.status_code == 202, answer.json()
    job = answer.json()
    assert (job["total"], job["out_of_scope"], job["done"], job["percent"]) == (30, 4, 0, 0)
    _run(sent_tasks)
    job = api.get(f"/api/tag-jobs/{job['id']}/").json()
    assert (job["done"], job["changed"], job["percent"]) == (30, 30, 100) and job["finished_at"]
    assert CommentTag.objects.filter(sub_theme=late, origin=TagOrigin.MANUAL, rejected=False).count() == 30
    assert not CommentTag.objects.filter(response__source="airline").exists()


def test_bulk_jobs_are_safe_to_run_twice_and_resume_where_they_stopped(org, late):
    _comments(25)
    job = services.bulk_tag_start(user=org["cx"], action="add", sub_theme=late, filters={})
    services.bulk_tag_run(job_id=job.pk, chunk=10)
    BulkTagJob.objects.filter(pk=job.pk).update(finished_at=None, done=10, changed=10, last_response_id=0)
    # As if the first run stopped after one chunk and its task was delivered again:
    BulkTagJob.objects.filter(pk=job.pk).update(
        last_response_id=SurveyResponse.objects.order_by("pk").values_list("pk", flat=True)[9]
    )
    services.bulk_tag_run(job_id=job.pk, chunk=10)
    services.bulk_tag_run(job_id=job.pk, chunk=10)  # finished: nothing more
    job.refresh_from_db()
    assert (job.done, job.total, job.percent) == (25, 25, 100)
    assert CommentTag.objects.filter(sub_theme=late).count() == 25


def test_bulk_add_makes_rule_tags_manual_and_bulk_remove_keeps_rejections(org, late):
    _comments(4)
    services.comments_tag()
    assert set(CommentTag.objects.values_list("origin", flat=True)) == {"rule"}
    job = services.bulk_tag_start(user=org["cx"], action="add", sub_theme=late, filters={})
    job = services.bulk_tag_run(job_id=job.pk)
    assert job.changed == 0 and set(CommentTag.objects.values_list("origin", flat=True)) == {"manual"}
    job = services.bulk_tag_start(user=org["cx"], action="remove", sub_theme=late, filters={"q": "parcel 1"})
    job = services.bulk_tag_run(job_id=job.pk)
    assert job.changed == 1
    services.comments_tag()
    assert CommentTag.objects.filter(rejected=True).count() == 1


@pytest.mark.parametrize("username", ["leader", "stakeholder"])
def test_only_the_cx_team_and_administrators_tag_in_bulk(org, api_for, late, username):
    _comments(2)
    answer = api_for(org[username]).post("/api/comment-tags/bulk/", {"action": "add", "sub_theme": late.pk})
    assert answer.status_code == 403 and not BulkTagJob.objects.exists()


def test_bad_bulk_requests_are_refused_with_a_clear_message(org, api_for, late):
    _comments(2)
    api = api_for(org["cx"])
    assert (
        "is not a valid choice"
        in api.post("/api/comment-tags/bulk/", {"action": "x", "sub_theme": late.pk}).json()["action"][0]
    )
    unknown = api.post("/api/comment-tags/bulk/", {"action": "add", "sub_theme": late.pk, "filters": {"colour": "red"}})
    assert unknown.status_code == 400 and "colour" in unknown.json()["filters"]
    nothing = api.post(
        "/api/comment-tags/bulk/", {"action": "add", "sub_theme": late.pk, "filters": {"source": "airline"}}
    )
    assert nothing.status_code == 400 and "nothing to change" in nothing.json()["filters"][0]
    assert api.get("/api/comments/?start=2026-05-01&end=2026-04-01").status_code == 400
    assert not BulkTagJob.objects.exists()


def test_the_comments_api_filters_like_the_page(org, api_for, late):
    _comments(3)
    _comments(2, text="all good {i}", start=3)
    services.comments_tag()
    api = api_for(org["stakeholder"])
    assert api.get("/api/comments/?untagged=true").json()["count"] == 2
    tagged = api.get(f"/api/comments/?sub_theme={late.pk}&origin=rule").json()
    assert tagged["count"] == 3 and tagged["results"][0]["tags"][0]["label"] == "Delivery › Late"
    assert api.get("/api/comments/?q=GOOD").json()["count"] == 2


@pytest.mark.parametrize(("url", "queries"), [("/api/comments/", 4), ("/api/comment-tags/", 3), ("/api/tag-jobs/", 3)])
def test_the_tags_api_keeps_a_constant_number_of_queries(org, api_for, late, django_assert_num_queries, url, queries):
    api = api_for(org["cx"])
    for batch in range(2):
        _comments(5, start=batch * 5)
        services.comments_tag()
        services.bulk_tag_start(user=org["cx"], action="add", sub_theme=late, filters={})
        with django_assert_num_queries(queries):
            assert api.get(url).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_two_workers_running_one_bulk_job_at_once_do_each_chunk_once(org, late):
    import threading

    from django.db import connections

    _comments(60)
    job = services.bulk_tag_start(user=org["cx"], action="add", sub_theme=late, filters={})
    start, errors = threading.Barrier(2), []

    def worker():
        try:
            start.wait()
            services.bulk_tag_run(job_id=job.pk, chunk=7)
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    job.refresh_from_db()
    assert not errors
    assert (job.done, job.changed, job.percent) == (60, 60, 100)
    assert CommentTag.objects.filter(sub_theme=late, rejected=False).count() == 60
