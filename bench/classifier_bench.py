"""Text models at scale (``--only classifier``), each against a baseline in the same run:

- training: ``model_train_run`` on 100,000 labelled comments × ``--scale`` (read the labels,
  stratified 5-fold held-out evaluation, the final fit, the pipeline stored) against one in-memory
  fit of the same pipeline on the same texts (the evaluation's folds are what the ratio shows);
- tagging: ``comments_model_tag`` over 1,000,000 comments × ``--scale`` (read in chunks, predict,
  replace the model tags) against the same model's in-memory ``predict`` over the same texts.

Comments are generated (seeded): six sub-themes, each with its own words and some of a
neighbour's, among neutral words, so the model errs as a real one does.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime

import numpy as np

from cxgov.models import Role, User
from metrics.models import SurveyResponse
from rootcause import classifier, selectors, services
from rootcause.models import CommentTag, KeyDriver, SubTheme, TagOrigin, TextModel

# The tests' vocabulary of sub-themes and neutral words: the bench's comments are as hard as theirs.
from rootcause.tests.test_text_models import NEUTRAL, WORDS

WHEN = datetime(2026, 11, 2, 12, tzinfo=UTC)
BATCH = 20_000


def comments(n: int, seed: int) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    names = list(WORDS)
    vocab = {name: np.array(WORDS[name].split()) for name in names}
    neutral = np.array(NEUTRAL)
    labels = rng.choice(names, size=n, p=[0.3, 0.2, 0.2, 0.12, 0.1, 0.08])
    texts = []
    for label in labels:
        neighbour = names[(names.index(label) + 1) % len(names)]
        # One comment in three says nothing of its own sub-theme: the model errs, as a real one does.
        own = rng.integers(1, 3) if rng.random() < 0.67 else 0
        words = [*rng.choice(vocab[label], own), *rng.choice(vocab[neighbour], rng.integers(0, 3))]
        words += list(rng.choice(neutral, rng.integers(4, 12)))
        rng.shuffle(words)
        texts.append(" ".join(words))
    return texts, [str(label) for label in labels]


def _store(texts: list[str], source: str) -> list[int]:
    ids = []
    for start in range(0, len(texts), BATCH):
        rows = SurveyResponse.objects.bulk_create(
            [
                SurveyResponse(source=source, external_id=f"{source}-{start + i}", responded_at=WHEN, comment=t)
                for i, t in enumerate(texts[start : start + BATCH])
            ]
        )
        ids.extend(r.pk for r in rows)
    return ids


def _median_min(times: list[float]) -> tuple[float, float]:
    return min(times), statistics.median(times)


def bench_classifier(scale: float, repeat: int = 3) -> list[tuple]:
    from bench.run import analyze

    n_train, n_tag = max(1000, int(100_000 * scale)), max(1000, int(1_000_000 * scale))
    cx = User.objects.create(username="bench-cx", role=Role.CX_TEAM)
    driver = KeyDriver.objects.create(name="Bench reasons", slug="bench-reasons")
    themes = {
        name: SubTheme.objects.create(driver=driver, name=name, slug=f"bench-{name.lower()}", keywords="")
        for name in WORDS
    }
    texts, labels = comments(n_train, seed=1)
    ids = _store(texts, "labelled")
    for start in range(0, len(ids), BATCH):
        CommentTag.objects.bulk_create(
            [
                CommentTag(response_id=r, sub_theme=themes[label], origin=TagOrigin.IMPORTED)
                for r, label in zip(ids[start : start + BATCH], labels[start : start + BATCH], strict=True)
            ]
        )
    unlabelled, _ = comments(n_tag, seed=2)
    _store(unlabelled, "unlabelled")
    analyze()

    _, train_texts, train_labels = selectors.training_labels(driver)
    fit_times, train_times = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        y = classifier.label_matrix(train_labels, sorted({t for found in train_labels for t in found}))
        classifier.pipeline(False).fit(np.asarray(train_texts, dtype=object), y.argmax(axis=1))
        fit_times.append(time.perf_counter() - start)
    model = None
    for _ in range(repeat):
        TextModel.objects.filter(driver=driver).exclude(status="active").delete()
        start = time.perf_counter()
        queued = services.model_train_start(user=cx, driver=driver)
        model = services.model_train_run(model_id=queued.pk)
        train_times.append(time.perf_counter() - start)
    assert model.status == "ready", model.error
    services.model_activate(user=cx, model=model)
    trained = services.model_loaded(model)

    predict_times, tag_times = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        chosen, _ = classifier.predict(trained, unlabelled)
        predict_times.append(time.perf_counter() - start)
    scope = SurveyResponse.objects.filter(source="unlabelled")
    for _ in range(repeat):
        start = time.perf_counter()
        stats = services.comments_model_tag(model=model, responses=scope)
        tag_times.append(time.perf_counter() - start)
    assert stats["comments"] == n_tag and stats["tagged"] == int(chosen.sum())
    assert CommentTag.objects.filter(origin=TagOrigin.MODEL).count() == stats["tagged"]

    fit_min, fit_med = _median_min(fit_times)
    train_min, train_med = _median_min(train_times)
    predict_min, predict_med = _median_min(predict_times)
    tag_min, tag_med = _median_min(tag_times)
    f1 = model.metrics["macro_f1"]
    return [
        (f"one in-memory fit of the pipeline, {n_train:,} comments (baseline)", fit_min, fit_med, 1.0),
        (
            f"model_train_run: 5-fold held-out evaluation + fit + store (macro F1 {f1:.2f})",
            train_min,
            train_med,
            train_med / fit_med,
        ),
        (f"in-memory predict, {n_tag:,} comments (baseline)", predict_min, predict_med, 1.0),
        (f"comments_model_tag: read, predict, write {stats['tagged']:,} tags", tag_min, tag_med, tag_med / predict_med),
    ]
