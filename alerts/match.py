"""Match articles against watch rules and say why each rule fired.

All rules share one query automaton (an article is scanned once, whatever the number of
rules) and one gazetteer pass; a rule fires when every condition it states holds: its query,
its keywords, its regions, and its sources, languages, mention count and score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from alerts.evidence import snippet
from alerts.query import (
    And,
    Document,
    Hit,
    Query,
    QuerySyntaxError,
    RuleMatcher,
    compile_rules,
    keywords_query,
    parse_query,
)
from alerts.regions import Gazetteer, Mention, RegionFilter, UnknownRegion
from alerts.rules import Rule
from storage.types import Article

# A place or term in the title weighs more than one in the lead, more than one further down.
WEIGHTS = {"title": 3.0, "lead": 2.0, "body": 1.0, "tags": 1.0, "author": 1.0, "source": 1.0}


@dataclass(frozen=True, slots=True)
class RuleProblem:
    """A rule that cannot be compiled; ``key`` is the settings key at fault."""

    index: int
    key: str
    message: str
    detail: str = ""  # e.g. the query with a caret under the column at fault


class RuleErrors(ValueError):
    def __init__(self, problems: list[RuleProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"rules[{p.index}].{p.key}: {p.message}" for p in problems))


@dataclass(frozen=True, slots=True)
class Evidence:
    """One reason a rule fired: a query term or a place, where it stands in the article."""

    kind: str  # "term" or "place"
    text: str
    field: str
    start: int
    end: int
    term: str = ""
    place: str = ""
    code: str | None = None
    chain: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "text": self.text,
            "field": self.field,
            "start": self.start,
            "end": self.end,
        }
        if self.kind == "term":
            out["term"] = self.term
        else:
            out.update(place=self.place, code=self.code, chain=list(self.chain))
        return out


@dataclass(frozen=True, slots=True)
class RuleHit:
    """A rule that fired on an article, with the evidence people see in the alert."""

    rule: Rule
    evidence: tuple[Evidence, ...]
    excerpt: str
    score: float

    @property
    def terms(self) -> tuple[str, ...]:
        """Everything that fired, as written, once each: terms first, then places."""
        return tuple(dict.fromkeys(" ".join(e.text.split()) for e in self.evidence))


@dataclass(slots=True)
class _Compiled:
    rule: Rule
    has_query: bool
    regions: RegionFilter | None


@dataclass(slots=True)
class _View:
    """One article as the rules read it, with offsets into ``article.text`` for snippets."""

    article: Article
    doc: Document
    text: str
    body_base: int
    lead_end: int
    mentions: list[Mention] = field(default_factory=list)


def needs_gazetteer(rules: Sequence[Rule]) -> bool:
    return any(r.regions or r.exclude_regions for r in rules)


class Matcher:
    """Rules compiled once per settings load; ``match`` is called for every new article."""

    def __init__(self, rules: Sequence[Rule], gazetteer: Gazetteer | None = None) -> None:
        self.rules = [r for r in rules if r.enabled]
        self.gazetteer = gazetteer
        problems: list[RuleProblem] = []
        queries: dict[str, Query] = {}
        self._compiled: list[_Compiled] = []
        for index, rule in enumerate(rules):
            query = _rule_query(index, rule, problems)
            regions = _rule_regions(index, rule, gazetteer, problems)
            if query is not None:
                queries[rule.name] = query
            if rule.enabled:
                self._compiled.append(_Compiled(rule, query is not None, regions))
        if problems:
            raise RuleErrors(problems)
        self._queries: RuleMatcher = compile_rules(queries)

    def match(self, article: Article) -> list[RuleHit]:
        return [r for _, r in self.explain(article) if isinstance(r, RuleHit)]

    def explain(self, article: Article) -> list[tuple[Rule, RuleHit | str]]:
        """Every enabled rule with its hit, or the reason it did not fire."""
        view = self._view(article)
        scan = self._queries.scan(view.doc)
        fired = set(self._queries.matching(scan))
        return [(c.rule, self._evaluate(c, view, scan, fired)) for c in self._compiled]

    def _evaluate(
        self, compiled: _Compiled, view: _View, scan: Any, fired: set[str]
    ) -> RuleHit | str:
        rule, article = compiled.rule, view.article
        if rule.sources and article.source not in rule.sources:
            return f"source {article.source!r} is not in sources"
        if rule.languages and article.language not in rule.languages:
            return f"language {article.language!r} is not in languages"
        if compiled.has_query and rule.name not in fired:
            return "query did not match"
        places: list[Mention] = []
        if compiled.regions is not None:
            found = compiled.regions.check(view.mentions)
            if found is None:
                named = ", ".join(sorted({m.place.name for m in view.mentions})) or "none"
                return f"no place inside the regions (places named: {named})"
            places = found
        terms = self._queries.evidence(scan, rule.name) if compiled.has_query else []
        return _judge(rule, view, terms, places)

    def _view(self, article: Article) -> _View:
        doc = Document.from_article(article)
        text = article.text
        body_base = len(doc.title) + 2 if doc.title else 0
        lead_end = body_base + len(doc.body.split("\n\n", 1)[0])
        mentions = self.gazetteer.find(text) if self.gazetteer and self._has_regions() else []
        return _View(article, doc, text, body_base, lead_end, mentions)

    def _has_regions(self) -> bool:
        return any(c.regions is not None for c in self._compiled)


def _rule_query(index: int, rule: Rule, problems: list[RuleProblem]) -> Query | None:
    parts: list[Query] = []
    if rule.query:
        try:
            parts.append(parse_query(rule.query))
        except QuerySyntaxError as exc:
            message = f"{exc.message} (column {exc.column})"
            problems.append(RuleProblem(index, "query", message, exc.render(label="query")))
    if rule.keywords:
        try:
            parts.append(keywords_query(rule.keywords))
        except ValueError as exc:
            problems.append(RuleProblem(index, "keywords", str(exc)))
    if len(parts) < 2:
        return parts[0] if parts else None
    text = " AND ".join(f"({p.text})" for p in parts)
    return Query(text=text, root=And(tuple(p.root for p in parts)))


def _rule_regions(
    index: int, rule: Rule, gazetteer: Gazetteer | None, problems: list[RuleProblem]
) -> RegionFilter | None:
    if not (rule.regions or rule.exclude_regions):
        return None
    if gazetteer is None:
        problems.append(RuleProblem(index, "regions", "the gazetteer is not loaded"))
        return None
    try:
        return RegionFilter(gazetteer, rule.regions, rule.exclude_regions)
    except UnknownRegion as exc:
        key = "regions" if _unknown_in(gazetteer, rule.regions) else "exclude_regions"
        problems.append(RuleProblem(index, key, str(exc)))
        return None


def _unknown_in(gazetteer: Gazetteer, specs: Sequence[str]) -> bool:
    for spec in specs:
        try:
            gazetteer.resolve(spec)
        except UnknownRegion:
            return True
    return False


def _judge(rule: Rule, view: _View, terms: list[Hit], places: list[Mention]) -> RuleHit | str:
    evidence = [_term_evidence(view, h) for h in terms] + [_place_evidence(view, m) for m in places]
    score = sum(WEIGHTS.get(e.field, 1.0) for e in evidence)
    if len(evidence) < rule.min_mentions:
        return f"{len(evidence)} mentions, fewer than min_mentions = {rule.min_mentions}"
    if score < rule.min_score:
        return f"score {score:g} is below min_score = {rule.min_score:g}"
    marks = [
        Hit(term=e.term or e.place, field=e.field, start=e.start, end=e.end, text=e.text)
        for e in evidence
        if e.start >= 0
    ]
    excerpt = snippet(view.text, marks) if marks else snippet(view.text, [])
    return RuleHit(rule, tuple(evidence), excerpt, score)


def _term_evidence(view: _View, hit: Hit) -> Evidence:
    """Offsets move from the field's own string into ``article.text`` where they can."""
    start, end, where = -1, -1, hit.field
    if hit.field == "title":
        start, end = hit.start, hit.end
    elif hit.field == "body":
        start, end = view.body_base + hit.start, view.body_base + hit.end
        where = "lead" if end <= view.lead_end else "body"
    return Evidence("term", hit.text, where, start, end, term=hit.term)


def _place_evidence(view: _View, mention: Mention) -> Evidence:
    if mention.end <= len(view.doc.title):
        where = "title"
    elif mention.end <= view.lead_end:
        where = "lead"
    else:
        where = "body"
    place = mention.place
    return Evidence(
        "place",
        mention.text,
        where,
        mention.start,
        mention.end,
        place=place.name,
        code=place.code,
        chain=tuple(place.chain),
    )
