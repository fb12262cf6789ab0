"""Text models: training, model tags and their precedence, the review queue, and Pareto shares
corrected for the model's errors (on real labelled reviews and on generated comments with known shares)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

from metrics.models import SurveyResponse
from rootcause import quantify, selectors, services, tasks
from rootcause.models import CommentTag, KeyDriver, ModelStatus, SubTheme, TagOrigin, TextModel, TextModelFile

# ../shared/data beside the repository (settings.SHARED_DATA_DIR, which a worktree elsewhere can set).
REVIEWS = Path(settings.SHARED_DATA_DIR) / "womens-clothing-reviews-1k.csv"
WHEN = datetime(2026, 11, 2, 12, tzinfo=UTC)


# --- ACC and its interval, by hand ------------------------------------------------------------------


def test_adjusted_count_inverts_the_known_error_rates():
    # 30 % tagged, recall 0.8, false-positive rate 0.1: p = (0.3 - 0.1) / (0.8 - 0.1) = 2/7
    assert quantify.adjusted(0.3, 0.8, 0.1) == pytest.approx(2 / 7)
    # and back: a true share of 2/7 shows 0.8 * 2/7 + 0.1 * 5/7 = 0.3
    assert pytest.approx(0.3) == 0.8 * 2 / 7 + 0.1 * 5 / 7


def test_adjusted_count_is_clipped_to_zero_and_one():
    assert quantify.adjusted(0.05, 0.8, 0.1) == 0.0  # fewer tags than false positives alone
    assert quantify.adjusted(0.95, 0.8, 0.1) == 1.0  # (0.95 - 0.1) / 0.7 > 1


def test_a_model_no_better_than_chance_is_not_inverted():
    assert quantify.adjusted(0.4, 0.3, 0.3) == 0.4
    assert quantify.adjusted(0.4, 0.2, 0.3) == 0.4


def test_probabilistic_acc_uses_mean_probabilities():
    # mean probability 0.4; held-out positives average 0.7, negatives 0.2: (0.4 - 0.2) / 0.5
    assert quantify.probabilistic(0.4, 0.7, 0.2) == pytest.approx(0.4)
    assert quantify.probabilistic(0.45, 0.9, 0.1) == pytest.approx(0.4375)


def test_acc_interval_is_seeded_holds_the_estimate_and_narrows_with_more_data():
    small = quantify.acc_interval(predicted=30, comments=100, tp=40, fn=10, fp=10, tn=90, method="acc")
    assert small == quantify.acc_interval(predicted=30, comments=100, tp=40, fn=10, fp=10, tn=90, method="acc")
    assert small.share == pytest.approx((0.3 - 0.1) / (0.8 - 0.1))
    assert small.raw == 0.3 and small.method == "acc"
    assert 0 <= small.low < small.share < small.high <= 1
    large = quantify.acc_interval(predicted=3000, comments=10000, tp=4000, fn=1000, fp=1000, tn=9000, method="acc")
    assert large.share == pytest.approx(small.share)
    assert large.high - large.low < (small.high - small.low) / 5


def test_predictive_values_spread_the_tagged_and_the_untagged_by_the_held_out_precision():
    # 30 % tagged; held out: precision 40/50, and 10 of the 100 untagged were positives.
    assert quantify.predictive(0.3, tp=40, fn=10, fp=10, tn=90) == pytest.approx(0.3 * 0.8 + 0.7 * 0.1)
    # A mix like the held-out one (a third positive shows 0.8/3 + 0.1·2/3 = 1/3 tagged): PV and ACC agree.
    rate = 0.8 / 3 + 0.1 * 2 / 3
    assert quantify.predictive(rate, tp=40, fn=10, fp=10, tn=90) == pytest.approx(1 / 3, abs=0.02)
    assert quantify.adjusted(rate, 0.8, 0.1) == pytest.approx(1 / 3)


def test_the_data_choose_acc_when_the_mix_has_shifted_and_pv_when_it_has_not():
    # Held out: a third positive. Counted: the same third, then a tenth (a shift no chance explains).
    alike = quantify.acc_interval(predicted=3333, comments=10000, tp=400, fn=100, fp=100, tn=900)
    assert alike.method == "pv"
    assert alike.share == pytest.approx(quantify.predictive(0.3333, tp=400, fn=100, fp=100, tn=900))
    # PV's interval spans ACC's too: a shift too small to detect may be there.
    forced = quantify.acc_interval(predicted=3333, comments=10000, tp=400, fn=100, fp=100, tn=900, method="acc")
    assert alike.low <= forced.low and alike.high >= forced.high
    shifted = quantify.acc_interval(predicted=1600, comments=10000, tp=400, fn=100, fp=100, tn=900)
    assert shifted.method == "acc"
    assert shifted.share == pytest.approx((0.16 - 0.1) / (0.8 - 0.1))
    # The same for one label per comment: the generated shares below shift; a copy of the labels' mix does not.
    confusion = [[80, 15, 5], [10, 85, 5], [5, 5, 90]]
    assert {e.method for e in quantify.multiclass_interval(predicted=[95, 105, 100], confusion=confusion)} == {"pv"}
    moved = quantify.multiclass_interval(predicted=[6000, 2500, 1500], confusion=confusion)
    assert {e.method for e in moved} == {"acc"}
    assert sum(e.share for e in moved) == pytest.approx(1.0)


def test_a_sub_theme_whose_error_rates_cannot_be_inverted_gets_the_whole_range_not_a_raw_count():
    # Recall 0.2 below a false-positive rate of 0.3: no inversion; PV's share, honestly uncertain.
    worse = quantify.acc_interval(predicted=3000, comments=10000, tp=20, fn=80, fp=270, tn=630)
    assert worse.method == "pv" and (worse.low, worse.high) == (0.0, 1.0)
    assert worse.share == pytest.approx(quantify.predictive(0.3, tp=20, fn=80, fp=270, tn=630))
    # Never tagged in the held-out comments though a third of them have it.
    never = quantify.acc_interval(predicted=0, comments=500, tp=0, fn=50, fp=0, tn=100)
    assert never.share == pytest.approx(1 / 3) and (never.low, never.high) == (0.0, 1.0)
    # One label per comment: a class the held-out comments were never predicted as.
    found = quantify.multiclass_interval(predicted=[100, 100, 100], confusion=[[90, 0, 10], [60, 0, 40], [5, 0, 95]])
    assert (found[1].low, found[1].high) == (0.0, 1.0)
    assert all(0 <= e.low <= e.share <= e.high <= 1 for e in found)


def test_counts_past_the_comments_do_not_break_the_estimate():
    over = quantify.acc_interval(predicted=120, comments=100, tp=40, fn=10, fp=10, tn=90)
    assert over.raw == 1.0 and 0 <= over.low <= over.share <= over.high <= 1
    under = quantify.acc_interval(predicted=-3, comments=100, tp=40, fn=10, fp=10, tn=90)
    assert under.raw == 0.0 and under.share == 0.0
    assert quantify.multiclass_interval(predicted=[-1, 5], confusion=[[5, 1], [1, 5]])[0].raw == 0.0


def test_a_multi_label_model_uses_one_correction_for_all_its_sub_themes():
    # Eight sub-themes, none shifted: one choice for the model, not one test per sub-theme.
    cells = [(40 + i, 10, 10, 140 - i) for i in range(8)]
    rates = [(tp * 0.25 / (tp + fn) + fp * 0.75 / (fp + tn)) for tp, fn, fp, tn in cells]
    found = quantify.multilabel_intervals(
        predicted=[round(r * 2000) for r in rates], comments=2000, cells=cells, resamples=400
    )
    assert len({e.method for e in found}) == 1
    single = quantify.acc_interval(predicted=round(rates[0] * 2000), comments=2000, tp=40, fn=10, fp=10, tn=140)
    assert 0 <= single.low <= single.share <= single.high <= 1


def test_acc_interval_covers_the_truth_about_95_percent_of_the_time():
    """Simulate: a true share, a classifier with known rates, a held-out set and the comments."""
    rng = np.random.default_rng(7)
    p, tpr, fpr, hits = 0.2, 0.75, 0.08, 0
    for trial in range(200):
        truth = rng.random(400) < p
        tagged = np.where(truth, rng.random(400) < tpr, rng.random(400) < fpr)
        held_truth = rng.random(300) < 0.3
        held_tagged = np.where(held_truth, rng.random(300) < tpr, rng.random(300) < fpr)
        estimate = quantify.acc_interval(
            predicted=int(tagged.sum()),
            comments=400,
            tp=int((held_truth & held_tagged).sum()),
            fn=int((held_truth & ~held_tagged).sum()),
            fp=int((~held_truth & held_tagged).sum()),
            tn=int((~held_truth & ~held_tagged).sum()),
            resamples=300,
            seed=trial,
        )
        hits += estimate.low <= truth.mean() <= estimate.high
    assert 0.9 <= hits / 200 <= 0.99


# --- a small world -----------------------------------------------------------------------------------


@pytest.fixture
def users(org):
    return org


@pytest.fixture
def client_for(client, org):
    """The Django test client logged in as the named person."""

    def login(name: str):
        client.force_login(org[name])
        return client

    return login


def _responses(texts: list[str], source: str, start: int = 0) -> list[SurveyResponse]:
    return SurveyResponse.objects.bulk_create(
        [
            SurveyResponse(source=source, external_id=f"{source}-{start + i}", responded_at=WHEN, comment=text)
            for i, text in enumerate(texts)
        ]
    )


def _label(responses, labels, themes: dict[str, SubTheme]) -> None:
    CommentTag.objects.bulk_create(
        [
            CommentTag(response=r, sub_theme=themes[label], origin=TagOrigin.IMPORTED)
            for r, label in zip(responses, labels, strict=True)
        ]
    )


WORDS = {
    "Billing": "invoice bill charged twice refund overcharged payment statement fee direct-debit",
    "Delivery": "courier parcel late arrived tracking driver dispatch delayed doorstep box",
    "App": "app crash login password screen update slow button phone loading",
    "Staff": "agent rude helpful manager staff call waited hold transferred polite",
    "Price": "expensive price cheap cost deal discount value money pricey offer",
    "Returns": "return label exchange sent back warehouse collection swap unwanted size",
}
NEUTRAL = [
    "the",
    "a",
    "was",
    "it",
    "and",
    "my",
    "very",
    "so",
    "not",
    "really",
    "again",
    "this",
    "i",
    "we",
    "had",
    "with",
    "for",
    "today",
    "order",
    "service",
]


def _generated(shares: dict[str, float], n: int, rng) -> tuple[list[str], list[str]]:
    """Comments with known sub-themes: one or two of the sub-theme's words, or (one in three) none,
    and some of a neighbour's, among neutral words: the model errs, at the same rates everywhere."""
    names = list(WORDS)
    labels = [name for name, share in shares.items() for _ in range(round(share * n))]
    rng.shuffle(labels)
    texts = []
    for label in labels:
        own = WORDS[label].split()
        other = WORDS[names[(names.index(label) + 1) % len(names)]].split()
        mine = rng.integers(1, 3) if rng.random() < 0.67 else 0
        words = list(rng.choice(own, size=mine)) + list(rng.choice(other, size=rng.integers(0, 3)))
        words += list(rng.choice(NEUTRAL, size=rng.integers(4, 9)))
        rng.shuffle(words)
        texts.append(" ".join(words))
    return texts, labels


