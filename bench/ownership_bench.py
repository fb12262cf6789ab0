"""The ownership pages at scale: at scale 1, 300 functions, 10,000 issues (with their state history)
and 50,000 action items (all proportional to ``--scale``), each page's server time (minimum, median,
p95 of at least three requests) and queries against the one-row page of the same app (the function
list filtered to one name) and against the floor: the map's own layout with 50 function rows and no
aggregates, measured in the same run.

Data is made with bulk_create; the issues' history rows (django-simple-history) are written in bulk
too, with dated state moves, so the scorecard's time-in-state figures have something to read.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.generate import CommentMaker
from cxgov.models import Accountability, Function, Membership, Raci, Role, User
from rootcause.models import (
    ActionItem,
    ActionStatus,
    ActionUpdate,
    DecisionPoint,
    Issue,
    IssueState,
    KeyDriver,
    SubTheme,
    Workflow,
)

PATH = [IssueState.NEW, IssueState.INVESTIGATING, IssueState.ROOT_CAUSE, IssueState.ACTIONS, IssueState.VERIFYING]
ENDINGS = [IssueState.CLOSED_EFFECTIVE, IssueState.CLOSED_PARTIAL, IssueState.CLOSED_NOT_EFFECTIVE]
QUARTERS = ["2026-Q2", "2026-Q3", "2026-Q4", "2027-Q1"]


def _sub_themes(rng: random.Random) -> list[SubTheme]:
    themes = list(SubTheme.objects.all())
    if themes:
        return themes
    driver = KeyDriver.objects.create(name="Bench driver", slug="bench-driver")
    return [
        SubTheme.objects.create(driver=driver, name=f"Theme {i}", slug=f"bench-theme-{i}", keywords=f"word{i}")
        for i in range(10)
    ]


def _evidence(rng: random.Random, comment: CommentMaker) -> dict:
    """An issue's evidence as ``rootcause.selectors.issue_evidence`` stores it for an issue opened
    from a sub-theme: its comment counts, a 12-month trend, review-length verbatims and the revenue at
    risk (about 1.5 kB of JSON, which the ownership pages must not read for each issue)."""
    months = [rng.randint(5, 400) for _ in range(12)]
    return {
        "comments": {"total": sum(months), "last_days": 90, "recent": months[-1], "previous": months[-2]},
        "trend": [
            {"month": f"2026-{m + 1:02d}", "count": n, "height": round(n * 100 / max(months))}
            for m, n in enumerate(months)
        ],
        "verbatims": [comment(rng.choice((1, 2))) for _ in range(3)],
        "revenue_at_risk": {"customers": rng.randint(1, 400), "annual": round(rng.uniform(500, 90_000), 2)},
    }


@transaction.atomic
def generate(
    *, scale: float = 1.0, functions: int | None = None, issues: int | None = None, items: int | None = None, seed=11
) -> dict[str, int]:
    functions = functions or max(10, int(300 * scale))
    issues = issues or max(100, int(10_000 * scale))
    items = items or 5 * issues
    rng = random.Random(seed)
    now = timezone.now()
    today = timezone.localdate()
    password = make_password("bench-password")
    leaders = User.objects.bulk_create(
        [
            User(username=f"own-lead-{i:04d}", first_name=f"Lead{i}", role=Role.LEADER, password=password)
            for i in range(functions)
        ]
    )
    fns = Function.objects.bulk_create(
        [
            Function(
                name=f"Owner {i:04d}",
                slug=f"owner-{i:04d}",
                customer_facing=i % 4 == 0,
                leader=leaders[i],
                description="A synthetic function for the ownership benchmark.",
            )
            for i in range(functions)
        ]
    )
    Membership.objects.bulk_create([Membership(person=leaders[i], function=f) for i, f in enumerate(fns)])
    Accountability.objects.bulk_create(
        [Accountability(function=f, role=Raci.ACCOUNTABLE, subject=f"Own outcome {i:04d}") for i, f in enumerate(fns)]
    )
    workflows = Workflow.objects.bulk_create(
        [Workflow(name=f"Own workflow {i:04d}", function=f) for i, f in enumerate(fns)]
    )
    points = DecisionPoint.objects.bulk_create(
        [DecisionPoint(workflow=w, rule=f"Rule {j} of {w.name}") for w in workflows for j in range(2)]
    )
    themes = _sub_themes(rng)
    cx = User.objects.create(username="own-cx", role=Role.CX_TEAM, password=password)
    User.objects.create(username="own-stakeholder", role=Role.STAKEHOLDER, password=password)

    comment = CommentMaker(rng)
    new_issues, paths = [], []
    for i in range(issues):
        owned = rng.random() < 0.85
        function_index = min(int(rng.paretovariate(1.2)) - 1, functions - 1) if owned else None
        function_index = (function_index * 37 + i % 3) % functions if function_index is not None else None
        function = fns[function_index] if function_index is not None else None
        steps = rng.randint(1, len(PATH))
        path = PATH[:steps]
        if steps == len(PATH) and rng.random() < 0.6:
            path = [*path, rng.choice(ENDINGS)]
            if path[-1] == IssueState.CLOSED_NOT_EFFECTIVE or rng.random() < 0.05:
                path = [*path, IssueState.REOPENED]
        evidence = {}
        if rng.random() < 0.7:  # opened from a sub-theme: the evidence issue_evidence() stores
            evidence = _evidence(rng, comment)
        new_issues.append(
            Issue(
                title=f"Issue {i:05d}: customers hit by rule {i % 97}",
                function=function,
                owner=function.leader if function and rng.random() < 0.8 else None,
                sub_theme=rng.choice(themes) if rng.random() < 0.9 else None,
                decision_point=points[function_index * 2] if function and rng.random() < 0.5 else None,
                evidence=evidence,
                priority=rng.choice(["low", "medium", "medium", "high", "critical"]),
                target_quarter=rng.choice(QUARTERS),
                state=path[-1],
                created_by=cx,
            )
        )
        paths.append(path)
    created = Issue.objects.bulk_create(new_issues, batch_size=2000)

    # The history simple-history would have written: one record per state move, days apart.
    History = Issue.history.model
    fields = [f.attname for f in Issue._meta.fields if not f.generated]
    records = []
    for issue, path in zip(created, paths, strict=True):
        start = now - timedelta(days=rng.randint(30, 400))
        when = start
        for n, state in enumerate(path):
            values = {name: getattr(issue, name) for name in fields}
            values.update(state=state, history_date=when, history_type="+" if n == 0 else "~", history_user_id=cx.pk)
            records.append(History(**values))
            when = min(when + timedelta(days=rng.uniform(2, 40)), now)
    History.objects.bulk_create(records, batch_size=5000)

    issue_type = ContentType.objects.get_for_model(Issue)
    Accountability.objects.bulk_create(
        [
            Accountability(
                function_id=issue.function_id,
                role=Raci.ACCOUNTABLE,
                subject=f"Issue: {issue.title}",
                subject_type=issue_type,
                subject_id=issue.pk,
            )
            for issue in created
            if issue.function_id
        ],
        batch_size=5000,
    )

    new_items = []
    for n in range(items):
        issue = created[n % len(created)]
        function_id = issue.function_id or fns[rng.randrange(functions)].pk
        due = today + timedelta(days=rng.randint(-150, 120))
        status = rng.choices(
            [ActionStatus.DONE, ActionStatus.IN_PROGRESS, ActionStatus.OPEN, ActionStatus.BLOCKED], [40, 25, 25, 10]
        )[0]
        if issue.state in (*ENDINGS,):
            status = ActionStatus.DONE
        completed = None
        if status == ActionStatus.DONE:
            completed = now - timedelta(days=rng.randint(0, 150))
            due = timezone.localdate(completed) + timedelta(days=rng.randint(-10, 20))
        new_items.append(
            ActionItem(
                issue=issue,
                title=f"Action {n:05d} on {issue.title[:11]}",
                function_id=function_id,
                owner_id=issue.owner_id,
                due_date=due,
                status=status,
                blocked_reason="Waiting for another team" if status == ActionStatus.BLOCKED else "",
                completed_at=completed,
                created_by=cx,
            )
        )
    made_items = ActionItem.objects.bulk_create(new_items, batch_size=5000)
    ActionUpdate.objects.bulk_create(
        [
            ActionUpdate(item=item, author=cx, text="Progress noted", status="")
            for item in made_items
            if item.pk % 2 == 0
        ],
        batch_size=5000,
    )
    return {
        "functions": Function.objects.count(),
        "issues": Issue.objects.count(),
        "issue history rows": History.objects.count(),
        "action items": ActionItem.objects.count(),
    }


def _measure(client: Client, url: str, repeat: int) -> tuple[float, float, float, int]:
    """(minimum, median, p95, queries) of ``repeat`` requests (at least three) after one warm-up."""
    repeat = max(3, repeat)

    def get():
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
        return response

    assert get().status_code == 200, url
    times = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = get()
            times.append(time.perf_counter() - start)
        assert response.status_code == 200, url
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
    return times[0], statistics.median(times), p95, len(queries)


def _floor_map(request):
    """The floor of the ownership pages: the map's template, filters and pagination with 50 function
    rows (one query) and no aggregate at all."""
    from django.core.paginator import Paginator
    from django.shortcuts import render

    from ownership.forms import MapFilterForm
    from ownership.selectors import _shares

    form = MapFilterForm(request.GET)
    filters = form.filters()
    page = Paginator(Function.objects.select_related("leader").order_by("name"), 50).get_page(1)
    blank = {
        "issues": 0,
        "open_issues": 0,
        "revenue": 0.0,
        "decision_points": 0,
        "items_open": 0,
        "items_overdue": 0,
        "items_blocked": 0,
        "drivers": [],
        "more_drivers": 0,
        "top_issues": [],
    }
    rows = [{"function": f, **blank} for f in page.object_list]
    return render(
        request,
        "ownership/map.html",
        {
            "filters": filters,
            "page": page,
            "rows": rows,
            "unowned": {"function": None, **blank},
            "shares": _shares({}, {}),
            "function_count": page.paginator.count,
            "table_rows": rows,
            "form": form,
            "matrix": [],
            "query": "",
        },
    )


def _measure_floor(client: Client, repeat: int) -> tuple[float, float, float, int]:
    """The floor page, served through a URLconf that adds it to the site's own (bench/floor_urls.py)."""
    from django.test.utils import override_settings

    with override_settings(ROOT_URLCONF="bench.floor_urls"):
        return _measure(client, "/bench-floor/ownership/", repeat)


