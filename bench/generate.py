"""Synthetic data shaped like ../shared/data/, at a chosen scale.

At scale 1: 30 functions (three in four non-customer-facing), 120 people, 2,000 customers
and 1,000 survey responses with comments. The shapes follow the real files: the telco
contract mix (55% month-to-month, 21% one year, 24% two year), churn rates per contract
(42.7%, 11.3%, 2.8%), monthly charges between 18 and 119; review ratings in the real
proportions (1-5: 2.7 / 7.2 / 12.7 / 22.8 / 54.6%) with comments built from phrases on the
themes customers actually raise (fit, fabric, delivery, billing, returns). Seeded, so a
scale always produces the same data.

Comments are review-length (about 300 characters, like the real ones) and almost all distinct:
sentences of the shared reviews of the same rating recombined (read from ../shared/data/ at run
time, never copied into the repository), one of the themed phrases, and a long tail of words
(a Zipf draw over the reviews' vocabulary, an order number now and then). Without the shared
file the sentences come from the phrases alone (still with the long tail). ``generate`` reports
the number of distinct comments, so a figure that caches by text can be judged.
"""

from __future__ import annotations

import csv
import random
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from itertools import accumulate
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction

from cxgov.models import Accountability, Function, Membership, Raci, Role, User
from metrics.models import Customer, Scale, SurveyResponse
from metrics.services import customers_upsert, responses_upsert

CONTRACTS = [("Month-to-month", 0.550, 0.427), ("One year", 0.209, 0.113), ("Two year", 0.241, 0.028)]
RATINGS = [1, 2, 3, 4, 5]
RATING_WEIGHTS = [27, 72, 127, 228, 546]
DEPARTMENTS = ["Tops", "Dresses", "Bottoms", "Intimate", "Jackets", "Trend"]
DIVISIONS = ["General", "General Petite", "Initmates"]
PHRASES = {
    1: [
        "the fabric pilled after one wash",
        "it was charged twice on my card",
        "the parcel arrived a week late",
        "the return label never came",
        "the zip broke on first wear",
    ],
    2: [
        "runs very small in the shoulders",
        "colour is nothing like the photo",
        "delivery took longer than promised",
        "the refund took three weeks",
        "material feels cheap",
    ],
    3: [
        "fit is fine but the length is odd",
        "nice colour, thin fabric",
        "had to exchange for a bigger size",
        "okay for the price",
        "the sizing chart was confusing",
    ],
    4: [
        "lovely fabric and true to size",
        "arrived quickly, fits well",
        "comfortable and flattering",
        "good quality for the price",
        "a little long but easy to hem",
    ],
    5: [
        "love this dress, fits perfectly",
        "beautiful colour and soft fabric",
        "great quality, fast delivery",
        "my new favourite top",
        "flattering cut, true to size",
    ],
}


REVIEWS_FILE = "womens-clothing-reviews-1k.csv"  # in settings.SHARED_DATA_DIR (../shared/data/)


@cache
def _review_sentences() -> tuple[dict[int, list[str]], list[str]]:
    """Sentences of the shared reviews by rating, and their vocabulary most frequent first (both
    empty when the file is not there)."""
    by_rating: dict[int, list[str]] = {r: [] for r in RATINGS}
    words: Counter = Counter()
    reviews = Path(settings.SHARED_DATA_DIR) / REVIEWS_FILE
    if reviews.exists():
        with reviews.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                text, rating = (row.get("Review Text") or "").strip(), int(row.get("Rating") or 0)
                if not text or rating not in by_rating:
                    continue
                for sentence in re.split(r"(?<=[.!?])\s+", text):
                    if 12 <= len(sentence) <= 220:
                        by_rating[rating].append(sentence[0].upper() + sentence[1:])
                words.update(re.findall(r"[a-z]{3,}", text.lower()))
    return by_rating, [w for w, _ in words.most_common()]


