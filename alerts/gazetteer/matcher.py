"""Finding names in a text and deciding which of them really are places.

One automaton pass finds every alias; then each hit must survive the checks below, which are
cheap and local (a word or two either side), and the longest surviving hits win:

- written with a capital letter (and in capitals for acronyms like "US");
- not a first name before a surname ("Volodymyr Zelensky", "Jordan Peterson") nor a surname
  after a listed first name ("Michael Jordan");
- not a ship, unit, team or street named after the place ("the Kursk submarine", "cruiser
  Moskva", "Azov Regiment", "Shakhtar Donetsk", a name in «quotes»);
- a city right after "the" is a named thing ("the Kursk sank") unless a word such as "region"
  or "offensive" follows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import NamedTuple

from alerts.gazetteer.extras import CITY_DEMONYMS, CITY_OF_OBLAST_ADJECTIVE
from alerts.gazetteer.index import Entry, Index, decode
from alerts.gazetteer.text import FORM_ADJECTIVE, Token, is_cyrillic, is_latin, stem
from alerts.gazetteer.words import (
    ARTICLES,
    CONTINUATIONS,
    DENYLIST,
    FUNCTION_WORDS,
    GIVEN_NAMES,
    IN_WORDS,
    NAMED_AFTER,
    NAMED_BEFORE,
    NAMED_BEFORE_OF,
    OF_WORDS,
    STATION_AFTER,
    STATION_BEFORE,
    STATION_KINDS,
    TEAM_AFTER,
    TEAM_BEFORE,
)

_OPEN_QUOTES = "«“„\"'‘"
_CLOSE_QUOTES = "»”“\"'’"
_SENTENCE_END = ".!?;:\n"
_OPENS_SENTENCE = _SENTENCE_END + "…"  # a gap with one of these before a word
# A short name in guillemets or low-high quotes: a team, firm, station or ship more often than
# the place it is named after. A longer quotation is speech, and its places count.
_SHORT_QUOTE = re.compile(r"[«„]([^»“”«„.!?\n]{1,40})[»“”]")
# A Russian or Ukrainian adjective of a place: -ськ-/-ск- and a case ending.
_LOWER_ADJECTIVE = re.compile(
    r"(?:ськ|зьк|цьк|ск|зк|цк)"
    r"(?:ий|ій|ый|ой|ого|ому|им|ім|ом|ая|а|ої|у|ую|е|ое|ее|ие|і|их|іх|ими|ых|ым|ыми|ою)$"
)
_ADJECTIVE = re.compile(r"(?:ий|ый|ій|ой|ая|яя|ое|ее|ые|ие|ого|ої|ому|ую|юю)$")
_DEMONYMS = frozenset(stem(name) for names in CITY_DEMONYMS.values() for name in names)
# The same adjective romanised (Kharkivska, Kievsky, Belorussky) or Polish (Gdańska).
_ROMAN_ADJECTIVE = re.compile(r"(?:sk|ck|zk)(?:a|aya|aia|e|i|ie|iy|iì|ij|o|y|yi|yy)$")


class Hit(NamedTuple):
    """Consecutive tokens ``first..last`` that spell a name, with the places it may mean."""

    first: int
    last: int
    entries: tuple[Entry, ...]


def scan(index: Index, tokens: Sequence[Token]) -> list[Hit]:
    """Every alias occurrence, overlapping ones included."""
    parts = [" "]
    ends: dict[int, int] = {}
    pos = 1
    for i, token in enumerate(tokens):
        parts.append(token.stem + " ")
        pos += len(token.stem)
        ends[pos] = i
        pos += 1
    hits = []
    for end, value in index.automaton.iter("".join(parts)):
        n, packed = decode(value)
        last = ends.get(end)
        if last is not None:
            hits.append(Hit(last - n + 1, last, tuple(map(_unpack, packed))))
    return hits


_unpack = cache(Entry.unpack)


class Context:
    """The text around hits, with the checks that need it."""

    def __init__(
        self, index: Index, text: str, tokens: Sequence[Token], hits: Sequence[Hit] = ()
    ) -> None:
        self.index = index
        self.text = text
        self.tokens = tokens
        self._spans = {(h.first, h.last) for h in hits}
        self._longest_from: dict[int, int] = {}  # first token -> last token of its longest hit
        for h in hits:
            self._longest_from[h.first] = max(h.last, self._longest_from.get(h.first, h.last))
        self._quoted = [
            m.span(1) for m in _SHORT_QUOTE.finditer(text) if len(m.group(1).split()) <= 3
        ]

    def word(self, i: int) -> str:
        t = self.tokens[i]
        return self.text[t.start : t.end]

    def gap(self, left: int) -> str | None:
        """The characters between token ``left`` and the next one (None at the end)."""
        if left < 0 or left + 1 >= len(self.tokens):
            return None
        return self.text[self.tokens[left].end : self.tokens[left + 1].start]

    def keep(self, hit: Hit) -> tuple[Entry, ...]:
        """The entries of a hit that survive every check (empty: not a place here)."""
        return self.judge(hit)[0]

    def judge(self, hit: Hit) -> tuple[tuple[Entry, ...], str]:
        """The surviving entries, and when none survives, the check that ruled the hit out."""
        entries = tuple(hit.entries)
        if self._function_word(hit):
            return (), "a function word opening a sentence (Крім, Того, Біля), not a name"
        if not self._capitalised(hit):
            entries = self._lower_case_name(hit)
            if not entries:
                return (), "not capitalised"
        if self._named_thing(hit):
            return (), "names a thing after the place (ship, team, unit, street, quoted name)"
        if self._person(hit):
            return (), "part of a person's name"
        if self._compound(hit):
            return (), "first of a hyphenated pair of names (Paris-Beauvais airport)"
        entries = tuple(e for e in entries if not e.acronym or self._all_caps(hit))
        if not entries:
            return (), "an acronym not written in capitals"
        if self._after_article(hit):
            entries = tuple(e for e in entries if not self._city_like(e))
            if not entries:
                return (), "a city's name after an article: a named thing"
        return entries, ""

    def _function_word(self, hit: Hit) -> bool:
        """A sentence's first word is capitalised whatever it is; "Крім того" opens one, and
        is no more Crimea than "У Мені" (in Mena) is "to me" once the capital is the name's own."""
        if hit.first != hit.last or self.word(hit.first).lower() not in FUNCTION_WORDS:
            return False
        if hit.first == 0:
            return True
        before = self.gap(hit.first - 1) or ""
        return any(ch in _OPENS_SENTENCE for ch in before)

    def _capitalised(self, hit: Hit) -> bool:
        first = self.word(hit.first)
        if not (is_latin(first) or is_cyrillic(first)):
            return True
        return first[0].isupper() or first[0].isdigit()

    def _lower_case_name(self, hit: Hit) -> tuple[Entry, ...]:
        """ "харківського метро", "одеський порт": Russian and Ukrainian write a region's
        adjective in lower case, and it still says where. Only a subdivision's own adjective
        counts (a town's would be too loose), and never in "по-київськи" (a manner). A city's
        people ("белгородцы", "кияни") are written in lower case too."""
        word = self.word(hit.first)
        if hit.first == hit.last and self.tokens[hit.first].stem in _DEMONYMS:
            return hit.entries
        if hit.first != hit.last or not is_cyrillic(word) or not _LOWER_ADJECTIVE.search(word):
            return ()
        if self.gap(hit.first - 1) == "-" and self.tokens[hit.first - 1].stem == "по":
            return ()
        return tuple(
            self._city_of_oblast(e)
            for e in hit.entries
            if e.form == FORM_ADJECTIVE and self.index.places[e.place].kind == "subdivision"
        )

    def _city_of_oblast(self, entry: Entry) -> Entry:
        city = CITY_OF_OBLAST_ADJECTIVE.get(self.index.places[entry.place].code or "")
        if city is None:
            return entry
        place = next(i for i in self.index.city_states if self.index.places[i].code == city)
        return Entry(place, entry.primary, entry.acronym, entry.form, entry.spelling)

    def _all_caps(self, hit: Hit) -> bool:
        span = self.text[self.tokens[hit.first].start : self.tokens[hit.last].end]
        return all(ch.isupper() for ch in span if ch.isalpha())

    def _named_thing(self, hit: Hit) -> bool:
        after, before = self.gap(hit.last), self.gap(hit.first - 1)
        possessive = self.word(hit.last).endswith(("'s", "’s"))  # "Brisbane's river ferries"
        if (
            not possessive
            and after is not None
            and _joins(after)
            and self.tokens[hit.last + 1].stem in NAMED_AFTER
        ):
            return True
        if (
            before is not None
            and _joins(before)
            and self.tokens[hit.first - 1].stem in NAMED_BEFORE
        ):
            return True
        if self._after_of(hit.first) or self._team(hit, before, after):
            return True
        if self._station(hit):
            return True
        opening = before.strip() if before else ""
        closing = after.strip() if after else ""
        if opening and closing and opening[-1] in _OPEN_QUOTES and closing[0] in _CLOSE_QUOTES:
            return True
        start, end = self.tokens[hit.first].start, self.tokens[hit.last].end
        if any(a <= start and end <= b for a, b in self._quoted):
            return True  # Банк «Санкт-Петербург», «Дніпро-1»: a name of something else
        # Донецький «Шахтар», Ярославский «Локомотив»: the adjective belongs to the name.
        return (
            after is not None
            and after.strip() in ("«", "„")
            and _ADJECTIVE.search(self.word(hit.last).lower()) is not None
        )

    def _station(self, hit: Hit) -> bool:
        """ "Kharkivska metro station" (a romanised adjective), "станції метро Харківська" (an
        adjective after the word), "Kursk station in Moscow" (an other place given as where it
        is), "the Finland Station" (a country): a station or airport named after the place,
        not in it."""
        last, n = hit.last, len(self.tokens)
        word = self.word(last)
        low = word.lower()
        before = hit.first - 1
        if (
            before >= 0
            and self._spaced(before)
            and self.tokens[before].stem in STATION_BEFORE
            and is_cyrillic(word)
            and (_ADJECTIVE.search(low) or _LOWER_ADJECTIVE.search(low))
        ):
            return True
        if (
            self._spaced(last)
            and self.tokens[last + 1].stem in STATION_AFTER
            and is_latin(word)
            and _ROMAN_ADJECTIVE.search(low) is not None
        ):
            return True
        kind = last + 1  # the station word, after up to two lower-case ones ("railway")
        while kind < n and kind - last <= 3 and self.tokens[kind].stem not in STATION_KINDS:
            if not self.word(kind).islower() or not self._spaced(kind - 1):
                return False
            kind += 1
        if kind >= n or self.tokens[kind].stem not in STATION_KINDS or not self._spaced(kind - 1):
            return False
        if all(self.index.places[e.place].kind == "country" for e in hit.entries):
            return kind == last + 1 and self.tokens[kind].stem == "station"
        where = kind + 1
        return (
            where + 1 < n
            and self._spaced(kind)
            and self.tokens[where].stem in IN_WORDS
            and self._spaced(where)
            and where + 1 in self._longest_from
            and self._upper(where + 1)
        )

    def _spaced(self, left: int) -> bool:
        """Whether only spaces part token ``left`` from the next one."""
        gap = self.gap(left)
        return gap is not None and gap.isspace()

    def _team(self, hit: Hit, before: str | None, after: str | None) -> bool:
        """ "Chicago Bulls", "Real Madrid": a capitalised club word beside the place."""
        nxt = hit.last + 1
        if after == " " and self.tokens[nxt].stem in TEAM_AFTER and self._upper(nxt):
            return True
        if after == "-" and self.tokens[nxt].stem == "style":
            return True  # "Chicago-style pizza", "Kyiv-style cutlets": a manner, not a place
        prev = hit.first - 1
        return before == " " and self.tokens[prev].stem in TEAM_BEFORE and self._upper(prev)

    def _after_of(self, first: int) -> bool:
        """ "Gare de Lyon", "Place de la Concorde": a street or station word, then "de"."""
        i = first - 1
        while i >= 0 and self.tokens[i].stem in OF_WORDS and first - i <= 2:
            i -= 1
        return (
            i >= 0
            and i < first - 1
            and self.tokens[i].stem in NAMED_BEFORE_OF
            and self.word(i)[:1].isupper()
        )

    def _person(self, hit: Hit) -> bool:
        before = self.gap(hit.first - 1)
        if before is not None and before.isspace() and "\n" not in before:
            prev = self.tokens[hit.first - 1]
            if prev.stem in GIVEN_NAMES and self.word(hit.first - 1)[0].isupper():
                return True
        after = self.gap(hit.last)
        if hit.first != hit.last or after is None or after != " ":
            return False
        if self.word(hit.last).endswith(("'s", "’s")):
            return False  # "Berlin's Frankfurter Allee": a given name takes no possessive
        nxt = self.tokens[hit.last + 1]
        word = self.word(hit.last + 1)
        if not word[0].isupper() or word.isupper():
            return False
        if self._spaced(hit.last + 1) and self.tokens[hit.last + 2].stem in STATION_KINDS:
            return False  # "Warszawa Gdańska station", "Kraków Główny station": the city's own
        return nxt.stem not in CONTINUATIONS and nxt.stem not in DENYLIST

    def _compound(self, hit: Hit) -> bool:
        """ "Paris-Beauvais airport", "EuroAirport Basel-Mulhouse": of two names joined by a
        hyphen, with no name of their own, the second says where the thing is and the first
        is part of its name."""
        if not is_latin(self.word(hit.first)):
            return False
        after = self.gap(hit.last)
        partner = self._longest_from.get(hit.last + 1)
        if after == "-" and partner is not None:
            return (hit.first, partner) not in self._spans and self._upper(hit.last + 1)
        return False

    def _upper(self, i: int) -> bool:
        return self.word(i)[:1].isupper()

    def _after_article(self, hit: Hit) -> bool:
        before = self.gap(hit.first - 1)
        if before is None or not before.isspace():
            return False
        if self.tokens[hit.first - 1].stem not in ARTICLES:
            return False
        after = self.gap(hit.last)
        if after is None or any(ch in _SENTENCE_END for ch in after):
            return True
        return self.tokens[hit.last + 1].stem not in CONTINUATIONS

    def _city_like(self, entry: Entry) -> bool:
        return (
            self.index.places[entry.place].kind == "city" or entry.place in self.index.city_states
        )


def _joins(gap: str) -> bool:
    """Whether two words are part of one phrase: only spaces, quotes or brackets between."""
    return all(
        ch.isspace() or ch in _OPEN_QUOTES or ch in _CLOSE_QUOTES or ch in "()" for ch in gap
    )


def select(hits: Sequence[tuple[Hit, tuple[Entry, ...]]]) -> list[tuple[Hit, tuple[Entry, ...]]]:
    """Longest hits first, leftmost on ties, none overlapping."""
    ordered = sorted(hits, key=lambda h: (-(h[0].last - h[0].first), h[0].first))
    taken: set[int] = set()
    chosen = []
    for hit, entries in ordered:
        span = set(range(hit.first, hit.last + 1))
        if span & taken:
            continue
        taken |= span
        chosen.append((hit, entries))
    return sorted(chosen, key=lambda h: h[0].first)
