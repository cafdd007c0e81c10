"""Bytes to text, refusing what is not text with a reason a person can act on.

Every raw drop passes through here first, so the refusals (empty, binary, too large,
undecodable) are worded as quarantine reasons: they name what was seen, not what failed.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

from daemon.errors import ParseError

DEFAULT_MAX_BYTES = 5_000_000

# Magic numbers of the binary files that most often land in a drop folder by mistake.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "PDF document"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"PK\x03\x04", "ZIP archive (or DOCX/XLSX/ODT)"),
    (b"\x1f\x8b", "gzip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "legacy Office document"),
    (b"\x7fELF", "ELF executable"),
    (b"RIFF", "RIFF media file"),
    (b"\x00\x00\x00", "binary data"),
)

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_DECLARED = re.compile(
    rb"""(?:encoding|charset)\s*=\s*["']?\s*([A-Za-z0-9_.:-]{2,40})""", re.IGNORECASE
)
_CONTROL = frozenset(range(0, 32)) - {9, 10, 12, 13}
_ASCII = bytes(range(128))
# Bytes that are not UTF-8, as ``surrogateescape`` decoding shows them.
_STRAY = re.compile("[\udc80-\udcff]+")
_NON_ASCII_TEXT = re.compile(rb"[^<>]*[\x80-\xff][^<>]*")
_SAMPLE_SCAN, _SAMPLE_BYTES, _MIN_SAMPLE = 2_000_000, 64_000, 16
# How much less plausible than the detector's choice a declared encoding may read and still
# be believed; and how plausible stray runs must read to be given an encoding at all.
_CHAOS_SLACK, _STRAY_CHAOS = 0.02, 0.1


def check_size(data: bytes, max_bytes: int) -> None:
    """Refuse oversized and empty input before any work is spent on it."""
    if len(data) > max_bytes:
        raise ParseError(
            f"file is too large: {len(data):,} bytes, over the limit of {max_bytes:,} bytes"
        )
    if not data:
        raise ParseError("empty file (0 bytes)")


def decode(data: bytes) -> str:
    """Return the text of ``data``; BOM, strict UTF-8, declared charset, then detection.

    Strict UTF-8 comes before a declared charset because a wrong declaration is far more
    common than Latin-1 bytes that happen to form valid UTF-8 sequences.
    """
    _refuse_binary(data)
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _strict(data[len(bom) :], encoding)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = _decode_legacy(data, exc)
    if not text.strip():
        raise ParseError("file holds only whitespace")
    return text


