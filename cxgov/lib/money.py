"""Money as people read it: one currency for the whole site, written by Babel's CLDR rules (symbol,
grouping, compact "K/M"), so every page, email and export header names the same currency. The
currency is the one an administrator sets on the ledger's settings page (``LedgerSettings``), else
``CXGOV_CURRENCY`` (an ISO 4217 code, checked at start-up). Amounts stay ``Decimal`` in the
database; this only writes them."""

from __future__ import annotations

import functools
import time
from decimal import Decimal, InvalidOperation

from babel import Locale
from babel.numbers import (
    format_compact_currency,
    format_currency,
    get_currency_name,
    get_currency_symbol,
    list_currencies,
)
from django.conf import settings

__all__ = ["currency_code", "currency_problem", "format_money", "money_header"]

# CLDR "en": €1,234.50, $1.2M, CHF 2.5K. Parsed once: given as a string, Babel parses it again on every
# call, half the time of a compact amount (a page writes hundreds).
_LOCALE = Locale.parse("en")


def currency_problem(code: str) -> str | None:
    """Why ``code`` is not a currency this site can use, or None. Codes are upper-case ISO 4217."""
    if code not in list_currencies():
        return f"{code!r} is not an ISO 4217 currency code (e.g. EUR, USD, GBP)."
    return None


CACHE_SECONDS = 60  # another process sees an administrator's change within this (at once with Redis)
# ...and each process keeps what it read for this long: a page writes hundreds of amounts, and asking
# a shared cache (a network round trip to Redis) for each one doubled the ownership map's time.
LOCAL_SECONDS = 2.0
_local: dict[str, tuple[str, float]] = {}  # cache key -> (code, until), this process's


def _cache_key() -> str:
    return f"site:currency:{settings.CXGOV_CURRENCY}"


def currency_code() -> str:
    """The site's currency: at most one query a minute per cache, and one cache read every
    ``LOCAL_SECONDS`` per process (constants, whatever the page)."""
    from django.core.cache import cache

    key, now = _cache_key(), time.monotonic()
    held = _local.get(key)
    if held is not None and held[1] > now:
        return held[0]
    code = cache.get(key)
    if code is None:
        from outcomes.models import LedgerSettings

        stored = LedgerSettings.objects.filter(pk=1).values_list("currency", flat=True).first()
        code = stored if stored and not currency_problem(stored) else settings.CXGOV_CURRENCY
        cache.set(key, code, CACHE_SECONDS)
    _local[key] = (code, now + LOCAL_SECONDS)
    return code


def currency_changed() -> None:
    """Forget the cached currency (the ledger's settings were saved): at once in this process and
    the shared cache, within ``LOCAL_SECONDS`` in the others."""
    from django.core.cache import cache

    _local.clear()
    cache.delete(_cache_key())


def currency_name() -> str:
    return get_currency_name(currency_code(), locale=_LOCALE)


def money_header(label: str) -> str:
    """A column header for an amount: ``Revenue at risk (annual)`` → ``Revenue at risk (annual, EUR)``."""
    code = currency_code()
    if label.endswith(")"):
        return f"{label[:-1]}, {code})"
    return f"{label} ({code})"


def format_money(value, *, exact: bool = False, code: str = "", whole: bool = False) -> str:
    """``1234.5`` → ``€1.2K`` (compact: one decimal past a thousand, whole units below) or
    ``€1,234.50`` with ``exact``. Compact figures are sums of revenue at risk where 0 means "none
    recorded", so nothing and zero are both ``—`` there; an exact figure writes zero (``€0.00``)."""
    if value is None or value == "" or (not exact and not value):
        return "—"
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return "—"
    if not amount.is_finite():
        return "—"
    if not amount:
        amount = Decimal(0)  # -0.0 (a float product) is written as zero, not as "-€0.00"
    return _written(amount, code or currency_code(), exact, whole)


@functools.lru_cache(maxsize=8192)
def _written(amount: Decimal, code: str, exact: bool, whole: bool) -> str:
    """An amount as ``format_money`` writes it. Babel takes about 45 µs a compact amount (a map
    writes 264); the same amount in the same currency is written the same way every time, so each
    process keeps the last 8,192 it wrote (about a megabyte): a page seen again, or after a change
    to a few of its figures, writes only the new ones."""
    if exact and whole:
        text = format_currency(amount, code, locale=_LOCALE, format="¤#,##0", currency_digits=False)
    elif exact:
        text = format_currency(amount, code, locale=_LOCALE)
    elif abs(amount) < 1000:
        text = format_currency(amount, code, locale=_LOCALE, format="¤#,##0", currency_digits=False)
    else:
        text = format_compact_currency(amount, code, locale=_LOCALE, fraction_digits=1)
    symbol = get_currency_symbol(code, locale=_LOCALE)
    if symbol[-1:].isalpha():  # "CHF12K" reads as one word: CHF 12K (a no-break space)
        text = text.replace(symbol, symbol + "\xa0", 1).replace("\xa0\xa0", "\xa0")
    return text
