"""Choosing one place for a name that has several (Georgia, Moscow, Paris).

Unambiguous places in the same text vote: a candidate whose subdivision appears in another
mention's chain scores much more than one sharing only the country ("Moscow, Idaho" picks
Idaho's Moscow; "Atlanta ... Georgia" picks the US state), and the prior (countries first, then
subdivisions, then cities by population) decides when the text says nothing. A city that bears
the name of the subdivision it lies in (Moscow in RU-MOW, Kyiv in UA-30) replaces that
subdivision: it is the more precise reading and implies the other.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from alerts.gazetteer.index import Entry, Index
from alerts.gazetteer.model import Place
from alerts.gazetteer.text import fits

SUBDIVISION_WEIGHT = 3.0
COUNTRY_WEIGHT = 1.0
# How much likelier (prior) a name's first place must be than its second to lend its chain
# to the other names of the text.
CLEAR_MARGIN = 1.5
# Added to the prior of a Cyrillic name's candidates in the text's home countries.
HOME_BONUS = 1.5
_UKRAINIAN = re.compile("[іїєґІЇЄҐ]")


def candidates(
    index: Index, entries: Sequence[Entry], word_ending: str = "-", written: int = 0
) -> list[int]:
    """The places a hit may be: those whose declension fits the word's ending when any does
    ("в Болгаре": Bolgar, not Bulgaria), of those the ones spelt with ``ы`` where the text
    writes it (``written``, 0 when it writes none), and a city rather than the subdivision it
    names."""
    fitting = [e for e in entries if fits(e.form, word_ending)] or list(entries)
    if written:
        spelt = [e for e in fitting if e.spelling in (0, written)]
        fitting = spelt or fitting
    places = [e.place for e in fitting]
    inner = {c for p in places if index.places[p].kind == "city" for c in index.places[p].chain}
    kept = [p for p in places if index.places[p].code not in inner or index.places[p].code is None]
    return kept if kept else places


def _context_score(place: Place, codes: dict[str, int]) -> float:
    score = 0.0
    for code in place.chain:
        if codes.get(code, 0) > 0:
            score += COUNTRY_WEIGHT if "-" not in code else SUBDIVISION_WEIGHT
    return score


def home_countries(text: str) -> frozenset[str]:
    """The countries a Cyrillic name in this text most likely lies in: Ukrainian and Russian
    news name their own towns far more often than a namesake abroad (Сіверськ in Donetsk
    Oblast, not Siverskiy near St Petersburg; Тамань, not Tamano in Japan). Russian is written
    across the former Soviet Union, Ukrainian mostly about Ukraine."""
    if _UKRAINIAN.search(text):
        return frozenset({"UA"})
    return frozenset({"RU", "UA", "BY", "KZ"})


def rank_all(
    index: Index, options: Sequence[list[int]], homes: Sequence[frozenset[str]] | None = None
) -> list[list[tuple[int, float, float]]]:
    """Each hit's options as (place, prior, context score), best first: what ``--explain``
    shows for the place chosen and the ones it could have been.

    The context of a hit is what the *other* hits say: a name with one place, or a name whose
    likeliest place is far likelier than the next (Alabama the state, not the hamlet in New
    York), lends its chain; "Birmingham, Alabama" then reads as the city in Alabama."""
    home_list = homes if homes is not None else [frozenset()] * len(options)
    priors = [
        {
            p: index.priors[p] + (HOME_BONUS if index.places[p].chain[-1] in home else 0.0)
            for p in opts
        }
        for opts, home in zip(options, home_list, strict=True)
    ]
    lent: list[tuple[str, ...]] = []
    for opts, prior in zip(options, priors, strict=True):
        best = max(opts, key=lambda p: prior[p])
        runner = max((prior[p] for p in opts if p != best), default=None)
        clear = runner is None or prior[best] - runner >= CLEAR_MARGIN
        lent.append(index.places[best].chain if clear else ())
    context: dict[str, int] = {}
    for chain in lent:
        for code in chain:
            context[code] = context.get(code, 0) + 1
    ranked = []
    for opts, own, prior in zip(options, lent, priors, strict=True):
        others = dict(context)
        for code in own:
            others[code] -= 1
        scored = [
            (p, prior[p], _context_score(index.places[p], others) if len(opts) > 1 else 0.0)
            for p in opts
        ]
        ranked.append(sorted(scored, key=lambda s: -(s[1] + s[2])))
    return ranked