def _business_cases() -> None:
    """A synthetic business case for every issue (the ledger's pages add these up; computing them from
    customers is the refresh task's work, not the pages')."""
    from outcomes.models import BusinessCase

    rng = random.Random(19)
    now = timezone.now()
    missing = Issue.objects.filter(business_case__isnull=True).values_list("pk", "verdict", "state")
    cases = []
    for pk, verdict, state in missing:
        fixed = verdict in ("effective", "partial") or state in ("closed_effective", "closed_partial")
        realised = rng.uniform(100, 5000) if fixed else None
        cases.append(
            BusinessCase(
                issue_id=pk,
                figures={"currency": "EUR"},
                affected_customers=rng.randint(0, 300),
                revenue_at_risk=rng.uniform(0, 1e5),
                expected_loss=rng.uniform(0, 2e4),
                failure_cost=rng.uniform(0, 3e3),
                value_at_risk=rng.uniform(0, 2.3e4),
                value_realised=realised,
                realised_low=realised and realised * 0.4,
                realised_high=realised and realised * 1.6,
                computed_at=now,
            )
        )
    BusinessCase.objects.bulk_create(cases, batch_size=2000)


def bench_pages(repeat: int) -> list[tuple]:
    """(label, median, p95, queries) for the one-row baseline and each ownership page and endpoint."""

    def client_for(username: str) -> Client:
        client = Client(HTTP_HOST="localhost")
        client.force_login(User.objects.get(username=username))
        return client

    admin = User.objects.filter(role=Role.ADMINISTRATOR).first() or User.objects.create(
        username="own-admin", role=Role.ADMINISTRATOR
    )
    admin_client = Client(HTTP_HOST="localhost")
    admin_client.force_login(admin)
    one = Function.objects.order_by("name").first()
    # The leader of the non-customer-facing function owning the most issues.
    busiest = (
        Function.objects.filter(customer_facing=False, leader__username__startswith="own-lead-")
        .annotate(n=Count("issues"))
        .order_by("-n", "pk")
        .values_list("leader__username", flat=True)
        .first()
    )
    cx, stakeholder, leader = client_for("own-cx"), client_for("own-stakeholder"), client_for(busiest)
    pages = [
        ("one-row page: /functions/?q=<one name> (baseline)", admin_client, f"/functions/?q={one.name}"),
        ("/ownership/ map (first 50 functions)", stakeholder, "/ownership/"),
        ("/ownership/ map, all states, one quarter", stakeholder, "/ownership/?state=&quarter=2026-Q4"),
        ("/ workspace of the busiest leader", leader, "/"),
        ("/ CX triage", cx, "/"),
        ("/ executive view", stakeholder, "/"),
        ("/api/ownership/map/ (every function)", stakeholder, "/api/ownership/map/"),
        ("/api/ownership/scorecard/ (busiest leader)", leader, "/api/ownership/scorecard/"),
        ("/ownership/ledger/ value ledger", stakeholder, "/ownership/ledger/"),
        ("/api/ledger/ (totals, quarters, functions, decision points)", stakeholder, "/api/ledger/"),
    ]
    _business_cases()
    results = [(label, *_measure(client, url, repeat)) for label, client, url in pages]
    results.insert(1, ("floor: map layout, 50 rows, no aggregates", *_measure_floor(stakeholder, repeat)))
    exports = [
        ("/ownership/export.csv (every issue)", stakeholder, "/ownership/export.csv?state="),
        ("/ownership/export.xlsx (every issue)", stakeholder, "/ownership/export.xlsx?state="),
        ("/ownership/ledger/export.csv (every business case)", stakeholder, "/ownership/ledger/export.csv"),
    ]
    results += [(label, *_measure(client, url, max(3, min(repeat, 5)))) for label, client, url in exports]
    return results
