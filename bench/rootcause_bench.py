"""Tagging throughput and the Pareto analysis at scale, each against a baseline in the same run.

Runs over the responses the ingestion benchmark wrote (``--responses`` of them, every one with a
comment), with the demo taxonomy (12 sub-themes, rootcause/demo.py):

- tagging: ``comments_tag`` (read the comments in chunks, match, write the tags idempotently)
  against matching the same comments in memory with the same compiled rules (no database);
- Pareto: ``pareto_analysis`` over every comment (counts per sub-theme, the vital few, sample
  verbatims, comment totals) against one SQL GROUP BY counting the same tag rows;
- bulk tagging: a ``BulkTagJob`` adding a sub-theme to ``--bulk`` comments (100,000) chosen by a
  filter, in chunks with its progress recorded after each, then removing it, against one
  ``INSERT ... SELECT`` of the same tags and one ``UPDATE`` of them.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.utils import timezone

from cxgov.models import Role, User
from metrics.models import SurveyResponse
from rootcause import selectors, services, tagging
from rootcause.demo import TAXONOMY
from rootcause.models import CommentTag, KeyDriver, SubTheme


def _taxonomy() -> None:
    for driver_name, themes in TAXONOMY.items():
        driver = KeyDriver.objects.create(name=driver_name, slug=driver_name.lower().replace(" ", "-"))
        for name, keywords, negatives, _owner in themes:
            SubTheme.objects.create(
                driver=driver,
                name=name,
                slug=name.lower().replace(" ", "-"),
                keywords="\n".join(keywords),
                negative_keywords="\n".join(negatives),
            )


def bench_tagging(repeat: int = 3) -> list[tuple]:
    """``comments_tag`` (read, match with the one-automaton ``Matcher``, write) against matching the
    same comments in memory: with the per-rule regex loop (``tagging.match``, what tagging did before)
    and with the ``Matcher`` itself (so the second ratio is the database's share). Each timed
    ``repeat`` times (the tags deleted between runs, so every run writes them all); min and median."""
    _taxonomy()
    comments = list(SurveyResponse.objects.exclude(comment="").values_list("comment", flat=True))
    n = len(comments)
    rules = services._rules()
    matcher = tagging.Matcher(rules)

    def loop():
        return sum(len(tagging.match(c, rules)) for c in comments)

    def automaton():
        return sum(len(matcher.match(c)) for c in comments)

    def tag():
        CommentTag.objects.all().delete()
        start = time.perf_counter()
        stats = services.comments_tag()
        return time.perf_counter() - start, stats

    matched = loop()
    assert automaton() == matched
    loops, automata, ours = [], [], []
    for _ in range(repeat):
        loops.append(_timed(loop))
        automata.append(_timed(automaton))
        seconds, stats = tag()
        assert stats["comments"] == n and stats["added"] == matched == CommentTag.objects.count()
        ours.append(seconds)
    base, fast, mine = (statistics.median(t) for t in (loops, automata, ours))
    return [
        (f"match in memory, a regex per rule ({n:,} comments, baseline)", min(loops), base, n / base, 1.0),
        ("match in memory, one automaton (Matcher), no database", min(automata), fast, n / fast, fast / base),
        (f"comments_tag: read, match, write {matched:,} tags", min(ours), mine, n / mine, mine / base),
        ("comments_tag against the automaton in memory", min(ours), mine, n / mine, mine / fast),
    ]


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _timings(fn, repeat: int = 5) -> tuple[float, float]:
    """Minimum and median seconds of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


# (label, responses_for arguments): the cost should follow the filter.
PARETO_FILTERS = [
    ("every comment", {}),
    ("one quarter", {"start": date(2026, 1, 1), "end": date(2026, 3, 31)}),
    ("one week", {"start": date(2026, 3, 2), "end": date(2026, 3, 8)}),
    ("dissatisfied only", {"dissatisfied_only": True}),
    ("one source (1 in 10)", {"source": "bench-app"}),
]


def _where(filters: dict) -> tuple[str, list]:
    """The filter as a hand-written WHERE over ``r`` (the responses), for the baseline."""
    clauses, params = ["r.comment <> ''"], []
    if filters.get("start"):
        clauses.append("r.responded_at >= %s")
        params.append(timezone.make_aware(datetime.combine(filters["start"], datetime.min.time())))
    if filters.get("end"):
        clauses.append("r.responded_at < %s")
        params.append(timezone.make_aware(datetime.combine(filters["end"] + timedelta(days=1), datetime.min.time())))
    if filters.get("source"):
        clauses.append("r.source = %s")
        params.append(filters["source"])
    if filters.get("dissatisfied_only"):
        clauses.append(
            "((r.scale = 'nps' AND r.score <= 6) OR (r.scale = 'csat' AND r.score <= 2) "
            "OR (r.scale = 'ces' AND r.score >= 5))"
        )
    return " AND ".join(clauses), params


def _baseline(filters: dict):
    """One GROUP BY counting the filtered comments' tags per sub-theme; and the same plus the
    verbatims (the latest three comments of each sub-theme, one window query over the same rows)."""
    where, params = _where(filters)
    join = (
        "FROM rootcause_commenttag t JOIN metrics_surveyresponse r ON r.id = t.response_id "
        f"WHERE NOT t.rejected AND {where}"
    )
    counts = f"SELECT t.sub_theme_id, COUNT(*) {join} GROUP BY t.sub_theme_id"
    verbatims = (
        "SELECT * FROM (SELECT t.sub_theme_id, r.id, r.comment, r.score, r.scale, ROW_NUMBER() OVER "  # noqa: S608
        f"(PARTITION BY t.sub_theme_id ORDER BY r.id DESC) AS n {join}) x WHERE n <= {selectors.SAMPLES}"
    )

    def group_by():
        with connection.cursor() as cursor:
            cursor.execute(counts, params)
            return dict(cursor.fetchall())

    def with_verbatims():
        with connection.cursor() as cursor:
            cursor.execute(verbatims, params)
            cursor.fetchall()
        return group_by()

    return group_by, with_verbatims


def bench_pareto(repeat: int = 5) -> list[tuple]:
    """Per filter: rows (tags) kept, the GROUP BY alone, GROUP BY + verbatims, ``pareto_analysis``
    (uncached: counts, coverage, verbatims, totals), the cached page figure; min and median each."""
    out = []
    for label, filters in PARETO_FILTERS:
        group_by, with_verbatims = _baseline(filters)
        counts = group_by()

        def analysis(filters=filters):
            return selectors.pareto_analysis(responses=selectors.responses_for(**filters))

        result = analysis()
        assert {item["theme"].pk: item["row"].value for item in result["rows"]} == counts, label
        out.append(
            (
                label,
                result["comments"],
                sum(counts.values()),
                _timings(group_by, repeat),
                _timings(with_verbatims, repeat),
                _timings(analysis, repeat),
            )
        )
    return out


BULK_SOURCE = "bulk-bench"


def _bulk_comments(n: int) -> None:
    for first in range(0, n, 20_000):
        SurveyResponse.objects.bulk_create(
            SurveyResponse(
                source=BULK_SOURCE,
                external_id=str(i),
                responded_at=datetime(2026, 1 + i % 12, 1 + i % 28, tzinfo=UTC),
                score=i % 11,
                scale="nps",
                comment=f"Comment {i}: the courier came {'late' if i % 2 else 'early'}",
            )
            for i in range(first, min(first + 20_000, n))
        )


def bench_bulk_tagging(n: int = 100_000) -> list[tuple]:
    """A bulk job over ``n`` comments (filtered by source) against hand-written SQL doing the same."""
    _bulk_comments(n)
    theme = SubTheme.objects.create(
        driver=KeyDriver.objects.create(name="Bulk bench", slug="bulk-bench"),
        name="Courier",
        slug="courier",
        keywords="zzz-never-matches",
    )
    cx = User.objects.create(username="bench-cx", role=Role.CX_TEAM)
    insert = (
        "INSERT INTO rootcause_commenttag (response_id, sub_theme_id, origin, rejected, tagged_at) "
        "SELECT id, %s, 'manual', %s, %s FROM metrics_surveyresponse WHERE source = %s AND comment <> ''"
    )
    update = "UPDATE rootcause_commenttag SET rejected = %s, origin = 'manual', tagged_at = %s WHERE sub_theme_id = %s"

    def sql(statement, params):
        start = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
        return time.perf_counter() - start

    base_add = sql(insert, [theme.pk, False, timezone.now(), BULK_SOURCE])
    base_remove = sql(update, [True, timezone.now(), theme.pk])
    CommentTag.objects.filter(sub_theme=theme).delete()

    def job(action):
        start = time.perf_counter()
        started = services.bulk_tag_start(user=cx, action=action, sub_theme=theme, filters={"source": BULK_SOURCE})
        done = services.bulk_tag_run(job_id=started.pk)
        return time.perf_counter() - start, done

    add, added = job("add")
    assert (added.done, added.changed, added.percent) == (n, n, 100)
    assert CommentTag.objects.filter(sub_theme=theme, rejected=False, origin="manual").count() == n
    again, repeated = job("add")
    assert repeated.changed == 0
    remove, removed = job("remove")
    assert removed.changed == n and not CommentTag.objects.filter(sub_theme=theme, rejected=False).exists()
    chunks = -(-n // services.BULK_CHUNK)
    return [
        (f"one INSERT ... SELECT of {n:,} tags (baseline)", base_add, n / base_add, 1.0),
        (f"bulk job: add to {n:,} comments, progress x{chunks}", add, n / add, add / base_add),
        ("bulk job again: nothing to change", again, n / again, again / base_add),
        (f"one UPDATE rejecting {n:,} tags (baseline)", base_remove, n / base_remove, 1.0),
        (f"bulk job: remove from {n:,} comments", remove, n / remove, remove / base_remove),
    ]
