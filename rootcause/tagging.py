"""Matching comments to sub-themes: plain functions, no database."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from re import _casefix

import ahocorasick


@dataclass(frozen=True)
class Rule:
    sub_theme_id: int
    positive: re.Pattern
    negative: re.Pattern | None
    sources: frozenset[str] = frozenset()  # the key driver's scope; empty for every source
    segments: frozenset[str] = frozenset()
    # The keywords and negative keywords, lower case, for ``Matcher``.
    phrases: tuple[str, ...] = field(default=(), compare=False)
    negative_phrases: tuple[str, ...] = field(default=(), compare=False)

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
            rules.append(
                Rule(
                    pk,
                    _pattern(pos),
                    _pattern(neg),
                    frozenset(sources or ()),
                    frozenset(segments or ()),
                    tuple(p.lower() for p in pos),
                    tuple(p.lower() for p in neg or ()),
                )
            )
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


# Characters whose case-insensitive match in ``re`` is not what ``str.lower`` gives (the dotted
# capital I lowers to two characters; ``re`` also matches ſ with s, ı with i, ϐ with β...): a
# comment or keyword holding one is matched by the regular expressions alone, so the fast path
# never answers differently from them.
_SPECIAL = frozenset(
    ch for k, vs in _casefix._EXTRA_CASES.items() for ch in (chr(k), *map(chr, vs)) if not ch.isascii()
) | {"\u0130"}


def _word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"  # what ``\b`` and ``\w`` mean in a ``str`` pattern


class Matcher:
    r"""Every rule's keywords and negative keywords in one Aho-Corasick automaton: one pass over the
    lower-cased comment finds every occurrence, and each is kept where ``\b`` would hold around it
    (and ``\w*`` after a ``*`` keyword). It answers exactly as ``match`` (tested on varied text
    against it); a comment or keyword holding a character whose case-insensitive match ``re``
    treats specially is left to the regular expressions."""

    def __init__(self, rules: list[Rule]):
        self.rules = rules
        self.always: list[int] = []  # rules checked by their regular expressions, every time
        self.negative = [r.negative is not None for r in rules]
        keys: dict[str, list[tuple[int, bool, bool]]] = {}
        for i, rule in enumerate(rules):
            entries = [(p, False) for p in rule.phrases] + [(p, True) for p in rule.negative_phrases]
            if any(not p.rstrip("*") or _SPECIAL.intersection(p) for p, _ in entries):
                self.always.append(i)
                continue
            for phrase, negative in entries:
                star = phrase.endswith("*")
                keys.setdefault(phrase[:-1] if star else phrase, []).append((i, negative, star))
        self.automaton = None
        if keys:
            self.automaton = ahocorasick.Automaton()
            for phrase, entries in keys.items():
                self.automaton.add_word(phrase, (len(phrase), _word(phrase[0]), _word(phrase[-1]), tuple(entries)))
            self.automaton.make_automaton()

    def _regex(self, rule: Rule, comment: str) -> bool:
        return bool(rule.positive.search(comment)) and not (rule.negative and rule.negative.search(comment))

    def match(self, comment: str, *, source: str = "", segment: str = "") -> set[int]:
        """The same answer as ``match(comment, rules, source=..., segment=...)``."""
        if not comment:
            return set()
        rules = self.rules
        lowered = comment.lower()
        if (not comment.isascii() and not _SPECIAL.isdisjoint(comment)) or len(lowered) != len(comment):
            return {r.sub_theme_id for r in rules if r.applies_to(source, segment) and self._regex(r, comment)}
        found, vetoed = set(), set()
        if self.automaton is not None:
            size = len(lowered)
            for end, (length, first_word, last_word, entries) in self.automaton.iter(lowered):
                start = end - length + 1
                if (start > 0 and _word(lowered[start - 1])) == first_word:
                    continue  # no \b before the keyword
                after = end + 1 < size and _word(lowered[end + 1])
                for i, negative, star in entries:
                    # "kw*" is \bkw\w*\b: fails only when kw ends in a non-word character and none follows.
                    if (last_word or after) if star else (after != last_word):
                        (vetoed if negative else found).add(i)
        out = {rules[i].sub_theme_id for i in found - vetoed if rules[i].applies_to(source, segment)}
        for i in self.always:
            r = rules[i]
            if r.applies_to(source, segment) and self._regex(r, comment):
                out.add(r.sub_theme_id)
        return out
