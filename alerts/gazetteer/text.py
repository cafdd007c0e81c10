"""Turning names and texts into the same token stems, so the automaton can compare them.

Both sides go through one pipeline: split into words, fold case and accents, fold the Russian,
Ukrainian and Belarusian alphabets onto one (є/е, і/и, ї/и, ы/и, й/и, ё/е, ґ/г, ў/у, soft and
hard signs dropped), then strip a case ending from Cyrillic words. Folding the alphabets lets
a Ukrainian catalogue name ("Бєлгородська область") match Russian text ("Белгородской
области"); stripping endings is a light stemmer, not a morphological analyser: it removes the
longest listed case ending that leaves a stem of at least three letters. Ukrainian names whose
last syllable alternates (Харків/Харкова, Київ/Києві, Ріг/Розі) get extra stems on the name
side only (see :func:`alias_stems`), so the text side stays one deterministic pass.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from functools import cache
from typing import NamedTuple

_WORD = re.compile(r"[^\W_]+(?:['’ʼ`][^\W_]+)*")
_APOSTROPHES = "'’ʼ`"
_CYRILLIC_FOLD = str.maketrans(
    {"є": "е", "і": "и", "ї": "и", "ы": "и", "й": "и", "ё": "е", "ґ": "г", "ў": "у", "э": "е"}
    | {"ь": None, "ъ": None}
    | {a: None for a in _APOSTROPHES}
)
_LATIN_SPECIAL = {"ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe", "ı": "i"}
_LATIN_SPECIAL |= {"ħ": "h", "þ": "th", "ð": "d"}

# Folded endings, longest first. "ов", "ев" and "ив" are left out on purpose: they end
# Харьков, Киев and Львів in the nominative, and stripping them would part a name from its
# own oblique forms.
_ENDING_LIST = """ами ями ими ого его ому ему ах ях ам ям ая яя ое ее ои еи ии ую юю ие их им ом
ем ою ею ью ия ию а я у ю е и о"""
_ENDINGS = tuple(sorted(_ENDING_LIST.split(), key=len, reverse=True))
_MIN_STEM = 3
_ENGLISH_PLURALS = {"oblasts": "oblast", "regions": "region", "provinces": "province"}
_ENGLISH_PLURALS |= {"krais": "krai", "republics": "republic", "counties": "county"}
_UK_ALTERNATION = re.compile(r"[іїi]([^аеєиіїоуюяьы]+)$")
_SOFTENED = {"г": "з", "к": "ц", "х": "с"}


class Token(NamedTuple):
    """One word of a text: its stem and where the word stands in the original string.

    A named tuple rather than a dataclass: a 5 KB article has a thousand of them.
    """

    stem: str
    start: int
    end: int


def is_cyrillic(word: str) -> bool:
    return any("\u0400" <= ch <= "\u04ff" for ch in word)


def is_latin(word: str) -> bool:
    return any(ch.isalpha() and ch.isascii() for ch in word) or any(
        "\u00c0" <= ch <= "\u024f" or "\u1e00" <= ch <= "\u1eff" for ch in word
    )


@cache
def _fold_latin_char(ch: str) -> str:
    if ch in _LATIN_SPECIAL:
        return _LATIN_SPECIAL[ch]
    decomposed = unicodedata.normalize("NFKD", ch)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(word: str) -> str:
    """Case, accents and alphabet folded; no stemming."""
    low = word.lower()
    if is_cyrillic(low):
        return low.translate(_CYRILLIC_FOLD)
    if low.endswith(("'s", "’s")):
        low = low[:-2]
    folded = "".join(_fold_latin_char(ch) if not ch.isascii() else ch for ch in low)
    folded = folded.translate({ord(a): None for a in _APOSTROPHES})
    return _ENGLISH_PLURALS.get(folded, folded)


def stem_folded(folded: str) -> str:
    """Strip one case ending from a folded Cyrillic word (Latin words pass unchanged)."""
    if not is_cyrillic(folded):
        return folded
    for ending in _ENDINGS:
        if folded.endswith(ending) and len(folded) - len(ending) >= _MIN_STEM:
            return folded[: -len(ending)]
    return folded


@cache
def stem(word: str) -> str:
    return stem_folded(fold(word))


def tokenize(text: str) -> list[Token]:
    """Words of ``text`` with their stems; punctuation, hyphens and spaces separate words."""
    return [Token(stem(m.group()), m.start(), m.end()) for m in _WORD.finditer(text)]


_UNWRITTEN = str.maketrans({"ь": None, "ъ": None} | {a: None for a in _APOSTROPHES})


def spelling(name: str) -> int:
    """Where the name's stems write ``ы``, which folding makes ``и``: 0 for a name with no
    Cyrillic, else a small number (1..15) that names the pattern. Only Russian (and
    Belarusian) writes ``ы``, so a text that writes it there means a name that does too:
    "в Мышкине" is Myshkin, never Mishkino (Мишкино)."""
    marks = []
    for word in words(name):
        low = word.lower()
        if not is_cyrillic(low):
            return 0
        written = low.translate(_UNWRITTEN)[: len(stem(word))]
        marks.append("".join("ы" if ch == "ы" else "." for ch in written))
    if not marks:
        return 0
    return 1 + zlib.crc32(" ".join(marks).encode()) % 15


def words(text: str) -> list[str]:
    return [m.group() for m in _WORD.finditer(text)]


def key(text: str) -> str:
    """The lookup key of a name: its stems joined by single spaces."""
    return " ".join(t.stem for t in tokenize(text))


def _word_variants(word: str) -> set[str]:
    """Stems of one name word, with the Ukrainian і->о/е alternation of its last syllable."""
    base = stem(word)
    folded = fold(word)
    if base != folded and _CYRILLIC_CONSONANT.search(folded):
        # A name ending in a consonant has no case ending to strip: Радом is not "Рад" + ом
        # (which met "Рада", the parliament), nor Амстердам "Амстерд" + ам (which missed
        # "в Амстердаме").
        base = folded
    found = {base}
    low = word.lower()
    match = _UK_ALTERNATION.search(low)
    if match and is_cyrillic(low) and any(ch in low for ch in "ії"):
        tail = match.group(1)
        head = low[: match.start()]
        for vowel in ("о", "е"):
            found.add(stem(head + vowel + tail))
            soft = _SOFTENED.get(tail[-1])
            if soft:
                found.add(stem(head + vowel + tail[:-1] + soft))
    if base == "област":
        found.add("обл")
    found |= _softened_locative(low)
    found |= _short_forms(folded)
    return found


_SHORT_CASES = ("а", "у", "е", "и", "ом", "ем", "ои", "ою", "еи", "ею")


def _short_forms(folded: str) -> set[str]:
    """Case forms of a name too short for the stemmer (Уфа -> в Уфе, Яр -> Часовому Яру):
    stripping an ending would leave fewer than three letters, so the text keeps them."""
    if not is_cyrillic(folded):
        return set()
    base = folded[:-1] if folded[-1:] in "аяо" else folded
    if len(base) > _MIN_STEM - 1 or len(base) < 2:
        return set()
    return {base + ending for ending in _SHORT_CASES}


def _softened_locative(low: str) -> set[str]:
    """Ukrainian and Russian soften г, к, х before the locative and dative -і/-е: Бородянка
    -> у Бородянці, Острог -> в Острозі, Тамань stays as it is."""
    if not is_cyrillic(low):
        return set()
    word = low[:-1] if low[-1:] in "ая" else low
    soft = _SOFTENED.get(word[-1:])
    if soft is None or len(word) < _MIN_STEM + 1:
        return set()
    return {stem_folded((word[:-1] + soft).translate(_CYRILLIC_FOLD))}


# Declension classes of a name's last word, so a case ending in the text can rule out a name
# of another class that shares its stem: "в Болгаре" is the town Bolgar, never Болгария;
# "в Печорах" is Pechory, not Pechora.
FORM_ANY, FORM_CONSONANT, FORM_A, FORM_IA, FORM_O, FORM_ADJECTIVE, FORM_PLURAL = range(7)


def _endings(text: str) -> frozenset[str]:
    return frozenset(text.split())


_FORM_ENDINGS: dict[int, frozenset[str]] = {
    FORM_CONSONANT: _endings("- а я у ю е и ом ем ах ях ам ям ами ями ою ею"),
    FORM_A: _endings("а я и е у ю ои еи ою ею"),
    FORM_IA: _endings("ия ии ию"),
    FORM_O: _endings("о е а у ом ем и ого ому им ои"),
    FORM_ADJECTIVE: _endings(
        "а я и е у ю о ии ои еи ая яя ое ее ие ого его ому ему им ом ем ую юю их ими ою ею"
    ),
    FORM_PLURAL: _endings("- и ах ях ам ям ами ями ов ев"),
}
_ADJECTIVE_END = re.compile(r"(?:ии|ои|ая|яя|ое|ее|ие|[сцз]к[аео])$")
_CYRILLIC_CONSONANT = re.compile(r"[бвгджзклмнпрстфхцчшщ]$")


def form(name: str) -> int:
    """The declension class of a name's last word (FORM_ANY for Latin names)."""
    last = words(name)[-1:] or [""]
    folded = fold(last[0])
    if not is_cyrillic(folded):
        return FORM_ANY
    if folded.endswith("ия"):
        return FORM_IA
    if _ADJECTIVE_END.search(folded):
        return FORM_ADJECTIVE
    if folded.endswith(("а", "я")):
        return FORM_A
    if folded.endswith(("о", "е")):
        return FORM_O
    if folded.endswith("и"):
        return FORM_PLURAL
    if folded.endswith("ск"):
        return FORM_ANY  # Курск: its adjective (Курские аграрии) shares the stem
    return FORM_CONSONANT if _CYRILLIC_CONSONANT.search(folded) else FORM_ANY


def ending(word: str) -> str:
    """A Cyrillic word's case ending ("-" for none), also where the stemmer kept it because
    the stem would have been too short (Уфе: "е")."""
    folded = fold(word)
    base = stem_folded(folded)
    if base != folded:
        return folded[len(base) :]
    for end in _ENDINGS:
        if folded.endswith(end) and len(folded) > len(end):
            return end
    return "-"


def fits(name_form: int, word_ending: str) -> bool:
    """Whether a word with this ending can be a form of a name of this class."""
    allowed = _FORM_ENDINGS.get(name_form)
    return allowed is None or word_ending in allowed


def alias_stems(name: str) -> set[str]:
    """Every key under which a name should be found in text (one per inflection variant)."""
    keys = [""]
    for word in words(name):
        variants = _word_variants(word)
        keys = [f"{k} {v}".strip() for k in keys for v in sorted(variants)]
        if len(keys) > 16:  # a long name with many alternating words: keep the plain form
            keys = keys[:16]
    return {k for k in keys if k}