@pytest.fixture
def generated(db):
    """A driver (every source) with six sub-themes; 1,200 labelled training comments with one mix
    of sub-themes, 2,000 unlabelled ones with another (a prior shift, which raw counts miss)."""
    rng = np.random.default_rng(2008)
    driver = KeyDriver.objects.create(name="Reasons", slug="reasons")
    themes = {name: SubTheme.objects.create(driver=driver, name=name, slug=name.lower(), keywords="") for name in WORDS}
    train = {"Billing": 0.2, "Delivery": 0.2, "App": 0.2, "Staff": 0.15, "Price": 0.15, "Returns": 0.1}
    texts, labels = _generated(train, 1200, rng)
    _label(_responses(texts, "train"), labels, themes)
    test = {"Billing": 0.36, "Delivery": 0.24, "App": 0.14, "Staff": 0.11, "Price": 0.09, "Returns": 0.06}
    texts, labels = _generated(test, 2000, rng)
    _responses(texts, "test")
    return {"driver": driver, "themes": themes, "truth": test}


def _trained(user, driver) -> TextModel:
    model = services.model_train_start(user=user, driver=driver)
    model = services.model_train_run(model_id=model.pk)
    assert model.status == ModelStatus.READY, model.error
    return model


def _switched_on(user, model) -> TextModel:
    services.model_activate(user=user, model=model)
    return services.model_tag_run(model_id=model.pk)


