"""A demo taxonomy for the review comments in ../shared/data/, owned by the telco's functions."""

from __future__ import annotations

from datetime import date

from cxgov.models import Function, User
from metrics.demo import REVIEWS_SOURCE
from metrics.models import Metric, SurveyResponse
from rootcause import services
from rootcause.models import ActionItem, DecisionPoint, Issue, KeyDriver, SubTheme, Workflow
from rootcause.selectors import issue_evidence
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
        # Written for the clothing reviews: other sources' comments (an airline's, say) are not tagged.
        driver, _ = KeyDriver.objects.get_or_create(
            slug=driver_name.lower().replace(" ", "-"), defaults={"name": driver_name, "sources": [REVIEWS_SOURCE]}
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
    analysed = services.comments_analyse()
    stats = comments_tag(responses=SurveyResponse.objects.all())
    scored = services.tags_analyse()
    stdout.write(
        f"Themes: {created} sub-themes created; {stats['comments']} comments read, {stats['added']} tags added, "
        f"{stats['removed']} removed; sentiment and language of {analysed['analysed']} comments, "
        f"sentiment of {scored} tags."
    )
    load_issues(stdout=stdout)


# Issues at different stages: (title, fields, whys, action items). Dates sit in the demo's year of
# review comments (to SNAPSHOT, 31 Oct 2026) and around today, so some items are overdue.
ISSUES = [
    (
        "Deliveries arrive later than promised",
        {
            "sub_theme": "returns-and-delivery",
            "function": "logistics",
            "owner": "logistics.lead",
            "priority": "high",
            "target_quarter": "2026-Q4",
            "decision_point": "Orders after 14:00 wait for the next day's batch",
            "root_cause": "The dispatch batch closes at 14:00, so an evening order waits a full day before it moves.",
            "measure_kind": "share",
            "baseline_start": date(2025, 11, 1),
            "baseline_end": date(2026, 4, 30),
            "check_start": date(2026, 5, 1),
            "check_end": date(2026, 10, 31),
        },
        [
            (
                "Why do customers complain about delivery?",
                "Parcels arrive a day after the promised date.",
                "Review verbatims",
            ),
            ("Why a day late?", "Evening orders leave the warehouse the next afternoon.", "Dispatch log sample"),
            ("Why the next afternoon?", "The dispatch batch closes at 14:00.", "Warehouse rota"),
        ],
        [
            ("Move the batch cut-off to 17:00", "done", date(2026, 4, 15), "", "logistics"),
            ("Add a second courier pick-up at 18:00", "in_progress", date(2026, 12, 15), "", "logistics"),
            (
                "Show the real dispatch day at checkout",
                "blocked",
                date(2026, 11, 10),
                "Waiting for the web team",
                "logistics",
            ),
        ],
    ),
    (
        "First bills after a tariff change mix two tariffs",
        {
            "metric": "Monthly churn rate",
            "function": "billing",
            "owner": "leader",
            "priority": "high",
            "target_quarter": "2027-Q1",
            "decision_point": "Tariff changes apply from the next full month, so the first bill mixes two tariffs",
            "root_cause": "The invoice run pro-rates the old tariff instead of switching on the change date.",
        },
        [
            (
                "Why do customers call about their first bill?",
                "It shows charges they do not recognise.",
                "Care call reasons",
            ),
            ("Why unrecognised charges?", "The bill mixes the old and the new tariff.", "Invoice sample"),
        ],
        [
            ("Switch tariffs on the change date in the invoice run", "in_progress", date(2027, 1, 31), "", "billing"),
            ("Explain a mixed first bill on the invoice", "open", date(2026, 11, 20), "", "billing"),
        ],
    ),
    (
        "Items run small",
        {"sub_theme": "runs-small", "function": "product", "priority": "medium", "target_quarter": "2027-Q1"},
        [("Why do customers say items run small?", "Sizes differ between collections.", "")],
        [],
    ),
    (
        "Month-to-month customers churn",
        {"metric": "Monthly churn rate", "priority": "critical", "target_quarter": "2027-Q1"},
        [],
        [],
    ),
]


def load_issues(*, stdout) -> None:
    """Demo issues (created once, by title), opened by the CX team with the evidence of the day."""
    actor = User.objects.filter(username="cx").first()
    if actor is None:
        return
    functions = {f.slug: f for f in Function.objects.all()}
    people = {u.username: u for u in User.objects.all()}
    created = 0
    for title, spec, whys, items in ISSUES:
        if Issue.objects.filter(title=title).exists():
            continue
        fields = {"title": title, "cx_owner": actor, **spec}
        fields["sub_theme"] = SubTheme.objects.filter(slug=spec.get("sub_theme", "")).first()
        fields["metric"] = Metric.objects.filter(name=spec.get("metric", "")).first()
        fields["function"] = functions.get(spec.get("function", ""))
        fields["owner"] = people.get(spec.get("owner", ""))
        fields["decision_point"] = DecisionPoint.objects.filter(rule=spec.get("decision_point", "")).first()
        if spec.get("sub_theme") and fields["sub_theme"] is None or spec.get("function") and fields["function"] is None:
            continue  # the taxonomy or the organisation was changed: leave the demo issue out
        if spec.get("measure_kind") == "share" and fields["sub_theme"] is None:
            fields.pop("measure_kind")
        evidence = issue_evidence(sub_theme=fields["sub_theme"], metric=fields["metric"])
        issue = services.issue_save(user=actor, issue=Issue(evidence=evidence), fields=fields)
        services.whys_save(user=actor, issue=issue, steps=[{"why": w, "because": b, "evidence": e} for w, b, e in whys])
        for item_title, status, due, reason, slug in items:
            item = services.action_item_save(
                user=actor,
                item=ActionItem(issue=issue),
                fields={"title": item_title, "function": functions[slug], "owner": fields["owner"], "due_date": due},
            )
            if status != "open":
                services.action_item_update(
                    user=actor, item=item, status=status, blocked_reason=reason, text="Demo: status from the plan."
                )
        if issue.check_end:
            services.issue_verify(issue_id=issue.pk)
        created += 1
    stdout.write(f"Issues: {created} demo issues created.")
