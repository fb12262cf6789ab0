"""Matching comments to sub-themes: plain functions, no database."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    sub_theme_id: int
    positive: re.Pattern
    negative: re.Pattern | None


def _pattern(phrases: list[str]) -> re.Pattern | None:
    if not phrases:
        return None
    # Whole words or phrases, case-insensitive; a phrase ending in * matches any ending (fit* → fits, fitted).
    parts = [
        re.escape(p[:-1]) + r"\w*" if p.endswith("*") else re.escape(p) for p in sorted(phrases, key=len, reverse=True)
    ]
    return re.compile(r"\b(?:" + "|".join(parts) + r")\b", re.IGNORECASE)


def compile_rules(sub_themes: list[tuple[int, list[str], list[str]]]) -> list[Rule]:
    """(id, keywords, negative keywords) for each sub-theme → rules ready to match."""
    return [Rule(pk, _pattern(pos), _pattern(neg)) for pk, pos, neg in sub_themes if pos]


def match(comment: str, rules: list[Rule]) -> set[int]:
    """The sub-themes whose keywords occur in the comment and whose negative keywords do not."""
    if not comment:
        return set()
    return {
        r.sub_theme_id for r in rules if r.positive.search(comment) and not (r.negative and r.negative.search(comment))
    }
