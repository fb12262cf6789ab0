"""Spreadsheet formula neutralisation for everything we export (OWASP "CSV Injection").

Customers' text is stored as they wrote it ("@united thanks", "+44 20 7946 0958", "=)"); it is
made harmless where a spreadsheet could run it: in CSV and XLSX exports and in the plain-text part
of emails (which people paste into spreadsheets). A cell that starts with = + - @ tab or carriage
return, or in which a separator (, ; or a line break) or a quote is followed by one of them (a
spreadsheet splitting the cell would start a new cell with a formula), gets a leading single quote.
Numbers stay numbers: a negative number is data, not a formula.
"""

from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A formula character at the start of the cell or right after a separator or a quote.
_FORMULA_ANYWHERE = re.compile(r"""(?:^|[,;\n"'])\s*[=+\-@\t\r]""")
_NUMBER = re.compile(r"^-?(?:\d+\.?\d*|\.\d+)$")  # a negative number is data


def formula_risk(text: str) -> bool:
    """Whether a spreadsheet might read this text (or a part it splits off) as a formula."""
    if not text or _NUMBER.match(text):
        return False
    return bool(_FORMULA_ANYWHERE.search(text))


def safe_cell(value):
    """A cell a spreadsheet will not run: risky text gets a leading single quote; other values
    (numbers, dates, None) are returned unchanged."""
    if isinstance(value, str) and formula_risk(value):
        return "'" + value
    return value
