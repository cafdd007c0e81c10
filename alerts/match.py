"""Match articles against watch rules and say why each rule fired."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from alerts.rules import Rule
from storage.types import Article


@dataclass(frozen=True, slots=True)
class RuleHit:
    """A rule that fired on an article, with the evidence people see in the alert."""

    rule: Rule
    terms: tuple[str, ...]
    excerpt: str


def _keyword_pattern(keywords: Sequence[str]) -> re.Pattern[str]:
    # Whole words, any run of white space inside a phrase, case-insensitive over Unicode.
    alternatives = sorted(
        (r"\s+".join(re.escape(part) for part in k.split()) for k in keywords),
        key=len,
        reverse=True,
    )
    return re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)", re.IGNORECASE)


class Matcher:
    """Rules compiled once per settings load; ``match`` is called for every new article."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = [r for r in rules if r.enabled]
        self._patterns = {r.name: _keyword_pattern(r.keywords) for r in self.rules if r.keywords}

    def match(self, article: Article) -> list[RuleHit]:
        text = article.text
        hits = []
        for rule in self.rules:
            if rule.sources and article.source not in rule.sources:
                continue
            if rule.languages and article.language not in rule.languages:
                continue
            pattern = self._patterns.get(rule.name)
            if pattern is None:
                continue
            found = list(pattern.finditer(text))
            if len(found) < rule.min_mentions:
                continue
            terms = tuple(dict.fromkeys(" ".join(m.group(0).split()) for m in found))
            hits.append(RuleHit(rule, terms, excerpt(text, found[0].start(), found[0].end())))
        return hits


def excerpt(text: str, start: int, end: int, width: int = 280) -> str:
    """A readable window around the first hit, cut at word boundaries."""
    half = max(0, (width - (end - start)) // 2)
    lo, hi = max(0, start - half), min(len(text), end + half)
    while lo > 0 and not text[lo - 1].isspace():
        lo -= 1
    while hi < len(text) and not text[hi].isspace():
        hi += 1
    snippet = " ".join(text[lo:hi].split())
    return ("…" if lo > 0 else "") + snippet + ("…" if hi < len(text) else "")
