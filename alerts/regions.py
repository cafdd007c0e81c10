"""Regions that know geography: which places a text names, and whether they lie in a region.

``Gazetteer.load`` builds the gazetteer (or loads it from the on-disk cache), ``find`` returns
the places a text mentions after the checks of :mod:`alerts.gazetteer.matcher` and the
disambiguation of :mod:`alerts.gazetteer.disambiguate`, and a ``RegionFilter`` compiled from a
rule's ``regions`` / ``exclude_regions`` says which of those mentions put the text inside.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path

import pycountry

from alerts.gazetteer.disambiguate import candidates, home_countries, rank_all
from alerts.gazetteer.extras import FORMER_CODES
from alerts.gazetteer.index import DEFAULT_MIN_POPULATION, Entry, Index, load_or_build
from alerts.gazetteer.matcher import Context, Hit, scan, select
from alerts.gazetteer.model import Explained, Mention, Place, UnknownRegion
from alerts.gazetteer.text import (
    Token,
    alias_stems,
    ending,
    is_cyrillic,
    key,
    spelling,
    tokenize,
)

__all__ = ["Explained", "Gazetteer", "Mention", "Place", "RegionFilter", "UnknownRegion"]


class Gazetteer:
    """Places and the automaton over their names; cheap to query, built once per version."""

    def __init__(self, index: Index) -> None:
        self._index = index
        self._by_code = {p.code: p for p in index.places if p.code}
        self._by_id = {p.id: p for p in index.places}

    @classmethod
    def load(
        cls, cache_dir: Path | None = None, min_population: int = DEFAULT_MIN_POPULATION
    ) -> Gazetteer:
        """Load the cached gazetteer from ``cache_dir``, building and saving it if missing."""
        return cls(load_or_build(cache_dir, min_population))

    @property
    def places(self) -> Sequence[Place]:
        return self._index.places

    def get(self, place_id: str) -> Place | None:
        return self._by_id.get(place_id)

    def lookup(self, name: str) -> list[Place]:
        """Every place a name may stand for, most likely first."""
        found: dict[int, None] = {}
        for k in [key(name), *sorted(alias_stems(name))]:
            value = self._index.entries(k)
            for entry in value[1] if value else ():
                found.setdefault(entry.place, None)
        return [self._index.places[i] for i in sorted(found, key=lambda i: -self._index.priors[i])]

    def resolve(self, spec: str) -> Place:
        """A rule's region: an ISO code ("RU-KRS", "UA", "UKR") or a name ("Belgorod Oblast")."""
        code = spec.strip().upper()
        code = FORMER_CODES.get(code, code)
        if code in self._by_code:
            return self._by_code[code]
        country = pycountry.countries.get(alpha_3=code) if len(code) == 3 else None
        if country is not None and country.alpha_2 in self._by_code:
            return self._by_code[country.alpha_2]
        found = self.lookup(spec)
        if found:
            return found[0]
        raise UnknownRegion(self._unknown_message(spec))

    def _unknown_message(self, spec: str) -> str:
        names = sorted({p.name for p in self._index.places if p.kind != "city"})
        names += sorted({p.name for p in self._index.places if p.kind == "city"})
        names = list(dict.fromkeys(names))  # a region and a city of one name: suggested once
        close = difflib.get_close_matches(spec, names, n=5, cutoff=0.7)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        return f"unknown region {spec!r}: not an ISO 3166 code nor a known place name{hint}"

    def find(self, text: str) -> list[Mention]:
        """The places a text names, in order, each resolved to one place."""
        tokens = tokenize(text)
        hits = scan(self._index, tokens)
        context = Context(self._index, text, tokens, hits)
        surviving = [(hit, kept) for hit in hits if (kept := context.keep(hit))]
        chosen = select(surviving)
        mentions = []
        for (hit, _), ranked in zip(chosen, self._rank(text, tokens, chosen), strict=True):
            start, end = tokens[hit.first].start, tokens[hit.last].end
            place = self._index.places[ranked[0][0]]
            mentions.append(Mention(text[start:end], start, end, place))
        return mentions

    def _rank(
        self, text: str, tokens: Sequence[Token], chosen: Sequence[tuple[Hit, tuple[Entry, ...]]]
    ) -> list[list[tuple[int, float, float]]]:
        """Each chosen hit's places, best first: its word's case ending and its ``ы`` pick the
        candidates, and a Cyrillic name leans to the home countries of the text's language."""
        home = home_countries(text)
        options, homes = [], []
        for hit, entries in chosen:
            last = tokens[hit.last]
            span = text[tokens[hit.first].start : last.end]
            written = spelling(span) if "ы" in span.lower() else 0
            word_ending = ending(text[last.start : last.end])
            options.append(candidates(self._index, entries, word_ending, written))
            homes.append(home if is_cyrillic(span) else frozenset())
        return rank_all(self._index, options, homes)

    def explain(self, text: str) -> list[Explained]:
        """Every name the automaton saw, in order: the place chosen with the others it could
        have been, or why it was not taken for a place at all."""
        tokens = tokenize(text)
        hits = scan(self._index, tokens)
        context = Context(self._index, text, tokens, hits)
        judged = [(hit, *context.judge(hit)) for hit in hits]
        chosen = select([(hit, kept) for hit, kept, _ in judged if kept])
        taken = {(hit.first, hit.last) for hit, _ in chosen}
        ranks = self._rank(text, tokens, chosen)
        ranking = {(h.first, h.last): r for (h, _), r in zip(chosen, ranks, strict=True)}
        places = self._index.places
        out = []
        for hit, kept, reason in sorted(judged, key=lambda j: (j[0].first, -j[0].last)):
            start, end = tokens[hit.first].start, tokens[hit.last].end
            span = (hit.first, hit.last)
            if span in taken:
                ranked = ranking[span]
                best, prior, score = ranked[0]
                others = tuple((places[p], pr + sc) for p, pr, sc in ranked[1:])
                why = _why(len(ranked), prior, score, ranked)
                out.append(Explained(text[start:end], start, end, places[best], others, why))
            elif kept:
                out.append(Explained(text[start:end], start, end, None, (), "inside a longer name"))
            else:
                out.append(Explained(text[start:end], start, end, None, (), reason))
        return out


