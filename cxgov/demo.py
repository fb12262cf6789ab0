"""The demo organisation: a telco with a dozen functions, most of them non-customer-facing.

Loading is idempotent: functions, people and accountabilities are matched on their natural
keys (slug, username, function + subject + role) and a second run changes nothing. Demo
passwords are set only when a demo person is first created.
"""

from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.db import transaction

from cxgov.models import Accountability, Function, Membership, Role, User

DEMO_PASSWORD = "cxgov-demo"  # noqa: S105 - documented in the README, demo data only

# slug: (name, customer-facing, parent slug, description)
FUNCTIONS = {
    "customer-care": ("Customer Care", True, None, "Contact centre: calls, chat and email from customers."),
    "retail-sales": ("Retail & Sales", True, None, "Shops and telesales: new contracts, upgrades, renewals."),
    "field-services": ("Field Services", True, None, "Technicians who install and repair at the customer's home."),
    "finance": ("Finance", False, None, "Financial control, planning and reporting."),
    "billing": ("Billing", False, "finance", "Invoice runs, tariffs in the billing system, payment methods."),
    "credit-collections": (
        "Credit & Collections",
        False,
        "finance",
        "Credit checks, dunning, payment plans and debt recovery.",
    ),
    "logistics": ("Logistics", False, None, "Warehouse and delivery of routers, phones and SIM cards."),
    "it": ("IT", False, None, "Customer-facing systems, the self-service portal and the release calendar."),
    "network-operations": ("Network Operations", False, None, "Fibre, DSL and mobile network performance."),
    "legal-compliance": ("Legal & Compliance", False, None, "Contract terms, regulatory notices, complaints policy."),
    "product": ("Product Management", False, None, "Tariffs, bundles and the rules of each offer."),
    "procurement": ("Procurement", False, None, "Suppliers of devices, installation partners and stock levels."),
    "marketing": ("Marketing", False, None, "Campaigns, offers and what they promise customers."),
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
        "Head of Billing",
        ["billing", "credit-collections"],
        ["billing", "credit-collections"],
    ),
    "stakeholder": ("Samuel", "Okafor", Role.STAKEHOLDER, "Chief Operating Officer", [], []),
    "logistics.lead": ("Marta", "Kowalska", Role.LEADER, "Head of Logistics", ["logistics"], ["logistics"]),
    "it.lead": ("Daniel", "Reyes", Role.LEADER, "CIO", ["it"], ["it"]),
    "care.lead": ("Aisha", "Rahman", Role.LEADER, "Head of Customer Care", ["customer-care"], ["customer-care"]),
    "sales.lead": ("Tom", "Fischer", Role.LEADER, "Head of Retail & Sales", ["retail-sales"], ["retail-sales"]),
    "field.lead": ("Lena", "Novak", Role.LEADER, "Head of Field Services", ["field-services"], ["field-services"]),
    "finance.lead": ("Robert", "Chen", Role.LEADER, "CFO", ["finance"], ["finance"]),
    "network.lead": (
        "Ines",
        "Costa",
        Role.LEADER,
        "Head of Network Operations",
        ["network-operations"],
        ["network-operations"],
    ),
    "legal.lead": ("Hannah", "Weber", Role.LEADER, "General Counsel", ["legal-compliance"], ["legal-compliance"]),
    "product.lead": ("Omar", "Haddad", Role.LEADER, "Head of Product", ["product"], ["product"]),
    "procurement.lead": ("Grace", "Liu", Role.LEADER, "Head of Procurement", ["procurement"], ["procurement"]),
    "marketing.lead": ("Noah", "Jensen", Role.LEADER, "CMO", ["marketing"], ["marketing"]),
    "billing.analyst": ("Eva", "Lind", Role.STAKEHOLDER, "Billing analyst", ["billing"], []),
}

# (function slug, RACI role, subject, note)
ACCOUNTABILITIES = [
    ("billing", "A", "Invoice accuracy", "First bills after a tariff change are the main source of billing calls."),
    ("customer-care", "C", "Invoice accuracy", "Care sees the calls first and reports the patterns."),
    ("finance", "I", "Invoice accuracy", ""),
    ("billing", "A", "Payment method changes take effect on the next bill", ""),
    ("credit-collections", "A", "Fair dunning for customers on payment plans", ""),
    ("logistics", "A", "Router and SIM delivered before the installation date", ""),
    ("procurement", "R", "Router and SIM delivered before the installation date", "Stock levels at suppliers."),
    ("field-services", "C", "Router and SIM delivered before the installation date", ""),
    ("it", "A", "Self-service portal available and usable", ""),
    ("it", "R", "Release calendar avoids billing-run days", ""),
    ("billing", "A", "Release calendar avoids billing-run days", ""),
    ("network-operations", "A", "Internet service reliability", "Fibre outages drive early churn."),
    ("field-services", "R", "Installation right first time", ""),
    ("network-operations", "A", "Installation right first time", "Line readiness before the technician visit."),
    ("legal-compliance", "A", "Contract terms customers understand", "Plain-language review of contract summaries."),
    ("product", "A", "Month-to-month offers that do not punish loyalty", ""),
    ("marketing", "A", "Offers promise only what the product delivers", ""),
    ("product", "C", "Offers promise only what the product delivers", ""),
    ("customer-care", "R", "First-contact resolution", ""),
    ("cx-office", "A", "Successful Customer Outcome canvases kept current", ""),
    ("retail-sales", "R", "Right contract for the customer's needs at sale", ""),
    ("product", "A", "Right contract for the customer's needs at sale", ""),
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
