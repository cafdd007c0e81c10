"""Hostile and broken feeds against real local servers: each fault costs its own feed, with
the reason recorded where ``newswatch feeds`` shows it, while a good feed polled in the same
round is stored whole.

Transport faults (bombs, endless or silent servers, redirect loops, oversize bodies) end the
poll as a counted error and the feed is retried after a backoff. Document faults (entity
attacks, external entities, wrong encodings, impossible dates, odd GUIDs) keep every entry
that can be read, with the complaint kept as the feed's last error while it counts as ok.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import signal
import struct
import time
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import func, select

from storage.models import ArticleRow
from tests.support import DaemonProcess, Receiver, toml_str
from tests.test_feeds_rig import FAST_POLLING, Rig, open_rig
from tests.test_feeds_server import (
    FeedServer,
    Handler,
    answer,
    document,
    endless,
    feed_bytes,
    silent,
)

GOOD = feed_bytes("rss2.xml")
GOOD_TITLES = [
    "Ferry service to Pine Island resumes after winter repairs",
    "Town council approves new cycle lanes along the shore road",
]
# Limits small enough that every transport fault ends within a second or two.
TIGHT = (
    FAST_POLLING.replace('read_timeout = "2s"', 'read_timeout = "0.5s"').replace(
        'total_timeout = "5s"', 'total_timeout = "1.5s"'
    )
    + 'max_response_size = "1MB"\nmax_redirects = 3\nerror_backoff = "60s"\n'
)
MB = 1 << 20
MakeRig = Callable[..., AbstractAsyncContextManager[Rig]]


@pytest.fixture
def sqlite_rig(tmp_path: Path, server: FeedServer) -> MakeRig:
    """The poller on a SQLite file, for faults that stop before storage."""

    def make(
        feeds: list[tuple[str, str, str]], polling: str = TIGHT
    ) -> AbstractAsyncContextManager[Rig]:
        url = f"sqlite+aiosqlite:///{tmp_path / 'newswatch.db'}"
        return open_rig(tmp_path, url, server, feeds, polling)

    return make


@pytest.fixture
def any_rig(tmp_path: Path, database_url: str, server: FeedServer) -> MakeRig:
    """The poller on SQLite and on PostgreSQL, for faults whose entries are stored."""

    def make(
        feeds: list[tuple[str, str, str]], polling: str = TIGHT
    ) -> AbstractAsyncContextManager[Rig]:
        return open_rig(tmp_path, database_url, server, feeds, polling)

    return make


def rss(
    items: str | bytes,
    *,
    declaration: bytes = b'<?xml version="1.0" encoding="utf-8"?>\n',
    doctype: bytes = b"",
) -> bytes:
    body = items.encode() if isinstance(items, str) else items
    return (
        declaration
        + doctype
        + b'<rss version="2.0"><channel><title>Harbour Watch</title>'
        + b"<link>http://harbour.example/</link>"
        + body
        + b"</channel></rss>"
    )


def item(title: str, guid: str | None = None, extra: str = "") -> str:
    guid_tag = f"<guid>{guid}</guid>" if guid is not None else ""
    return f"<item><title>{title}</title>{guid_tag}{extra}</item>"


async def titles(rig: Rig, name: str) -> list[str]:
    return [article.title for article in await rig.articles(name)]


async def assert_good_feed_whole(rig: Rig) -> None:
    assert await titles(rig, "good") == GOOD_TITLES
    good = await rig.status("good")
    assert (good.last_status, good.error_count, good.last_error) == ("200", 0, None)


# --- transport faults -----------------------------------------------------------------


@functools.cache
def gzip_bomb_body(gibibytes: int = 1) -> bytes:
    """About 1 MB of gzip that inflates to ``gibibytes`` GiB of XML whitespace, built from one
    fully flushed deflate block repeated, so making it costs a second, not a minute."""
    block = b" " * MB
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = compressor.compress(b"<rss>") + compressor.compress(block)
    head += compressor.flush(zlib.Z_FULL_FLUSH)
    piece = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    blocks = 1024 * gibibytes
    crc = zlib.crc32(b"<rss>")
    for _ in range(blocks):
        crc = zlib.crc32(block, crc)
    size = 5 + blocks * MB
    return head + piece * (blocks - 1) + b"\x03\x00" + struct.pack("<II", crc, size % (1 << 32))


def gzip_bomb() -> Handler:
    body = gzip_bomb_body()

    async def handle(request: web.Request) -> web.Response:
        return web.Response(
            body=body, headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"}
        )

    return handle


def fifty_megabytes(declared: bool) -> Handler:
    """A 50 MB feed streamed from a generator, never held whole by the server; ``declared``
    sends its Content-Length, otherwise it comes chunked."""
    item_bytes = b"<item><title>Filler entry</title><description>" + b"x" * 4000
    item_bytes += b"</description></item>"
    head = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Huge</title>'
    count = (50 * MB - len(head)) // len(item_bytes)
    tail = b"</channel></rss>"
    total = len(head) + count * len(item_bytes) + len(tail)

    async def handle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        if declared:
            response.content_length = total
        await response.prepare(request)
        with contextlib.suppress(ConnectionResetError):  # the client hangs up at its cap
            await response.write(head)
            for _ in range(count):
                await response.write(item_bytes)
            await response.write(tail)
        return response

    return handle


def redirect_loop(here: str, there: str) -> Handler:
    """Serve it at both paths: each sends the client to the other."""

    async def handle(request: web.Request) -> web.Response:
        other = there if request.path == here else here
        return web.Response(status=302, headers={"Location": other})

    return handle


HTML_PAGE = b"""<!doctype html><html lang="en"><head><title>Harbour Watch - Home</title></head>
<body><nav><a href="/">Home</a> <a href="/news">News</a></nav><article><h1>Welcome</h1>
<p>Our feed has moved; this is the front page.</p></article></body></html>"""


def png_image() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + bytes(range(30)) for _ in range(10))
    header = struct.pack(">IIBBBBB", 10, 10, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@dataclass
class SilentPeer:
    """A TCP server that accepts every connection and never reads or writes a byte."""

    port: int = 0
    server: asyncio.Server | None = None
    peers: list[asyncio.StreamWriter] | None = None

    async def start(self) -> SilentPeer:
        self.peers = []

        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            assert self.peers is not None
            self.peers.append(writer)

        self.server = await asyncio.start_server(accept, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        for writer in self.peers or []:
            writer.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@pytest.fixture
async def silent_peer() -> AsyncIterator[SilentPeer]:
    peer = await SilentPeer().start()
    try:
        yield peer
    finally:
        await peer.stop()


@dataclass(frozen=True)
class Transport:
    handler: Callable[[], Handler]
    status: str
    error: str  # a regular expression the recorded error must match


TRANSPORT = {
    "gzip bomb": Transport(
        gzip_bomb, "network", r"^response is over the size limit of 1000000 bytes$"
    ),
    "endless chunked body": Transport(
        lambda: endless(b"<item><title>again</title></item>" * 200),
        "network",
        r"^response is over the size limit of 1000000 bytes$",
    ),
    "endless trickle": Transport(
        lambda: endless(b"<item/>", pause=0.05),
        "network",
        r"^timed out \(not complete within 1.5s\)$",
    ),
    "request read, never answered": Transport(
        silent, "network", r"^timed out \(no data for 0.5s\)$"
    ),
    "redirect loop": Transport(
        lambda: redirect_loop("/bad", "/loop-b"), "network", r"^more than 3 redirects$"
    ),
    "50 MB declared": Transport(
        lambda: fifty_megabytes(declared=True),
        "network",
        r"^response of 524\d{5} bytes is over 1000000 bytes$",
    ),
    "50 MB chunked": Transport(
        lambda: fifty_megabytes(declared=False),
        "network",
        r"^response is over the size limit of 1000000 bytes$",
    ),
    "HTML page": Transport(
        lambda: document(HTML_PAGE, "text/html"),
        "unreadable",
        r"^not a readable feed: an HTML page titled 'Harbour Watch - Home', not a feed \(",
    ),
    "PNG image": Transport(
        lambda: document(png_image(), "image/png"),
        "unreadable",
        r"^not a readable feed: a binary file \(PNG image\), not a feed \(",
    ),
    "empty body": Transport(
        lambda: document(b"", "application/rss+xml"),
        "unreadable",
        r"^not a readable feed: an empty document, not a feed$",
    ),
    "server error": Transport(
        lambda: answer(500, text="boom"), "500", r"^HTTP 500 from http://127\.0\.0\.1:\d+/bad$"
    ),
}


@pytest.mark.parametrize("fault", list(TRANSPORT), ids=list(TRANSPORT))
async def test_a_transport_fault_costs_its_feed_one_counted_error_and_a_retry(
    server: FeedServer, sqlite_rig: MakeRig, fault: str
) -> None:
    case = TRANSPORT[fault]
    server.routes["/bad"] = case.handler()
    server.routes["/loop-b"] = server.routes["/bad"]
    server.routes["/good"] = document(GOOD)
    async with sqlite_rig([("bad", "/bad", ""), ("good", "/good", "")]) as rig:
        started = time.monotonic()
        result = await rig.tick()
        elapsed = time.monotonic() - started
        assert (result.polled, result.failed, result.new) == (2, 1, 2)
        assert elapsed < 5.0, f"{fault} held the round for {elapsed:.1f}s"
        bad = await rig.status("bad")
        assert (bad.last_status, bad.error_count) == (case.status, 1)
        assert bad.last_error is not None and re.search(case.error, bad.last_error), bad.last_error
        assert await rig.articles("bad") == []
        assert await rig.until_due("bad") >= 45  # retried after the backoff, not dropped
        await assert_good_feed_whole(rig)
    if fault == "redirect loop":
        assert len(server.seen("/bad")) + len(server.seen("/loop-b")) == 4


async def test_a_server_that_accepts_and_never_answers_is_cut_by_the_read_timeout(
    server: FeedServer, silent_peer: SilentPeer, tmp_path: Path
) -> None:
    server.routes["/good"] = document(GOOD)
    url = f"sqlite+aiosqlite:///{tmp_path / 'newswatch.db'}"
    feeds = [("good", "/good", ""), ("mute", f"http://127.0.0.1:{silent_peer.port}/feed", "")]
    async with _rig_with_urls(tmp_path, url, server, feeds) as rig:
        started = time.monotonic()
        result = await rig.tick()
        assert time.monotonic() - started < 3.0
        assert (result.polled, result.failed, result.new) == (2, 1, 2)
        mute = await rig.status("mute")
        assert (mute.last_status, mute.last_error) == ("network", "timed out (no data for 0.5s)")
        assert silent_peer.peers, "the connection was made: the peer accepted and kept silent"
        await assert_good_feed_whole(rig)


def _rig_with_urls(
    tmp_path: Path, database_url: str, server: FeedServer, feeds: list[tuple[str, str, str]]
) -> AbstractAsyncContextManager[Rig]:
    """``open_rig`` for feeds given by full address where they are not on ``server``."""
    relative = [(name, where, extra) for name, where, extra in feeds if where.startswith("/")]
    absolute = [(name, where, extra) for name, where, extra in feeds if not where.startswith("/")]
    tables = "".join(
        f"\n[[feeds]]\nname = {toml_str(name)}\nurl = {toml_str(where)}\n{extra}\n"
        for name, where, extra in absolute
    )
    return open_rig(tmp_path, database_url, server, relative, TIGHT + tables)


# --- document faults ------------------------------------------------------------------


def billion_laughs() -> bytes:
    """Ten levels of ten references each: 10^9 "lol"s from a document under 1 KB."""
    levels = ['<!ENTITY lol0 "lol">']
    for n in range(1, 10):
        levels.append(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">')
    doctype = ("<!DOCTYPE rss [\n" + "\n".join(levels) + "\n]>\n").encode()
    return rss(
        item("Harbour bomb &lol9;", "bomb-1") + item("Calm harbour", "calm-1"), doctype=doctype
    )


def quadratic_blowup() -> bytes:
    """One 100 KB entity used 3,000 times: nothing nested, 300 MB once expanded."""
    doctype = b'<!DOCTYPE rss [\n<!ENTITY a "' + b"x" * 100_000 + b'">\n]>\n'
    return rss(
        item("Harbour bomb " + "&a;" * 3000, "bomb-1") + item("Calm harbour", "calm-1"),
        doctype=doctype,
    )


@pytest.mark.parametrize(
    ("attack", "complaint"),
    [
        (
            billion_laughs,
            "entities 'lol1', 'lol2', 'lol3', 'lol4', 'lol5' and 4 more: built of other "
            "entities or markup, not expanded",
        ),
        (
            quadratic_blowup,
            "entities would add 300,000,000 bytes to the document (more than 100,000): "
            "not expanded",
        ),
    ],
    ids=["billion laughs", "quadratic blowup"],
)
async def test_entity_expansion_is_refused_and_the_entries_still_stored(
    server: FeedServer, sqlite_rig: MakeRig, attack: Callable[[], bytes], complaint: str
) -> None:
    server.routes["/bad"] = document(attack())
    server.routes["/good"] = document(GOOD)
    async with sqlite_rig([("bad", "/bad", ""), ("good", "/good", "")]) as rig:
        started = time.monotonic()
        result = await rig.tick()
        assert time.monotonic() - started < 5.0
        assert (result.polled, result.failed, result.new) == (2, 0, 4)
        assert await titles(rig, "bad") == ["Harbour bomb", "Calm harbour"]
        bad = await rig.status("bad")
        assert (bad.last_status, bad.error_count) == ("200", 0)
        assert bad.last_error == complaint
        await assert_good_feed_whole(rig)


SECRET = "NEWSWATCH-SECRET-7f3a: the harbour master's keys are under the mat"


async def test_external_entities_are_never_read_nor_fetched(
    server: FeedServer, sqlite_rig: MakeRig, tmp_path: Path
) -> None:
    """XXE: entities naming a local file and a local address, a parameter entity pulling an
    external DTD, and the document's own external DTD. The file's content must reach no
    stored article (nor the database file), and no address is ever requested."""
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    server.routes["/leak"] = document(SECRET.encode(), "text/plain")
    server.routes["/evil.dtd"] = document(b'<!ENTITY dtdleak "' + SECRET.encode() + b'">')
    doctype = (
        f'<!DOCTYPE rss SYSTEM "{server.url("/evil.dtd")}" [\n'
        f'<!ENTITY xxe SYSTEM "file://{secret}">\n'
        f'<!ENTITY remote SYSTEM "{server.url("/leak")}">\n'
        f'<!ENTITY % pe SYSTEM "{server.url("/evil.dtd")}">\n'
        "%pe;\n]>\n"
    ).encode()
    items = (
        item("Keys: &xxe;", "leak-1", "<description>Found &xxe; and &remote;</description>")
        + item("Dtd &dtdleak; entry", "leak-2")
        + item("Calm harbour", "calm-1")
    )
    server.routes["/bad"] = document(rss(items, doctype=doctype))
    server.routes["/good"] = document(GOOD)
    async with sqlite_rig([("bad", "/bad", ""), ("good", "/good", "")]) as rig:
        result = await rig.tick()
        assert (result.polled, result.failed, result.new) == (2, 0, 5)
        stored = await rig.articles("bad")
        assert [a.title for a in stored] == ["Keys:", "Dtd &dtdleak; entry", "Calm harbour"]
        assert stored[0].body == ["Found and"]
        bad = await rig.status("bad")
        assert (bad.last_status, bad.error_count) == ("200", 0)
        assert bad.last_error is not None
        assert bad.last_error.startswith(
            "entities 'xxe', 'remote': external (a file or address), not read; "
            "entity 'pe': a parameter entity or an odd name, ignored; "
            "SAXParseException: "
        )
        assert bad.last_error.endswith(": undefined entity")  # &dtdleak;, declared nowhere
        await assert_good_feed_whole(rig)
        everything = repr([vars(a) for a in await rig.articles("bad") + await rig.articles("good")])
    assert "NEWSWATCH-SECRET" not in everything
    assert b"NEWSWATCH-SECRET" not in database_bytes(tmp_path)
    assert server.seen("/leak") == [] and server.seen("/evil.dtd") == []


def database_bytes(folder: Path) -> bytes:
    """The SQLite database with its write-ahead log, as stored on disk."""
    return b"".join(part.read_bytes() for part in sorted(folder.glob("newswatch.db*")))


RUSSIAN = [
    "Обстрел Харькова: пострадали двое жителей",
    "В Киеве открыли новую станцию метро",
    "Жители Одессы расчищают улицы после шторма",
]


def russian_feed(declared: str, actual: str) -> bytes:
    entries = "".join(
        item(title, f"ru-{n}", f"<description>{title}. Подробности события в городе.</description>")
        for n, title in enumerate(RUSSIAN)
    )
    head = f'<?xml version="1.0" encoding="{declared}"?>\n'.encode()
    return rss(entries.encode(actual), declaration=head)


@pytest.mark.parametrize(
    ("declared", "actual", "complaint"),
    [
        (
            "utf-8",
            "cp1251",
            "CharacterEncodingOverride: document declared as utf-8, but the bytes are cp1251: "
            "read as cp1251",
        ),
        (
            "koi8-r",
            "cp1251",
            "CharacterEncodingOverride: document declared as koi8-r, but the bytes are cp1251: "
            "read as cp1251",
        ),
        (
            "windows-1251",
            "koi8-r",
            "CharacterEncodingOverride: document declared as windows-1251, but the bytes are "
            "koi8-r: read as koi8-r",
        ),
        (
            "koi8-r",
            "utf-8",
            "CharacterEncodingOverride: document declared as koi8-r, but the bytes are UTF-8: "
            "read as UTF-8",
        ),
        ("koi8-r", "koi8-r", None),
        ("windows-1251", "cp1251", None),
    ],
    ids=lambda value: "silent" if value is None else value if len(value) < 15 else "told",
)
async def test_a_wrong_declared_encoding_still_gives_readable_entries(
    server: FeedServer, any_rig: MakeRig, declared: str, actual: str, complaint: str | None
) -> None:
    """A Cyrillic code page decodes any bytes, so believing a wrong declaration garbles every
    letter without an error; the bytes decide, and the mismatch is the feed's complaint."""
    server.routes["/ru"] = document(russian_feed(declared, actual))
    server.routes["/good"] = document(GOOD)
    async with any_rig([("ru", "/ru", ""), ("good", "/good", "")]) as rig:
        assert (await rig.tick()).new == 5
        stored = await rig.articles("ru")
        assert [a.title for a in stored] == RUSSIAN
        assert stored[0].lead == f"{RUSSIAN[0]}. Подробности события в городе."
        assert {a.language for a in stored} == {"ru"}
        status = await rig.status("ru")
        assert (status.last_status, status.error_count, status.last_error) == (
            "200",
            0,
            complaint,
        )
        await assert_good_feed_whole(rig)


