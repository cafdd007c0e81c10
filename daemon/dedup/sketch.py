"""Similarity sketches: a fixed-size summary of an article that estimates how much two overlap.

An article becomes the set of its word shingles (runs of consecutive words); two copies of the
same report share most shingles even when the headline, byline, dateline and a paragraph or two
differ, while two reports about the same place on the same day share almost none. The sketch
is a MinHash signature of that set built by one-permutation hashing with optimal
densification (Shrivastava, ICML 2017): one hash per shingle instead of one per shingle and
permutation, so sketching costs about as much as hashing the words once, without numpy.

The algorithm is fixed here and depends only on ``hashlib``: sketches are stored for the whole
retention period and must compare equal after upgrades of Python or any library.

Locality-sensitive hashing cuts the signature into bands; articles sharing any band key are
candidates, so finding them is an index lookup per band, never a scan of the store.

Resemblance cannot see a brief inside its full article: two paragraphs of ten share a fifth of
the shingles, and LSH bands rarely meet below that. Every copy, however short, keeps the lead,
so the sketch also carries the article's *lead keys* (one hash per opening sentence, of its
last words, so a wire dateline put in front changes nothing); they are looked up like bands
and let the decider test containment on a copy resemblance would never have found.
"""

from __future__ import annotations

import hashlib
import operator
import struct
from dataclasses import dataclass
from typing import Final

from daemon.dedup.fingerprint import (
    MIN_TITLE_WORDS,
    body_words,
    content_hash,
    lead_sentences,
    title_words,
)
from daemon.dedup.urls import canonical_url

SHINGLE_WORDS: Final = 3
NUM_BINS: Final = 192
BAND_ROWS: Final = 3
BANDS: Final = NUM_BINS // BAND_ROWS
_EMPTY: Final = 0xFFFFFFFF
# Version 1 had no lead keys; both are read, version 2 is written.
_VERSION: Final = 2
_HEADER = struct.Struct("<BIqqq")
_SIG_BYTES: Final = NUM_BINS * 4
# Sentences of the lead that get a key, and the words at the end of each that are hashed.
LEAD_SENTENCES: Final = 6
LEAD_TAIL_WORDS: Final = 8


def _hash64(data: bytes, person: bytes) -> int:
    digest = hashlib.blake2b(data, digest_size=8, person=person).digest()
    return int.from_bytes(digest, "little", signed=True)


def _probe_order(i: int) -> tuple[int, ...]:
    """Where empty bin ``i`` borrows from: a fixed pseudo-random order of the other bins."""
    others = [j for j in range(NUM_BINS) if j != i]
    return tuple(sorted(others, key=lambda j: hashlib.blake2b(f"{i}:{j}".encode()).digest()))


_PROBES: Final = tuple(_probe_order(i) for i in range(NUM_BINS))


@dataclass(frozen=True, slots=True)
class Sketch:
    """What the store keeps per article to find and rank near-duplicates later.

    ``signature`` holds ``NUM_BINS`` 32-bit minima; ``size`` is the number of distinct
    shingles (to estimate containment of a short summary in a long article). The three keys
    are 64-bit hashes of the body, title and canonical URL, 0 when absent or too short to
    identify anything; they travel with the sketch so one lookup finds exact copies too.
    """

    signature: bytes
    size: int
    text_key: int = 0
    title_key: int = 0
    url_key: int = 0
    lead: tuple[int, ...] = ()

    def to_bytes(self) -> bytes:
        header = _HEADER.pack(_VERSION, self.size, self.text_key, self.title_key, self.url_key)
        lead = struct.pack(f"<B{len(self.lead)}q", len(self.lead), *self.lead)
        return header + self.signature + lead

    @classmethod
    def from_bytes(cls, data: bytes) -> Sketch:
        fixed = _HEADER.size + _SIG_BYTES
        version = data[0] if data else 0
        if version == 1 and len(data) == fixed:
            lead: tuple[int, ...] = ()
        elif version == _VERSION and len(data) > fixed and len(data) == fixed + 1 + 8 * data[fixed]:
            lead = struct.unpack_from(f"<{data[fixed]}q", data, fixed + 1)
        else:
            raise ValueError(f"not a version 1 or {_VERSION} sketch ({len(data)} bytes)")
        _, size, text_key, title_key, url_key = _HEADER.unpack_from(data)
        signature = bytes(data[_HEADER.size : fixed])
        return cls(signature, size, text_key, title_key, url_key, lead)


