"""Theme discovery: untagged comments grouped into candidates, and a candidate made a sub-theme."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from metrics.models import SurveyResponse
from rootcause import selectors, services, text
from rootcause.models import CommentTag, DiscoveryRun, KeyDriver, ModelStatus, SubTheme, TagOrigin, TextModel

DELIVERY = [
    "The courier left the parcel at the wrong door",
    "Parcel delivery was late and the courier never called",
    "My parcel arrived late, courier lost it twice",
    "Courier delivery took two weeks, parcel damaged",
]
ZIP = [
    "The zipper broke after one wash",
    "Zipper stuck and broke on the first day",
    "Broken zipper, the zip pull fell off",
    "The zip broke, poor zipper quality",
]


def _comments(n_each=12, source="shop"):
    rows = []
    for i in range(n_each):
        for j, group in enumerate((DELIVERY, ZIP)):
            rows.append(
                SurveyResponse(
                    source=source,
                    external_id=f"{j}-{i}",
                    responded_at=datetime(2026, 3, 1 + i, tzinfo=UTC),
                    comment=f"{group[i % len(group)]} ({i})",
                )
            )
    SurveyResponse.objects.bulk_create(rows)


def test_discover_finds_the_two_themes_seeded():
    texts = [f"{t} ({i})" for i in range(10) for t in DELIVERY + ZIP]
    first = text.discover(texts, clusters=2, seed=0)
    assert first == text.discover(texts, clusters=2, seed=0)  # seeded: the same candidates every time
    assert sorted(c["size"] for c in first) == [40, 40]
    groups = [{texts[i] in [f"{t} ({k})" for k in range(10) for t in DELIVERY] for i in c["members"]} for c in first]
    assert all(len(g) == 1 for g in groups)  # each candidate is one theme's comments only
    terms = [set(c["terms"]) for c in first]
    assert any("courier" in t or "parcel" in t for t in terms) and any("zipper" in t or "broke" in t for t in terms)


def test_too_few_comments_give_no_candidates():
    assert text.discover(["one comment", "two comments"], clusters=4) == []


def test_cx_runs_discovery_and_adopts_a_candidate_with_the_examples_kept(
    org, sent_tasks, django_capture_on_commit_callbacks
):
    _comments()
    tagged = SurveyResponse.objects.get(external_id="0-0")
    driver = KeyDriver.objects.create(name="Service", slug="service")
    other = SubTheme.objects.create(driver=driver, name="Other", slug="other", keywords="zzz")
    CommentTag.objects.create(response=tagged, sub_theme=other, origin=TagOrigin.MANUAL)

    with django_capture_on_commit_callbacks(execute=True):
        run = services.discovery_start(user=org["cx"], filters={"source": "shop"}, clusters=2)
    assert sent_tasks == [("rootcause.discover_themes", {"run_id": run.pk})]
    run = services.discovery_run(run_id=run.pk)
    assert run.total == 23 and run.percent == 100  # the tagged comment is left out
    assert services.discovery_run(run_id=run.pk) is None  # a finished run is not redone
    candidate = next(c for c in run.candidates if "courier" in c["terms"] or "parcel" in c["terms"])
    index = run.candidates.index(candidate)
    kept = [e["id"] for e in candidate["examples"][:3]]
    assert tagged.pk not in [e["id"] for c in run.candidates for e in c["examples"]]

    theme = services.discovery_adopt(
        user=org["cx"], run=run, index=index, driver=driver, name="Courier", keywords=["courier"], keep=kept
    )
    assert theme.keywords == "courier" and theme.driver == driver
    labels = CommentTag.objects.filter(sub_theme=theme)
    assert sorted(labels.values_list("response_id", flat=True)) == sorted(kept)
    assert set(labels.values_list("origin", flat=True)) == {TagOrigin.MANUAL}
    run.refresh_from_db()
    assert run.candidates[index]["adopted"] == theme.pk
    with pytest.raises(ValidationError, match="already a sub-theme"):
        services.discovery_adopt(
            user=org["cx"], run=run, index=index, driver=driver, name="Again", keywords=["x"], keep=[]
        )


def test_only_shown_examples_can_be_kept_and_only_the_cx_team_discovers(org, sent_tasks):
    _comments()
    run = services.discovery_run(run_id=services.discovery_start(user=org["admin"], filters={}, clusters=2).pk)
    driver = KeyDriver.objects.create(name="Service", slug="service")
    stranger = SurveyResponse.objects.exclude(pk__in=[e["id"] for e in run.candidates[0]["examples"]]).first()
    with pytest.raises(ValidationError, match="Keep only"):
        services.discovery_adopt(
            user=org["cx"], run=run, index=0, driver=driver, name="X", keywords=["x"], keep=[stranger.pk]
        )
    with pytest.raises(ValidationError):
        services.discovery_adopt(user=org["cx"], run=run, index=5, driver=driver, name="X", keywords=["x"], keep=[])
    for user in (org["leader"], org["stakeholder"]):
        with pytest.raises(PermissionDenied):
            services.discovery_start(user=user, filters={}, clusters=2)
        with pytest.raises(PermissionDenied):
            services.discovery_adopt(user=user, run=run, index=0, driver=driver, name="X", keywords=["x"], keep=[])
    assert not SubTheme.objects.filter(name="X").exists()
    with pytest.raises(ValidationError, match="between 2 and 30"):
        services.discovery_start(user=org["cx"], filters={}, clusters=1)


def test_discovery_leaves_out_comments_in_other_languages(db):
    SurveyResponse.objects.create(
        source="s", external_id="fr", responded_at=datetime(2026, 3, 1, tzinfo=UTC), comment="x", language="fr"
    )
    SurveyResponse.objects.create(
        source="s", external_id="en", responded_at=datetime(2026, 3, 1, tzinfo=UTC), comment="x", language="en"
    )
    assert list(selectors.discovery_comments({}).values_list("external_id", flat=True)) == ["en"]


def test_discovery_takes_comments_a_model_is_unsure_of_but_not_those_it_is_sure_of(db):
    driver = KeyDriver.objects.create(name="Service", slug="service")
    theme = SubTheme.objects.create(driver=driver, name="Late", slug="late", keywords="")
    model = TextModel.objects.create(driver=driver, version=1, status=ModelStatus.ACTIVE)
    when = datetime(2026, 3, 1, tzinfo=UTC)
    for name, origin, probability in [
        ("unsure", TagOrigin.MODEL, 0.35),
        ("sure", TagOrigin.MODEL, 0.9),
        ("person", TagOrigin.MANUAL, None),
        ("none", None, None),
    ]:
        response = SurveyResponse.objects.create(
            source="s", external_id=name, responded_at=when, comment=f"about {name}", language="en"
        )
        if origin:
            CommentTag.objects.create(
                response=response,
                sub_theme=theme,
                origin=origin,
                probability=probability,
                model=model if origin == TagOrigin.MODEL else None,
            )
    assert set(selectors.discovery_comments({}).values_list("external_id", flat=True)) == {"unsure", "none"}


def test_discovery_through_the_api(org, api_for, sent_tasks):
    _comments()
    driver = KeyDriver.objects.create(name="Service", slug="service")
    api = api_for(org["cx"])
    started = api.post("/api/theme-discovery/", {"clusters": 2, "source": "shop"}, format="json")
    assert started.status_code == 202 and started.json()["percent"] == 0
    services.discovery_run(run_id=started.json()["id"])
    run = api.get(f"/api/theme-discovery/{started.json()['id']}/").json()
    assert run["percent"] == 100 and len(run["candidates"]) == 2
    keep = [run["candidates"][0]["examples"][0]["id"]]
    body = {"candidate": 1, "driver": driver.pk, "name": "Found", "keywords": ["found"], "keep": keep}
    adopted = api.post(f"/api/theme-discovery/{run['id']}/adopt/", body, format="json")
    assert adopted.status_code == 201 and adopted.json()["name"] == "Found"
    assert CommentTag.objects.filter(sub_theme__name="Found", response_id__in=keep).count() == 1
    again = api.post(f"/api/theme-discovery/{run['id']}/adopt/", {**body, "name": "Again"}, format="json")
    assert again.status_code == 400 and "candidate" in again.json()
    bad = api.post("/api/theme-discovery/", {"clusters": 99}, format="json")
    assert bad.status_code == 400 and "clusters" in bad.json()
    refused = api_for(org["stakeholder"]).post("/api/theme-discovery/", {}, format="json")
    assert refused.status_code == 403


def test_discovery_pages(org, client_for, sent_tasks, django_assert_max_num_queries):
    _comments()
    client = client_for(org["cx"])
    response = client.post("/rootcause/discovery/", {"clusters": 2, "source": ""})
    run = DiscoveryRun.objects.get()
    assert response.status_code == 302 and response.url == f"/rootcause/discovery/{run.pk}/"
    assert "Grouping" in client.get(response.url).content.decode()  # still running: a progress bar
    run = services.discovery_run(run_id=run.pk)
    page = client.get(response.url).content.decode()
    assert page.count('class="card mb-3 candidate"') == 2 and "Make it a sub-theme" in page
    driver = KeyDriver.objects.create(name="Service", slug="service")
    example = run.candidates[0]["examples"]
    post = {
        "index": 1,
        "c0-driver": driver.pk,
        "c0-name": "Found here",
        "c0-keywords": "found\nhere",
        "c0-keep": [example[0]["id"], example[1]["id"]],
    }
    assert client.post(f"/rootcause/discovery/{run.pk}/adopt/", post).status_code == 302
    theme = SubTheme.objects.get(name="Found here")
    assert theme.keywords == "found\nhere" and theme.tags.count() == 2
    assert "Now the sub-theme" in client.get(response.url).content.decode()
    stakeholder = client_for(org["stakeholder"])
    assert stakeholder.post(f"/rootcause/discovery/{run.pk}/adopt/", post).status_code == 403
    assert "Make it a sub-theme" not in stakeholder.get(response.url).content.decode()
    for _ in range(3):
        services.discovery_run(run_id=services.discovery_start(user=org["cx"], filters={}, clusters=2).pk)
    with django_assert_max_num_queries(8):
        assert stakeholder.get("/rootcause/discovery/").status_code == 200
    with django_assert_max_num_queries(8):
        assert stakeholder.get(f"/rootcause/discovery/{run.pk}/").status_code == 200
