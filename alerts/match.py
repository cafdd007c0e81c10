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
    # Many rules fire on the same places of one article: build each excerpt once.
    excerpts: dict[tuple[tuple[int, int], ...], str] = field(default_factory=dict)


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
        self._by_name = {c.rule.name: i for i, c in enumerate(self._compiled)}
        self._by_region, self._everywhere = _region_index(self._compiled)
        # Decided once: a gazetteer pass costs more than the rest of matching an article.
        self._wants_places = any(c.regions is not None for c in self._compiled)

    def match(self, article: Article) -> list[RuleHit]:
        """Hits of the rules that fire; only rules with a query hit or a place are looked at."""
        view = self._view(article)
        scan = self._queries.scan(view.doc)
        fired = set(self._queries.matching(scan))
        candidates = self._candidates(view, fired)
        hits = []
        for index in sorted(candidates):
            verdict = self._evaluate(self._compiled[index], view, scan, fired)
            if isinstance(verdict, RuleHit):
                hits.append(verdict)
        return hits

    def _candidates(self, view: _View, fired: set[str]) -> set[int]:
        """Rules worth evaluating: a query hit where a query is needed, a place inside the
        rule's regions where regions are needed; everything else cannot fire."""
        placed = set(self._everywhere)
        for mention in view.mentions:
            for key in (mention.place.id, *mention.place.chain):
                placed.update(self._by_region.get(key, ()))
        candidates = {i for i in placed if not self._compiled[i].has_query}
        for name in fired:
            index = self._by_name[name]
            if self._compiled[index].regions is None or index in placed:
                candidates.add(index)
        return candidates

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
        mentions = self.gazetteer.find(text) if self.gazetteer and self._wants_places else []
        return _View(article, doc, text, body_base, lead_end, mentions)


def _region_index(compiled: list[_Compiled]) -> tuple[dict[str, list[int]], set[int]]:
    """Rules by the place ids and codes that can satisfy them, and the rules any text may fire
    (only ``exclude_regions``: "anywhere but there")."""
    by_region: dict[str, list[int]] = {}
    everywhere: set[int] = set()
    for index, item in enumerate(compiled):
        if item.regions is None:
            continue
        if not item.regions.regions:
            everywhere.add(index)
        for place in item.regions.regions:
            for key in {place.id, place.code} - {None}:
                by_region.setdefault(str(key), []).append(index)
    return by_region, everywhere


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
    unknown = 0
    for key, specs in (("regions", rule.regions), ("exclude_regions", rule.exclude_regions)):
        for spec in specs:
            try:
                gazetteer.resolve(spec)
            except UnknownRegion as exc:
                problems.append(RuleProblem(index, key, str(exc)))
                unknown += 1
    return None if unknown else RegionFilter(gazetteer, rule.regions, rule.exclude_regions)


def _judge(rule: Rule, view: _View, terms: list[Hit], places: list[Mention]) -> RuleHit | str:
    evidence = [_term_evidence(view, h) for h in terms] + [_place_evidence(view, m) for m in places]
    score = sum(WEIGHTS.get(e.field, 1.0) for e in evidence)
    if len(evidence) < rule.min_mentions:
        return f"{len(evidence)} mentions, fewer than min_mentions = {rule.min_mentions}"
    if score < rule.min_score:
        return f"score {score:g} is below min_score = {rule.min_score:g}"
    return RuleHit(rule, tuple(evidence), _excerpt(view, evidence), score)


def _excerpt(view: _View, evidence: list[Evidence]) -> str:
    placed = [e for e in evidence if e.start >= 0]
    key = tuple((e.start, e.end) for e in placed)
    found = view.excerpts.get(key)
    if found is None:
        marks = [
            Hit(term=e.term or e.place, field=e.field, start=e.start, end=e.end, text=e.text)
            for e in placed
        ]
        found = view.excerpts[key] = snippet(view.text, marks)
    return found


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
