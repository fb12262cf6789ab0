"""Reads for root-cause work: the taxonomy with counts, the untagged queue, Pareto analyses."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from itertools import accumulate

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DecimalField,
    Exists,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextField,
    Value,
    Window,
)
from django.db.models.functions import Cast, Coalesce, RowNumber
from django.utils import timezone

from cxgov.lib import heavy
from metrics.models import Customer, SurveyResponse
from rootcause import text
from rootcause.models import (
    LABEL_ORIGINS,
    CommentTag,
    DecisionPoint,
    DiscoveryRun,
    KeyDriver,
    ModelStatus,
    ParetoSnapshot,
    SubTheme,
    TagOrigin,
    TextModel,
    Workflow,
)
from rootcause.pareto import ParetoRow, pareto, ranked
from rootcause.quantify import METHODS, Estimate, multiclass_interval, multilabel_intervals

SAMPLES = 3


def taxonomy() -> list[KeyDriver]:
    """Key drivers with their sub-themes and how many comments carry each."""
    counts = dict(CommentTag.objects.filter(rejected=False).values_list("sub_theme").annotate(n=Count("pk")).order_by())
    drivers = list(KeyDriver.objects.prefetch_related("sub_themes__suggested_function").order_by("name"))
    for driver in drivers:
        for theme in driver.sub_themes.all():
            theme.comment_count = counts.get(theme.pk, 0)
    return drivers


def untagged_comments() -> QuerySet[SurveyResponse]:
    """Comments no sub-theme applies to (rejected tags do not count)."""
    return (
        SurveyResponse.objects.exclude(comment="")
        .exclude(tags__rejected=False)
        .order_by("-responded_at", "pk")
        .only("pk", "source", "external_id", "responded_at", "score", "scale", "comment", "segment", "product")
    )


def _days(start: date | None, end: date | None) -> dict:
    """Responses from the start of day ``start`` to the end of day ``end`` (in the current time
    zone) as a range on ``responded_at`` that its index serves (``__date`` would cast every row)."""
    bounds = {}
    if start:
        bounds["responded_at__gte"] = timezone.make_aware(datetime.combine(start, time.min))
    if end:
        bounds["responded_at__lt"] = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min))
    return bounds


def comments_matching(
    *,
    source: str = "",
    segment: str = "",
    start: date | None = None,
    end: date | None = None,
    q: str = "",
    sub_theme: int | None = None,
    untagged: bool = False,
    origin: str = "",
) -> QuerySet[SurveyResponse]:
    """Comments for the comments page, the tags API and bulk tagging: from a source and segment,
    within dates, containing a text, carrying a sub-theme (with tags of an origin), or untagged."""
    qs = SurveyResponse.objects.exclude(comment="").filter(**_days(start, end))
    if source:
        qs = qs.filter(source=source)
    if segment:
        qs = qs.filter(segment=segment)
    if q:
        qs = qs.filter(comment__icontains=q)
    live = CommentTag.objects.filter(response=OuterRef("pk"), rejected=False)
    if sub_theme or origin:
        qs = qs.filter(
            Exists(
                live.filter(
                    **({"sub_theme_id": sub_theme} if sub_theme else {}), **({"origin": origin} if origin else {})
                )
            )
        )
    if untagged:
        qs = qs.filter(~Exists(live))
    return qs


def in_scope(responses: QuerySet[SurveyResponse], driver: KeyDriver) -> QuerySet[SurveyResponse]:
    """The responses a key driver applies to (its sources and segments; all when it names none)."""
    if driver.sources:
        responses = responses.filter(source__in=driver.sources)
    if driver.segments:
        responses = responses.filter(segment__in=driver.segments)
    return responses


def comment_page(responses: QuerySet[SurveyResponse]) -> QuerySet[SurveyResponse]:
    """Comments as the page and the API list them, newest first, with their live tags: two queries
    a page whatever its length."""
    tags = CommentTag.objects.filter(rejected=False).select_related("sub_theme__driver").order_by("sub_theme__name")
    return (
        responses.order_by("-responded_at", "-pk")
        .only("pk", "source", "external_id", "responded_at", "score", "scale", "comment", "segment", "product")
        .prefetch_related(Prefetch("tags", queryset=tags, to_attr="live_tags"))
    )


def bulk_tag_jobs() -> QuerySet:
    """Bulk tagging jobs, newest first, with their sub-theme and author."""
    from rootcause.models import BulkTagJob

    return BulkTagJob.objects.select_related("sub_theme__driver", "created_by").order_by("-created_at", "-pk")


def responses_for(
    *,
    start: date | None = None,
    end: date | None = None,
    source: str = "",
    segment: str = "",
    channel: str = "",
    product: str = "",
    dissatisfied_only: bool = False,
) -> QuerySet[SurveyResponse]:
    """The responses a Pareto analysis looks at."""
    qs = SurveyResponse.objects.exclude(comment="").filter(**_days(start, end))
    for name, value in (("source", source), ("segment", segment), ("channel", channel), ("product", product)):
        if value:
            qs = qs.filter(**{name: value})
    if dissatisfied_only:
        from metrics.services import DISSATISFIED

        qs = qs.filter(DISSATISFIED)
    return qs


def _revenue(customer_field: str) -> Subquery:
    """A customer's monthly revenue, looked up by the response's customer id."""
    found = Customer.objects.filter(external_id=OuterRef(customer_field)).values("monthly_revenue")[:1]
    return Subquery(found, output_field=DecimalField())


def pareto_cached(
    *,
    filters: dict,
    weight_by_revenue: bool = False,
    cutoff: float = 80.0,
    view: str = "problems",
    sentiment: str = "problems",
) -> dict:
    """``pareto_analysis`` of ``responses_for(**filters)``, cached per filter and version of the
    feedback data, computed in one of a few slots under a statement timeout (cxgov/lib/heavy.py):
    raises ``heavy.AnalysisUnavailable`` when busy or too slow."""
    return heavy.cached(
        "pareto",
        {"filters": filters, "weighted": weight_by_revenue, "cutoff": cutoff, "view": view, "sentiment": sentiment},
        lambda: _pareto_with_correction(responses_for(**filters), weight_by_revenue, cutoff, view, sentiment),
    )


def _pareto_with_correction(
    responses: QuerySet[SurveyResponse],
    weight_by_revenue: bool,
    cutoff: float,
    view: str = "problems",
    sentiment: str = "problems",
) -> dict:
    """The Pareto; where a text model is switched on, its shares and vital few corrected for the
    model's errors (``analysis["corrected"]``, else None; what works is not corrected)."""
    analysis = pareto_analysis(
        responses=responses, weight_by_revenue=weight_by_revenue, cutoff=cutoff, view=view, sentiment=sentiment
    )
    analysis["corrected"] = None if view == "praise" else pareto_corrected(analysis=analysis, responses=responses)
    analysis["text"] = text_coverage(responses)  # cached with the rest: a cached page asks nothing more
    if analysis["corrected"]:
        analysis["rows"] = analysis["corrected"]["rows"]
    return analysis


