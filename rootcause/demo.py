"""Loom & Thread's taxonomy for the review comments in ../shared/data/, its workflows and decision
points, and issues at every stage (one verified fix among them, for the README's five-minute tour)."""

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
            "sizing-product",
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
            "sizing-product",
        ),
        (
            "Length and proportions",
            ["too long", "too short", "length", "petite", "tall", "hem*", "torso"],
            [],
            "sizing-product",
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
            "sizing-product",
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
            "merchandising",
        ),
    ],
    "Price and service": [
        (
            "Price and value",
            ["price", "expensive", "sale", "worth", "pricey", "cost", "overpriced"],
            [],
            "merchandising",
        ),
        ("Returns and refunds", ["return*", "exchange*", "refund*", "sent it back", "send it back"], [], "returns"),
        ("Delivery", ["shipping", "delivery", "delivered", "arrived", "package"], [], "fulfilment"),
    ],
}


# function slug: (workflow, [(decision point rule, kind)])
WORKFLOWS = {
    "sizing-product": (
        "Size chart approval",
        [("New suppliers' size charts go live from their own measurements, without a fit sample", "operational")],
    ),
    "fulfilment": ("Box dispatch", [("Boxes packed after 14:00 wait for the next day's courier", "operational")]),
    "returns": ("Refund approval", [("Refunds over $50 wait for a manager's approval", "operational")]),
    "billing": (
        "Monthly subscription charge",
        [("Plan changes apply from the next full month, so the first charge mixes two plans", "operational")],
    ),
    "legal-compliance": (
        "Subscription terms",
        [("Cancellation wording changes need a full legal review", "regulatory")],
    ),
    "finance": ("Plan pricing", [("Loyalty discounts only go to new subscribers", "strategic")]),
    "marketing": (
        "Product photography",
        [("Photos are retouched to one house colour profile, whatever the fabric", "operational")],
    ),
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
# review comments (to SNAPSHOT, 31 Oct 2026) and around today, so some items are overdue. The first
# is the five-minute tour's: a vital-few sub-theme traced to a decision point, fixed and verified.
ISSUES = [
    (
        "Colours differ from the photos",
        {
            "sub_theme": "colour-or-look-differs-from-photo",
            "function": "marketing",
            "owner": "marketing.lead",
            "priority": "high",
            "target_quarter": "2026-Q1",
            "decision_point": "Photos are retouched to one house colour profile, whatever the fabric",
            "root_cause": "Every product photo is retouched to the same warm house profile, so muted and cool fabrics "
            "look brighter online than they are; subscribers keep fewer items and say the colour is not as pictured.",
            "measure_kind": "share",
            # Before the fix (done by the end of February 2026) and the four months after it.
            "baseline_start": date(2025, 11, 1),
            "baseline_end": date(2026, 2, 28),
            "check_start": date(2026, 3, 1),
            "check_end": date(2026, 6, 30),
        },
        [
            (
                "Why do subscribers say the item looks different from the photo?",
                "The colour they receive is duller or cooler than the one they saw.",
                "Review verbatims",
            ),
            (
                "Why does the photo show another colour?",
                "The photo was retouched after the shoot.",
                "Studio files of twenty items named in reviews",
            ),
            (
                "Why was it retouched?",
                "Every photo is graded to one warm house colour profile, whatever the fabric.",
                "Photography style guide",
            ),
            (
                "Why one profile for every fabric?",
                "The style guide asks for a consistent look across the catalogue; nobody checks a photo against the "
                "garment.",
                "Product photography workflow",
            ),
        ],
        [
            (
                "Grade photos to the garment under daylight, not to the house profile",
                "done",
                date(2026, 2, 13),
                "",
                "marketing",
            ),
            (
                "Check every new photo against the garment before it goes live",
                "done",
                date(2026, 2, 27),
                "",
                "marketing",
            ),
            (
                "Add a daylight close-up of the fabric to every product page",
                "in_progress",
                date(2026, 12, 18),
                "",
                "it",
            ),
        ],
    ),
    (
        "Items run small",
        {
            "sub_theme": "runs-small",
            "function": "sizing-product",
            "owner": "sizing.lead",
            "priority": "high",
            "target_quarter": "2026-Q1",
            "decision_point": "New suppliers' size charts go live from their own measurements, without a fit sample",
            "root_cause": "Size charts of new suppliers go live from the supplier's own table; nobody tries a sample "
            "on a fit model, so a supplier whose sizes run a size small is sold as true to size.",
            "measure_kind": "share",
            # Before the fix (done by mid-February 2026) and after it, with a month to take effect.
            "baseline_start": date(2025, 11, 1),
            "baseline_end": date(2026, 1, 31),
            "check_start": date(2026, 3, 1),
            "check_end": date(2026, 10, 31),
        },
        [
            (
                "Why do subscribers say items run small?",
                "They order their usual size and it is tight.",
                "Review verbatims",
            ),
            (
                "Why is their usual size tight?",
                "Items from three new suppliers measure 2-3 cm smaller than our size chart.",
                "Fit-model measurements of returned items",
            ),
            (
                "Why does our size chart say otherwise?",
                "The chart was published from the suppliers' own measurement tables.",
                "Size chart approval log",
            ),
            (
                "Why from their tables?",
                "Approval does not require a fit sample for a new supplier.",
                "Size chart approval workflow",
            ),
        ],
        [
            (
                "Require a fit sample before a new supplier's size chart goes live",
                "done",
                date(2026, 4, 15),
                "",
                "sizing-product",
            ),
            (
                "Re-measure the three suppliers' ranges and correct their charts",
                "done",
                date(2026, 4, 30),
                "",
                "sizing-product",
            ),
            (
                'Add "runs small" notes to product pages where a range still differs',
                "in_progress",
                date(2026, 12, 15),
                "",
                "marketing",
            ),
        ],
    ),
    (
        "Boxes arrive later than promised",
        {
            "sub_theme": "delivery",
            "function": "fulfilment",
            "owner": "fulfilment.lead",
            "priority": "medium",
            "target_quarter": "2026-Q4",
            "decision_point": "Boxes packed after 14:00 wait for the next day's courier",
            "root_cause": "The courier collects once a day at 14:00, so a box packed in the afternoon loses a day.",
        },
        [
            ("Why do subscribers complain about delivery?", "Boxes arrive a day after the promised date.", "Reviews"),
            ("Why a day late?", "Afternoon boxes leave the warehouse the next day.", "Dispatch log sample"),
            ("Why the next day?", "The courier collects once a day, at 14:00.", "Courier contract"),
        ],
        [
            ("Add a second courier collection at 18:00", "in_progress", date(2026, 12, 15), "", "fulfilment"),
            (
                "Show the real dispatch day in the subscriber's account",
                "blocked",
                date(2026, 11, 10),
                "Waiting for the web team",
                "it",
            ),
        ],
    ),
    (
        "First charge after a plan change mixes two plans",
        {
            "metric": "Monthly churn rate",
            "function": "billing",
            "owner": "leader",
            "priority": "high",
            "target_quarter": "2027-Q1",
            "decision_point": "Plan changes apply from the next full month, so the first charge mixes two plans",
            "root_cause": "The charge run pro-rates the old plan instead of switching on the change date.",
        },
        [
            (
                "Why do subscribers contact us about their first charge after a plan change?",
                "It shows amounts they do not recognise.",
                "Care contact reasons",
            ),
            ("Why unrecognised amounts?", "The charge mixes the old and the new plan.", "Charge sample"),
        ],
        [
            ("Switch plans on the change date in the charge run", "in_progress", date(2027, 1, 31), "", "billing"),
            ("Explain a mixed first charge on the receipt", "open", date(2026, 11, 20), "", "billing"),
        ],
    ),
    (
        "Refunds for returned items take too long",
        {
            "sub_theme": "returns-and-refunds",
            "function": "returns",
            "priority": "medium",
            "target_quarter": "2027-Q1",
        },
        [("Why do subscribers wait for refunds?", "Refunds over $50 wait for a manager's approval.", "")],
        [],
    ),
    (
        "Month-to-month subscribers cancel",
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
                fields={
                    "title": item_title,
                    "function": functions[slug],
                    "owner": functions[slug].leader or fields["owner"],
                    "due_date": due,
                },
            )
            if status != "open":
                services.action_item_update(
                    user=actor, item=item, status=status, blocked_reason=reason, text="Demo: status from the plan."
                )
        if issue.check_end:
            services.issue_verify(issue_id=issue.pk)
        created += 1
    stdout.write(f"Issues: {created} demo issues created.")
