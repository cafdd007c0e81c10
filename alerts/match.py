"""Match articles against watch rules and say why each rule fired.

All rules share one query automaton (an article is scanned once, whatever the number of
rules) and one gazetteer pass; a rule fires when every condition it states holds: its query,
its keywords, its regions, and its sources, languages, mention count and score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from alerts.evidence import Spans, excerpt, marked_spans
from alerts.query import (
    And,
    Document,
    Hit,
    Query,
    QuerySyntaxError,
    RuleMatcher,
    Scan,
    compile_rules,
    keywords_query,
    parse_query,
)
from alerts.regions import Gazetteer, Mention, RegionFilter, UnknownRegion
from alerts.rules import Rule
from storage.types import Article

# A place or term in the title weighs more than one in the lead, more than one further down.
WEIGHTS = {"title": 3.0, "lead": 2.0, "body": 1.0, "tags": 1.0, "author": 1.0, "source": 1.0}
_OFFSETS = attrgetter("start", "end")


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
    slot: int | None  # the rule's position in the query matcher; None: no query
    regions: RegionFilter | None  # one object for all rules with the same regions


@dataclass(slots=True)
class _Judged:
    """What every rule with the same query evidence and regions has on one article."""

    hits: tuple[Hit, ...]  # kept so that its id, part of the key, stays its own
    evidence: tuple[Evidence, ...]
    score: float
    excerpt: str | None = None  # made the first time such a rule fires


@dataclass(slots=True)
class _View:
    """One article as the rules read it, with offsets into ``article.text`` for snippets.

    On a busy article, hundreds of rules fire on the same few terms and places. The view
    builds each piece of evidence, each rule's list of it, its score and its excerpt once,
    so a rule only looks up what it shares with the others. Memos are keyed on ``id``
    only for objects the view keeps alive (itself, through the scan, or in the memo), so
    no other object can take those ids while the view lives.
    """

    article: Article
    doc: Document
    text: str
    body_base: int
    lead_end: int
    scan: Scan
    mentions: list[Mention]
    placed: set[int]  # rules with a place inside their regions (or only exclusions)
    fired: set[int]  # query slots that matched; see Matcher._view for which were tested
    inside: dict[RegionFilter, list[Mention] | None] = field(default_factory=dict)
    places: dict[RegionFilter, tuple[Evidence, ...]] = field(default_factory=dict)
    place_of: dict[int, Evidence] = field(default_factory=dict)  # mentions live in the view
    term_of: dict[int, Evidence] = field(default_factory=dict)  # hits live in the scan
    judged: dict[tuple[int, RegionFilter | None], _Judged] = field(default_factory=dict)
    excerpts: dict[Spans, str] = field(default_factory=dict)

    def check(self, regions: RegionFilter) -> list[Mention] | None:
        """``regions.check``, once per filter (rules with equal regions share one)."""
        if regions in self.inside:
            return self.inside[regions]
        found = self.inside[regions] = regions.check(self.mentions)
        return found

    def judge(self, hits: tuple[Hit, ...], regions: RegionFilter | None) -> _Judged:
        """Evidence (terms, then places) and score of a rule whose query gave ``hits``
        (a tuple the scan shares between rules) and whose regions hold."""
        key = (id(hits), regions)
        judged = self.judged.get(key)
        if judged is None:
            try:  # most hits were met in an earlier rule's evidence: look them up in C
                evidence = tuple(map(self.term_of.__getitem__, map(id, hits)))
            except KeyError:
                evidence = tuple(map(self._term, hits))
            if regions is not None:
                evidence += self._places(regions)
            score = sum(WEIGHTS.get(e.field, 1.0) for e in evidence)
            judged = self.judged[key] = _Judged(hits, evidence, score)
        return judged

    def excerpt_of(self, judged: _Judged) -> str:
        if judged.excerpt is None:
            spans = marked_spans(self.text, map(_OFFSETS, judged.evidence))
            found = self.excerpts.get(spans)
            if found is None:
                found = self.excerpts[spans] = excerpt(self.text, spans)
            judged.excerpt = found
        return judged.excerpt

    def _places(self, regions: RegionFilter) -> tuple[Evidence, ...]:
        found = self.places.get(regions)
        if found is None:
            found = self.places[regions] = tuple(map(self._place, self.check(regions) or ()))
        return found

    def _place(self, mention: Mention) -> Evidence:
        found = self.place_of.get(id(mention))
        if found is None:
            found = self.place_of[id(mention)] = _place_evidence(self, mention)
        return found

    def _term(self, hit: Hit) -> Evidence:
        found = self.term_of.get(id(hit))
        if found is None:
            found = self.term_of[id(hit)] = _term_evidence(self, hit)
        return found


def needs_gazetteer(rules: Sequence[Rule]) -> bool:
    return any(r.regions or r.exclude_regions for r in rules)


class Matcher:
    """Rules compiled once per settings load; ``match`` is called for every new article."""

    def __init__(self, rules: Sequence[Rule], gazetteer: Gazetteer | None = None) -> None:
        self.rules = [r for r in rules if r.enabled]
        self.gazetteer = gazetteer
        problems: list[RuleProblem] = []
        queries: dict[str, Query] = {}
        filters: dict[tuple[tuple[str, ...], tuple[str, ...]], RegionFilter] = {}
        self._compiled: list[_Compiled] = []
        for index, rule in enumerate(rules):
            query = _rule_query(index, rule, problems)
            regions = filters.get((rule.regions, rule.exclude_regions))
            if regions is None:
                regions = _rule_regions(index, rule, gazetteer, problems)
                if regions is not None:
                    filters[rule.regions, rule.exclude_regions] = regions
            if rule.enabled:  # disabled rules are still checked, but never matched
                slot = None
                if query is not None:
                    slot, queries[rule.name] = len(queries), query
                self._compiled.append(_Compiled(rule, slot, regions))
        if problems:
            raise RuleErrors(problems)
        self._queries: RuleMatcher = compile_rules(queries)
        self._by_slot = [i for i, c in enumerate(self._compiled) if c.slot is not None]
        self._by_region, self._everywhere = _region_index(self._compiled)
        self._with_query = set(self._by_slot)
        self._with_regions = {i for i, c in enumerate(self._compiled) if c.regions is not None}
        # Query slots of rules that also need a place: not worth testing without one.
        self._gated = {c.slot for c in self._compiled if c.slot is not None and c.regions}
        # Decided once: a gazetteer pass costs more than the rest of matching an article.
        self._wants_places = any(c.regions is not None for c in self._compiled)

    def match(self, article: Article) -> list[RuleHit]:
        """Hits of the rules that fire; only rules with a query hit or a place are looked at."""
        view = self._view(article, gate=True)
        compiled, evaluate = self._compiled, self._evaluate
        hits = []
        for index in sorted(self._candidates(view)):
            verdict = evaluate(compiled[index], view)
            if isinstance(verdict, RuleHit):
                hits.append(verdict)
        return hits

    def _candidates(self, view: _View) -> set[int]:
        """Rules worth evaluating: a query hit where a query is needed, a place inside the
        rule's regions where regions are needed; everything else cannot fire."""
        placed = view.placed
        matched = set(map(self._by_slot.__getitem__, view.fired))
        return (placed - self._with_query) | (matched - self._with_regions) | (matched & placed)

    def explain(self, article: Article) -> list[tuple[Rule, RuleHit | str]]:
        """Every enabled rule with its hit, or the reason it did not fire."""
        view = self._view(article, gate=False)
        return [(c.rule, self._evaluate(c, view)) for c in self._compiled]

    def _evaluate(self, compiled: _Compiled, view: _View) -> RuleHit | str:
        rule, article = compiled.rule, view.article
        if rule.sources and article.source not in rule.sources:
            return f"source {article.source!r} is not in sources"
        if rule.languages and article.language not in rule.languages:
            return f"language {article.language!r} is not in languages"
        if compiled.slot is not None and compiled.slot not in view.fired:
            return "query did not match"
        if compiled.regions is not None and view.check(compiled.regions) is None:
            named = ", ".join(sorted({m.place.name for m in view.mentions})) or "none"
            return f"no place inside the regions (places named: {named})"
        hits = () if compiled.slot is None else self._queries.shared_evidence(view.scan, rule.name)
        return _judge(rule, view, view.judge(hits, compiled.regions))

    def _view(self, article: Article, gate: bool) -> _View:
        """The article as the rules read it. With ``gate``, queries of rules that need a place
        the article does not name are left untested (they cannot fire): places are found
        first, because on a busy article testing those queries costs more than the pass."""
        doc = Document.from_article(article)
        text = article.text
        body_base = len(doc.title) + 2 if doc.title else 0
        lead_end = body_base + len(doc.body.split("\n\n", 1)[0])
        scan = self._queries.scan(doc)
        mentions = self.gazetteer.find(text) if self.gazetteer and self._wants_places else []
        placed = set(self._everywhere)
        for mention in mentions:
            for key in (mention.place.id, *mention.place.chain):
                placed.update(self._by_region.get(key, ()))
        skip: set[int] = set()
        if gate and self._gated:
            compiled = self._compiled
            skip = self._gated.difference([compiled[i].slot for i in placed])
        fired = set(self._queries.matching_indexes(scan, skip))
        return _View(article, doc, text, body_base, lead_end, scan, mentions, placed, fired)


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


def _judge(rule: Rule, view: _View, judged: _Judged) -> RuleHit | str:
    evidence, score = judged.evidence, judged.score
    if len(evidence) < rule.min_mentions:
        return f"{len(evidence)} mentions, fewer than min_mentions = {rule.min_mentions}"
    if score < rule.min_score:
        return f"score {score:g} is below min_score = {rule.min_score:g}"
    return RuleHit(rule, evidence, view.excerpt_of(judged), score)


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
