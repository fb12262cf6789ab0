"""Synthetic data shaped like ../shared/data/, at a chosen scale.

At scale 1: 30 functions (three in four non-customer-facing), 120 people, 2,000 customers
and 1,000 survey responses with comments. The shapes follow the real files: the telco
contract mix (55% month-to-month, 21% one year, 24% two year), churn rates per contract
(42.7%, 11.3%, 2.8%), monthly charges between 18 and 119; review ratings in the real
proportions (1-5: 2.7 / 7.2 / 12.7 / 22.8 / 54.6%) with comments built from phrases on the
themes customers actually raise (fit, fabric, delivery, billing, returns). Seeded, so a
scale always produces the same data.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

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
    for i in range(n["responses"]):
        rating = rng.choices(RATINGS, weights=RATING_WEIGHTS)[0]
        phrases = rng.sample(PHRASES[rating], k=2)
        responses.append(
            SurveyResponse(
                source=f"bench-{tag}",
                external_id=str(i),
                customer_id=f"{tag}-{rng.randrange(max(n['customers'], 1)):07d}",
                responded_at=start + timedelta(minutes=525 * i / max(scale, 0.001)),
                score=rating,
                scale=Scale.CSAT,
                comment=f"{phrases[0].capitalize()}; {phrases[1]}.",
                segment=rng.choice(DIVISIONS),
                channel="Online store",
                product=rng.choice(DEPARTMENTS),
                touchpoint="Product review",
            )
        )
    responses_upsert(responses=responses)
    return n
