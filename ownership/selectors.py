"""Reads for the ownership pages: the map, the leader's workspace and scorecard, CX triage and the
executive view. Each aggregates in SQL and runs a fixed number of queries whatever the data size."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Lag, Lead, RowNumber
from django.utils import timezone

from cxgov.lib import permissions
from cxgov.lib.money import money_header
from cxgov.models import Accountability, Function, User
from metrics import selectors as metric_selectors
from metrics.models import SurveyResponse
from outcomes.models import Canvas, CanvasState
from rootcause.models import (
    CLOSED_STATES,
    ISSUE_TEXT,
    ActionItem,
    ActionStatus,
    ActionUpdate,
    CommentTag,
    DecisionPoint,
    Issue,
    IssueState,
    SubTheme,
)
from rootcause.pareto import pareto

# Revenue at risk behind an issue: stored in its evidence when it was opened from a sub-theme (and kept by
# the database in a column of its own).
REVENUE = F("revenue_at_risk")
OPEN = ~Q(state__in=CLOSED_STATES)
NOT_DONE = ~Q(status=ActionStatus.DONE)


def priority_rank(field: str = "priority") -> Case:
    """Priorities in order of urgency (their stored values do not sort that way)."""
    return Case(
        When(**{field: "critical"}, then=Value(0)),
        When(**{field: "high"}, then=Value(1)),
        When(**{field: "medium"}, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )


PRIORITY_RANK = priority_rank()
TOP_ISSUES = 3
TOP_DRIVERS = 3
NO_DRIVER = "No sub-theme"


@dataclass(frozen=True)
class MapFilters:
    """What the ownership map (and its export and API) is narrowed to."""

    quarter: str = ""
    driver_id: int | None = None
    state: str = "open"  # "open", "closed", "" (all) or one issue state
    category_id: int | None = None


def issue_condition(filters: MapFilters, via: str = "") -> Q:
    """The filters as one condition on issues, or on rows that reach their issue ``via`` a relation
    (``"issue__"``: action items), so the rows are filtered in one join. An issue touches a customer
    category when its metric is a measure of that category's approved outcome canvas."""
    condition = Q()
    if filters.quarter:
        condition &= Q(**{f"{via}target_quarter": filters.quarter})
    if filters.driver_id:
        condition &= Q(**{f"{via}sub_theme__driver_id": filters.driver_id})
    if filters.state == "open":
        condition &= ~Q(**{f"{via}state__in": CLOSED_STATES})
    elif filters.state == "closed":
        condition &= Q(**{f"{via}state__in": CLOSED_STATES})
    elif filters.state:
        condition &= Q(**{f"{via}state": filters.state})
    if filters.category_id:
        measures = Canvas.objects.filter(category_id=filters.category_id, state=CanvasState.APPROVED).values("measures")
        condition &= Q(**{f"{via}metric_id__in": measures})
    return condition


def filtered_issues(filters: MapFilters) -> QuerySet[Issue]:
    """Issues matching the filters."""
    return Issue.objects.filter(issue_condition(filters))


def _issue_totals(issues: QuerySet[Issue]) -> dict[int | None, dict]:
    rows = issues.values("function_id").annotate(
        issues=Count("pk"), open=Count("pk", filter=OPEN), revenue=Sum(REVENUE, filter=OPEN)
    )
    return {row["function_id"]: row for row in rows.order_by()}


def _item_totals(filters: MapFilters, function_ids: Iterable[int] | None) -> dict[int | None, dict]:
    """Open, overdue and blocked action items on the issues each function owns: the items joined once
    to their issue, filtered there (for a page of functions, to theirs and the unowned)."""
    today = timezone.localdate()
    items = ActionItem.objects.filter(issue_condition(filters, via="issue__"))
    if function_ids is not None:
        items = items.filter(Q(issue__function_id__in=list(function_ids)) | Q(issue__function__isnull=True))
    rows = items.values("issue__function_id").annotate(
        open=Count("pk", filter=NOT_DONE),
        overdue=Count("pk", filter=NOT_DONE & Q(due_date__lt=today)),
        blocked=Count("pk", filter=Q(status=ActionStatus.BLOCKED)),
    )
    return {row["issue__function_id"]: row for row in rows.order_by()}