def _vital(shares: dict[str, float], cutoff: float = 80.0) -> set[str]:
    found, running = set(), 0.0
    for name, share in sorted(shares.items(), key=lambda kv: (-kv[1], kv[0])):
        if running * 100 >= cutoff:
            break
        found.add(name)
        running += share
    return found


def _corrected(source: str) -> dict:
    responses = selectors.responses_for(source=source)
    analysis = selectors.pareto_analysis(responses=responses)
    corrected = selectors.pareto_corrected(analysis=analysis, responses=responses)
    assert corrected is not None
    return corrected


# --- generated comments with known shares ---------------------------------------------------------------


def test_corrected_shares_of_generated_comments_hold_the_true_shares(generated, users):
    model = _switched_on(users["cx"], _trained(users["cx"], generated["driver"]))
    assert model.tag_done == model.tag_total == 3200 - 1200  # the labelled comments keep their labels
    corrected = _corrected("test")
    assert corrected["total"] == 2000
    by_name = {item["theme"].name: item for item in corrected["rows"]}
    for name, truth in generated["truth"].items():
        item = by_name[name]
        assert item["estimated"]
        assert item["low"] <= truth * 100 <= item["high"], (name, truth, item["row"].share, item["low"], item["high"])
    # The comments' mix differs from the labels': the error rates are inverted (ACC).
    assert {item["method"] for item in corrected["rows"] if item["estimated"]} == {"acc"}
    vital = {item["theme"].name for item in corrected["rows"] if item["row"].vital}
    assert vital == _vital(generated["truth"]) == {"Billing", "Delivery", "App", "Staff"}
    # The raw count misses the shift: the model's own share of Billing is further from the truth.
    billing = by_name["Billing"]
    assert abs(billing["row"].share - 36) < abs(billing["raw"].value / 2000 * 100 - 36)


