"""Run the benchmarks and print their figures as ratios against baselines measured in the same run.

    bin/bench [--scale 1] [--repeat 30]
              [--only all|alerts|digests|ingestion|imports|tagging|pareto|pages|ownership|classifier|load]
              [--load-seconds 60]

Every figure is timed at least three times and printed as minimum and median (p95 for pages);
ratios are of medians against a baseline measured in the same run. ANALYZE (on PostgreSQL VACUUM
ANALYZE) runs after every bulk load (this PostgreSQL has autovacuum off, so plans would otherwise
run on default estimates and index-only scans would read the table).

Uses its own database (SQLite under var/bench/, recreated each run; or BENCH_DATABASE_URL,
which must point at a throwaway database) so it never touches the demo's data. The cache is local
memory unless BENCH_REDIS_URL names a throwaway Redis database (emptied at start), as production's
REDIS_URL does: pages that read the cache often are slower there, and the figures should say so.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _setup(database_url: str | None, redis_url: str | None = None) -> None:
    sys.path.insert(0, str(ROOT))
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
    else:
        os.environ.pop("REDIS_URL", None)
    var = ROOT / "var" / "bench"
    var.mkdir(parents=True, exist_ok=True)
    os.environ["CXGOV_VAR_DIR"] = str(var)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxgov.settings")
    os.environ.setdefault("IMPORT_MAX_MB", "10000")  # a million labelled rows is past the upload limit
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
        for suffix in ("", "-wal", "-shm"):
            (var / f"cxgov.sqlite3{suffix}").unlink(missing_ok=True)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    if database_url:
        call_command("flush", verbosity=0, interactive=False)
    if redis_url:
        from django.core.cache import cache

        cache.clear()  # a throwaway Redis database: nothing cached from an earlier run


def _where() -> str:
    from django.conf import settings
    from django.db import connection

    cache = "redis" if "redis" in settings.CACHES["default"]["BACKEND"].lower() else "local memory"
    return f"database {connection.vendor}, cache {cache}"


def analyze() -> None:
    """Statistics for the planner after a bulk load (PostgreSQL and SQLite both know ANALYZE). On
    PostgreSQL also VACUUM, as autovacuum does after bulk inserts in production (this server has it
    off): without the visibility map, index-only scans would read the table anyway."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def _print_rules_tagging() -> None:
    from bench import rootcause_bench

    for label, low, median, rate, ratio in rootcause_bench.bench_tagging():
        print(f"  {label:<62} {low:7.2f} / {median:7.2f} s {rate:>10,.0f} comments/s   x{ratio:5.2f}")


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_pages(repeat: int) -> list[tuple]:
    """Server time of pages and API lists (median, p95, queries) vs a one-row page of the same app."""
    from django.test import Client

    from cxgov.models import Function, Role, User

    admin = User.objects.create(username="bench-admin", role=Role.ADMINISTRATOR)
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)
    one = Function.objects.order_by("name").first()
    pages = [
        ("one-row page: /functions/?q=<one name> (baseline)", f"/functions/?q={one.name}"),
        ("/functions/ (all functions)", "/functions/"),
        (f"/functions/{one.slug}/", f"/functions/{one.slug}/"),
        ("/accountabilities/ (first page of 50)", "/accountabilities/"),
        ("/people/ (all people)", "/people/"),
        ("/api/functions/ (page of 50)", "/api/functions/"),
        ("/api/accountabilities/ (page of 50)", "/api/accountabilities/"),
    ]
    from bench.ownership_bench import _measure

    return [(label, *_measure(client, url, repeat)) for label, url in pages]


def _print_pages(title: str, rows: list[tuple]) -> None:
    print(title)
    base = rows[0][2]
    print(f"  {'page':<52} {'min':>9} {'median':>9} {'p95':>9} {'ratio':>7} {'queries':>8}")
    for label, least, median, p95, queries in rows:
        print(
            f"  {label:<52} {least * 1000:7.1f}ms {median * 1000:7.1f}ms {p95 * 1000:7.1f}ms   x{median / base:5.2f} "
            f"{queries:8d}"
        )