class _IdList(Aggregate):
    """The values of a column over a group as one comma-separated text, in no particular order
    (PostgreSQL ``STRING_AGG``, SQLite ``GROUP_CONCAT``)."""

    function = "STRING_AGG"
    output_field = TextField()

    def __init__(self, expression, **extra):
        super().__init__(Cast(expression, TextField()), Value(","), **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra)


# Which tags a problems Pareto counts, by what the comment says about the sub-theme. A tag not
# analysed yet counts among the problems: a problem is never hidden by a job still to run.
SENTIMENTS = {
    "problems": "Negative and neutral",
    "negative": "Negative only",
    "all": "Every comment",
}
VIEWS = ("problems", "praise")


def tag_filter(*, view: str, sentiment: str, praise: set[int], prefix: str = "") -> Q:
    """The tags a Pareto counts (``prefix`` "tags__" from a response): live ones; for problems,
    those of no praise sub-theme that the sentiment filter keeps; for what works, the positive
    tags of praise sub-themes."""

    def q(**lookups) -> Q:
        return Q(**{prefix + name: value for name, value in lookups.items()})

    keep = q(rejected=False)
    if view == "praise":
        return keep & q(sub_theme__in=sorted(praise)) & q(sentiment__gte=text.POSITIVE_FROM)
    if praise:
        keep &= ~q(sub_theme__in=sorted(praise))
    if sentiment == "problems":
        keep &= q(sentiment__lt=text.POSITIVE_FROM) | q(sentiment__isnull=True)
    elif sentiment == "negative":
        keep &= q(sentiment__lte=text.NEGATIVE_TO)
    return keep


def theme_sentiment(responses: QuerySet[SurveyResponse]) -> dict[int, tuple[int, int]]:
    """For each sub-theme, (positive tags, tags with a sentiment) among these comments: one query."""
    rows = (
        CommentTag.objects.filter(rejected=False, sentiment__isnull=False, response__in=responses.values("pk"))
        .values("sub_theme")
        .annotate(n=Count("pk"), positive=Count("pk", filter=Q(sentiment__gte=text.POSITIVE_FROM)))
        .order_by()
    )
    return {row["sub_theme"]: (row["positive"], row["n"]) for row in rows}


def pareto_analysis(
    *,
    responses: QuerySet[SurveyResponse],
    weight_by_revenue: bool = False,
    cutoff: float = 80.0,
    view: str = "problems",
    sentiment: str = "problems",
) -> dict:
    """Comments per sub-theme (or their customers' monthly revenue), the Pareto rows, and sample
    verbatims for each sub-theme: a fixed number of queries whatever the data, each over the
    comments the filter keeps (the cost follows the filter).

    Shares are of comments: a comment with several sub-themes counts in each of its rows, the total
    is the number of comments that carry a sub-theme, and the cumulative share counts each comment
    once (the comments the top rows cover together), so the vital few cover the cut-off of comments.

    One GROUP BY gives every figure: how many of the filtered comments carry each combination of
    sub-themes (and their weight); counts per sub-theme, the comments covered by each Pareto rank
    and the totals all follow from those few combinations.

    ``view`` "problems" leaves out praise sub-themes (``praise_themes``: over all their comments,
    whatever the filter) and counts the tags the ``sentiment`` filter keeps (by default negative and
    neutral); "praise" (what works) counts only the positive tags of praise sub-themes."""
    by_theme = theme_sentiment(responses)
    overall = praise_themes()
    praise = set(overall)
    keep = {"view": view, "sentiment": sentiment, "praise": praise}
    combos, comments, latest = _combinations(responses, weight_by_revenue, tag_filter(**keep, prefix="tags__"))
    values: dict[int, float] = defaultdict(float)
    for themes, (_, weight) in combos.items():
        for pk in themes:
            values[pk] += weight
    themes = {
        t.pk: t
        for t in SubTheme.objects.filter(pk__in=set(values) | praise).select_related("driver", "suggested_function")
    }
    labelled = {pk: (str(themes[pk]), v) for pk, v in values.items()}
    order = ranked(labelled)
    per_rank, tagged, total = _coverage(combos, order)
    covered = list(accumulate(per_rank.get(i, 0.0) for i in range(len(order))))
    rows: list[ParetoRow] = pareto(labelled, cutoff=cutoff, total=total, covered=covered)
    samples = defaultdict(list)
    if latest is not None:
        found = _latest_per_theme(latest, [r.key for r in rows])
    else:
        tags = CommentTag.objects.filter(tag_filter(**keep), response__in=responses.values("pk"))
        found = _samples(tags, [r.key for r in rows], window=True)
    for theme_id, _, comment, score, scale in sorted(found, key=lambda r: (r[0], -r[1])):
        samples[theme_id].append({"comment": comment, "score": score, "scale": scale})

    def positive_share(pk, among=by_theme):
        positive, n = among.get(pk, (0, 0))
        return {"positive": positive, "analysed": n, "share": positive / n * 100 if n else None}

    return {
        "rows": [
            {"row": r, "theme": themes[r.key], "samples": samples.get(r.key, []), "sentiment": positive_share(r.key)}
            for r in rows
        ],
        "comments": comments,
        "tagged": tagged,
        "cutoff": cutoff,
        "weighted": weight_by_revenue,
        "view": view,
        "sentiment": sentiment if view == "problems" else "positive",
        "keep": keep,
        "praise": sorted(
            ({"theme": themes[pk], "sentiment": positive_share(pk, overall)} for pk in praise),
            key=lambda p: p["theme"].name,
        ),
    }