def test_the_pareto_page_and_api_show_corrected_share_interval_and_raw_count(generated, users, client_for):
    _switched_on(users["cx"], _trained(users["cx"], generated["driver"]))
    page = client_for("stakeholder").get("/rootcause/pareto/?source=test")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Corrected share" in text and "95 % interval" in text and "Raw count" in text
    body = client_for("stakeholder").get("/api/pareto/?source=test").json()
    assert body["corrected"] is True and body["corrected_total"] == 2000
    assert body["models"] == [{"driver": "reasons", "version": 1}]
    for row in body["rows"]:
        low, high = row["interval"]
        assert low <= row["share"] <= high
        assert row["raw_count"] > 0 and row["correction"] == "acc"


def test_without_an_active_model_the_pareto_is_as_before(generated, users, client_for):
    _trained(users["cx"], generated["driver"])  # trained, not switched on
    body = client_for("cx").get("/api/pareto/?source=train").json()
    assert body["corrected"] is False and body["models"] == []
    assert all(row["interval"] is None and row["raw_count"] == row["value"] for row in body["rows"])
    assert sum(row["value"] for row in body["rows"]) == 1200


# --- the real labelled reviews (Done when) -------------------------------------------------------------


@pytest.mark.skipif(not REVIEWS.exists(), reason=f"{REVIEWS} is absent (CI has it)")
def test_reviews_trained_on_half_estimate_the_other_halfs_class_shares(db, users):
    with REVIEWS.open(newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["Review Text"].strip() and r["Class Name"].strip()]
    # Halves by row: even rows labelled (imported), odd rows to estimate.
    labelled, unlabelled = rows[0::2], rows[1::2]
    driver = KeyDriver.objects.create(name="Class", slug="class")
    themes = {
        name: SubTheme.objects.create(driver=driver, name=name, slug=f"class-{i}", keywords="")
        for i, name in enumerate(sorted({r["Class Name"] for r in rows}))
    }
    _label(_responses([r["Review Text"] for r in labelled], "train"), [r["Class Name"] for r in labelled], themes)
    _responses([r["Review Text"] for r in unlabelled], "test")
    _switched_on(users["cx"], _trained(users["cx"], driver))
    n = len(unlabelled)
    truth = {name: sum(r["Class Name"] == name for r in unlabelled) / n for name in themes}
    corrected = _corrected("test")
    assert corrected["total"] == n
    by_name = {item["theme"].name: item for item in corrected["rows"]}
    for name in sorted(truth, key=lambda k: -truth[k])[:5]:
        item = by_name[name]
        assert item["low"] <= truth[name] * 100 <= item["high"], (name, truth[name], item["row"].share)
    # The halves share their mix of classes, so the shares are corrected by predictive values
    # (ACC's inverse of a weak model's confusion matrix put Blouses at 9 % for a true 19 %).
    assert {item["method"] for item in corrected["rows"] if item["estimated"]} == {"pv"}
    vital = {item["theme"].name for item in corrected["rows"] if item["row"].vital}
    assert vital == _vital(truth) == {"Dresses", "Blouses", "Knits", "Sweaters", "Fine gauge", "Pants", "Skirts"}