async def test_invalid_utf8_bytes_cost_only_those_bytes(
    server: FeedServer, any_rig: MakeRig
) -> None:
    """A UTF-8 feed with one stray byte pair, and one with an entry pasted in from a
    windows-1251 system: the rest stays UTF-8 (read whole as a legacy page, every letter
    was garbled); the stray pair is replaced, the pasted entry read in its own code page."""
    stray = item(RUSSIAN[0], "ru-0").encode() + item(
        "Broken \udcff\udcfe byte in Одесса", "ru-1"
    ).encode("utf-8", "surrogateescape")
    pasted = item(RUSSIAN[0], "ru-0").encode() + item(
        RUSSIAN[1], "ru-2", f"<description>{RUSSIAN[2]}</description>"
    ).encode("cp1251")
    server.routes["/stray"] = document(rss(stray))
    server.routes["/pasted"] = document(rss(pasted))
    async with any_rig([("stray", "/stray", ""), ("pasted", "/pasted", "")]) as rig:
        assert (await rig.tick()).new == 4
        assert await titles(rig, "stray") == [RUSSIAN[0], "Broken \ufffd byte in Одесса"]
        offset = rss(stray).index(bytes([0xFF]))
        assert (await rig.status("stray")).last_error == (
            f"CharacterEncodingOverride: 2 bytes of invalid UTF-8 (the first at offset "
            f"{offset}) replaced with U+FFFD"
        )
        pasted_rows = await rig.articles("pasted")
        assert [a.title for a in pasted_rows] == RUSSIAN[:2]
        assert pasted_rows[1].lead == RUSSIAN[2]
        status = await rig.status("pasted")
        assert status.error_count == 0 and status.last_error is not None
        assert re.fullmatch(
            r"CharacterEncodingOverride: \d+ bytes of invalid UTF-8 \(the first at offset \d+\) "
            r"read as cp1251",
            status.last_error,
        ), status.last_error