def _why(n: int, prior: float, score: float, ranked: Sequence[tuple[int, float, float]]) -> str:
    if n == 1:
        return "the only place of that name"
    runner = ranked[1][1] + ranked[1][2]
    if score > 0 and prior < runner:
        return f"other places in the text point to it (context {score:.1f})"
    return f"the most likely by size and kind (prior {prior:.1f} against {runner:.1f})"


class RegionFilter:
    """A rule's regions, compiled: which mentions put a text inside them.

    A mention counts when its place is a region or lies in one (its chain holds the region's
    code, or it is the region itself for a city). Mentions inside an excluded region are set
    aside first: ``regions=["Ukraine"], exclude=["Crimea"]`` matches a text on Kyiv and Crimea
    through Kyiv, and not one on Crimea alone. Without ``regions`` every place counts, so
    ``exclude`` alone means "anywhere but there"; a text naming no place at all then passes
    with no evidence.
    """

    def __init__(
        self, gazetteer: Gazetteer, regions: Sequence[str], exclude: Sequence[str] = ()
    ) -> None:
        self.regions = tuple(gazetteer.resolve(r) for r in regions)
        self.exclude = tuple(gazetteer.resolve(r) for r in exclude)

    def check(self, mentions: Sequence[Mention]) -> list[Mention] | None:
        """The mentions that place the text inside the regions (evidence), or None."""
        kept = [m for m in mentions if not _inside(m.place, self.exclude)]
        if self.regions:
            kept = [m for m in kept if _inside(m.place, self.regions)]
            return kept or None
        if mentions and not kept:
            return None
        return kept


def _inside(place: Place, regions: Sequence[Place]) -> bool:
    return any(r.id == place.id or (r.code is not None and r.code in place.chain) for r in regions)