# --- precedence, review queue, running twice ------------------------------------------------------------


@pytest.fixture
def small(db):
    """A driver with two sub-themes, 40 labelled comments each, and a few unlabelled ones."""
    driver = KeyDriver.objects.create(name="Small", slug="small")
    bill = SubTheme.objects.create(driver=driver, name="Bill", slug="bill", keywords="")
    late = SubTheme.objects.create(driver=driver, name="Late", slug="late", keywords="")
    rng = np.random.default_rng(1)
    texts, labels = [], []
    for i in range(80):
        label = "Bill" if i % 2 else "Late"
        words = ["invoice", "charged", "bill"] if label == "Bill" else ["parcel", "courier", "late"]
        texts.append(" ".join([*rng.choice(words, 2), *rng.choice(NEUTRAL, 4)]))
        labels.append(label)
    _label(_responses(texts, "survey"), labels, {"Bill": bill, "Late": late})
    fresh = _responses(
        ["my invoice charged me twice", "the parcel came late", "invoice and parcel both", "nothing to say"],
        "survey",
        start=100,
    )
    return {"driver": driver, "bill": bill, "late": late, "fresh": fresh}


def test_model_tags_carry_probability_and_version_and_yield_to_people_and_rules(small, users):
    other = KeyDriver.objects.create(name="Other driver", slug="other-driver")
    elsewhere = SubTheme.objects.create(driver=other, name="Elsewhere", slug="elsewhere", keywords="")
    first, second, third, fourth = small["fresh"]
    services.tag_set(user=users["cx"], response=second, sub_theme=small["late"], present=True)  # a person's
    CommentTag.objects.create(response=third, sub_theme=small["bill"], origin=TagOrigin.RULE)  # a rule's
    CommentTag.objects.create(response=fourth, sub_theme=elsewhere, origin=TagOrigin.MANUAL)  # another driver's
    model = _switched_on(users["cx"], _trained(users["cx"], small["driver"]))
    tags = {t.response_id: t for t in CommentTag.objects.filter(origin=TagOrigin.MODEL)}
    assert set(tags) == {first.pk, fourth.pk}
    assert tags[first.pk].sub_theme == small["bill"] and tags[first.pk].model == model
    assert 0.5 < tags[first.pk].probability <= 1
    assert model.version == 1 and model.n_labels == 81  # the 80 imported labels and the CX team's one
    # A person labelling the comment later: the model's tag goes.
    services.tag_set(user=users["cx"], response=first, sub_theme=small["late"], present=True)
    assert not CommentTag.objects.filter(response=first, origin=TagOrigin.MODEL).exists()
    # Tagging again (a second run) gives the same tags, never over people's.
    services.model_tag_run(model_id=model.pk)
    assert list(CommentTag.objects.filter(origin=TagOrigin.MODEL).values_list("response_id", flat=True)) == [fourth.pk]