async def test_impossible_dates_cost_the_entry_its_date_not_its_place(
    server: FeedServer, any_rig: MakeRig
) -> None:
    """Hour 25, minute 61, 30 February: no guess (feedparser would roll 25:61 into the next
    day); the entry is stored without a date, and its neighbours keep theirs."""
    dates = {
        "Hour twenty-five": "Sun, 01 Mar 2026 25:10:00 GMT",
        "Minute sixty-one": "Sun, 01 Mar 2026 10:61:00 GMT",
        "Thirtieth of February": "Mon, 30 Feb 2026 10:00:00 GMT",
        "ISO hour twenty-five": "2026-03-01T25:61:00Z",
        "A real date": "Mon, 02 Mar 2026 09:30:00 +0200",
    }
    entries = "".join(
        item(title, f"d-{n}", f"<pubDate>{when}</pubDate>")
        for n, (title, when) in enumerate(dates.items())
    )
    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom desk</title>'
        b"<entry><title>Atom hour twenty-five</title><id>a-1</id>"
        b"<updated>2026-03-01T25:00:00Z</updated></entry>"
        b"<entry><title>Atom real date</title><id>a-2</id>"
        b"<updated>2026-03-01T10:00:00Z</updated></entry></feed>"
    )
    server.routes["/rss"] = document(rss(entries))
    server.routes["/atom"] = document(atom, "application/atom+xml")
    async with any_rig([("rss", "/rss", ""), ("atom", "/atom", "")]) as rig:
        result = await rig.tick()
        assert (result.failed, result.new) == (0, 7)
        published = {a.title: a.published for a in await rig.articles("rss")}
        published |= {a.title: a.published for a in await rig.articles("atom")}
    assert set(published) == {*dates, "Atom hour twenty-five", "Atom real date"}
    as_utc = {title: when and when.replace(tzinfo=UTC) for title, when in published.items()}
    assert as_utc.pop("A real date") == datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    assert as_utc.pop("Atom real date") == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert as_utc == dict.fromkeys(as_utc)