def _ownership(scale: float, repeat: int) -> None:
    from bench import ownership_bench

    t = time.perf_counter()
    counts = ownership_bench.generate(scale=scale)
    analyze()
    print(f"\nOwnership data (scale {scale:g}): {counts} in {time.perf_counter() - t:.2f} s, then ANALYZE")
    rows = ownership_bench.bench_pages(repeat)
    _print_pages(
        f"Ownership pages, {max(3, repeat)} requests each (exports {max(3, min(repeat, 5))}; server time; "
        "ratio of medians to the one-row baseline; the floor is the map's layout with no aggregates)",
        rows,
    )
    floor = rows[1][2]
    print(
        "  against the floor: " + ", ".join(f"{label.split(' (')[0]} x{m / floor:.1f}" for label, _, m, *_ in rows[2:])
    )


def _print_alerts() -> None:
    from bench.alerts_bench import DAYS, bench_alerts

    print(
        f"\nAlert evaluation over {DAYS:,} daily values per metric, 10 rules per metric (ratio to reading the values);"
        "\n  the 1st run is new rules judging their whole history, then 'replay history' on every rule, then a rerun"
    )
    print(
        f"  {'rules':>6} {'read values min/med':>20} {'1st run':>9} {'ratio':>7} {'ms/rule':>8} {'q/rule':>7} "
        f"{'episodes':>9} {'history':>8} {'replay min/med':>16} {'ratio':>7} {'q/rule':>7} "
        f"{'rerun min/med':>15} {'ratio':>7} {'q/rule':>7}"
    )
    for rules, base, first, first_q, episodes, history, replay, again in bench_alerts():
        (base_min, base_median), (replay_min, replay_median, replay_q), (again_min, again_median, again_q) = (
            base,
            replay,
            again,
        )
        print(
            f"  {rules:>6,} {base_min:8.3f} /{base_median:6.3f} s {first:7.2f} s  x{first / base_median:5.0f} "
            f"{first / rules * 1000:8.2f} {first_q / rules:7.2f} {episodes:9,} {history:8,} "
            f"{replay_min:6.2f} /{replay_median:5.2f} s  x{replay_median / base_median:5.1f} {replay_q / rules:7.2f} "
            f"{again_min:6.2f} /{again_median:5.2f} s  x{again_median / base_median:5.1f} {again_q / rules:7.2f}"
        )


def _print_digests() -> None:
    from bench.digests_bench import bench_digests

    print(
        "\nDigests through an SMTP server on 127.0.0.1, 3 runs each (ratio of medians to sending as many "
        "ready-made emails of the same size over one SMTP session)"
    )
    print(
        f"  {'recipients':>10} {'baseline min/median':>20} {'digests min/median':>19} {'ratio':>7} "
        f"{'per second':>11} {'batches':>8} {'queries/batch':>14} {'queries/recipient':>18}"
    )
    for n, base_min, base_median, ours_min, ours_median, queries, batches in bench_digests():
        print(
            f"  {n:>10,} {base_min:8.2f} /{base_median:6.2f} s {ours_min:7.2f} /{ours_median:6.2f} s "
            f"  x{ours_median / base_median:5.2f} {n / ours_median:11,.0f} {batches:8,} {queries / batches:14.1f} "
            f"{queries / n:18.2f}"
        )


def _print_labelled_import(n: int) -> None:
    from bench import imports_bench

    print(f"\nImport of a {n:,}-row labelled social-media export (ratio to the baseline in this run)")
    for label, seconds, rate, ratio in imports_bench.bench_labelled_import(n, ROOT / "var" / "bench"):
        print(f"  {label:<72} {seconds:8.2f} s {rate:>10,.0f} rows/s   x{ratio:5.2f}")


def _print_classifier(scale: float) -> None:
    from bench import classifier_bench

    print("\nText models: training and tagging, 3 runs each (min, median; ratio of medians to the baseline)")
    for label, fastest, median, ratio in classifier_bench.bench_classifier(scale):
        print(f"  {label:<78} {fastest:8.2f} s {median:8.2f} s   x{ratio:5.2f}")


