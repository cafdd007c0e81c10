"""GeoNames admin1 codes -> ISO 3166-2: written seats first, then derived by name.

Order of trust: the seat table (:mod:`alerts.gazetteer.seats`); an alphabetic admin1 code that
is itself the ISO suffix (US "GA" -> US-GA); then a vote, for the remaining subdivisions,
over the cities whose name the subdivision's name starts with ("Ogres novads" -> Ogre,
"Kauno apskritis" -> Kaunas is missed and stays unmapped). Each admin1 code and each
subdivision is used once, strongest vote first. Cities of an unmapped admin1 code get a chain
with their country only: less precise, never wrong.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from alerts.gazetteer.seats import SEATS
from alerts.gazetteer.text import key

log = logging.getLogger("newswatch.regions")

_MIN_PREFIX = 4
_MAX_SUFFIX = 4


@dataclass(frozen=True, slots=True)
class CityRow:
    """What the mapping needs from a GeoNames city."""

    country: str
    admin1: str
    population: int
    names: tuple[str, ...]


def map_admin1(
    cities: Sequence[CityRow], subdivisions: Mapping[str, Sequence[tuple[str, str]]]
) -> dict[tuple[str, str], str]:
    """``subdivisions``: country -> [(ISO code, name)] of top-level subdivisions."""
    mapping = _from_seats(cities, subdivisions)
    by_country: dict[str, list[CityRow]] = defaultdict(list)
    for city in cities:
        by_country[city.country].append(city)
    for country, subs in subdivisions.items():
        codes = {code for code, _ in subs}
        done_codes = {iso for (cc, _), iso in mapping.items() if cc == country}
        for city in by_country.get(country, ()):
            iso = f"{country}-{city.admin1}"
            fresh = (country, city.admin1) not in mapping and iso not in done_codes
            if city.admin1.isalpha() and iso in codes and fresh:
                mapping[(country, city.admin1)] = iso
                done_codes.add(iso)
        todo = [(code, name) for code, name in subs if code not in done_codes]
        mapping.update(_by_vote(country, by_country.get(country, ()), todo, mapping))
    return mapping


def _from_seats(
    cities: Sequence[CityRow], subdivisions: Mapping[str, Sequence[tuple[str, str]]]
) -> dict[tuple[str, str], str]:
    known = {code for subs in subdivisions.values() for code, _ in subs}
    by_name: dict[tuple[str, str], CityRow] = {}
    for city in sorted(cities, key=lambda c: c.population):
        for name in city.names:
            by_name[(city.country, key(name))] = city  # the largest city wins
    mapping: dict[tuple[str, str], str] = {}
    for code, _, seat in SEATS:
        country = code.split("-")[0]
        found = by_name.get((country, key(seat)))
        if code not in known or found is None:
            log.debug("seat %s of %s not found; left to derivation", seat, code)
            continue
        mapping[(country, found.admin1)] = code
    return mapping


def _by_vote(
    country: str,
    cities: Iterable[CityRow],
    todo: Sequence[tuple[str, str]],
    taken: Mapping[tuple[str, str], str],
) -> dict[tuple[str, str], str]:
    index: dict[str, list[tuple[str, CityRow]]] = defaultdict(list)
    for city in cities:
        if (country, city.admin1) in taken or not city.admin1 or city.admin1 == "00":
            continue
        for name in city.names:
            k = key(name)
            if len(k) >= _MIN_PREFIX:
                index[k[:_MIN_PREFIX]].append((k, city))
    votes: dict[tuple[str, str], float] = defaultdict(float)
    for code, name in todo:
        root = key(name.split(",")[0])
        for city_key, city in index.get(root[:_MIN_PREFIX], ()):
            if root == city_key:
                votes[(code, city.admin1)] += 2.0 * city.population
            elif root.startswith(city_key) and len(root) - len(city_key) <= _MAX_SUFFIX:
                votes[(code, city.admin1)] += city.population
    result: dict[tuple[str, str], str] = {}
    used_codes: set[str] = set()
    for (code, admin1), _ in sorted(votes.items(), key=lambda kv: -kv[1]):
        if code in used_codes or (country, admin1) in result:
            continue
        result[(country, admin1)] = code
        used_codes.add(code)
    return result