async def test_empty_and_repeated_guids(server: FeedServer, any_rig: MakeRig) -> None:
    """Empty GUIDs fall back to the link, then to the title and text, so distinct entries
    stay distinct. A GUID listed twice in one document is one entry: the first listed (the
    newest, in feed order) is stored, the repeat is named in the feed's complaint, and the
    next poll stores nothing again."""
    entries = "".join(
        [
            item("Empty guid with a link", "", "<link>http://harbour.example/a</link>"),
            item("Blank guid with a link", "   ", "<link>http://harbour.example/b</link>"),
            "<item><title>Self-closed guid, no link</title><guid/></item>",
            "<item><title>No guid at all</title><description>Only text.</description></item>",
            item("First under dup-1", "dup-1"),
            item("Second under dup-1", "dup-1"),
            item("Listed twice exactly", "twice"),
            item("Listed twice exactly", "twice"),
        ]
    )
    server.routes["/f"] = document(rss(entries))
    async with any_rig([("desk", "/f", "")]) as rig:
        assert (await rig.tick()).new == 6
        expected = [
            "Empty guid with a link",
            "Blank guid with a link",
            "Self-closed guid, no link",
            "No guid at all",
            "First under dup-1",
            "Listed twice exactly",
        ]
        assert await titles(rig, "desk") == expected
        status = await rig.status("desk")
        assert status.last_error == (
            "2 entries repeat the GUID of an earlier entry, only the first kept: 'dup-1', 'twice'"
        )
        server.routes["/f"] = document(rss(entries + "<!-- rebuilt -->"))
        await rig.until_due("desk")
        assert (await rig.tick()).new == 0
        assert await titles(rig, "desk") == expected