def praise_themes() -> dict[int, tuple[int, int]]:
    """The praise sub-themes, {id: (positive tags, tags with a sentiment)} over all their comments:
    one whose comments mostly praise it (``text.is_praise``) is what works on every page, whatever
    its filter (among unhappy customers a few lukewarm mentions of "soft" do not make softness a
    problem to own). Cached per version of the feedback data (cxgov/lib/heavy.py)."""

    def compute() -> dict[int, tuple[int, int]]:
        found = theme_sentiment(SurveyResponse.objects.all())
        return {pk: counts for pk, counts in found.items() if text.is_praise(*counts)}

    return heavy.cached("praise-themes", {}, compute, light=True)


def text_coverage(responses: QuerySet[SurveyResponse]) -> dict:
    """What the text analysis says about these comments, for the Pareto pages: comments in other
    languages (not tagged), comments not analysed yet, and how often the comment's sentiment agrees
    with its score where there is one (with the sample size): three queries."""
    other = ~Q(language__in=[text.UNDETERMINED, *text.HANDLED_LANGUAGES])
    counts = responses.aggregate(
        other_languages=Count("pk", filter=other), not_analysed=Count("pk", filter=Q(sentiment__isnull=True))
    )
    by_language = list(
        responses.filter(other).values_list("language").annotate(n=Count("pk")).order_by("-n", "language")[:5]
    )
    agreement = {"n": 0, "agree": 0, "positive_n": 0, "positive_agree": 0, "negative_n": 0, "negative_agree": 0}
    rows = (
        responses.filter(score__isnull=False)
        .exclude(sentiment_label="")
        .values_list("scale", "score", "sentiment_label")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for scale, score, label, n in rows:
        band = text.score_band(score, scale)
        if not band:
            continue
        agreement["n"] += n
        agreement["agree"] += n * (band == label)
        if band in ("positive", "negative"):
            agreement[f"{band}_n"] += n
            agreement[f"{band}_agree"] += n * (band == label)
    return {**counts, "languages": by_language, "handled": text.HANDLED_LABEL, "agreement": agreement}


def discovery_comments(filters: dict) -> QuerySet[SurveyResponse]:
    """What theme discovery clusters, newest first: comments in a handled language with no sub-theme,
    or whose only sub-themes are a text model's guesses below the review threshold (the model is
    unsure because none of the known sub-themes fits well: a new theme may be there)."""
    from rootcause.services import REVIEW_BELOW

    tagged = CommentTag.objects.filter(response=OuterRef("pk"), rejected=False).exclude(
        origin=TagOrigin.MODEL, probability__lt=REVIEW_BELOW
    )
    qs = SurveyResponse.objects.exclude(comment="").filter(
        ~Exists(tagged), language__in=[text.UNDETERMINED, *text.HANDLED_LANGUAGES]
    )
    if filters.get("source"):
        qs = qs.filter(source=filters["source"])
    if filters.get("start"):
        qs = qs.filter(responded_at__date__gte=filters["start"])
    if filters.get("end"):
        qs = qs.filter(responded_at__date__lte=filters["end"])
    return qs.order_by("-responded_at", "-pk")


def discovery_runs() -> QuerySet:
    return DiscoveryRun.objects.select_related("created_by").order_by("-created_at", "-pk")


def _combinations(
    responses, weighted: bool, keep: Q | None = None
) -> tuple[dict[frozenset, tuple[int, float]], int, dict | None]:
    """{the set of live sub-themes of a comment: (how many filtered comments carry exactly that set,
    their weight: that number, or their customers' monthly revenue)}, for the comments carrying
    any; the number of filtered comments; and on PostgreSQL {that set: the ids of its latest
    SAMPLES comments} (None elsewhere). One query: a GROUP BY over one row per comment."""
    per_comment = (
        responses.order_by()
        .values(rid=F("pk"))
        .annotate(combo=_IdList("tags__sub_theme_id", filter=keep if keep is not None else Q(tags__rejected=False)))
    )
    if weighted:
        per_comment = per_comment.annotate(w=Max(_revenue("customer_id")))
    sql, params = per_comment.query.sql_with_params()
    weight = "SUM(per.w)" if weighted else "COUNT(*)"
    postgresql = connection.vendor == "postgresql"
    latest_ids = f"(ARRAY_AGG(per.rid ORDER BY per.rid DESC))[1:{SAMPLES}]" if postgresql else "NULL"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT per.combo, COUNT(*), {weight}, {latest_ids} FROM ({sql}) per GROUP BY per.combo",  # noqa: S608
            params,
        )
        found = cursor.fetchall()
    combos: dict[frozenset, tuple[int, float]] = {}
    latest: dict[frozenset, list[int]] = defaultdict(list)
    comments = 0
    for combo, n, w, ids in found:
        comments += n
        if not combo:
            continue
        key = frozenset(int(pk) for pk in combo.split(","))  # the same set may come in several orders
        before_n, before_w = combos.get(key, (0, 0.0))
        combos[key] = (before_n + n, before_w + float(w or 0))
        latest[key].extend(ids or ())
    return combos, comments, (dict(latest) if postgresql else None)