def test_a_rule_that_matches_later_replaces_the_model_tag(small, users):
    model = _switched_on(users["cx"], _trained(users["cx"], small["driver"]))
    first = small["fresh"][0]
    assert CommentTag.objects.filter(response=first, origin=TagOrigin.MODEL).exists()
    small["late"].keywords = "twice"
    small["late"].save()
    services.comments_tag(responses=SurveyResponse.objects.filter(pk=first.pk))
    assert list(CommentTag.objects.filter(response=first).values_list("sub_theme__name", "origin")) == [
        ("Late", "rule")
    ]
    assert model.tags.filter(response=first).count() == 0


def test_review_queue_is_least_sure_first_and_labels_there_are_the_cx_teams(small, users, client_for):
    model = _switched_on(users["cx"], _trained(users["cx"], small["driver"]))
    CommentTag.objects.filter(origin=TagOrigin.MODEL).delete()
    a, b, c, d = small["fresh"]
    for response, p in ((a, 0.55), (b, 0.31), (c, 0.42), (d, 0.9)):
        CommentTag.objects.create(
            response=response, sub_theme=small["bill"], origin="model", probability=p, model=model
        )
    queue = list(selectors.review_queue())
    assert [t.response_id for t in queue] == [b.pk, c.pk, a.pk]  # 0.9 is sure enough
    body = client_for("stakeholder").get("/api/review-queue/").json()
    assert [row["probability"] for row in body["results"]] == [0.31, 0.42, 0.55]
    # Correcting: the CX team's label, the model's suggestion kept as rejected, the tag off the queue.
    response = client_for("cx").post(
        f"/api/review-queue/{queue[0].pk}/label/", {"sub_theme": small["late"].pk}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert set(CommentTag.objects.filter(response=b).values_list("sub_theme__name", "origin", "rejected")) == {
        ("Late", "manual", False),
        ("Bill", "manual", True),
    }
    # Accepting on the page.
    page = client_for("cx").post("/rootcause/review/", {"tag": queue[1].pk, "sub_theme": small["bill"].pk})
    assert page.status_code == 302
    assert CommentTag.objects.get(response=c).origin == TagOrigin.MANUAL
    assert [t.response_id for t in selectors.review_queue()] == [a.pk]
    refused = client_for("stakeholder").post(
        f"/api/review-queue/{queue[2].pk}/label/", {"sub_theme": small["bill"].pk}, content_type="application/json"
    )
    assert refused.status_code == 403


def test_training_twice_and_retraining_checks_are_safe(small, users, django_capture_on_commit_callbacks):
    model = services.model_train_start(user=users["cx"], driver=small["driver"])
    assert services.model_train_start(user=users["cx"], driver=small["driver"]) == model  # one at a time
    tasks.train_model(model.pk)
    tasks.train_model(model.pk)  # redelivered: claimed already, nothing happens
    model.refresh_from_db()
    assert model.status == ModelStatus.READY and model.progress == 1.0
    assert TextModelFile.objects.count() == 1 and TextModel.objects.count() == 1
    evaluation = selectors.model_evaluation(model)
    assert {row["name"] for row in evaluation["classes"]} == {"Bill", "Late"}
    assert all(row["support"] == 40 for row in evaluation["classes"])
    _switched_on(users["cx"], model)
    assert tasks.retrain_models() == 0  # no new labels
    # 20 % more labels: beat queues one new version, once.
    more = _responses([f"invoice charged {i}" for i in range(16)], "survey", start=200)
    _label(more, ["Bill"] * 16, {"Bill": small["bill"]})
    assert tasks.retrain_models() == 1
    assert tasks.retrain_models() == 0
    queued = TextModel.objects.get(status=ModelStatus.QUEUED)
    assert queued.version == 2 and queued.n_labels == 96 and "96 labelled" in queued.reason


def test_a_training_whose_worker_died_does_not_block_the_next(small, users):
    from datetime import timedelta

    from django.utils import timezone

    stuck = services.model_train_start(user=users["cx"], driver=small["driver"])
    TextModel.objects.filter(pk=stuck.pk).update(status="training", created_at=timezone.now() - timedelta(hours=2))
    fresh = services.model_train_start(user=users["cx"], driver=small["driver"])
    assert fresh.pk != stuck.pk and fresh.version == 2
    stuck.refresh_from_db()
    assert stuck.status == ModelStatus.FAILED and "stopped" in stuck.error


def test_a_driver_with_too_few_labels_cannot_train(db, users):
    driver = KeyDriver.objects.create(name="Thin", slug="thin")
    theme = SubTheme.objects.create(driver=driver, name="Only", slug="only", keywords="")
    _label(_responses(["a b c"] * 10, "survey"), ["Only"] * 10, {"Only": theme})
    with pytest.raises(Exception, match="at least two sub-themes"):
        services.model_train_start(user=users["cx"], driver=driver)


def test_only_the_cx_team_trains_and_switches_on(small, users, client_for):
    response = client_for("leader").post(
        "/api/text-models/train/", {"driver": small["driver"].slug}, content_type="application/json"
    )
    assert response.status_code == 403
    response = client_for("cx").post(
        "/api/text-models/train/", {"driver": small["driver"].slug}, content_type="application/json"
    )
    assert response.status_code == 202 and response.json()["status"] == "queued"
    bad = client_for("cx").post("/api/text-models/train/", {"driver": "nope"}, content_type="application/json")
    assert bad.status_code == 400 and "driver" in bad.json()
    model = services.model_train_run(model_id=response.json()["id"])
    assert client_for("leader").post(f"/api/text-models/{model.pk}/activate/").status_code == 403
    assert client_for("cx").post(f"/api/text-models/{model.pk}/activate/").status_code == 200
    model.refresh_from_db()
    assert model.status == ModelStatus.ACTIVE


def test_model_pages_show_the_evaluation_before_switching_on(small, users, client_for, django_assert_max_num_queries):
    model = _trained(users["cx"], small["driver"])
    assert "Switch on" not in client_for("leader").get(f"/rootcause/models/{model.pk}/").content.decode()
    cx = client_for("cx")
    with django_assert_max_num_queries(10):
        page = cx.get(f"/rootcause/models/{model.pk}/")
    text = page.content.decode()
    assert "Held-out evaluation" in text and "Confusion matrix" in text and "Switch on" in text
    # A page that watched the training reloads to show the evaluation once it is done.
    assert cx.get(f"/rootcause/models/{model.pk}/?partial=1")["HX-Refresh"] == "true"
    with django_assert_max_num_queries(10):
        listing = cx.get("/rootcause/models/")
    assert "v1" in listing.content.decode()
    response = cx.post(f"/rootcause/models/{model.pk}/activate/")
    assert response.status_code == 302
    services.model_tag_run(model_id=model.pk)
    model.refresh_from_db()
    assert model.status == ModelStatus.ACTIVE
    # The review queue's page: the same queries for 4 tags as for 1.
    CommentTag.objects.filter(origin=TagOrigin.MODEL).update(probability=0.3)
    with django_assert_max_num_queries(12) as many:
        review = cx.get("/rootcause/review/")
    assert review.content.decode().count('name="tag"') == 4
    CommentTag.objects.filter(origin=TagOrigin.MODEL).exclude(
        pk=CommentTag.objects.filter(origin="model").first().pk
    ).delete()
    with django_assert_max_num_queries(len(many)):
        review = cx.get("/rootcause/review/")
    assert review.content.decode().count('name="tag"') == 1