@pytest.mark.slow
async def test_ten_thousand_entries_in_one_feed_are_stored_once(
    server: FeedServer, sqlite_rig: MakeRig
) -> None:
    """On SQLite only: storing 10,000 new articles with their story placement takes most of
    a minute on a busy two-core machine, and PostgreSQL stores them by the same code."""
    entries = "".join(
        item(
            f"Harbour notice {n}: berth {n % 97} reassigned",
            f"notice-{n}",
            f"<description>Berth {n % 97} goes to vessel {n} from Monday.</description>",
        )
        for n in range(10_000)
    )
    body = rss(entries)
    server.routes["/big"] = document(body)
    server.routes["/good"] = document(GOOD)
    async with sqlite_rig([("big", "/big", ""), ("good", "/good", "")], FAST_POLLING) as rig:
        result = await rig.tick()
        assert (result.failed, result.new) == (0, 10_002)
        status = await rig.status("big")
        assert (status.last_status, status.items_seen, status.last_error) == ("200", 10_000, None)
        server.routes["/big"] = document(body + b"\n")  # new bytes, the same entries
        await rig.until_due("big")
        assert (await rig.tick()).new == 0
        async with rig.runtime.sessions() as session:
            keys = select(func.count(func.distinct(ArticleRow.item_key)), func.count())
            distinct, total = (await session.execute(keys)).one()
        assert distinct == total == 10_002
        await assert_good_feed_whole(rig)


