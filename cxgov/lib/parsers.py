"""The API's one request parser: JSON with a limit on how deeply it may nest.

Python's json module recurses once per level, so a body of a few thousand ``[`` made every
JSON endpoint answer 500 (RecursionError). No cxgov body needs more than a handful of levels;
the depth is measured on the raw text, before anything recurses, and a deeper body is a 400.
Form-encoded and multipart bodies are not API input (endpoints that take files declare their
own parsers).
"""

import codecs
import re

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils import json

# A JSON string (in the "unrolled loop" form: linear in its length). Strings are removed first,
# so brackets inside text do not count and the loop below visits brackets only.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKET = re.compile(r"[\[\]{}]")


def json_depth_exceeds(text: str, limit: int) -> bool:
    """Whether arrays and objects in ``text`` nest more than ``limit`` levels deep."""
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


class DepthLimitedJSONParser(JSONParser):
    """JSONParser that answers 400 for bodies nested deeper than ``API_JSON_MAX_DEPTH``."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        limit = settings.API_JSON_MAX_DEPTH
        try:
            text = codecs.getreader(encoding)(stream).read()
        except (LookupError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - the body is not valid {encoding}: {exc}") from None
        if json_depth_exceeds(text, limit):
            raise ParseError(f"JSON parse error - the body nests arrays or objects more than {limit} levels deep.")
        parse_constant = json.strict_constant if self.strict else None
        try:
            data = json.loads(text, parse_constant=parse_constant)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        except RecursionError:  # cannot happen below the limit; never let it become a 500
            raise ParseError(f"JSON parse error - the body nests more than {limit} levels deep.") from None
        # PostgreSQL cannot hold NUL in text; a key or value with one would fail deep in a query.
        if "\\u0000" in text and _holds_nul(data):
            raise ParseError("JSON parse error - a name or value contains a NUL character (\\u0000).")
        return data


def _holds_nul(data) -> bool:
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
