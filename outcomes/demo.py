"""Demo outcome canvases for Loom & Thread's three subscription plans, on the real subscriber data."""

from __future__ import annotations

from cxgov.models import Function, User
from metrics.models import Metric
from outcomes.models import Canvas, CustomerCategory
from outcomes.services import canvas_approve, canvas_draft, canvas_save

# Category name: spec. "data_category" is the plan as the subscriber data names it (the churn file's Contract).
CANVASES = {
    "Month-to-month subscribers": {
        "data_category": "Month-to-month",
        "description": "Subscribers who can cancel any month, and do: 42.7% of them left within the year.",
        "who": "Busy professionals trying the service: they want to stop thinking about what to wear.",
        "expectations": "A first box that fits and suits them, and a charge that matches the plan they chose.",
        "outcomes": "Keep at least two items from each of their first three boxes\nNo surprise on a charge",
        "needs": [
            ("Items in the first box fit on the first try", "2027-03-31"),
            ("Plan changes shown on the next charge in plain words", "2027-06-30"),
        ],
        "moments": [
            (
                "First box",
                "Stylist picks by the size profile; the box arrives on the promised day",
                ["styling", "fulfilment"],
            ),
            (
                "First returns",
                "Sending back what does not fit is free and refunded within five days",
                ["returns", "it"],
            ),
            ("First charge", "Pro-rated charges and discounts applied as sold", ["billing", "it"]),
        ],
        "measures": ["monthly-churn", "review-csat", "dress-rating"],
        "functions": ["sizing-product", "styling", "returns", "billing"],
        "triple": ("Fewer fit returns and charge contacts", "Right first time", "Fewer early cancellations"),
    },
    "Annual subscribers": {
        "data_category": "One year",
        "description": "Subscribers on a one-year plan (11.3% of them left within the year).",
        "who": "Regular customers who like the stylist's picks and want a better price for committing.",
        "expectations": "Boxes that keep surprising them and a fair renewal.",
        "outcomes": "Renew without having to call to ask for a fair price",
        "needs": [("Renewal offer sent 30 days before the plan ends", "2027-01-31")],
        "moments": [("Renewal", "Offer and price comparison", ["finance", "marketing", "legal-compliance"])],
        "measures": ["annual-plan-churn", "customer-lifetime-value", "review-csat"],
        "functions": ["finance", "marketing"],
        "triple": ("Fewer retention calls", "Renewal in one step", "Higher renewal rate"),
    },
    "Two-year subscribers": {
        "data_category": "Two year",
        "description": "Long-plan subscribers (2.8% of them left within the year), the most valuable per head.",
        "who": "Loyal customers whose wardrobe the stylists know well.",
        "expectations": "Quality that lasts and items that match the photos.",
        "outcomes": "Every item kept is still worn after a season",
        "needs": [],
        "moments": [("Wear and wash", "Fabric keeps its shape and colour", ["procurement", "merchandising"])],
        "measures": ["customer-lifetime-value", "knits-csat"],
        "functions": ["procurement", "merchandising"],
        "triple": ("Fewer quality complaints", "Items that last", "Longer lifetime"),
    },
}


def load(*, stdout) -> None:
    author = User.objects.filter(username="cx").first()
    if author is None:
        stdout.write("Outcomes: the demo CX user is missing; no canvases loaded.")
        return
    functions = {f.slug: f for f in Function.objects.all()}
    metrics = {m.slug: m for m in Metric.objects.all()}
    created = 0
    for name, spec in CANVASES.items():
        category, _ = CustomerCategory.objects.get_or_create(
            slug=spec["data_category"].lower().replace(" ", "-"),
            defaults={"name": name, "description": spec["description"], "data_category": spec["data_category"]},
        )
        if Canvas.objects.filter(category=category).exists():
            continue  # written already (perhaps changed since): leave it
        draft = canvas_draft(user=author, category=category)
        cost, service, revenue = spec["triple"]
        canvas_save(
            user=author,
            canvas=draft,
            fields={
                "who": spec["who"],
                "expectations": spec["expectations"],
                "outcomes": spec["outcomes"],
                "cost_to_serve": cost,
                "service": service,
                "revenue": revenue,
            },
            measures=[metrics[s] for s in spec["measures"] if s in metrics],
            functions=[functions[s] for s in spec["functions"] if s in functions],
            needs=[
                {
                    "text": text,
                    "specific": True,
                    "measurable": True,
                    "achievable": True,
                    "relevant": True,
                    "time_bound": True,
                    "due_on": due,
                }
                for text, due in spec["needs"]
            ],
            moments=[
                {"stage": stage, "what_happens": what, "functions": [functions[s] for s in acting]}
                for stage, what, acting in spec["moments"]
            ],
        )
        canvas_approve(user=author, canvas=draft)
        created += 1
    stdout.write(f"Outcomes: {created} canvas(es) written and approved ({len(CANVASES)} categories in the demo).")