class CommentMaker:
    """Review-length comments for a rating, almost all distinct (see the module's docstring)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        sentences, vocabulary = _review_sentences()
        self.sentences = {r: sentences.get(r) or [p.capitalize() + "." for p in PHRASES[r]] for r in RATINGS}
        self.vocabulary = vocabulary or sorted({w for ps in PHRASES.values() for p in ps for w in p.split()})
        # Zipf weights (1/rank): a few words everywhere, most words rare.
        self.weights = list(accumulate(1 / (rank + 1) for rank in range(len(self.vocabulary))))

    def __call__(self, rating: int) -> str:
        rng = self.rng
        parts = [rng.choice(self.sentences[rating]) for _ in range(rng.choice((2, 3, 3, 4)))]
        parts.insert(rng.randrange(len(parts) + 1), rng.choice(PHRASES[rating]).capitalize() + ".")
        tail = rng.choices(self.vocabulary, cum_weights=self.weights, k=rng.randint(2, 7))
        parts.append("Also: " + " ".join(tail) + ".")
        if rng.random() < 0.3:
            parts.append(f"Order {rng.randrange(10**6, 10**7)}.")
        return " ".join(parts)


def _counts(scale: float) -> dict[str, int]:
    return {
        "functions": max(3, int(30 * scale)),
        "people": max(4, int(120 * scale)),
        "customers": int(2000 * scale),
        "responses": int(1000 * scale),
    }


@transaction.atomic
def generate(*, scale: float, seed: int = 7) -> dict[str, int]:
    """Create the organisation and customer data for this scale; returns the row counts."""
    rng = random.Random(seed)
    n = _counts(scale)
    tag = f"s{scale:g}".replace(".", "_")
    password = make_password("bench-password")
    people = User.objects.bulk_create(
        [
            User(
                username=f"bench-{tag}-{i}",
                first_name=f"Person{i}",
                role=[Role.LEADER, Role.STAKEHOLDER, Role.CX_TEAM][i % 3],
                password=password,
            )
            for i in range(n["people"])
        ]
    )
    functions = Function.objects.bulk_create(
        [
            Function(
                name=f"Function {tag} {i:04d}",
                slug=f"function-{tag}-{i:04d}",
                customer_facing=i % 4 == 0,
                leader=people[i % len(people)],
                description="A synthetic function for benchmarks.",
            )
            for i in range(n["functions"])
        ]
    )
    Membership.objects.bulk_create(
        [Membership(person=p, function=functions[i % len(functions)]) for i, p in enumerate(people)]
    )
    Accountability.objects.bulk_create(
        [
            Accountability(function=f, role=role, subject=f"Outcome {tag} {i // 2:04d}")
            for i, f in enumerate(functions)
            for role in ([Raci.ACCOUNTABLE] if i % 2 == 0 else [Raci.RESPONSIBLE, Raci.CONSULTED])
        ]
    )
    snapshot = date(2026, 10, 31)
    customers = []
    for i in range(n["customers"]):
        contract, _share, churn = rng.choices(CONTRACTS, weights=[c[1] for c in CONTRACTS])[0]
        tenure = rng.randint(0, 72)
        customers.append(
            Customer(
                external_id=f"{tag}-{i:07d}",
                category=contract,
                started_on=snapshot - timedelta(days=30 * tenure),
                ended_on=snapshot - timedelta(days=rng.randint(0, 29)) if rng.random() < churn else None,
                monthly_revenue=Decimal(f"{rng.uniform(18.25, 118.75):.2f}"),
            )
        )
    customers_upsert(customers=customers)
    start = datetime(2025, 11, 1, 12, tzinfo=UTC)
    responses = []
    comment = CommentMaker(rng)
    for i in range(n["responses"]):
        rating = rng.choices(RATINGS, weights=RATING_WEIGHTS)[0]
        responses.append(
            SurveyResponse(
                source=f"bench-{tag}",
                external_id=str(i),
                customer_id=f"{tag}-{rng.randrange(max(n['customers'], 1)):07d}",
                responded_at=start + timedelta(minutes=525 * i / max(scale, 0.001)),
                score=rating,
                scale=Scale.CSAT,
                comment=comment(rating),
                segment=rng.choice(DIVISIONS),
                channel="Online store",
                product=rng.choice(DEPARTMENTS),
                touchpoint="Product review",
            )
        )
    responses_upsert(responses=responses)
    return {**n, "distinct comments": len({r.comment for r in responses})}


REVIEW_SOURCES = [("bench-reviews", 9), ("bench-app", 1)]


def review_comments(n: int, *, scale: float, seed: int = 23) -> dict[str, int]:
    """``n`` review-shaped responses with comments (``CommentMaker``) over one year from 2025-11-01,
    nine in ten from one source, from the customers ``generate(scale=scale)`` made; written in
    chunks through ``responses_upsert`` (unchecked). Returns the rows and the distinct texts."""
    rng = random.Random(seed)
    tag, customers = f"s{scale:g}".replace(".", "_"), _counts(scale)["customers"]
    comment = CommentMaker(rng)
    start, step = datetime(2025, 11, 1, tzinfo=UTC), timedelta(days=365) / max(n, 1)
    distinct: set[str] = set()
    for first in range(0, n, 20_000):
        chunk = []
        for i in range(first, min(first + 20_000, n)):
            rating = rng.choices(RATINGS, weights=RATING_WEIGHTS)[0]
            text = comment(rating)
            distinct.add(text)
            chunk.append(
                SurveyResponse(
                    source=rng.choices([s for s, _ in REVIEW_SOURCES], weights=[w for _, w in REVIEW_SOURCES])[0],
                    external_id=str(i),
                    customer_id=f"{tag}-{rng.randrange(max(customers, 1)):07d}",
                    responded_at=start + step * i,
                    score=rating,
                    scale=Scale.CSAT,
                    comment=text,
                    segment=rng.choice(DIVISIONS),
                    channel="Online store",
                    product=rng.choice(DEPARTMENTS),
                    touchpoint="Product review",
                )
            )
        responses_upsert(responses=chunk, clean=False, notify=False)
    return {"comments": n, "distinct comments": len(distinct)}
