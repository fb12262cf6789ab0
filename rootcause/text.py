"""Text analysis of comments: sentiment, language, and theme discovery. Plain functions, no database.

Sentiment is VADER (``vaderSentiment``, which ships its lexicon: nothing is downloaded at run
time). It is a lexicon for English: the pipeline handles English, and comments detected in another
language are counted and left untagged by the English rules. Language detection is ``py3langid``
(langid.py's maintained fork; it ships its model, classifies in about half a millisecond and gives
the same answer every time, unlike ``langdetect`` which must be seeded and is some ten times slower;
``lingua`` is more accurate on short texts but its models weigh about 100 MB).
"""

from __future__ import annotations

import re
import zlib
from functools import cache

HANDLED_LANGUAGES = ("en",)
HANDLED_LABEL = "English"
UNDETERMINED = ""  # too short or too mixed to tell: treated as English, as the rules always did
# A comment is said to be in another language only when the detector is this sure and the comment
# has this many words: "Runs small" alone reads as German to any detector.
LANGUAGE_MIN_WORDS = 4
LANGUAGE_MIN_PROBABILITY = 0.9

# VADER's own cut-offs for its compound score.
POSITIVE_FROM = 0.05
NEGATIVE_TO = -0.05

# A sub-theme is praise when its comments are mostly positive about it: the lower end of the 95%
# Wilson interval of its positive share is at least PRAISE_SHARE, out of at least PRAISE_MIN comments.
PRAISE_SHARE = 0.70
PRAISE_MIN = 20

_WORDS = re.compile(r"[^\W\d_]+")
# Sentences, and the clauses a "but" or "however" opens: "Love the colour but it runs small" says
# two things about two sub-themes.
_CLAUSES = re.compile(r"(?<=[.!?;])\s+|\n+|\s+but\s+|,\s*(?:however|though)\s+", re.IGNORECASE)


@cache
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


@cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def checksum(comment: str) -> int:
    """What the stored analysis was made from: a changed comment is analysed again."""
    return zlib.crc32(comment.encode("utf-8", "surrogatepass"))


def sentiment(text: str) -> float:
    """VADER's compound score, -1 (most negative) to 1."""
    return round(_vader().polarity_scores(text)["compound"], 4) if text.strip() else 0.0


def label(score: float | None) -> str:
    if score is None:
        return ""
    if score >= POSITIVE_FROM:
        return "positive"
    if score <= NEGATIVE_TO:
        return "negative"
    return "neutral"


def language(text: str) -> str:
    """The ISO 639-1 code of the comment's language, or ``UNDETERMINED``."""
    if len(_WORDS.findall(text)) < LANGUAGE_MIN_WORDS:
        return UNDETERMINED
    code, probability = _identifier().classify(text)
    if code in HANDLED_LANGUAGES or probability >= LANGUAGE_MIN_PROBABILITY:
        return code
    return UNDETERMINED


def handled(code: str) -> bool:
    return code == UNDETERMINED or code in HANDLED_LANGUAGES


def clauses(text: str) -> list[str]:
    return [part for part in _CLAUSES.split(text) if part and part.strip()]


def aspect_sentiments(comment: str, themes: list[int], match) -> dict[int, float]:
    """For each sub-theme of a comment, the sentiment of the clauses that name it (``match(clause)``
    gives the sub-themes a clause names); the whole comment's where no single clause does (a manual
    or imported tag, or keywords spread over clauses)."""
    named: dict[int, list[str]] = {}
    for part in clauses(comment):
        for theme in match(part):
            named.setdefault(theme, []).append(part)
    whole = None
    out = {}
    for theme in themes:
        if theme in named:
            out[theme] = sentiment(" ".join(named[theme]))
        else:
            whole = sentiment(comment) if whole is None else whole
            out[theme] = whole
    return out


def is_praise(positive: int, total: int) -> bool:
    """Mostly positive, and sure of it (see PRAISE_SHARE); "not enough data" is not praise, so a
    small theme stays among the problems rather than disappear."""
    if total < PRAISE_MIN:
        return False
    from metrics.calculations import wilson

    return wilson(positive, total)[0] >= PRAISE_SHARE * 100  # wilson answers in percent


def score_band(score: int | None, scale: str) -> str:
    """What a score says, for comparing with the comment's sentiment: promoters and 4-5 of 5 are
    positive, passives and 3 neutral, the rest negative (CES: 1-2 of 7 is an easy experience)."""
    if score is None:
        return ""
    if scale == "nps":
        return "positive" if score >= 9 else "neutral" if score >= 7 else "negative"
    if scale == "csat":
        return "positive" if score >= 4 else "neutral" if score == 3 else "negative"
    if scale == "ces":
        return "positive" if score <= 2 else "neutral" if score <= 4 else "negative"
    return ""


DISCOVERY_MAX = 20_000  # the most recent comments clustered at once: seconds on two cores
DISCOVERY_EXAMPLES = 8
DISCOVERY_TERMS = 8


def discover(texts: list[str], *, clusters: int = 8, seed: int = 0) -> list[dict]:
    """Candidate themes in comments: TF-IDF of words and word pairs (English stop words out), then
    NMF with ``clusters`` components (seeded: the same comments give the same candidates). Each
    candidate: its top terms, its size (comments whose strongest component it is) and the indexes
    of its most typical comments, largest candidate first."""
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(texts) < max(2 * clusters, 10):
        return []
    vectorizer = TfidfVectorizer(stop_words="english", ngram_range=(1, 2), min_df=2, max_df=0.5, sublinear_tf=True)
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # nothing left after the stop words
        return []
    clusters = min(clusters, matrix.shape[1], matrix.shape[0] - 1)
    if clusters < 2:
        return []
    model = NMF(n_components=clusters, init="nndsvda", random_state=seed, max_iter=400)
    weights = model.fit_transform(matrix)
    terms = vectorizer.get_feature_names_out()
    strongest = weights.argmax(axis=1)
    assigned = weights.max(axis=1) > 0
    out = []
    for k in range(clusters):
        members = [i for i in range(len(texts)) if assigned[i] and strongest[i] == k]
        if not members:
            continue
        members.sort(key=lambda i: -weights[i, k])
        top = model.components_[k].argsort()[::-1][:DISCOVERY_TERMS]
        out.append({"terms": [str(terms[j]) for j in top], "size": len(members), "members": members})
    return sorted(out, key=lambda c: -c["size"])
