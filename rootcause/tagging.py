"""Matching comments to sub-themes: plain functions, no database."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    sub_theme_id: int
    positive: re.Pattern
    negative: re.Pattern | None
    sources: frozenset[str] = frozenset()  # the key driver's scope; empty for every source
    segments: frozenset[str] = frozenset()

    def applies_to(self, source: str, segment: str) -> bool:
        return (not self.sources or source in self.sources) and (not self.segments or segment in self.segments)


def _pattern(phrases: list[str]) -> re.Pattern | None:
    if not phrases:
        return None
    # Whole words or phrases, case-insensitive; a phrase ending in * matches any ending (fit* → fits, fitted).
    parts = [
        re.escape(p[:-1]) + r"\w*" if p.endswith("*") else re.escape(p) for p in sorted(phrases, key=len, reverse=True)
    ]
    return re.compile(r"\b(?:" + "|".join(parts) + r")\b", re.IGNORECASE)


def compile_rules(sub_themes: list[tuple]) -> list[Rule]:
    """(id, keywords, negative keywords[, sources, segments]) for each sub-theme → rules ready to
    match; a rule with sources or segments applies only to comments from them."""
    rules = []
    for pk, pos, neg, *scope in sub_themes:
        if pos:
            sources, segments = (scope + [(), ()])[:2]
            rules.append(Rule(pk, _pattern(pos), _pattern(neg), frozenset(sources or ()), frozenset(segments or ())))
    return rules


def match(comment: str, rules: list[Rule], *, source: str = "", segment: str = "") -> set[int]:
    """The sub-themes in scope for the comment's source and segment whose keywords occur in the
    comment and whose negative keywords do not."""
    if not comment:
        return set()
    return {
        r.sub_theme_id
        for r in rules
        if r.applies_to(source, segment)
        and r.positive.search(comment)
        and not (r.negative and r.negative.search(comment))
    }