# --- the daemon beside all of them ----------------------------------------------------


def memory_kib(pid: int, field: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (the peak so far) of a process, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    match = re.search(rf"^{field}:\s+(\d+) kB$", status, re.M)
    assert match is not None, status
    return int(match.group(1))


HOSTILE = {
    "bomb": (gzip_bomb, "error=response is over the size limit of 2000000 bytes"),
    "huge-declared": (
        lambda: fifty_megabytes(declared=True),
        "error=response of 524",
    ),
    "huge-chunked": (
        lambda: fifty_megabytes(declared=False),
        "error=response is over the size limit of 2000000 bytes",
    ),
    "endless": (
        lambda: endless(b"<item><title>again</title></item>" * 200),
        "error=response is over the size limit of 2000000 bytes",
    ),
    "hang": (silent, "error=timed out (no data for 1s)"),
    "loop": (lambda: redirect_loop("/loop", "/loop-b"), "error=more than 5 redirects"),
    "page": (lambda: document(HTML_PAGE, "text/html"), "error=not a readable feed: an HTML page"),
    "image": (lambda: document(png_image(), "image/png"), "error=not a readable feed: a binary"),
    "laughs": (lambda: document(billion_laughs()), None),
}


@pytest.mark.slow
async def test_the_daemon_alerts_on_a_good_feed_beside_hostile_ones_in_flat_memory(
    tmp_path: Path, server: FeedServer, receiver: Receiver
) -> None:
    """``newswatch run`` polls a good feed beside every hostile one at once: the good feed's
    alert arrives, each bad feed's failure is logged naming it and its reason, and the
    daemon's peak memory stays within a few MB of the size cap (a body held whole would
    cost 50 MB, the bomb 1 GB)."""
    tables = ""
    for name, (handler, _) in HOSTILE.items():
        server.routes[f"/{name}"] = handler()
        tables += f'\n[[feeds]]\nname = "{name}"\nurl = {toml_str(server.url(f"/{name}"))}\n'
    server.routes["/loop-b"] = server.routes["/loop"]
    server.routes["/good"] = document(GOOD)
    settings = tmp_path / "settings.toml"
    settings.write_text(
        f"""
[daemon]
database = {toml_str(f"sqlite+aiosqlite:///{tmp_path / 'newswatch.db'}")}
delivery_interval = "0.5s"

[polling]
tick = "0.3s"
per_host_delay = "0s"
parse_processes = 0
read_timeout = "1s"
total_timeout = "3s"
max_response_size = "2MB"

[[feeds]]
name = "good"
url = {toml_str(server.url("/good"))}
{tables}
[[rules]]
name = "Ferries"
keywords = ["ferry"]
channels = ["desk"]

[channels.desk]
type = "webhook"
url = {toml_str(receiver.url)}
""",
        encoding="utf-8",
    )
    daemon = await DaemonProcess(settings).start()
    try:
        assert daemon.proc is not None
        baseline = memory_kib(daemon.proc.pid, "VmRSS")
        [alert] = await receiver.wait_for(1, within=30)
        assert alert.json()["article"]["title"] == GOOD_TITLES[0]
        for name, (_, reason) in HOSTILE.items():
            if reason is None:
                continue
            await daemon.wait_log(
                lambda line, name=name, reason=reason: (
                    f"poll failed source={name} " in line and reason in line
                ),
                within=30,
            )
        await daemon.wait_log(lambda line: "polled source=laughs status=200 entries=2" in line)
        peak = memory_kib(daemon.proc.pid, "VmHWM")
    finally:
        code = await daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.log()
    assert len(receiver.requests) == 1
    assert "Traceback" not in daemon.log()
    grown = (peak - baseline) / 1024
    assert grown < 40, f"peak memory grew {grown:.0f} MB over {baseline / 1024:.0f} MB"
    print(f"daemon memory: {baseline / 1024:.0f} MB at start, peak {peak / 1024:.0f} MB")