def binary_kind(data: bytes) -> str | None:
    """The kind of binary file ``data`` opens like ("PNG image"), or None."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    return None


def _refuse_binary(data: bytes) -> None:
    head = data[:4096]
    if any(head.startswith(bom) for bom, _ in _BOMS):
        return
    kind = binary_kind(head)
    if kind is not None:
        raise ParseError(f"binary file ({kind}), not an article")
    nul = head.find(b"\x00")
    if nul >= 0:
        raise ParseError(f"binary file (NUL byte at offset {nul})")
    controls = sum(1 for byte in head if byte in _CONTROL)
    if controls > max(8, len(head) // 50):
        raise ParseError(f"binary file ({controls} control bytes in the first {len(head)})")


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"undecodable bytes: the {encoding} byte-order mark is followed by invalid "
            f"{encoding} at offset {exc.start}"
        ) from exc


def _decode_legacy(data: bytes, utf8_error: UnicodeDecodeError) -> str:
    text, _ = read_not_utf8(data, _declared_encoding(data), utf8_error)
    if text is None:
        raise ParseError(
            f"undecodable bytes: not UTF-8 (invalid byte 0x{data[utf8_error.start]:02x} at "
            f"offset {utf8_error.start}) and no known encoding fits"
        )
    return text


def read_not_utf8(
    data: bytes, declared: str | None, utf8_error: UnicodeDecodeError
) -> tuple[str | None, str | None]:
    """The text of bytes that are not valid UTF-8, and what was wrong with them (None when
    they are what they say), or no text when no encoding fits.

    Bytes that are mostly UTF-8 stay UTF-8: a feed or page assembled from several sources
    often carries one entry or a few stray bytes in a legacy code page, and reading the whole
    document in that page would garble every other character. Their stray runs are read in
    the code page they look like when there is enough of them to tell, else replaced.

    Otherwise the declared encoding is trusted only while it reads about as plausibly as the
    best the detector finds: single-byte Cyrillic pages (windows-1251, KOI8-R) decode any
    bytes without error, so a wrong declaration would garble every letter silently.
    """
    loose = data.decode("utf-8", "surrogateescape")
    strays = _STRAY.findall(loose)
    stray_bytes = sum(len(run) for run in strays)
    if len(data.translate(None, _ASCII)) - stray_bytes >= stray_bytes:
        return _mend_utf8(loose, strays, stray_bytes, utf8_error.start)
    sample = _sample(data)
    best = _detect(sample)
    if declared is not None and (as_declared := _decoded(data, declared)) is not None:
        fit = _detect(sample, declared)
        if fit is not None and (best is None or fit[1] <= best[1] + _CHAOS_SLACK):
            return as_declared, None
    if best is None:
        return None, None
    encoding = best[0]
    note = (
        f"document declared as {declared}, but the bytes are {encoding}: read as {encoding}"
        if declared
        else f"document declares no encoding and is not UTF-8: read as {encoding}"
    )
    try:
        return data.decode(encoding), note
    except UnicodeDecodeError as exc:  # past the sample the detector read
        rest = f"{note}; undecodable bytes from offset {exc.start} on replaced"
        return data.decode(encoding, "replace"), rest


def _mend_utf8(loose: str, strays: list[str], stray_bytes: int, first: int) -> tuple[str, str]:
    raw = [run.encode("utf-8", "surrogateescape") for run in strays]
    sample = b" ".join(raw)
    found = _detect(sample) if len(sample) >= _MIN_SAMPLE else None
    encoding = found[0] if found is not None and found[1] <= _STRAY_CHAOS else None
    if encoding is None:
        text = _STRAY.sub("\ufffd", loose)
        how = "replaced with U+FFFD"
    else:
        runs = iter(raw)  # the matches come in findall's order
        text = _STRAY.sub(lambda _: next(runs).decode(encoding, "replace"), loose)
        how = f"read as {encoding}"
    plural = "s" if stray_bytes != 1 else ""
    note = f"{stray_bytes:,} byte{plural} of invalid UTF-8 (the first at offset {first}) {how}"
    return text, note


def _sample(data: bytes) -> bytes:
    """The text between tags that holds non-ASCII bytes, where an encoding shows: a feed or
    page is mostly ASCII markup, which every candidate reads alike."""
    runs = _NON_ASCII_TEXT.findall(data[:_SAMPLE_SCAN])
    return b"\n".join(runs)[:_SAMPLE_BYTES] or data[:_SAMPLE_BYTES]


def _detect(sample: bytes, only: str | None = None) -> tuple[str, float] | None:
    """The encoding the detector finds most plausible (or how plausible ``only`` is), as a
    Python codec name and the detector's chaos (0 reads cleanly, higher reads as noise)."""
    try:
        matches = charset_normalizer.from_bytes(
            sample, cp_isolation=[only] if only is not None else None
        )
    except (LookupError, ValueError):
        return None
    best = matches.best()
    if best is None or best.encoding is None:
        return None
    encoding = best.encoding if only is not None else _prefer_common(best.encoding)
    if not _decodes(sample, encoding):
        encoding = best.encoding
    return codecs.lookup(encoding).name, best.chaos


def _decodes(data: bytes, encoding: str) -> bool:
    return _decoded(data, encoding) is not None


def _decoded(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        return None


def is_utf8(name: str) -> bool:
    return name.lower().replace("-", "").replace("_", "") == "utf8"


def _declared_encoding(data: bytes) -> str | None:
    match = _DECLARED.search(data[:4096])
    if match is None:
        return None
    name = match.group(1).decode("ascii").lower()
    return None if is_utf8(name) else name


def _prefer_common(encoding: str) -> str:
    """Map a detector's rare look-alike code pages to the one real pages use.

    On short texts detectors often pick an exotic sibling (mac_cyrillic, cp1125, latin-1)
    whose letters overlap the common page; the common page is the better bet.
    """
    siblings = {
        "mac_cyrillic": "cp1251",
        "cp1125": "cp1251",
        "cp866": "cp1251",
        "iso8859_5": "cp1251",
        "latin_1": "cp1252",
        "iso8859_15": "cp1252",
    }
    return siblings.get(encoding, encoding)
