"""A demo taxonomy for the review comments in ../shared/data/, owned by the telco's functions."""

from __future__ import annotations

from cxgov.models import Function
from metrics.models import SurveyResponse
from rootcause.models import DecisionPoint, KeyDriver, SubTheme, Workflow
from rootcause.services import comments_tag

# driver: [(sub-theme, keywords, negative keywords, suggested function slug)]
TAXONOMY = {
    "Fit and sizing": [
        (
            "Runs small",
            ["runs small", "too small", "size up", "sized up", "tight", "snug", "smaller than"],
            ["not tight", "not too small"],
            "product",
        ),
        (
            "Runs large",
            [
                "runs large",
                "too big",
                "too large",
                "size down",
                "sized down",
                "huge",
                "boxy",
                "baggy",
                "roomy",
                "oversized",
            ],
            [],
            "product",
        ),
        (
            "Length and proportions",
            ["too long", "too short", "length", "petite", "tall", "hem*", "torso"],
            [],
            "product",
        ),
        (
            "Fits well",
            [
                "fits perfectly",
                "true to size",
                "fit perfectly",
                "fits great",
                "fit is perfect",
                "flattering",
                "fits well",
                "perfect fit",
            ],
            [],
            "product",
        ),
    ],
    "Fabric and quality": [
        (
            "Thin or see-through",
            ["see through", "see-through", "sheer", "thin", "transparent", "lining"],
            [],
            "procurement",
        ),
        (
            "Quality problems",
            [
                "cheap",
                "poor quality",
                "pill*",
                "hole",
                "ripped",
                "itchy",
                "scratchy",
                "snag*",
                "fell apart",
                "shrunk",
                "shrink*",
                "wrinkl*",
            ],
            [],
            "procurement",
        ),
        (
            "Soft and comfortable",
            ["soft", "comfortable", "comfy", "cozy", "quality", "well made"],
            ["poor quality"],
            "procurement",
        ),
    ],
    "Look and design": [
        (
            "Colour or look differs from photo",
            ["color", "colour", "picture", "photo", "online", "pictured", "in person"],
            [],
            "marketing",
        ),
        (
            "Love the style",
            ["love", "beautiful", "cute", "gorgeous", "pretty", "stunning", "compliments"],
            ["wanted to love", "really wanted", "unfortunately", "disappointed", "sadly", "returning", "sent it back"],
            "marketing",
        ),
    ],
    "Price and service": [
        ("Price and value", ["price", "expensive", "sale", "worth", "pricey", "cost", "overpriced"], [], "finance"),
        (
            "Returns and delivery",
            ["return*", "exchange*", "shipping", "delivery", "arrived", "refund"],
            [],
            "logistics",
        ),
    ],
}


# function slug: (workflow, [(decision point rule, kind)])
WORKFLOWS = {
    "billing": (
        "Monthly invoice run",
        [("Tariff changes apply from the next full month, so the first bill mixes two tariffs", "operational")],
    ),
    "logistics": ("Device dispatch", [("Orders after 14:00 wait for the next day's batch", "operational")]),
    "legal-compliance": (
        "Contract summary",
        [("Early-termination wording changes need a full legal review", "regulatory")],
    ),
    "product": ("Month-to-month pricing", [("Loyalty discounts only go to new contracts", "strategic")]),
}


def load(*, stdout) -> None:
    """Create the taxonomy (matching on slugs; an edited theme keeps the CX team's rules) and tag."""
    functions = {f.slug: f for f in Function.objects.all()}
    created = 0
    for driver_name, themes in TAXONOMY.items():
        driver, _ = KeyDriver.objects.get_or_create(
            slug=driver_name.lower().replace(" ", "-"), defaults={"name": driver_name}
        )
        for name, keywords, negatives, owner in themes:
            slug = name.lower().replace(" ", "-")
            _, was_created = SubTheme.objects.get_or_create(
                slug=slug,
                defaults={
                    "driver": driver,
                    "name": name,
                    "keywords": "\n".join(keywords),
                    "negative_keywords": "\n".join(negatives),
                    "suggested_function": functions.get(owner),
                },
            )
            created += was_created
    for slug, (workflow_name, points) in WORKFLOWS.items():
        if slug not in functions:
            continue
        workflow, _ = Workflow.objects.get_or_create(name=workflow_name, defaults={"function": functions[slug]})
        for rule, kind in points:
            DecisionPoint.objects.get_or_create(workflow=workflow, rule=rule, defaults={"kind": kind})
    stats = comments_tag(responses=SurveyResponse.objects.all())
    stdout.write(
        f"Themes: {created} sub-themes created; {stats['comments']} comments read, {stats['added']} tags added, "
        f"{stats['removed']} removed."
    )
