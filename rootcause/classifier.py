"""The text classifier of a key driver: pure functions over texts and label sets, no database.

A model is word and character n-gram TF-IDF into a linear SVM per sub-theme (one-vs-rest), each
calibrated to probabilities (Platt scaling). Where every labelled comment carries one sub-theme the
model picks the most probable one; where comments carry several, every sub-theme whose probability
reaches one half. Its error rates come from held-out predictions: stratified k-fold, so every label
is predicted once by a model that did not see it; the shipped model is then fitted on all labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

MIN_LABELS = 6  # a sub-theme with fewer labelled comments is left out of the model (and says so)
FOLDS = 5
THRESHOLD = 0.5  # multi-label: a sub-theme is predicted from this probability


def pipeline(multilabel: bool) -> Pipeline:
    features = FeatureUnion(
        [
            ("word", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=200_000)),
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True, max_features=200_000
                ),
            ),
        ]
    )
    calibrated = CalibratedClassifierCV(LinearSVC(C=0.5, random_state=0), cv=3, method="sigmoid", ensemble=False)
    # One label per comment: one multi-class model whose probabilities add up to one; several:
    # one calibrated model per sub-theme.
    model = OneVsRestClassifier(calibrated) if multilabel else calibrated
    return Pipeline([("features", features), ("model", model)])


@dataclass
class Trained:
    pipeline: Pipeline
    classes: list  # the sub-themes the model predicts, in the order of its probability columns
    multilabel: bool
    metrics: dict = field(default_factory=dict)


def label_matrix(labels: list[set], classes: list) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes)}
    y = np.zeros((len(labels), len(classes)), dtype=bool)
    for row, found in enumerate(labels):
        for c in found:
            if c in index:
                y[row, index[c]] = True
    return y


def decide(proba: np.ndarray, multilabel: bool) -> np.ndarray:
    """The predicted sub-themes (a boolean matrix) from the probabilities."""
    if multilabel:
        return proba >= THRESHOLD
    chosen = np.zeros(proba.shape, dtype=bool)
    if proba.shape[0] and proba.shape[1]:
        chosen[np.arange(proba.shape[0]), proba.argmax(axis=1)] = True
    return chosen


def _strata(y: np.ndarray) -> np.ndarray:
    """One stratum per comment: its first modelled sub-theme, or -1 for none (multi-label comments
    are stratified by their first sub-theme, which keeps every sub-theme in every fold)."""
    return np.where(y.any(axis=1), y.argmax(axis=1), -1)


def train(texts: list[str], labels: list[set], *, folds: int = FOLDS, seed: int = 0, on_progress=None) -> Trained:
    """Fit the model on labelled texts, with held-out metrics from stratified k-fold predictions.

    ``labels[i]`` is the set of sub-themes of ``texts[i]`` (empty: none of this driver's).
    ``on_progress(fraction)`` is called as the folds finish."""
    counts: dict = {}
    for found in labels:
        for c in found:
            counts[c] = counts.get(c, 0) + 1
    classes = sorted(c for c, n in counts.items() if n >= MIN_LABELS)
    left_out = {str(c): n for c, n in counts.items() if n < MIN_LABELS}
    if len(classes) < 2:
        raise ValueError(f"A model needs at least two sub-themes with {MIN_LABELS} or more labelled comments each.")
    multilabel = any(len(found) > 1 for found in labels)
    y = label_matrix(labels, classes)
    x = np.asarray(texts, dtype=object)
    # Single-label: one target per comment, the comments of no modelled sub-theme as one more
    # class ("other"), so the model can say "none of these" and the correction can count them.
    target = y if multilabel else np.where(y.any(axis=1), y.argmax(axis=1), len(classes))
    strata = _strata(y)
    sizes = np.bincount(strata + 1)
    splitter = StratifiedKFold(
        n_splits=max(2, min(folds, int(sizes[sizes > 0].min()))), shuffle=True, random_state=seed
    )
    width = len(classes) if multilabel else len(set(target.tolist()))
    held_out = np.zeros((len(texts), width), dtype=float)
    splits = list(splitter.split(x, strata))
    for step, (fit, test) in enumerate(splits):
        model = pipeline(multilabel).fit(x[fit], target[fit])
        held_out[test] = _columns(model, x[test], width)
        if on_progress:
            on_progress((step + 1) / (len(splits) + 1))
    final = pipeline(multilabel).fit(x, target)
    if on_progress:
        on_progress(1.0)
    metrics = evaluate(y, held_out, classes, multilabel)
    metrics.update(folds=len(splits), labelled=len(texts), left_out=left_out, multilabel=multilabel)
    return Trained(final, classes, multilabel, metrics)


def _columns(model, texts, width: int) -> np.ndarray:
    """Probabilities with one column per class the full data has (a fold may miss a rare one)."""
    proba = model.predict_proba(texts)
    if proba.shape[1] == width:
        return proba
    full = np.zeros((proba.shape[0], width))
    full[:, model.classes_.astype(int)] = proba
    return full


def evaluate(y: np.ndarray, proba: np.ndarray, classes: list, multilabel: bool) -> dict:
    """Held-out precision, recall, F1 and support per sub-theme; the cells each sub-theme's
    correction needs (true and false positives, negatives); mean probabilities among positives and
    negatives (for probabilistic ACC); and the confusion matrix (single-label: true rows × predicted
    columns, the last row and column "other", comments of no modelled sub-theme; multi-label: per
    sub-theme tp, fn, fp, tn)."""
    chosen = decide(proba, multilabel)
    predicted = chosen[:, : len(classes)]
    per_class = []
    for j, c in enumerate(classes):
        t, p = y[:, j], predicted[:, j]
        tp, fp = int((t & p).sum()), int((~t & p).sum())
        fn, tn = int((t & ~p).sum()), int((~t & ~p).sum())
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class.append(
            {
                "class": c,
                "precision": precision,
                "recall": recall,
                "f1": f1,
                "support": tp + fn,
                "tp": tp,
                "fp": fp,
                "fn": fn,
                "tn": tn,
                "mean_p_pos": float(proba[t, j].mean()) if t.any() else 0.0,
                "mean_p_neg": float(proba[~t, j].mean()) if (~t).any() else 0.0,
            }
        )
    if multilabel:
        confusion = [[row["tp"], row["fn"], row["fp"], row["tn"]] for row in per_class]
    else:
        truth = np.where(y.any(axis=1), y.argmax(axis=1), len(classes))
        guess = chosen.argmax(axis=1)
        matrix = np.zeros((len(classes) + 1, len(classes) + 1), dtype=int)
        np.add.at(matrix, (truth, guess), 1)
        confusion = matrix.tolist()
    supported = [r for r in per_class if r["support"]]
    macro_f1 = float(np.mean([r["f1"] for r in supported])) if supported else 0.0
    return {"classes": per_class, "confusion": confusion, "macro_f1": macro_f1}


def predict(trained: Trained, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(predicted boolean matrix, probabilities), one column per modelled sub-theme, for the texts
    (single-label: a comment the model puts in "other" has no column set)."""
    proba = trained.pipeline.predict_proba(texts)
    chosen = decide(proba, trained.multilabel)
    k = len(trained.classes)
    return chosen[:, :k], proba[:, :k]