def _latest_per_theme(latest: dict[frozenset, list[int]], theme_ids: list[int]) -> list[tuple]:
    """The latest SAMPLES comments of each sub-theme, from the latest few of each combination of
    sub-themes (a comment among a sub-theme's latest three is among the latest three of its own
    combination, which all carry that sub-theme): one query by primary key."""
    chosen: dict[int, list[int]] = {}
    for pk in theme_ids:
        candidates = {i for themes, ids in latest.items() if pk in themes for i in ids}
        chosen[pk] = sorted(candidates, reverse=True)[:SAMPLES]
    wanted = {i for ids in chosen.values() for i in ids}
    texts = {
        row[0]: row[1:]
        for row in SurveyResponse.objects.filter(pk__in=wanted).values_list("pk", "comment", "score", "scale")
    }
    return [(pk, i, *texts[i]) for pk, ids in chosen.items() for i in ids]


def _coverage(combos: dict[frozenset, tuple[int, float]], order: list[int]) -> tuple[dict[int, float], int, float]:
    """For each Pareto rank, the comments (or revenue) whose best-ranked sub-theme is that row; the
    number of tagged comments and the total (comments or revenue) they weigh."""
    rank = {pk: i for i, pk in enumerate(order)}
    per_rank: dict[int, float] = defaultdict(float)
    tagged = 0
    for themes, (n, weight) in combos.items():
        ranks = [rank[pk] for pk in themes if pk in rank]
        if ranks:  # a comment whose sub-themes all weigh nothing is in no row
            per_rank[min(ranks)] += weight
            tagged += n
    return dict(per_rank), tagged, sum(per_rank.values())


def _samples(tags, theme_ids: list[int], *, window: bool = False) -> list[tuple]:
    """The latest SAMPLES comments of each sub-theme, in one query: with ``window`` (or where the
    database cannot slice inside a UNION, as SQLite) a window function over the tags, whose cost
    follows the filter; else a UNION ALL of one indexed "latest 3" per sub-theme (PostgreSQL; 300x
    faster than a window over a million tags, but walking back past what a filter leaves out)."""
    fields = ("sub_theme_id", "response_id", "response__comment", "response__score", "response__scale")
    if not theme_ids:
        return []
    if not window and connection.features.supports_slicing_ordering_in_compound:
        parts = [
            tags.filter(sub_theme_id=pk).order_by("-response_id").values_list(*fields)[:SAMPLES] for pk in theme_ids
        ]
        return list(parts[0].union(*parts[1:], all=True))
    tags = tags.filter(sub_theme_id__in=theme_ids)
    ranked = tags.annotate(rank=Window(RowNumber(), partition_by=[F("sub_theme_id")], order_by=F("response_id").desc()))
    return list(ranked.filter(rank__lte=SAMPLES).values_list(*fields))


def taxonomy_names() -> dict[str, list[str]]:
    """{key driver name: its sub-theme names}."""
    names: dict[str, list[str]] = {driver: [] for driver in KeyDriver.objects.values_list("name", flat=True)}
    for driver, name in SubTheme.objects.values_list("driver__name", "name").order_by("name"):
        names[driver].append(name)
    return names


def pareto_comparison(*, filters: dict, current_vital: set[str]) -> dict | None:
    """The latest snapshot saved with the same filters, and which sub-themes entered or left the
    vital few since then (None when there is no earlier snapshot)."""
    previous = ParetoSnapshot.objects.filter(filters=filters).order_by("-created_at", "-pk").first()
    if previous is None:
        return None
    before = previous.vital_labels
    return {"snapshot": previous, "entered": sorted(current_vital - before), "left": sorted(before - current_vital)}


def decision_point_register(*, function_id: int | None = None, kind: str = "") -> list[Workflow]:
    """Workflows with their owning function and decision points, non-customer-facing owners first."""
    points = DecisionPoint.objects.order_by("rule")
    if kind:
        points = points.filter(kind=kind)
    workflows = Workflow.objects.select_related("function").prefetch_related(
        Prefetch("decision_points", queryset=points)
    )
    if function_id:
        workflows = workflows.filter(function_id=function_id)
    return list(workflows.order_by("function__customer_facing", "function__name", "name"))


# --- Issues -------------------------------------------------------------------------------------

EVIDENCE_DAYS = 90


