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


def _refuse_binary(data: bytes) -> None:
    head = data[:4096]
    if any(head.startswith(bom) for bom, _ in _BOMS):
        return
    for magic, kind in _MAGIC:
        if head.startswith(magic):
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
    declared = _declared_encoding(data)
    if declared:
        try:
            return data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    best = charset_normalizer.from_bytes(data[:200_000]).best()
    if best is None or best.encoding is None:
        raise ParseError(
            f"undecodable bytes: not UTF-8 (invalid byte 0x{data[utf8_error.start]:02x} at "
            f"offset {utf8_error.start}) and no known encoding fits"
        )
    encoding = _prefer_common(best.encoding)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return data.decode(best.encoding)


def _declared_encoding(data: bytes) -> str | None:
    match = _DECLARED.search(data[:4096])
    if match is None:
        return None
    name = match.group(1).decode("ascii").lower()
    return None if name.replace("-", "").replace("_", "") == "utf8" else name


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
