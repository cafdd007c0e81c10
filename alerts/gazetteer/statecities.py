"""GeoNames admin1 codes -> ISO 3166-2 from a maintained table of states and their cities.

GeoNames numbers most countries' first-level divisions with codes of its own (Bavaria is
DE "02"), and pycountry has no cities, so nothing ties a GeoNames city to its ISO
subdivision. The ``countrystatecity-countries`` package (Countries States Cities Database,
ODbL 1.0) lists each country's states with their ISO 3166-2 codes and the cities of each,
with coordinates. A GeoNames city that has a namesake there within ``NEAR_KM`` votes for its
admin1 code meaning that state; the code takes the state most of its cities vote for.
Second-level codes (an Italian province) are lifted to their first-level parent.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache
from pathlib import Path
from typing import Any

import pycountry

from alerts.gazetteer.text import is_latin, key

log = logging.getLogger("newswatch.regions")

NEAR_KM = 25.0
# An admin1 code is mapped when this many of its cities agree, and they are most of its votes.
MIN_VOTES = 2
MIN_SHARE = 0.6


@dataclass(frozen=True, slots=True)
class Located:
    """What the vote needs from a GeoNames city."""

    country: str
    admin1: str
    name: str
    latitude: float
    longitude: float


def _data_dir() -> Path | None:
    try:
        import countrystatecity_countries
    except ImportError:  # the table is optional: without it the name-based mapping stands
        return None
    path = Path(countrystatecity_countries.__file__).parent / "data" / "by-country"
    return path if path.is_dir() else None


@cache
def _states(country_dir: Path) -> list[dict[str, Any]]:
    """A country's state list, read once per build for both the mapping and the names."""
    states: list[dict[str, Any]] = json.loads((country_dir / "states.json").read_text("utf-8"))
    return states


@cache
def _top_level(code: str) -> str | None:
    """The first-level subdivision an ISO 3166-2 code is or lies in, if pycountry knows it."""
    seen = 0
    while seen < 4:
        sub = pycountry.subdivisions.get(code=code)  # type: ignore[no-untyped-call]
        if sub is None:
            return None
        if sub.parent_code is None:
            return str(sub.code)
        parent = sub.parent_code
        code = parent if "-" in parent else f"{sub.country_code}-{parent}"
        seen += 1
    return None


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 12742.0 * math.asin(min(1.0, math.sqrt(a)))


def _state_cities(country_dir: Path) -> dict[str, list[tuple[float, float, str]]]:
    """Name key -> (latitude, longitude, first-level ISO code) of one country's listed cities."""
    by_name: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for state in _states(country_dir):
        iso = state.get("iso3166_2") or ""
        top = _top_level(iso) if iso else None
        cities_file = country_dir / "states" / str(state.get("state_code")) / "cities.json"
        if top is None or not cities_file.is_file():
            continue
        for city in json.loads(cities_file.read_text(encoding="utf-8")):
            try:
                lat, lon = float(city["latitude"]), float(city["longitude"])
            except (KeyError, TypeError, ValueError):
                continue
            by_name[key(city["name"])].append((lat, lon, top))
    return by_name


def map_by_state_cities(cities: Iterable[Located]) -> dict[tuple[str, str], str]:
    """(country, admin1) -> first-level ISO code, for the codes whose cities agree."""
    root = _data_dir()
    if root is None:
        return {}
    by_country: dict[str, list[Located]] = defaultdict(list)
    for city in cities:
        if city.admin1 and city.admin1 != "00":
            by_country[city.country].append(city)
    mapping: dict[tuple[str, str], str] = {}
    for country, members in by_country.items():
        country_dir = root / country
        if not (country_dir / "states.json").is_file():
            continue
        listed = _state_cities(country_dir)
        votes: dict[str, Counter[str]] = defaultdict(Counter)
        for city in members:
            near = [
                top
                for lat, lon, top in listed.get(key(city.name), ())
                if _km(city.latitude, city.longitude, lat, lon) <= NEAR_KM
            ]
            if len(set(near)) == 1:
                votes[city.admin1][near[0]] += 1
        mapping.update(_agreed(country, votes))
    log.debug("state table mapped %d admin1 codes", len(mapping))
    return mapping


def _agreed(country: str, votes: Mapping[str, Counter[str]]) -> dict[tuple[str, str], str]:
    found = {}
    for admin1, counter in votes.items():
        (iso, n), total = counter.most_common(1)[0], sum(counter.values())
        if n >= MIN_VOTES and n / total >= MIN_SHARE:
            found[(country, admin1)] = iso
    return found


@cache
def _catalogue_names() -> dict[str, str]:
    return {s.code: s.name for s in pycountry.subdivisions}


def _plausible(native: str, iso: str, name: str | None) -> bool:
    """Whether a state table's "native" name may be the subdivision's: some are word-for-word
    translations of the English one (Boaco "Reno", Masaya "Es divertido", Mosta "Pont"), so a
    Latin one must resemble the catalogue's or the English name."""
    catalogue = _catalogue_names().get(iso)
    if catalogue is None or not is_latin(native):
        return True
    known = [key(catalogue)] + ([key(name)] if name else [])
    own = key(native)
    return any(SequenceMatcher(None, own, k).ratio() >= 0.5 or own in k for k in known)


def subdivision_names() -> dict[str, set[str]]:
    """First-level ISO code -> the English and native names the state table gives it: the
    catalogue has only local names for many ("Bayern", "Catalunya"), and writers in English
    say Bavaria and Catalonia."""
    root = _data_dir()
    if root is None:
        return {}
    found: dict[str, set[str]] = defaultdict(set)
    for states_file in sorted(root.glob("*/states.json")):
        for state in _states(states_file.parent):
            iso = state.get("iso3166_2") or ""
            if iso and _top_level(iso) == iso:
                name, native = state.get("name"), state.get("native")
                found[iso] |= {name} if name else set()
                if native and _plausible(native, iso, name):
                    found[iso].add(native)
    return found