def issue_evidence(
    *,
    sub_theme: SubTheme | None = None,
    metric=None,
    period: date | None = None,
    filters: dict | None = None,
) -> dict:
    """What an issue is opened with: for a sub-theme its comment counts now and before, the monthly
    trend, sample verbatims and the revenue at risk (customers who raised it); for a metric its recent
    values around the period. Stored on the issue, so it shows what was known when it was opened.

    ``filters`` are those of the Pareto the issue is opened from (``responses_for`` arguments): the
    counts and verbatims are then those of the comments that filter keeps, and the filters are
    stored with them."""
    from datetime import timedelta

    from django.db.models.functions import TruncMonth

    from metrics.models import MetricValue

    evidence: dict = {}
    if sub_theme is not None:
        tags = CommentTag.objects.filter(sub_theme=sub_theme, rejected=False)
        if filters:
            tags = tags.filter(response__in=responses_for(**filters).values("pk"))
            evidence["filters"] = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in filters.items()}
        last = tags.aggregate(last=Max("response__responded_at"))["last"]
        if last:
            end = last.date()
            recent = tags.filter(response__responded_at__date__gt=end - timedelta(days=EVIDENCE_DAYS)).count()
            before = tags.filter(
                response__responded_at__date__gt=end - timedelta(days=2 * EVIDENCE_DAYS),
                response__responded_at__date__lte=end - timedelta(days=EVIDENCE_DAYS),
            ).count()
            trend = (
                tags.annotate(month=TruncMonth("response__responded_at"))
                .values("month")
                .annotate(n=Count("pk"))
                .order_by("month")
            )
            customers = tags.exclude(response__customer_id="").values("response__customer_id")
            revenue = Customer.objects.filter(external_id__in=customers).aggregate(
                monthly=Sum("monthly_revenue"), n=Count("pk")
            )
            evidence["comments"] = {
                "total": tags.count(),
                "last_days": EVIDENCE_DAYS,
                "recent": recent,
                "previous": before,
                "until": end.isoformat(),
            }
            months = [{"month": row["month"].strftime("%Y-%m"), "count": row["n"]} for row in trend][-12:]
            peak = max(m["count"] for m in months)
            evidence["trend"] = [m | {"height": round(m["count"] * 100 / peak)} for m in months]
            evidence["verbatims"] = list(
                tags.order_by("-response__responded_at").values_list("response__comment", flat=True)[:SAMPLES]
            )
            evidence["revenue_at_risk"] = {
                "customers": revenue["n"],
                "annual": round(float(revenue["monthly"] or 0) * 12, 2),
            }
    if metric is not None:
        values = MetricValue.objects.filter(metric=metric, segment="").order_by("-period_start")
        if period:
            values = values.filter(period_start__lte=period)
        evidence["metric"] = {
            "name": metric.name,
            "target": metric.target,
            "period": period.isoformat() if period else None,
            "values": [
                {"period": v.period_start.isoformat(), "value": round(v.value, 2), "n": v.sample_size}
                for v in reversed(values[:12])
            ],
        }
    return evidence


def share_counts(sub_theme_id: int, windows: tuple[date, date, date, date]) -> tuple[tuple, tuple]:
    """(tagged comments, comments) in the baseline and the check windows: two queries."""
    result = []
    for start, end in (windows[:2], windows[2:]):
        comments = SurveyResponse.objects.exclude(comment="").filter(
            responded_at__date__gte=start, responded_at__date__lte=end
        )
        totals = comments.aggregate(
            # distinct: the join to the tags repeats a comment once per tag
            n=Count("pk", distinct=True),
            tagged=Count("pk", filter=Q(tags__sub_theme_id=sub_theme_id, tags__rejected=False), distinct=True),
        )
        result.append((totals["tagged"], totals["n"]))
    return result[0], result[1]


def measure_values(issue, windows: tuple[date, date, date, date]) -> tuple[list[float], list[float]]:
    """The per-period values of an issue's series (daily totals) or metric (everyone) in each window."""
    from datetime import timedelta

    from django.db.models.functions import TruncDate

    from metrics.models import MetricValue, Observation

    result = []
    for start, end in (windows[:2], windows[2:]):
        if issue.measure_kind == "series":
            totals = dict(
                Observation.objects.filter(
                    source=issue.measure_series, observed_at__date__gte=start, observed_at__date__lte=end
                )
                .annotate(day=TruncDate("observed_at"))
                .values("day")
                .annotate(total=Sum("value"))
                .order_by("day")
                .values_list("day", "total")
            )
            # A failure-demand count is zero on a day without events (a fix can remove them all); a
            # series with no data at all in the windows stays empty, which is "too little data".
            result.append(totals)
            continue
        rows = MetricValue.objects.filter(
            metric_id=issue.metric_id, segment="", period_start__gte=start, period_start__lte=end
        ).values_list("value", flat=True)
        result.append([float(v) for v in rows])
    if issue.measure_kind == "series":
        if not any(result):
            return [], []
        return tuple(
            [float(totals.get(start + timedelta(days=i), 0)) for i in range((end - start).days + 1)]
            for totals, (start, end) in zip(result, (windows[:2], windows[2:]), strict=True)
        )
    return result[0], result[1]


def issues(*, function_id=None, customer_facing=None, state: str = "", quarter: str = "", open_only=False):
    """Issues for the list, with what each row shows: a fixed number of queries."""
    from rootcause.models import CLOSED_STATES, ActionItem, ActionStatus, Issue

    today = timezone.localdate()
    items = ActionItem.objects.filter(issue=OuterRef("pk")).order_by().values("issue")
    qs = Issue.objects.select_related("function", "owner", "cx_owner", "sub_theme__driver").annotate(
        items_total=Coalesce(Subquery(items.annotate(n=Count("pk")).values("n")), 0),
        items_overdue=Coalesce(
            Subquery(
                items.exclude(status=ActionStatus.DONE).filter(due_date__lt=today).annotate(n=Count("pk")).values("n")
            ),
            0,
        ),
        items_blocked=Coalesce(
            Subquery(items.filter(status=ActionStatus.BLOCKED).annotate(n=Count("pk")).values("n")), 0
        ),
    )
    if function_id:
        qs = qs.filter(function_id=function_id)
    if customer_facing is not None:
        qs = qs.filter(function__customer_facing=customer_facing)
    if state == "open" or open_only:
        qs = qs.exclude(state__in=CLOSED_STATES)
    elif state:
        qs = qs.filter(state=state)
    if quarter:
        qs = qs.filter(target_quarter=quarter)
    return qs


