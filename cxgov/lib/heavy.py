"""Heavy analyses (the Pareto of comments, ...) without starving the rest of the site.

- **Cached** per (analysis, arguments, data version): a ``DataVersion`` counter per kind of data,
  bumped by the services that change that data inside their own transaction (``bump``), so the
  new version is visible exactly when the change is; reading it is one query (``current``). The
  cache is Django's (Redis when REDIS_URL is set, else per process); entries also expire after
  HEAVY_ANALYSIS_CACHE_SECONDS, a bound on staleness for a change made outside the services
  (the Django admin, a shell).
- **A few at a time** per process (HEAVY_ANALYSIS_SLOTS, fewer than the web server's threads per
  worker, see Procfile) and, on PostgreSQL, across the whole site (HEAVY_ANALYSIS_SITE_SLOTS,
  half the cores by default: transaction-level advisory locks, let go when the analysis's
  transaction ends, even if its process dies): a request finding every slot taken is answered at
  once with ``AnalysisBusy`` (503) rather than holding a web thread, or a core, that ``/healthz``
  and every other page need. A cached answer takes no slot.
- **Under a statement timeout** (HEAVY_ANALYSIS_TIMEOUT seconds; PostgreSQL's ``SET LOCAL
  statement_timeout`` inside a transaction, nothing on SQLite): past it, ``AnalysisTooSlow``
  (503, "try a narrower filter") instead of a thread held for minutes.

Views answer both with a 503 page; the API's exception handler answers 503 JSON.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from contextlib import contextmanager
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError, connection, transaction
from django.db.models import F

T = TypeVar("T")

# Survey responses and their comments, comment tags, the taxonomy, customers (revenue weights).
FEEDBACK = "feedback"

QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout


class AnalysisUnavailable(Exception):
    """A heavy analysis that cannot be answered now (busy or too slow); the message says what to do."""

    retry_after = 5


class AnalysisBusy(AnalysisUnavailable):
    def __init__(self):
        super().__init__(
            "Other analyses are running on this server right now; try again in a few seconds "
            "(an analysis already computed for the same filter answers at once)."
        )


class AnalysisTooSlow(AnalysisUnavailable):
    retry_after = 60

    def __init__(self, seconds: float):
        super().__init__(
            f"This analysis took longer than {seconds:g} seconds and was stopped so that it does not "
            "slow down the site: try a narrower filter (a shorter period, one source or segment)."
        )


def bump(name: str) -> None:
    """Mark data of this kind as changed: call it inside the transaction that changes it, after the
    change (the version row stays locked until that transaction ends)."""
    from cxgov.models import DataVersion

    if not DataVersion.objects.filter(name=name).update(version=F("version") + 1):
        DataVersion.objects.get_or_create(name=name, defaults={"version": 1})


def current(name: str) -> int:
    """The version of this kind of data (0 before its first change): one query."""
    from cxgov.models import DataVersion

    return DataVersion.objects.filter(name=name).values_list("version", flat=True).first() or 0


_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


def _semaphore() -> threading.BoundedSemaphore:
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(max(1, settings.HEAVY_ANALYSIS_SLOTS))
        return _slots


@contextmanager
def slot():
    """Hold one of this process's heavy-analysis slots, or raise ``AnalysisBusy`` at once."""
    semaphore = _semaphore()
    if not semaphore.acquire(blocking=False):
        raise AnalysisBusy
    try:
        yield
    finally:
        semaphore.release()


SITE_SLOT_LOCKS = 1_700_017  # the advisory locks' first key: site slot n is (SITE_SLOT_LOCKS, n)


def site_slot() -> None:
    """Take one of the site's HEAVY_ANALYSIS_SITE_SLOTS for the rest of the current transaction
    (PostgreSQL; every web process counts against the same slots), or raise ``AnalysisBusy``."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for n in range(max(1, settings.HEAVY_ANALYSIS_SITE_SLOTS)):
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [SITE_SLOT_LOCKS, n])
            if cursor.fetchone()[0]:
                return
    raise AnalysisBusy


@contextmanager
def statement_timeout(seconds: float):
    """Run the block in a transaction whose statements PostgreSQL cancels after ``seconds``
    (``AnalysisTooSlow``); on other databases, no limit and no transaction. The previous setting is restored
    when the block runs inside an outer transaction."""
    if connection.vendor != "postgresql":
        yield
        return
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('statement_timeout')")
                before = cursor.fetchone()[0]
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(int(seconds * 1000))])
            yield
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [before])
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == QUERY_CANCELED:
            raise AnalysisTooSlow(seconds) from exc
        raise


def cached(name: str, arguments: dict, compute: Callable[[], T], *, data: str = FEEDBACK, light: bool = False) -> T:
    """The result of ``compute()`` for these arguments and the current version of ``data``: from
    the cache, or computed in a slot under the statement timeout and then cached. ``light``: a
    read that needs neither (say a filter's choices), cached the same way."""
    digest = hashlib.sha256(json.dumps(arguments, sort_keys=True, default=str).encode()).hexdigest()[:32]
    key = f"heavy:{name}:{data}:{current(data)}:{digest}"
    found = cache.get(key)
    if found is not None:
        return found
    if light:
        result = compute()
    else:
        with slot(), statement_timeout(settings.HEAVY_ANALYSIS_TIMEOUT):
            site_slot()
            result = compute()
    cache.set(key, result, settings.HEAVY_ANALYSIS_CACHE_SECONDS)
    return result
