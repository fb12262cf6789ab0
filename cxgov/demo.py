"""The demo organisation: Loom & Thread, an online clothing retailer with a styling subscription;
fourteen functions, most of them non-customer-facing.

Loading is idempotent: functions, people and accountabilities are matched on their natural
keys (slug, username, function + subject + role) and a second run changes nothing. Demo
passwords are set only when a demo person is first created.
"""

from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.db import transaction

from cxgov.models import Accountability, Function, Membership, Role, User

DEMO_PASSWORD = "cxgov-demo"  # noqa: S105 - documented in the README, demo data only

COMPANY = "Loom & Thread"
ABOUT = (
    "an online clothing retailer with a styling subscription: each month a subscriber receives a box "
    "of clothes picked for them, keeps what they like and returns the rest"
)

# slug: (name, customer-facing, parent slug, description)
FUNCTIONS = {
    "customer-care": ("Customer Care", True, None, "Chat, email and phone for subscribers and shoppers."),
    "styling": ("Personal Styling", True, None, "Stylists who pick each subscriber's monthly box from their profile."),
    "merchandising": ("Merchandising", False, None, "The range: what is bought, for which season, at what price."),
    "sizing-product": (
        "Sizing & Product",
        False,
        None,
        "Size charts, fit standards and product specifications for every garment.",
    ),
    "procurement": ("Procurement & Sourcing", False, None, "Suppliers, fabrics and quality checks on arrival."),
    "fulfilment": ("Fulfilment", False, None, "Warehouse, packing of the monthly boxes and the couriers."),
    "returns": ("Returns", False, None, "The returns portal, inspection of returned items and refunds."),
    "finance": ("Finance", False, None, "Financial control, planning and reporting."),
    "billing": (
        "Subscriptions & Billing",
        False,
        "finance",
        "Subscription plans, monthly charges, plan changes and payment methods.",
    ),
    "credit-collections": (
        "Payments & Collections",
        False,
        "finance",
        "Failed card payments, dunning, payment plans and debt recovery.",
    ),
    "it": ("IT & E-commerce", False, None, "The web shop, the app, the subscription portal and the release calendar."),
    "legal-compliance": ("Legal & Compliance", False, None, "Subscription terms, consumer law, complaints policy."),
    "marketing": ("Marketing & Content", False, None, "Campaigns, product photos and descriptions, and offers."),
    "cx-office": ("Customer Experience Office", False, None, "The CX team: listening, analysis and governance."),
}

# username: (first, last, role, title, function slugs, leads)
PEOPLE = {
    "admin": ("Alex", "Morgan", Role.ADMINISTRATOR, "Systems administrator", ["it"], []),
    "cx": ("Camille", "Dubois", Role.CX_TEAM, "CX analyst", ["cx-office"], []),
    "cx.lead": ("Jonas", "Berg", Role.CX_TEAM, "Head of Customer Experience", ["cx-office"], ["cx-office"]),
    "leader": (
        "Priya",
        "Shah",
        Role.LEADER,
        "Head of Subscriptions & Billing",
        ["billing", "credit-collections"],
        ["billing", "credit-collections"],
    ),
    "stakeholder": ("Samuel", "Okafor", Role.STAKEHOLDER, "Chief Operating Officer", [], []),
    "sizing.lead": ("Omar", "Haddad", Role.LEADER, "Head of Sizing & Product", ["sizing-product"], ["sizing-product"]),
    "fulfilment.lead": ("Marta", "Kowalska", Role.LEADER, "Head of Fulfilment", ["fulfilment"], ["fulfilment"]),
    "returns.lead": ("Lena", "Novak", Role.LEADER, "Head of Returns", ["returns"], ["returns"]),
    "it.lead": ("Daniel", "Reyes", Role.LEADER, "CTO", ["it"], ["it"]),
    "care.lead": ("Aisha", "Rahman", Role.LEADER, "Head of Customer Care", ["customer-care"], ["customer-care"]),
    "styling.lead": ("Tom", "Fischer", Role.LEADER, "Head of Personal Styling", ["styling"], ["styling"]),
    "finance.lead": ("Robert", "Chen", Role.LEADER, "CFO", ["finance"], ["finance"]),
    "merch.lead": ("Ines", "Costa", Role.LEADER, "Head of Merchandising", ["merchandising"], ["merchandising"]),
    "legal.lead": ("Hannah", "Weber", Role.LEADER, "General Counsel", ["legal-compliance"], ["legal-compliance"]),
    "procurement.lead": ("Grace", "Liu", Role.LEADER, "Head of Sourcing", ["procurement"], ["procurement"]),
    "marketing.lead": ("Noah", "Jensen", Role.LEADER, "CMO", ["marketing"], ["marketing"]),
    "billing.analyst": ("Eva", "Lind", Role.STAKEHOLDER, "Billing analyst", ["billing"], []),
}