def issue_detail(pk: int):
    """One issue with its chain, action items (with their latest updates) and the chart data."""
    from django.shortcuts import get_object_or_404

    from rootcause.models import ActionItem, ActionUpdate, Issue

    updates = ActionUpdate.objects.select_related("author").order_by("-created_at", "-pk")
    return get_object_or_404(
        Issue.objects.select_related(
            "function", "owner", "cx_owner", "sub_theme__driver", "metric", "decision_point__workflow__function"
        ).prefetch_related(
            "whys",
            Prefetch(
                "action_items",
                queryset=ActionItem.objects.select_related("function", "owner").prefetch_related(
                    Prefetch("updates", queryset=updates)
                ),
            ),
        ),
        pk=pk,
    )


def verification_chart(issue) -> dict | None:
    """Per-period values of the issue's measure across both windows (for its chart), or None."""
    windows = (issue.baseline_start, issue.baseline_end, issue.check_start, issue.check_end)
    if not issue.measure_kind or not all(windows):
        return None
    if issue.measure_kind == "share":
        from django.db.models.functions import TruncWeek

        comments = SurveyResponse.objects.exclude(comment="").filter(
            responded_at__date__gte=windows[0], responded_at__date__lte=windows[3]
        )
        rows = (
            comments.annotate(week=TruncWeek("responded_at"))
            .values("week")
            .annotate(
                n=Count("pk", distinct=True),
                tagged=Count(
                    "pk", filter=Q(tags__sub_theme_id=issue.sub_theme_id, tags__rejected=False), distinct=True
                ),
            )
            .order_by("week")
        )
        points = [(r["week"].date(), round(r["tagged"] * 100 / r["n"], 1)) for r in rows if r["n"]]
        unit = "% of comments (weekly)"
    elif issue.measure_kind == "series":
        from django.db.models.functions import TruncDate

        from metrics.models import Observation

        rows = (
            Observation.objects.filter(
                source=issue.measure_series, observed_at__date__gte=windows[0], observed_at__date__lte=windows[3]
            )
            .annotate(day=TruncDate("observed_at"))
            .values("day")
            .annotate(total=Sum("value"))
            .order_by("day")
        )
        points = [(r["day"], r["total"]) for r in rows]
        unit = issue.measure_series
    else:
        from metrics.models import MetricValue

        rows = MetricValue.objects.filter(
            metric_id=issue.metric_id, segment="", period_start__gte=windows[0], period_start__lte=windows[3]
        ).order_by("period_start")
        points = [(r.period_start, round(r.value, 2)) for r in rows]
        unit = issue.metric.name if issue.metric else ""

    def window(day) -> str:
        if windows[0] <= day <= windows[1]:
            return "baseline"
        if windows[2] <= day <= windows[3]:
            return "check"
        return "between"

    return {
        "unit": unit,
        "labels": [d.isoformat() for d, _ in points],
        "values": [v for _, v in points],
        "windows": [window(d) for d, _ in points],
    }


HISTORY_HIDDEN = {"updated_at", "evidence", "verification", "verified_at", "completed_at", "created_by", "created_at"}


def history_changes(history, limit: int = 30) -> list[dict]:
    """The latest changes of a history (django-simple-history), newest first: who, when, and each
    changed field as (label, before, after). Two queries whatever the length."""
    records = list(history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1])
    records.reverse()
    changes = []
    for previous, record in zip([None, *records], records, strict=False):
        if previous is None and record.history_type != "+":
            continue  # older than the window shown: only there to diff against
        if previous is None:
            diffs = [("created", "", "")]
        else:
            diffs = [
                (c.field, c.old, c.new) for c in record.diff_against(previous).changes if c.field not in HISTORY_HIDDEN
            ]
        if diffs:
            changes.append({"record": record, "diffs": diffs})
    changes.reverse()
    changes = changes[:limit]
    if changes:
        _readable(changes, changes[0]["record"].instance_type)
    return changes


def _readable(changes: list[dict], model) -> None:
    """Show history values as a person reads them: choice labels, and names for related objects
    (one query per related model, whatever the number of changes)."""
    wanted = defaultdict(set)
    for change in changes:
        for name, old, new in change["diffs"]:
            if name != "created" and model._meta.get_field(name).is_relation:
                wanted[name].update(v for v in (old, new) if v is not None)
    names = {
        name: model._meta.get_field(name).related_model._default_manager.in_bulk(ids) for name, ids in wanted.items()
    }
    for change in changes:
        readable = []
        for name, old, new in change["diffs"]:
            if name == "created":
                readable.append(("created", "", ""))
                continue
            field = model._meta.get_field(name)
            if field.is_relation:
                old, new = (names[name].get(v, v) if v is not None else None for v in (old, new))
            elif field.flatchoices:
                labels = dict(field.flatchoices)
                old, new = labels.get(old, old), labels.get(new, new)
            readable.append((field.verbose_name, old, new))
        change["diffs"] = readable