def shingles(title: str, text: str) -> set[bytes]:
    """Word runs of the title and of the body, apart: a run never spans the two."""
    found: set[bytes] = set()
    for words in (title_words(title), body_words(text)):
        tokens = [w.encode() for w in words]  # each word encoded once, not once per run
        if len(tokens) < SHINGLE_WORDS:
            if tokens:
                found.add(b" ".join(tokens))
            continue
        found.update(
            b" ".join(tokens[i : i + SHINGLE_WORDS]) for i in range(len(tokens) - SHINGLE_WORDS + 1)
        )
    return found


def sketch(title: str, text: str, url: str | None = None) -> Sketch:
    """Sketch an article from its title, body text and (optionally) its URL."""
    items = shingles(title, text)
    bins = [_EMPTY] * NUM_BINS
    blake = hashlib.blake2b
    for item in items:
        h = int.from_bytes(blake(item, digest_size=8).digest(), "little")
        b, value = (h >> 32) % NUM_BINS, h & _EMPTY
        if value < bins[b]:
            bins[b] = value
    if items:
        _densify(bins)
    return Sketch(
        signature=struct.pack(f"<{NUM_BINS}I", *bins),
        size=len(items),
        text_key=_text_key(text),
        title_key=_title_key(title),
        url_key=_hash64(canonical_url(url).encode(), b"nw-url") if url and url.strip() else 0,
        lead=lead_keys(text),
    )


def lead_keys(text: str) -> tuple[int, ...]:
    """Keys of the opening sentences, each from its last words: a dateline, a kicker or a
    changed first clause in front of a sentence leaves its key as it was."""
    keys: list[int] = []
    for sentence in lead_sentences(text, LEAD_SENTENCES):
        key = _hash64(" ".join(sentence[-LEAD_TAIL_WORDS:]).encode(), b"nw-lead")
        if key not in keys:
            keys.append(key)
    return tuple(keys)


def shared_lead(a: Sketch, b: Sketch) -> int:
    """How many opening sentences the two articles have in common."""
    return len(set(a.lead) & set(b.lead))


def _densify(bins: list[int]) -> None:
    """Fill empty bins from non-empty ones so short texts still give a full signature."""
    filled = [v != _EMPTY for v in bins]
    for i, ok in enumerate(filled):
        if ok:
            continue
        for j in _PROBES[i]:  # a plain loop: a generator per empty bin cost a third more
            if filled[j]:
                bins[i] = bins[j]
                break


def _text_key(text: str) -> int:
    digest = content_hash(text)
    return int.from_bytes(bytes.fromhex(digest[:16]), "little", signed=True) if digest else 0


def _title_key(title: str) -> int:
    tokens = title_words(title)
    if len(tokens) < MIN_TITLE_WORDS:
        return 0
    return _hash64(" ".join(tokens).encode(), b"nw-title")


def similarity(a: Sketch, b: Sketch) -> float:
    """Estimated Jaccard similarity of the two shingle sets (0.0 when either is empty)."""
    if not a.size or not b.size:
        return 0.0
    left, right = memoryview(a.signature).cast("I"), memoryview(b.signature).cast("I")
    same: int = sum(map(operator.eq, left, right))
    return same / NUM_BINS


def containment(a: Sketch, b: Sketch) -> float:
    """Estimated share of the smaller set found in the larger: a summary inside its article.

    From Jaccard J and the set sizes: |A ∩ B| = J (|A| + |B|) / (1 + J).
    """
    j = similarity(a, b)
    if not j:
        return 0.0
    inter = j * (a.size + b.size) / (1 + j)
    return min(1.0, inter / min(a.size, b.size))


def band_keys(s: Sketch) -> list[int]:
    """Indexed lookup keys: one per LSH band, plus the exact keys that are present.

    Signed 64-bit so they fit a BIGINT column. Band keys are salted with the band number and
    exact keys with their kind, so a key can only ever meet a key of the same meaning.
    """
    keys = [k for k in (s.text_key, s.title_key, s.url_key, *s.lead) if k]
    if not s.size:
        return keys
    width = BAND_ROWS * 4
    sig = s.signature
    blake = hashlib.blake2b
    for band, person in enumerate(_BAND_PERSONS):
        digest = blake(sig[band * width : (band + 1) * width], digest_size=8, person=person)
        keys.append(int.from_bytes(digest.digest(), "little", signed=True))
    return keys


_BAND_PERSONS: Final = tuple(b"nw-band%03d" % band for band in range(BANDS))
