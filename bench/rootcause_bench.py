"""Tagging throughput and the Pareto analysis at scale, each against a baseline in the same run.

Runs over the responses the ingestion benchmark wrote (``--responses`` of them, every one with a
comment), with the demo taxonomy (11 sub-themes, rootcause/demo.py):

- tagging: ``comments_tag`` (read the comments in chunks, match, write the tags idempotently)
  against matching the same comments in memory with the same compiled rules (no database);
- Pareto: ``pareto_analysis`` over every comment (counts per sub-theme, the vital few, sample
  verbatims, comment totals) against one SQL GROUP BY counting the same tag rows.
"""

from __future__ import annotations

import statistics
import time

from django.db import connection

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


def bench_tagging() -> list[tuple]:
    _taxonomy()
    comments = list(SurveyResponse.objects.exclude(comment="").values_list("comment", flat=True))
    n = len(comments)
    rules = services._rules()
    start = time.perf_counter()
    matched = sum(len(tagging.match(c, rules)) for c in comments)
    baseline = time.perf_counter() - start
    start = time.perf_counter()
    stats = services.comments_tag()
    ours = time.perf_counter() - start
    assert stats["comments"] == n and stats["added"] == matched == CommentTag.objects.count()
    return [
        (f"match in memory, no database ({n:,} comments, baseline)", baseline, n / baseline, 1.0),
        (f"comments_tag: read, match, write {matched:,} tags", ours, n / ours, ours / baseline),
    ]


def _median(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_pareto() -> list[tuple]:
    n = SurveyResponse.objects.exclude(comment="").count()
    tags = CommentTag.objects.count()
    sql = (
        "SELECT t.sub_theme_id, COUNT(*) FROM rootcause_commenttag t "
        "JOIN metrics_surveyresponse r ON r.id = t.response_id "
        "WHERE NOT t.rejected AND r.comment <> '' GROUP BY t.sub_theme_id"
    )

    def group_by():
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return dict(cursor.fetchall())

    def analysis():
        return selectors.pareto_analysis(responses=selectors.responses_for())

    counts = group_by()
    result = analysis()
    assert {item["theme"].pk: item["row"].value for item in result["rows"]} == counts
    baseline, ours = _median(group_by), _median(analysis)
    vital = sum(1 for item in result["rows"] if item["row"].vital)
    return [
        (f"one SQL GROUP BY over {tags:,} tags of {n:,} comments (baseline)", baseline, 1.0),
        (f"pareto_analysis: counts, vital few ({vital}), verbatims, totals", ours, ours / baseline),
    ]