def open_issues_for_metrics(metric_ids, function_id: int | None = None) -> list:
    """Open issues whose metric is one of these (optionally owned by one function), each with its
    overdue action items in ``overdue_items``: two queries whatever the number."""
    from rootcause.models import CLOSED_STATES, PRIORITY_RANK, ActionItem, Issue

    overdue = ActionItem.objects.overdue().select_related("function", "owner").order_by("due_date", "pk")
    issues = (
        Issue.objects.exclude(state__in=CLOSED_STATES)
        .filter(metric_id__in=list(metric_ids))
        .select_related("function", "metric")
        .prefetch_related(Prefetch("action_items", queryset=overdue, to_attr="overdue_items"))
        .order_by("function__customer_facing", PRIORITY_RANK, "pk")
    )
    if function_id is not None:
        issues = issues.filter(function_id=function_id)
    return list(issues)


# --- text models ----------------------------------------------------------------------------------


def _labels(driver: KeyDriver):
    """People's labels under a key driver: manual and imported tags (not rules, not models)."""
    return CommentTag.objects.filter(sub_theme__driver=driver, origin__in=LABEL_ORIGINS, rejected=False).exclude(
        response__comment=""
    )


def label_counts(driver: KeyDriver) -> dict[int, int]:
    """Labelled comments per sub-theme of the driver."""
    return dict(_labels(driver).values("sub_theme").annotate(n=Count("pk")).values_list("sub_theme", "n").order_by())


def labelled_comment_count(driver: KeyDriver) -> int:
    return _labels(driver).values("response").distinct().count()


def training_labels(driver: KeyDriver) -> tuple[list[int], list[str], list[set[int]]]:
    """(response ids, comments, their sub-themes) of every labelled comment under the driver."""
    found: dict[int, set[int]] = defaultdict(set)
    texts: dict[int, str] = {}
    for response_id, theme_id, comment in _labels(driver).values_list(
        "response_id", "sub_theme_id", "response__comment"
    ):
        found[response_id].add(theme_id)
        texts[response_id] = comment
    ids = sorted(found)
    return ids, [texts[i] for i in ids], [found[i] for i in ids]


def model_scope(responses: QuerySet[SurveyResponse], driver: KeyDriver) -> QuerySet[SurveyResponse]:
    """The comments a driver's model tags: in its scope, with text in a handled language (a model
    trained on English never tags another), and without a manual, imported or rule tag of the
    driver (those win over the model)."""
    people_or_rules = CommentTag.objects.filter(
        response=OuterRef("pk"), sub_theme__driver=driver, rejected=False
    ).exclude(origin=TagOrigin.MODEL)
    return (
        in_scope(responses, driver)
        .exclude(comment="")
        .filter(language__in=[text.UNDETERMINED, *text.HANDLED_LANGUAGES])
        .exclude(Exists(people_or_rules))
    )


def text_models() -> QuerySet[TextModel]:
    return TextModel.objects.select_related("driver", "created_by").order_by("driver__name", "-version")


def review_queue(*, driver: KeyDriver | None = None, below: float | None = None) -> QuerySet[CommentTag]:
    """The active models' tags the model is least sure of, least sure first: a label there teaches
    the next model most (uncertainty sampling)."""
    from rootcause.services import REVIEW_BELOW

    tags = CommentTag.objects.filter(
        origin=TagOrigin.MODEL,
        model__status=ModelStatus.ACTIVE,
        probability__lt=REVIEW_BELOW if below is None else below,
    )
    if driver is not None:
        tags = tags.filter(sub_theme__driver=driver)
    return tags.select_related("response", "sub_theme__driver", "model").order_by("probability", "pk")


def _model_estimates(model: TextModel, model_counts: dict[int, int], scored: int) -> dict[int, Estimate]:
    """{sub-theme id: corrected share of the ``scored`` comments the model saw} from its tags of
    them (``model_counts``, before any sentiment filter): over the held-out confusion matrix for a
    one-label-per-comment model, per sub-theme otherwise (rootcause/quantify.py)."""
    classes = model.metrics.get("classes", [])
    if not classes or not scored:
        return {}
    if model.metrics.get("multilabel"):
        found = multilabel_intervals(
            predicted=[model_counts.get(row["class"], 0) for row in classes],
            comments=scored,
            cells=[(row["tp"], row["fn"], row["fp"], row["tn"]) for row in classes],
        )
        return {row["class"]: estimate for row, estimate in zip(classes, found, strict=True)}
    predicted = [model_counts.get(row["class"], 0) for row in classes]
    predicted.append(max(0, scored - sum(predicted)))  # "other": none of the modelled sub-themes
    found = multiclass_interval(predicted=predicted, confusion=model.metrics["confusion"])
    return {row["class"]: estimate for row, estimate in zip(classes, found, strict=False)}


