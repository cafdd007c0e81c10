"""The gazetteer's value types: a place, and a place found in a text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["country", "subdivision", "city"]


@dataclass(frozen=True, slots=True)
class Place:
    """A country, first-level subdivision or city.

    ``chain`` lists the ISO codes that contain the place, up to the country, and includes the
    place's own code when it has one: ("UA-12", "UA") both for Dnipro city and for
    Dnipropetrovsk Oblast. A rule on any code in the chain covers the place.
    """

    id: str
    name: str
    kind: Kind
    code: str | None
    chain: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Mention:
    """A place found in a text: the words as written and their character offsets."""

    text: str
    start: int
    end: int
    place: Place


class UnknownRegion(ValueError):
    """A rule names a region the gazetteer does not know; the message lists close names."""


@dataclass(frozen=True, slots=True)
class Explained:
    """A name seen in a text: the place chosen (None when it was ruled out), the other places
    it could have been with their scores, and the reason."""

    text: str
    start: int
    end: int
    place: Place | None
    others: tuple[tuple[Place, float], ...]
    why: str