def ownership_map(
    *, filters: MapFilters, page_number: str | int | None = 1, per_page: int | None = 50, facing: bool | None = None
) -> dict:
    """Functions (non-customer-facing first, busiest first) against the issues and decision points
    they own, with their action items, key drivers, top issues and revenue at risk; the unowned
    issues; and the share of open issues and revenue owned by non-customer-facing functions.

    ``per_page=None`` returns every function (the API); otherwise one page of them."""
    issues = filtered_issues(filters)
    groups = _by_function_and_driver(issues)
    totals = _totals_from(groups)
    functions = list(Function.objects.select_related("leader").order_by("name"))
    facing_by_id = {f.pk: f.customer_facing for f in functions}
    if facing is not None:
        functions = [f for f in functions if f.customer_facing == facing]
    functions.sort(key=lambda f: (f.customer_facing, -totals.get(f.pk, {}).get("open", 0), f.name))
    if per_page:
        page: Page | None = Paginator(functions, per_page).get_page(page_number)
        shown = list(page.object_list)
    else:
        page, shown = None, functions
    ids = [f.pk for f in shown]
    items = _item_totals(filters, ids if per_page else None)
    points = dict(
        DecisionPoint.objects.filter(workflow__function_id__in=ids)
        .values_list("workflow__function_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    drivers = defaultdict(list)
    listed = {*ids, None}
    for function_id, _, name, _, n, revenue in sorted(
        (g for g in groups if g[4] and g[0] in listed), key=lambda g: (-g[4], g[2] is None, g[2] or "")
    ):
        drivers[function_id].append({"name": name or NO_DRIVER, "issues": n, "revenue": revenue or 0.0})
    top = defaultdict(list)
    ranked = (
        issues.filter(OPEN)
        .filter(Q(function_id__in=ids) | Q(function__isnull=True))
        .annotate(
            revenue=REVENUE,
            rank=Window(
                RowNumber(), partition_by=[F("function_id")], order_by=[REVENUE.desc(), PRIORITY_RANK.asc(), "pk"]
            ),
        )
        .filter(rank__lte=TOP_ISSUES)
        .values("pk", "title", "function_id", "state", "revenue", "sub_theme__driver__name")
    )
    for row in ranked:
        top[row["function_id"]].append(row)

    def row_for(function: Function | None) -> dict:
        key = function.pk if function else None
        issue_row = totals.get(key, {})
        item_row = items.get(key, {})
        return {
            "function": function,
            "issues": issue_row.get("issues", 0),
            "open_issues": issue_row.get("open", 0),
            "revenue": issue_row.get("revenue") or 0.0,
            "decision_points": points.get(key, 0) if function else 0,
            "items_open": item_row.get("open", 0),
            "items_overdue": item_row.get("overdue", 0),
            "items_blocked": item_row.get("blocked", 0),
            "drivers": drivers.get(key, [])[:TOP_DRIVERS],
            "more_drivers": max(0, len(drivers.get(key, [])) - TOP_DRIVERS),
            "top_issues": sorted(top.get(key, []), key=lambda r: (-r["revenue"], r["pk"])),
        }

    return {
        "filters": filters,
        "page": page,
        "rows": [row_for(f) for f in shown],
        "unowned": row_for(None),
        "shares": _shares(totals, facing_by_id),
        "function_count": len(functions),
        "matrix": _matrix(groups, facing_by_id),
    }


def _shares(totals: dict[int | None, dict], facing_by_id: dict[int, bool] | None) -> dict:
    """Open issues and revenue at risk owned by non-customer-facing functions, customer-facing ones and
    nobody, with the non-customer-facing share of each."""
    if facing_by_id is None:
        facing_by_id = dict(Function.objects.values_list("pk", "customer_facing"))
    buckets = {key: {"open": 0, "revenue": 0.0} for key in ("ncf", "cf", "unowned")}
    for function_id, row in totals.items():
        key = "unowned" if function_id is None else ("cf" if facing_by_id.get(function_id) else "ncf")
        buckets[key]["open"] += row["open"]
        buckets[key]["revenue"] += row["revenue"] or 0.0
    total_open = sum(b["open"] for b in buckets.values())
    total_revenue = sum(b["revenue"] for b in buckets.values())
    return {
        **buckets,
        "total_open": total_open,
        "total_revenue": total_revenue,
        "ncf_open_share": buckets["ncf"]["open"] * 100 / total_open if total_open else None,
        "ncf_revenue_share": buckets["ncf"]["revenue"] * 100 / total_revenue if total_revenue else None,
    }


def _by_function_and_driver(issues: QuerySet[Issue]) -> list[tuple]:
    """The filtered issues per (owning function, key driver): (function id, driver id, driver name, issues,
    open issues, revenue at risk of the open ones). One GROUP BY, from which the map's function totals,
    each function's drivers and the driver matrix all follow (they were three passes over the issues)."""
    return list(
        issues.values_list("function_id", "sub_theme__driver_id", "sub_theme__driver__name")
        .annotate(issues=Count("pk"), open=Count("pk", filter=OPEN), revenue=Sum(REVENUE, filter=OPEN))
        .order_by()
    )


def _totals_from(groups: list[tuple]) -> dict[int | None, dict]:
    """Per owning function: issues, open issues and the revenue at risk of the open ones."""
    totals: dict[int | None, dict] = {}
    for function_id, _, _, issues, open_issues, revenue in groups:
        row = totals.setdefault(function_id, {"function_id": function_id, "issues": 0, "open": 0, "revenue": 0.0})
        row["issues"] += issues
        row["open"] += open_issues
        row["revenue"] += revenue or 0.0
    return totals


def _matrix(groups: list[tuple], facing_by_id: dict[int, bool]) -> list[dict]:
    """Open issues and revenue at risk per key driver, split into non-customer-facing owners,
    customer-facing owners and unowned."""
    cells: dict = defaultdict(lambda: {"ncf": None, "cf": None, "unowned": None})
    names = {}
    for function_id, driver_id, name, _, n, revenue in groups:
        if not n:
            continue
        names[driver_id] = name or NO_DRIVER
        key = "unowned" if function_id is None else ("cf" if facing_by_id.get(function_id) else "ncf")
        cell = cells[driver_id][key] or {"issues": 0, "revenue": 0.0}
        cells[driver_id][key] = {"issues": cell["issues"] + n, "revenue": cell["revenue"] + (revenue or 0.0)}
    result = [{"driver_id": d, "name": names[d], **cells[d]} for d in names]
    for row in result:
        row["cells"] = [row["ncf"], row["cf"], row["unowned"]]
        row["total"] = sum(cell["issues"] for cell in row["cells"] if cell)
    return sorted(result, key=lambda r: (-r["total"], r["driver_id"] is None, r["name"]))


def export_rows(*, filters: MapFilters) -> Iterable[list]:
    """One row per issue of the map (header first), for CSV and XLSX; streamed in chunks."""
    today = timezone.localdate()
    yield [
        "Issue id",
        "Issue",
        "State",
        "Priority",
        "Target quarter",
        "Owning function",
        "Owner type",
        "Owner (person)",
        "Key driver",
        "Sub-theme",
        "Decision point",
        money_header("Revenue at risk (annual)"),
        "Open action items",
        "Overdue action items",
        "Blocked action items",
    ]
    # Plain values (no model instances), with the item counts of the same issues grouped once and joined
    # to them (counted per issue by correlated subqueries, they were four fifths of the export's time).
    columns = {
        "e_pk": F("pk"),
        "e_title": F("title"),
        "e_state": F("state"),
        "e_priority": F("priority"),
        "e_quarter": F("target_quarter"),
        "e_function": F("function__name"),
        "e_facing": F("function__customer_facing"),
        "e_username": F("owner__username"),
        "e_first": F("owner__first_name"),
        "e_last": F("owner__last_name"),
        "e_driver": F("sub_theme__driver__name"),
        "e_theme": F("sub_theme__name"),
        "e_rule": F("decision_point__rule"),
        "e_revenue": REVENUE,
    }
    issues = filtered_issues(filters).order_by().values(**columns)
    items = (
        ActionItem.objects.filter(issue_condition(filters, via="issue__"))
        .order_by()
        .values("issue_id")
        .annotate(
            i_open=Count("pk", filter=NOT_DONE),
            i_overdue=Count("pk", filter=NOT_DONE & Q(due_date__lt=today)),
            i_blocked=Count("pk", filter=Q(status=ActionStatus.BLOCKED)),
        )
    )
    try:
        issues_sql, issues_params = issues.query.sql_with_params()
        items_sql, items_params = items.query.sql_with_params()
    except EmptyResultSet:  # a filter that matches nothing
        return
    names = ", ".join(f"e.{name}" for name in columns)
    # Only compiled querysets and fixed names are put into the text; every value is a parameter.
    query = (
        f"SELECT {names}, COALESCE(c.i_open, 0), COALESCE(c.i_overdue, 0), COALESCE(c.i_blocked, 0) "  # noqa: S608
        f"FROM ({issues_sql}) e LEFT JOIN ({items_sql}) c ON c.issue_id = e.e_pk "
        "ORDER BY e.e_facing, e.e_function, e.e_pk"
    )
    states, priorities = dict(IssueState.choices), dict(Issue._meta.get_field("priority").flatchoices)
    for (
        pk,
        title,
        state,
        priority,
        quarter,
        function_name,
        facing,
        username,
        first,
        last,
        driver,
        theme,
        rule,
        revenue,
        items_open,
        items_overdue,
        items_blocked,
    ) in _streamed(query, [*issues_params, *items_params]):
        yield [
            pk,
            title,
            states.get(state, state),
            priorities.get(priority, priority),
            quarter,
            function_name or "",
            ("Customer-facing" if facing else "Non-customer-facing") if function_name is not None else "Unowned",
            (f"{first} {last}".strip() or username) if username is not None else "",  # as User.__str__
            driver or "",
            theme or "",
            rule or "",
            round(revenue, 2),
            items_open,
            items_overdue,
            items_blocked,
        ]


def _streamed(query: str, params: list, chunk: int = 2000) -> Iterable[tuple]:
    """The rows of ``query`` a chunk at a time (a server-side cursor on PostgreSQL): constant memory."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(query, params)
        while rows := cursor.fetchmany(chunk):
            yield from rows


# --- Scorecard ----------------------------------------------------------------------------------

STATE_ORDER = [s for s in IssueState.values if s not in CLOSED_STATES]


def scorecard(*, function_ids: Iterable[int], now: datetime | None = None) -> dict:
    """How the functions keep their work: on-time completion of action items, overdue count, average
    days an issue spends in each open state, the share of closed issues verified effective, and how
    many issues were reopened. Four queries whatever the data."""
    ids = list(function_ids)
    now = now or timezone.now()
    today = timezone.localdate(now)
    # Items left undone on a closed issue are no longer work (the digests leave them out too).
    live = NOT_DONE & ~Q(issue__state__in=CLOSED_STATES)
    items = ActionItem.objects.filter(function_id__in=ids).aggregate(
        done=Count("pk", filter=Q(status=ActionStatus.DONE)),
        on_time=Count("pk", filter=Q(status=ActionStatus.DONE, completed_at__date__lte=F("due_date"))),
        open=Count("pk", filter=live),
        overdue=Count("pk", filter=live & Q(due_date__lt=today)),
        blocked=Count("pk", filter=live & Q(status=ActionStatus.BLOCKED)),
    )
    owned = Issue.objects.filter(function_id__in=ids)
    issues = owned.aggregate(
        open=Count("pk", filter=OPEN),
        closed=Count("pk", filter=Q(state__in=CLOSED_STATES)),
        effective=Count("pk", filter=Q(state=IssueState.CLOSED_EFFECTIVE)),
    )
    reopened = (
        Issue.history.filter(id__in=owned.values("pk"), state=IssueState.REOPENED).values("id").distinct().count()
    )
    return {
        "function_ids": ids,
        "items_done": items["done"],
        "items_on_time": items["on_time"],
        "on_time_rate": items["on_time"] * 100 / items["done"] if items["done"] else None,
        "items_open": items["open"],
        "overdue": items["overdue"],
        "blocked": items["blocked"],
        "issues_open": issues["open"],
        "issues_closed": issues["closed"],
        "issues_effective": issues["effective"],
        "effective_share": issues["effective"] * 100 / issues["closed"] if issues["closed"] else None,
        "reopened": reopened,
        "state_days": state_days_in_sql(Issue.history.filter(id__in=owned.values("pk")), now=now),
    }


def state_durations(records: Iterable[tuple], *, now: datetime) -> list[dict]:
    """Average days per open state from history records (issue id, date, state) ordered by issue and
    date. Edits that keep the state extend its spell; an issue still in a state counts its time so far."""
    spells: dict[str, list[float]] = defaultdict(list)
    current_id = current_state = started = None

    def close(until):
        if current_state is not None and current_state not in CLOSED_STATES:
            spells[current_state].append(max((until - started).total_seconds(), 0) / 86400)

    for issue_id, when, state in records:
        if issue_id != current_id:
            close(now)
            current_id, current_state, started = issue_id, state, when
        elif state != current_state:
            close(when)
            current_state, started = state, when
    close(now)
    return _state_rows({state: (len(days), sum(days)) for state, days in spells.items()})


def state_days_in_sql(history: QuerySet, *, now: datetime) -> list[dict]:
    """The same figures as ``state_durations`` from one aggregate over window functions: each history
    record lasts until the issue's next record (or now); a spell starts where the state differs from the
    record before. Edits that keep the state so add up to their spell's length. One query."""
    order = [F("history_date").asc(), F("history_id").asc()]
    inner = (
        history.order_by()
        .annotate(
            next_date=Window(Lead("history_date"), partition_by=[F("id")], order_by=order),
            prev_state=Window(Lag("state"), partition_by=[F("id")], order_by=order),
        )
        .values_list("state", "history_date", "next_date", "prev_state")
    )
    try:
        sql, params = inner.query.sql_with_params()
    except EmptyResultSet:  # history of no issue at all (e.g. a filter that matches none)
        return _state_rows({})
    if connection.vendor == "postgresql":
        seconds = "GREATEST(EXTRACT(EPOCH FROM (COALESCE(h.next_date, %s) - h.history_date)), 0)"
    else:
        seconds = "MAX((julianday(COALESCE(h.next_date, %s)) - julianday(h.history_date)) * 86400, 0)"
    # Only placeholders and the compiled queryset are put into the text; every value is a parameter.
    states = ", ".join(["%s"] * len(STATE_ORDER))
    flips = "SUM(CASE WHEN h.prev_state IS NULL OR h.prev_state <> h.state THEN 1 ELSE 0 END)"
    query = f"SELECT h.state, {flips}, SUM({seconds}) FROM ({sql}) h WHERE h.state IN ({states}) GROUP BY h.state"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(query, [connection.ops.adapt_datetimefield_value(now), *params, *STATE_ORDER])
        totals = {state: (spells, float(total or 0) / 86400) for state, spells, total in cursor.fetchall()}
    return _state_rows(totals)


def _state_rows(totals: dict[str, tuple[int, float]]) -> list[dict]:
    labels = dict(IssueState.choices)
    rows = []
    for state in STATE_ORDER:
        spells, days = totals.get(state, (0, 0.0))
        rows.append(
            {"state": state, "label": labels[state], "spells": spells, "days": days / spells if spells else None}
        )
    return rows


# --- The leader's workspace ---------------------------------------------------------------------

ITEMS_PER_PAGE = 25
WORKSPACE_ISSUES = 30
WORKSPACE_ACCOUNTABILITIES = 40


def _items_count(condition: Q) -> Coalesce:
    items = ActionItem.objects.filter(condition, issue=OuterRef("pk")).order_by().values("issue")
    return Coalesce(Subquery(items.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), Value(0))


def work_item_queryset() -> QuerySet[ActionItem]:
    """Action items as a workspace row shows them: issue, function, owner and the latest update."""
    latest = ActionUpdate.objects.select_related("author").order_by("-created_at", "-pk")[:1]
    return (
        ActionItem.objects.select_related("issue", "function", "owner")
        .defer(*(f"issue__{name}" for name in ISSUE_TEXT))
        .prefetch_related(Prefetch("updates", queryset=latest, to_attr="latest_updates"))
    )


def work_items(*, function_ids: Iterable[int]) -> QuerySet[ActionItem]:
    """Action items of these functions not yet done, most urgent first: earliest due (so the most
    overdue lead), then the issue's priority."""
    return (
        work_item_queryset()
        .filter(function_id__in=list(function_ids))
        .filter(NOT_DONE)
        .exclude(issue__state__in=CLOSED_STATES)
        # An expression, not an annotation, so the paginator's count needs no join.
        .order_by("due_date", priority_rank("issue__priority"), "pk")
    )


def decorate_items(items: Iterable[ActionItem], user: User) -> list[ActionItem]:
    today = timezone.localdate()
    items = list(items)
    for item in items:
        item.overdue = item.is_overdue(today)
        item.days_late = (today - item.due_date).days if item.overdue else 0
        item.can_update = permissions.can_change(user, item)
    return items


def owned_issues(*, function_ids: Iterable[int]) -> dict:
    """The open issues these functions own, most urgent first (priority, then revenue at risk), with
    their open and overdue action items: one query."""
    today = timezone.localdate()
    issues = list(
        Issue.objects.filter(function_id__in=list(function_ids))
        .filter(OPEN)
        .select_related("function", "owner", "sub_theme__driver")
        .defer(*ISSUE_TEXT)
        .annotate(revenue=REVENUE, rank=PRIORITY_RANK)
        .order_by("rank", "-revenue", "pk")
        # Counted per row shown (correlated subqueries), not grouped over every owned issue.
        .annotate(
            items_open=_items_count(NOT_DONE),
            items_overdue=_items_count(NOT_DONE & Q(due_date__lt=today)),
        )[: WORKSPACE_ISSUES + 1]
    )
    return {"issues": issues[:WORKSPACE_ISSUES], "more_issues": len(issues) > WORKSPACE_ISSUES}


def workspace(*, user: User, page_number: str | int | None = 1) -> dict:
    """A functional leader's home: their functions, what those answer for, their open issues, their
    action items by urgency, the metrics they own with RAG status, and the scorecard."""
    ids = sorted(permissions.function_ids(user))
    functions = list(Function.objects.filter(pk__in=ids).order_by("customer_facing", "name"))
    accountabilities = list(
        Accountability.objects.filter(function_id__in=ids)
        .exclude(subject_type__app_label="rootcause", subject_type__model="issue")
        .select_related("function")
        .order_by("function__name", "role", "subject")[:WORKSPACE_ACCOUNTABILITIES]
    )
    page = Paginator(work_items(function_ids=ids), ITEMS_PER_PAGE).get_page(page_number)
    page.object_list = decorate_items(page.object_list, user)
    metrics = metric_selectors.metric_list(owning_function_ids=ids) if ids else []
    return {
        "functions": functions,
        "leads": permissions.led_function_ids(user),
        "accountabilities": accountabilities,
        **owned_issues(function_ids=ids),
        "items": page,
        "metrics": metrics,
        "scorecard": scorecard(function_ids=ids) if ids else None,
    }


# --- CX triage ----------------------------------------------------------------------------------

TRIAGE_PER_PAGE = 25
BLOCKED_SHOWN = 30
OVERDUE_FUNCTIONS_SHOWN = 15


def vital_few() -> list[SubTheme]:
    """The sub-themes that together carry about 80% of the comments of dissatisfied customers, largest
    first. As on the problems Pareto, praise sub-themes are left out and a tag whose sentences praise
    the sub-theme is not counted (praise is not a problem to own), even in a low-scored review."""
    from metrics.services import DISSATISFIED
    from rootcause.selectors import praise_themes, tag_filter

    unhappy = SurveyResponse.objects.filter(DISSATISFIED).values("pk")
    problems = tag_filter(view="problems", sentiment="problems", praise=set(praise_themes()))
    counts = dict(
        CommentTag.objects.filter(problems, response__in=unhappy)
        .values_list("sub_theme")
        .annotate(n=Count("pk"))
        .order_by()
    )
    rows = pareto({pk: (str(pk), float(n)) for pk, n in counts.items()})
    vital = [row for row in rows if row.vital]
    themes = SubTheme.objects.select_related("driver", "suggested_function").in_bulk([row.key for row in vital])
    result = []
    for row in vital:
        theme = themes[row.key]
        theme.comment_count, theme.share = int(row.value), row.share
        result.append(theme)
    return result


# No owning function first (NULLs sort last on PostgreSQL, first on SQLite: say it), then urgency.
UNOWNED_ORDER = (
    Case(When(function__isnull=True, then=0), default=1, output_field=IntegerField()),
    "rank",
    "-revenue",
    "-created_at",
    "-pk",
)


def unowned_issues() -> QuerySet[Issue]:
    """Open issues without an owning function or without a person answering for them, most urgent first."""
    return (
        Issue.objects.filter(OPEN)
        .filter(Q(function__isnull=True) | Q(owner__isnull=True))
        .annotate(revenue=REVENUE, rank=PRIORITY_RANK)
        .order_by(*UNOWNED_ORDER)
    )


def triage(*, page_number: str | int | None = 1) -> dict:
    """What the CX team chases: unowned issues (to assign), vital-few sub-themes with no open issue,
    overdue action items by function, and blocked items with their reasons."""
    # The page's issues are found and ordered on the issue table alone, then read whole with what they
    # show by their ids (one query more): sorting thousands of issues joined to seven tables cost more
    # than the rest of the page, and as one statement the planner joined them all before narrowing.
    page = Paginator(unowned_issues().values("pk"), TRIAGE_PER_PAGE).get_page(page_number)
    page.object_list = list(
        Issue.objects.filter(pk__in=[row["pk"] for row in page.object_list])
        .annotate(revenue=REVENUE, rank=PRIORITY_RANK)
        .order_by(*UNOWNED_ORDER)
        .select_related(
            "function__leader",
            "sub_theme__driver",
            "sub_theme__suggested_function__leader",
            "decision_point__workflow__function__leader",
        )
    )
    for issue in page.object_list:
        # Who should own it: its function, else its decision point's, else its sub-theme's suggestion.
        issue.suggested = (
            issue.function
            or (issue.decision_point.workflow.function if issue.decision_point else None)
            or (issue.sub_theme.suggested_function if issue.sub_theme else None)
        )
    vital = vital_few()
    with_issue = set(
        Issue.objects.filter(OPEN, sub_theme_id__in=[t.pk for t in vital]).values_list("sub_theme_id", flat=True)
    )
    overdue = list(
        ActionItem.objects.overdue()
        .exclude(issue__state__in=CLOSED_STATES)
        .values("function_id", "function__name", "function__slug", "function__customer_facing")
        .annotate(n=Count("pk"))
        .order_by("-n", "function__name")
    )
    blocked = ActionItem.objects.filter(status=ActionStatus.BLOCKED).exclude(issue__state__in=CLOSED_STATES)
    return {
        "page": page,
        "vital_without_issue": [t for t in vital if t.pk not in with_issue],
        "vital_count": len(vital),
        "overdue_by_function": overdue[:OVERDUE_FUNCTIONS_SHOWN],
        "overdue_more_functions": max(0, len(overdue) - OVERDUE_FUNCTIONS_SHOWN),
        "overdue_total": sum(row["n"] for row in overdue),
        "blocked": list(
            blocked.select_related("issue", "function", "owner")
            .defer(*(f"issue__{name}" for name in ISSUE_TEXT))
            .order_by("due_date", "pk")[:BLOCKED_SHOWN]
        ),
        "blocked_total": blocked.count(),
        "functions": function_choices(""),
        "people": people_choices(""),
    }


CHOICES_SHOWN = 20  # suggestions under a typed function or person: the page never lists hundreds


def function_choices(typed: str, limit: int = CHOICES_SHOWN) -> list[Function]:
    """Functions whose name or short name holds what was typed, those starting with it first."""
    typed = typed.strip()[:120]
    found = Function.objects.only("pk", "name", "slug")
    if typed:
        found = found.filter(Q(name__icontains=typed) | Q(slug__icontains=typed)).annotate(
            starts=Case(When(name__istartswith=typed, then=Value(0)), default=Value(1))
        )
        return list(found.order_by("starts", "customer_facing", "name")[:limit])
    return list(found.order_by("customer_facing", "name")[:limit])


def people_choices(typed: str, limit: int = CHOICES_SHOWN) -> list[User]:
    """Active people whose name or username holds what was typed (a chosen "Name (username)" too)."""
    typed = typed.strip()[:300]
    if typed.endswith(")") and "(" in typed:  # a suggestion already chosen: its username
        typed = typed[typed.rindex("(") + 1 : -1].strip()
    found = User.objects.filter(is_active=True).only("pk", "username", "first_name", "last_name")
    for word in typed.split()[:4]:
        found = found.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(username__icontains=word))
    return list(found.order_by("first_name", "last_name", "username")[:limit])


# --- Executive view -----------------------------------------------------------------------------

EXEC_TOP_FUNCTIONS = 10


def ledger_headline() -> dict:
    from outcomes.selectors import ledger_headline as headline

    return headline()


def executive() -> dict:
    """For stakeholders: the North Star trend, the vital few and who owns them, open issues by owning
    function (customer-facing or not), the effectiveness of closed issues, and business impact."""
    star = next(iter(metric_selectors.metric_list(north_star=True)), None)
    vital = vital_few()
    owners = defaultdict(list)
    for row in (
        Issue.objects.filter(OPEN, sub_theme_id__in=[t.pk for t in vital])
        .values("sub_theme_id", "function__name", "function__slug", "function__customer_facing")
        .annotate(n=Count("pk"), revenue=Sum(REVENUE))
        .order_by("function__customer_facing", "-n", "function__name")
    ):
        owners[row["sub_theme_id"]].append(row)
    for theme in vital:
        theme.owners = owners.get(theme.pk, [])
    totals = _issue_totals(Issue.objects.all())
    by_function = sorted(
        (
            {"function_id": pk, "open": row["open"], "revenue": row["revenue"] or 0.0}
            for pk, row in totals.items()
            if pk is not None and row["open"]
        ),
        key=lambda r: (-r["open"], -r["revenue"]),
    )[:EXEC_TOP_FUNCTIONS]
    names = Function.objects.in_bulk([r["function_id"] for r in by_function])
    for row in by_function:
        row["function"] = names[row["function_id"]]
    closed = dict(Issue.objects.filter(state__in=CLOSED_STATES).values_list("state").annotate(n=Count("pk")).order_by())
    closed_total = sum(closed.values())
    labels = dict(IssueState.choices)
    effectiveness = [
        {"state": s, "label": labels[s], "n": closed.get(s, 0), "share": closed.get(s, 0) * 100 / closed_total}
        for s in CLOSED_STATES
        if closed_total
    ]
    return {
        "star": star,
        "vital": vital,
        "shares": _shares(totals, None),
        "top_functions": by_function,
        "effectiveness": effectiveness,
        "closed_total": closed_total,
        "impact": metric_selectors.business_impact(),
        "ledger": ledger_headline(),
    }