def pareto_corrected(*, analysis: dict, responses: QuerySet[SurveyResponse]) -> dict | None:
    """The Pareto with shares corrected for the active text models' known errors, or None where no
    model is switched on (or the Pareto weighs revenue, which the correction does not model).

    A sub-theme's count is its people's and rules' tags (taken as true) plus, of the N comments its
    driver's model looked at, the corrected share (rootcause/quantify.py: adjusted classify-and-count
    where the sub-themes' mix has shifted from the labels', predictive values where it has not; over
    the held-out confusion matrix for one-label models, per sub-theme for multi-label ones; a 95 %
    bootstrap interval). The total is the comments that carry a
    tag of people or rules, or that a model looked at. The rows are then ranked, and the vital few
    found, on the corrected counts; each keeps its raw count. The cumulative share counts a comment
    with several sub-themes once as the raw analysis does, by the raw overlap of the tags."""
    if analysis["weighted"] or not analysis["rows"]:
        return None
    models = list(TextModel.objects.filter(status=ModelStatus.ACTIVE).select_related("driver"))
    if not models:
        return None
    keep = analysis.get("keep") or {"view": "problems", "sentiment": "all", "praise": set()}
    model_tags = (
        CommentTag.objects.filter(origin=TagOrigin.MODEL, rejected=False, response__in=responses.values("pk"))
        .values("sub_theme")
        .annotate(n=Count("pk"), kept=Count("pk", filter=tag_filter(**keep)))
        .values_list("sub_theme", "n", "kept")
        .order_by()
    )
    # The sentiment filter keeps a part of a sub-theme's comments: the shares are corrected on every
    # model tag (the held-out errors were measured so), then the corrected count is scaled by the
    # part of its model tags the filter keeps (as if the model's errors did not depend on what the
    # comment says about it).
    tagged = {pk: n for pk, n, _ in model_tags}
    model_counts = {pk: kept for pk, _, kept in model_tags}
    kept_part = {pk: kept / n for pk, n, kept in model_tags if n}
    scored = {m.driver_id: model_scope(responses, m.driver).count() for m in models}
    looked_at = Q(
        Exists(CommentTag.objects.filter(response=OuterRef("pk"), rejected=False).exclude(origin=TagOrigin.MODEL))
    )
    for m in models:
        looked_at |= Q(pk__in=model_scope(responses, m.driver).values("pk"))
    total = responses.filter(looked_at).count()
    estimates = {m.driver_id: _model_estimates(m, tagged, scored[m.driver_id]) for m in models}
    items = {item["theme"].pk: item for item in analysis["rows"]}
    # A sub-theme the model rarely says may still hold a share once its errors are undone.
    unseen = {
        pk
        for found in estimates.values()
        for pk, e in found.items()
        if e.high > 0 and pk not in items and pk not in keep["praise"]
    }
    for theme in SubTheme.objects.filter(pk__in=unseen).select_related("driver", "suggested_function"):
        items[theme.pk] = {"theme": theme, "row": ParetoRow(theme.pk, str(theme), 0.0, 0.0, 0.0, False), "samples": []}
    values, extra = {}, {}
    for item in items.values():
        theme, raw = item["theme"], item["row"]
        estimate = estimates.get(theme.driver_id, {}).get(theme.pk)
        value = low = high = raw.value
        if estimate is not None:
            # People's and rules' tags as they are, plus the corrected share of the comments the model saw.
            people = raw.value - model_counts.get(theme.pk, 0)
            n = scored[theme.driver_id] * kept_part.get(theme.pk, 1.0)
            value, low, high = people + n * estimate.share, people + n * estimate.low, people + n * estimate.high
        values[theme.pk] = (raw.label, value)
        extra[theme.pk] = {
            "raw": raw,
            "low": low,
            "high": high,
            "estimated": estimate is not None,
            "method": estimate.method if estimate is not None else None,
            "item": item,
        }
    if total <= 0:
        return None
    order = ranked(values)
    raw_sum = sum(item["row"].value for item in items.values())
    overlap = min(1.0, analysis["tagged"] / raw_sum) if raw_sum else 1.0
    covered = list(accumulate(min(float(total), overlap * values[k][1]) for k in order))
    covered = [min(float(total), c) for c in covered]
    rows = pareto(values, cutoff=analysis["cutoff"], total=total, covered=covered)
    # A sub-theme corrected to nothing may still be there (its interval says how much): listed last.
    last = rows[-1].cumulative if rows else 0.0
    rows += [
        ParetoRow(pk, values[pk][0], 0.0, 0.0, last, False)
        for pk in sorted(extra, key=lambda pk: values[pk][0])
        if values[pk][1] <= 0 and extra[pk]["high"] > 0
    ]
    return {
        "total": total,
        "models": models,
        "rows": [
            {
                **extra[r.key]["item"],
                "row": r,
                "raw": extra[r.key]["raw"],
                "low": extra[r.key]["low"] / total * 100,
                "high": extra[r.key]["high"] / total * 100,
                "estimated": extra[r.key]["estimated"],
                "method": extra[r.key]["method"],
            }
            for r in rows
        ],
        "methods": {METHODS[m] for m in (e["method"] for e in extra.values()) if m},
    }


def labelled_comment_counts() -> dict[int, int]:
    """{key driver id: labelled comments under it}, in one query."""
    rows = (
        CommentTag.objects.filter(origin__in=LABEL_ORIGINS, rejected=False)
        .exclude(response__comment="")
        .values("sub_theme__driver")
        .annotate(n=Count("response", distinct=True))
        .values_list("sub_theme__driver", "n")
        .order_by()
    )
    return dict(rows)


def model_evaluation(model: TextModel) -> dict | None:
    """A trained model's held-out evaluation as the page shows it, or None before training ends."""
    metrics = model.metrics or {}
    if not metrics.get("classes"):
        return None
    classes = metrics["classes"]
    names = [row.get("name", str(row["class"])) for row in classes]
    confusion = metrics.get("confusion", [])
    if metrics.get("multilabel"):
        matrix = {
            "multilabel": True,
            "rows": [{"name": n, "cells": cells} for n, cells in zip(names, confusion, strict=False)],
        }
    else:
        columns = [*names, "other"]
        matrix = {
            "multilabel": False,
            "columns": columns,
            "rows": [{"name": n, "cells": cells} for n, cells in zip(columns, confusion, strict=False) if any(cells)],
        }
    rows = [{**r, "fpr": r["fp"] / (r["fp"] + r["tn"]) * 100 if r["fp"] + r["tn"] else 0.0} for r in classes]
    return {
        "classes": sorted(rows, key=lambda r: -r["support"]),
        "macro_f1": metrics.get("macro_f1"),
        "folds": metrics.get("folds"),
        "labelled": metrics.get("labelled"),
        "left_out": metrics.get("left_out", {}),
        "multilabel": metrics.get("multilabel", False),
        "confusion": matrix,
    }
