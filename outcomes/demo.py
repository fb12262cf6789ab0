"""Demo outcome canvases for the telco's three contract categories, on the real customer data."""

from __future__ import annotations

from cxgov.models import Function, User
from metrics.models import Metric
from outcomes.models import Canvas, CustomerCategory
from outcomes.services import canvas_approve, canvas_draft, canvas_save

CANVASES = {
    "Month-to-month": {
        "description": "Customers without a contract: free to leave any month, and they do (42.7% churn).",
        "who": "Households and young professionals who want flexibility and pay by electronic check.",
        "expectations": "A working connection from day one and a bill that matches the offer they chose.",
        "outcomes": "Connected and online on the promised day\nFirst three bills match the offer, with no surprises",
        "needs": [
            ("Internet working on the installation day", "2027-03-31"),
            ("Bill explained in plain words before the first payment", "2027-06-30"),
        ],
        "moments": [
            ("Order and delivery", "Router and SIM arrive before the technician", ["logistics", "procurement"]),
            ("First bill", "Pro-rated charges and discounts applied as sold", ["billing", "it"]),
        ],
        "measures": ["monthly-churn", "review-csat"],
        "functions": ["billing", "logistics", "product"],
        "triple": ("Fewer first-bill calls", "Right first time", "Fewer early cancellations"),
    },
    "One year": {
        "description": "Customers on a one-year contract (11.3% churn in the month).",
        "who": "Families who bundle internet, TV and phone.",
        "expectations": "Stable service and fair treatment at renewal.",
        "outcomes": "Renew without having to call to ask for a fair price",
        "needs": [("Renewal offer sent 30 days before the contract ends", "2027-01-31")],
        "moments": [("Renewal", "Offer and price comparison", ["product", "marketing", "retail-sales"])],
        "measures": ["monthly-churn", "customer-lifetime-value", "review-csat"],
        "functions": ["product", "marketing"],
        "triple": ("Fewer retention calls", "Renewal in one step", "Higher renewal rate"),
    },
    "Two year": {
        "description": "Long-contract customers (2.8% churn in the month), the most valuable per head.",
        "who": "Established households on long contracts.",
        "expectations": "Things keep working; problems are fixed before they notice.",
        "outcomes": "No outage lasts more than four hours",
        "needs": [],
        "moments": [("Outage", "Fault found and fixed, customer told proactively", ["network-operations", "it"])],
        "measures": ["customer-lifetime-value"],
        "functions": ["network-operations"],
        "triple": ("Fewer fault calls", "Proactive notices", "Longer lifetime"),
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
            slug=name.lower().replace(" ", "-"),
            defaults={"name": name, "description": spec["description"], "data_category": name},
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
