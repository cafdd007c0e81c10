"""Exact identities: the same item of one source, the same article text anywhere.

Both are hashes of normalised text, so they can be unique or indexed columns in the store: the
database answers "seen before?" with one index lookup, whatever the size of the archive.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

from daemon.dedup.urls import canonical_url

# Below this many words a body does not identify an article: "More to follow." or an empty
# description would make every short item "the same article" as every other.
MIN_CONTENT_WORDS = 12
# One-word titles ("Update", "Briefing") recur for unrelated stories; longer ones still need
# the containment check in the decider before they join anything.
MIN_TITLE_WORDS = 2

_WORD = re.compile(r"\w+")
_PARAGRAPH_SPLIT = re.compile(r"\n+")
# Paragraph-level boilerplate that outlets wrap around the same wire copy. Only short
# paragraphs are tested, so a real paragraph that mentions "newsletter" survives.
_BOILERPLATE_MAX_WORDS = 40
_BOILERPLATE = re.compile(
    r"""^\W*(?:
        (?:additional\s+)?(?:reporting|writing|editing|compiled|photos?)\s+by\b
      | (?:photo|image|video|file\s+photo)\s*:
      | (?:read|see)\s+(?:more|also)\b | related\s*:|advertisement\W*$|sponsored\b
      | (?:share|follow\s+us)\b | (?:sign\s+up|subscribe)\b | click\s+here\b
      | download\s+(?:our|the)\s+app\b | ©|\(c\)\s|copyright\b
      | this\s+(?:article|story)\s+(?:was\s+)?(?:first|originally)\s+(?:appeared|published)\b
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_BOILERPLATE_ANYWHERE = re.compile(
    r"all\s+rights\s+reserved|newsletter|sign\s+up\s+(?:for|to)\b|subscribe\s+to\b"
    r"|follow\s+(?:us|our)\s+on\b|get\s+the\s+latest\b|our\s+app\b",
    re.IGNORECASE,
)


def words(text: str) -> list[str]:
    """Case-folded words without punctuation: the unit every comparison here is made of."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def body_words(text: str) -> list[str]:
    """Words of the paragraphs that carry the article, without the outlet's wrapping."""
    return [token for _, tokens in _article_paragraphs(text) for token in tokens]


@lru_cache(maxsize=8)
def _article_paragraphs(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each paragraph that carries the article, with its words; the outlet's wrapping left out.

    Kept for the last few texts: sketching one article reads its paragraphs for the
    shingles, the content hash and the lead, and the hash is asked for again when it is
    stored; normalising and splitting the words is most of that work."""
    found = []
    for paragraph in _PARAGRAPH_SPLIT.split(text):
        tokens = words(paragraph)
        if tokens and not _is_boilerplate(paragraph, len(tokens)):
            found.append((paragraph, tuple(tokens)))
    return tuple(found)


# A sentence ends at ., ! or ? (and a closing quote or bracket) before a space.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”»)\]]*\s+")
# Shorter sentences ("He declined.", "Read more.") recur across unrelated articles.
LEAD_MIN_WORDS = 8


def lead_sentences(text: str, limit: int) -> list[list[str]]:
    """The words of the body's first ``limit`` real sentences, outlet wrapping left out."""
    found: list[list[str]] = []
    for paragraph, _ in _article_paragraphs(text):
        for sentence in _SENTENCE_END.split(paragraph):
            sentence_words = words(sentence)
            if len(sentence_words) >= LEAD_MIN_WORDS:
                found.append(sentence_words)
                if len(found) == limit:
                    return found
    return found


def _is_boilerplate(paragraph: str, n_words: int) -> bool:
    if n_words > _BOILERPLATE_MAX_WORDS:
        return False
    return bool(
        _BOILERPLATE.match(paragraph)
        or _BOILERPLATE_ANYWHERE.search(paragraph)
        or _is_byline(paragraph)
    )


def _is_byline(paragraph: str) -> bool:
    """ "By Olena Petrenko, Reuters" is; "By Monday evening, rescuers had…" is not."""
    if not re.match(r"^\W*by\s", paragraph, re.I):
        return False
    names = re.findall(r"[\w'’.-]+", paragraph)[1:]
    return 0 < len(names) <= 8 and all(n[0].isupper() or n in ("and",) for n in names)


def content_hash(text: str) -> str:
    """Hex SHA-256 of the normalised body, or ``""`` when the body is too short to identify.

    Whitespace, case, punctuation and boilerplate paragraphs do not count, so the same article
    re-wrapped by another site or feed hashes the same. Callers store ``""`` as NULL.
    """
    tokens = body_words(text)
    if len(tokens) < MIN_CONTENT_WORDS:
        return ""
    return hashlib.sha256(" ".join(tokens).encode()).hexdigest()


def title_words(title: str) -> list[str]:
    return words(title)


def item_key(guid: str | None, url: str | None, title: str, text: str) -> str:
    """A source's identity for an entry: its GUID, else its canonical URL, else its text.

    GUIDs that are URLs are canonicalised too: feeds that move to https rewrite their
    permalink GUIDs, and that must not turn every old entry into a new one. The value is a
    bounded-length ``kind:hash`` so it fits a unique index whatever the feed puts in a GUID.
    """
    if guid and guid.strip():
        return _key("g", canonical_url(guid))
    if url and url.strip():
        return _key("u", canonical_url(url))
    return _key("h", " ".join(words(title)) + "\n" + " ".join(body_words(text)))


def _key(kind: str, value: str) -> str:
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:40]}"
