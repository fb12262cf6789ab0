"""Retrying a write that lost a race with another writer (a deadlock or a serialization failure).

The database rolls the loser's transaction back whole, so running it again is safe; after a few
tries the request answers 503 with ``Retry-After`` instead of a 500, because nothing was lost.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from django.db import OperationalError, connection
from django.shortcuts import render
from rest_framework.exceptions import APIException

log = logging.getLogger(__name__)

T = TypeVar("T")

ATTEMPTS = 4
RETRY_AFTER_SECONDS = 2
# PostgreSQL: deadlock_detected, serialization_failure. SQLite reports a writer that waited past
# its busy timeout as "database is locked".
TRANSIENT_SQLSTATES = {"40P01", "40001"}


class Busy(APIException):
    """The data is safe but the write lost a race several times: the client should send it again."""

    status_code = 503
    default_detail = (
        "Other changes to the same data were being saved at the same moment, so nothing was written. Send it again."
    )
    default_code = "busy"
    wait = RETRY_AFTER_SECONDS  # DRF turns this into the Retry-After header


def is_transient(exc: BaseException) -> bool:
    """True for a lost race the database resolved by rolling this transaction back."""
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) in TRANSIENT_SQLSTATES:
        return True
    return "database is locked" in str(exc)


def retry_on_conflict(function: Callable[..., T]) -> Callable[..., T]:
    """Run ``function`` (which owns its transaction) again when it loses a race; raise ``Busy``
    after ``ATTEMPTS`` tries. Inside an outer transaction it runs once: a rolled-back inner part
    cannot be repeated alone, so the error goes up to whoever owns the transaction."""

    @wraps(function)
    def wrapper(*args, **kwargs):
        # (Test cases wrap each test in a transaction of their own; as Django's durable check
        # does, those do not count.)
        if any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks):
            return function(*args, **kwargs)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return function(*args, **kwargs)
            except OperationalError as exc:
                if not is_transient(exc):
                    raise
                log.warning("%s lost a race (attempt %s of %s): %s", function.__qualname__, attempt, ATTEMPTS, exc)
                if attempt == ATTEMPTS:
                    raise Busy() from exc
                # Jittered back-off, so the two losers of one race do not meet again at once.
                time.sleep(random.uniform(0.05, 0.15) * 2**attempt)
        raise AssertionError("unreachable")

    return wrapper


class BusyMiddleware:
    """Pages (not only the API) answer a lost race with 503 and Retry-After instead of a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, Busy):
            return None
        response = render(request, "503.html", {"message": str(exception.detail)}, status=503)
        response["Retry-After"] = str(exception.wait)
        return response