def _pareto(responses: int, scale: float, taxonomy: bool) -> None:
    """Review comments at this size, tagged with the demo taxonomy, then Pareto per filter."""
    from bench import rootcause_bench
    from bench.generate import REVIEW_SOURCES, review_comments
    from metrics.models import SurveyResponse
    from rootcause import services

    t = time.perf_counter()
    counts = review_comments(responses, scale=scale)
    if taxonomy:
        rootcause_bench._taxonomy()
    tagged = services.comments_tag(responses=SurveyResponse.objects.filter(source__in=[s for s, _ in REVIEW_SOURCES]))
    analyze()
    print(
        f"\n{counts['comments']:,} review comments ({counts['distinct comments']:,} distinct texts), "
        f"{tagged['added']:,} tags, in {time.perf_counter() - t:.1f} s, then ANALYZE"
    )
    print(
        "Pareto analysis per filter, min / median of 5 (ratio of medians to one SQL GROUP BY over the "
        "filtered rows, and to that GROUP BY plus the verbatims in one window query)"
    )
    print(
        f"  {'filter':<22} {'comments':>9} {'tags':>9} {'GROUP BY':>17} {'+ verbatims':>17} "
        f"{'pareto_analysis':>17} {'x GROUP BY':>10} {'x +verb.':>9}"
    )
    for label, comments, tags, group_by, verbatims, ours in rootcause_bench.bench_pareto():

        def ms(pair):
            return f"{pair[0] * 1000:7.1f} /{pair[1] * 1000:7.1f}"

        print(
            f"  {label:<22} {comments:>9,} {tags:>9,} {ms(group_by):>17} {ms(verbatims):>17} {ms(ours):>17} "
            f"{ours[1] / group_by[1]:>9.2f}x {ours[1] / verbatims[1]:>8.2f}x"
        )