# (function slug, RACI role, subject, note)
ACCOUNTABILITIES = [
    (
        "billing",
        "A",
        "Subscribers charged the right amount on the right day",
        "First charges after a plan change are the main source of billing contacts.",
    ),
    ("customer-care", "C", "Subscribers charged the right amount on the right day", "Care sees the contacts first."),
    ("finance", "I", "Subscribers charged the right amount on the right day", ""),
    ("billing", "A", "Plan changes take effect on the next charge", ""),
    ("credit-collections", "A", "Fair dunning for customers on payment plans", ""),
    ("fulfilment", "A", "Boxes delivered on the promised day", ""),
    ("procurement", "R", "Boxes delivered on the promised day", "Supplier lead times and stock levels."),
    ("returns", "A", "Refunds within five days of a return arriving", ""),
    ("it", "R", "Refunds within five days of a return arriving", "The returns portal."),
    ("sizing-product", "A", "Size charts that match the garments", "Fit is the first reason for a return."),
    ("merchandising", "C", "Size charts that match the garments", ""),
    ("procurement", "A", "Fabric quality matches the specification", ""),
    ("marketing", "A", "Product photos show the true colour and fit", ""),
    ("merchandising", "A", "A range subscribers want to keep", ""),
    ("styling", "A", "Boxes styled to the subscriber's profile", ""),
    ("it", "A", "Subscription portal available and usable", ""),
    ("it", "R", "Release calendar avoids billing-run days", ""),
    ("billing", "A", "Release calendar avoids billing-run days", ""),
    ("legal-compliance", "A", "Cancellation terms subscribers understand", "Plain-language review of the terms."),
    ("finance", "A", "Plan prices that do not punish loyalty", ""),
    ("customer-care", "R", "First-contact resolution", ""),
    ("cx-office", "A", "Successful Customer Outcome canvases kept current", ""),
]


@transaction.atomic
def load_organisation(*, stdout=None) -> dict[str, int]:
    """Create or bring back the demo company; returns how many rows each step created."""
    created = {"functions": 0, "people": 0, "memberships": 0, "accountabilities": 0}
    password_hash = make_password(DEMO_PASSWORD)  # hashed once: hashing is slow on purpose
    functions: dict[str, Function] = {}
    skipped: list[str] = []
    for slug, (name, facing, _parent, description) in FUNCTIONS.items():
        function = Function.objects.filter(slug=slug).first() or Function.objects.filter(name=name).first()
        if function is None:
            function = Function.objects.create(slug=slug, name=name, customer_facing=facing, description=description)
            created["functions"] += 1
        functions[slug] = function
    for slug, (_name, _facing, parent, _description) in FUNCTIONS.items():
        if parent and functions[slug].parent_id is None:
            functions[slug].parent = functions[parent]
            functions[slug].save(update_fields=["parent"])

    for username, (first, last, role, title, member_of, leads) in PEOPLE.items():
        person, was_created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "role": role,
                "title": title,
                "email": f"{username}@demo.cxgov.invalid",
                "is_staff": role == Role.ADMINISTRATOR,
                "is_superuser": role == Role.ADMINISTRATOR,
                "password": password_hash,
            },
        )
        created["people"] += was_created
        for slug in member_of:
            _, was_created = Membership.objects.get_or_create(person=person, function=functions[slug])
            created["memberships"] += was_created
        for slug in leads:
            if functions[slug].leader_id is None:
                functions[slug].leader = person
                functions[slug].save(update_fields=["leader"])

    for slug, role, subject, note in ACCOUNTABILITIES:
        if role == "A":
            holder = Accountability.objects.filter(role="A", subject=subject, subject_type__isnull=True).first()
            if holder is not None and holder.function_id != functions[slug].pk:
                skipped.append(f"{subject} (now Accountable: {holder.function})")
                continue
        _, was_created = Accountability.objects.get_or_create(
            function=functions[slug], role=role, subject=subject, defaults={"note": note}
        )
        created["accountabilities"] += was_created
    if stdout is not None:
        stdout.write(
            "Organisation: "
            + ", ".join(f"{n} {k} created" for k, n in created.items())
            + f" ({len(FUNCTIONS)} functions, {len(PEOPLE)} people in the demo)."
        )
        if skipped:
            stdout.write("Kept your changes to: " + "; ".join(skipped) + ".")
    return created