def _ingestion(n: int, repeat: int) -> None:
    from bench import metrics_bench

    folder = ROOT / "var" / "bench"
    print(f"Ingestion of a {n:,}-row CSV, {repeat} runs (min, median; ratio of medians; the floor is PostgreSQL's)")
    results = {n: metrics_bench.bench_ingestion(n, folder, repeat)}
    for label, least, median, ratio in results[n]:
        print(f"  {label:<62} {least:8.2f} /{median:8.2f} s {n / median:>10,.0f} rows/s   x{ratio:5.2f}")
    sizes = sorted({max(1000, n // 10), max(1000, n // 2), n})
    if len(sizes) < 3 or connection_vendor() != "postgresql":
        return
    print(f"\nIngestion scale curve, {repeat} runs each (medians; ratio to the floor of the same size)")
    print(f"  {'rows':>10} {'floor s':>9} {'import s':>9} {'x floor':>8} {'again s':>9} {'x floor':>8} {'us/row':>8}")
    for size in sizes:
        rows = results.get(size) or metrics_bench.bench_ingestion(size, folder, repeat)
        floor, first, again = (median for _, _, median, _ in rows[1:4])
        print(
            f"  {size:>10,} {floor:>9.2f} {first:>9.2f} {first / floor:>7.2f}x {again:>9.2f} {again / floor:>7.2f}x "
            f"{first / size * 1e6:>8.1f}"
        )


def connection_vendor() -> str:
    from django.db import connection

    return connection.vendor


def _load(seconds: float) -> None:
    from bench import load_bench

    load_bench.print_load(load_bench.bench_load(seconds), seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="data scale factor (1 = 30 functions, 2,000 customers)"
    )
    parser.add_argument("--repeat", type=int, default=30, help="requests per page")
    parser.add_argument(
        "--responses",
        type=int,
        default=50_000,
        help="survey responses in the ingestion and recalculation benchmarks (1000000 with BENCH_DATABASE_URL)",
    )
    parser.add_argument(
        "--labelled",
        type=int,
        default=50_000,
        help="labelled social-media comments in the labelled-import benchmark (1000000 with BENCH_DATABASE_URL)",
    )
    parser.add_argument("--load-seconds", type=float, default=60.0, help="length of each load test phase")
    parser.add_argument("--bulk", type=int, default=100_000, help="comments in the bulk-tagging benchmark")
    parser.add_argument(
        "--only",
        choices=[
            "all",
            "alerts",
            "digests",
            "ingestion",
            "imports",
            "tagging",
            "pareto",
            "pages",
            "ownership",
            "classifier",
            "load",
        ],
        default="all",
        help="run one section only",
    )
    args = parser.parse_args()
    _setup(os.environ.get("BENCH_DATABASE_URL"), os.environ.get("BENCH_REDIS_URL"))

    if args.only == "alerts":
        print(f"cxgov benchmarks: alerts only, {_where()}")
        _print_alerts()
        return

    if args.only == "classifier":
        print(f"cxgov benchmarks: text models only, scale {args.scale:g}, {_where()}")
        _print_classifier(args.scale)
        return

    if args.only == "imports":
        print(f"cxgov benchmarks: labelled import only, {_where()}")
        _print_labelled_import(args.labelled)
        return

    from bench.generate import generate

    print(f"cxgov benchmarks: scale {args.scale:g}, {_where()}")
    t = time.perf_counter()
    counts = generate(scale=args.scale)
    analyze()
    print(f"generated {counts} in {time.perf_counter() - t:.2f} s, then ANALYZE\n")
    if args.only == "digests":
        _print_digests()
        return
    if args.only == "pages":
        _print_pages(
            f"Pages, {max(3, args.repeat)} requests each (server time; ratio of medians)", bench_pages(args.repeat)
        )
        return
    if args.only == "ownership":
        _ownership(args.scale, args.repeat)
        return
    if args.only == "pareto":
        _pareto(args.responses, args.scale, taxonomy=True)
        return
    if args.only == "load":
        _pareto(args.responses, args.scale, taxonomy=True)  # comments to analyse under load
        _load(args.load_seconds)
        return
    if args.only == "tagging":
        from bench import rootcause_bench

        print("Tagging comments with the demo taxonomy (min and median of 3; ratio of medians to the baseline)")
        _print_rules_tagging()
        print(f"\nBulk tagging of {args.bulk:,} comments as a background job (ratio to the SQL baseline in this run)")
        for label, seconds, rate, ratio in rootcause_bench.bench_bulk_tagging(args.bulk):
            print(f"  {label:<62} {seconds:8.2f} s {rate:>10,.0f} comments/s   x{ratio:5.2f}")
        return

    from bench import metrics_bench

    _ingestion(args.responses, max(3, min(args.repeat, 5)))
    if args.only == "ingestion":
        return
    _print_labelled_import(args.labelled)
    print("\nRecalculation (ratio to the baseline in this run)")
    for label, seconds, ratio in metrics_bench.bench_recalculation():
        print(f"  {label:<80} {seconds:8.2f} s   x{ratio:5.2f}")

    from bench import rootcause_bench

    print("\nTagging comments with the demo taxonomy (min and median of 3; ratio of medians to the baseline)")
    _print_rules_tagging()
    _pareto(args.responses, args.scale, taxonomy=False)
    print(f"\nBulk tagging of {args.bulk:,} comments as a background job (ratio to the SQL baseline in this run)")
    for label, seconds, rate, ratio in rootcause_bench.bench_bulk_tagging(args.bulk):
        print(f"  {label:<62} {seconds:8.2f} s {rate:>10,.0f} comments/s   x{ratio:5.2f}")
    _print_alerts()
    _print_digests()

    _print_pages(
        f"\nPages, {max(3, args.repeat)} requests each (server time; ratio of medians)", bench_pages(args.repeat)
    )
    _ownership(args.scale, args.repeat)
    _print_classifier(args.scale)
    _load(args.load_seconds)


if __name__ == "__main__":
    main()
