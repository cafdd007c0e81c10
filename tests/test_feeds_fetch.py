"""The fetcher against a real local server: validators, encodings, limits, politeness."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import time
import zlib
from collections.abc import AsyncIterator

import brotli
import pytest
from aiohttp import web

from daemon.errors import FetchError
from daemon.feeds.fetch import USER_AGENT, Fetcher, Limits, Validators
from tests.test_feeds_server import (
    FeedServer,
    Handler,
    answer,
    document,
    endless,
    feed_bytes,
    gzip_bomb,
    silent,
)

RSS = feed_bytes("rss2.xml")


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    client = Fetcher(Limits(per_host=4, per_host_delay=0.0, max_size=1_000_000))
    try:
        yield client
    finally:
        await client.close()


async def test_sends_user_agent_with_project_url(server: FeedServer, fetcher: Fetcher) -> None:
    server.routes["/f"] = document(RSS)
    response = await fetcher.fetch(server.url("/f"))
    assert response.status == 200 and response.body == RSS
    agent = server.seen("/f")[0].headers["User-Agent"]
    assert agent == USER_AGENT and "+https://github.com/newswatch/newswatch" in agent


async def test_validators_turn_into_conditional_headers(
    server: FeedServer, fetcher: Fetcher
) -> None:
    server.routes["/f"] = document(RSS, etag='"v1"', last_modified=1_770_000_000)
    first = await fetcher.fetch(server.url("/f"))
    assert first.etag == '"v1"' and first.last_modified is not None
    second = await fetcher.fetch(server.url("/f"), Validators(first.etag, first.last_modified))
    assert second.status == 304 and second.body == b""
    sent = server.seen("/f")[1].headers
    assert sent["If-None-Match"] == '"v1"'
    assert sent["If-Modified-Since"] == first.last_modified


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("gzip", gzip.compress), ("deflate", zlib.compress), ("br", brotli.compress)],
)
async def test_compressed_bodies_arrive_decoded(
    server: FeedServer, fetcher: Fetcher, encoding: str, compress: object
) -> None:
    assert callable(compress)
    body = compress(RSS)

    async def handle(request: web.Request) -> web.Response:
        assert encoding in request.headers["Accept-Encoding"]
        return web.Response(body=body, headers={"Content-Encoding": encoding})

    server.routes["/f"] = handle
    assert (await fetcher.fetch(server.url("/f"))).body == RSS


async def test_permanent_redirect_chain_reports_the_new_address(
    server: FeedServer, fetcher: Fetcher
) -> None:
    server.routes["/old"] = answer(301, {"Location": "/older"})
    server.routes["/older"] = answer(308, {"Location": server.url("/new")})
    server.routes["/new"] = document(RSS)
    response = await fetcher.fetch(server.url("/old"))
    assert response.status == 200 and response.moved_to == server.url("/new")


async def test_temporary_hop_means_the_feed_did_not_move(
    server: FeedServer, fetcher: Fetcher
) -> None:
    server.routes["/old"] = answer(301, {"Location": "/mid"})
    server.routes["/mid"] = answer(302, {"Location": "/new"})
    server.routes["/new"] = document(RSS)
    response = await fetcher.fetch(server.url("/old"))
    assert response.status == 200 and response.moved_to is None


async def test_redirect_loop_stops_at_the_limit(server: FeedServer) -> None:
    server.routes["/a"] = answer(302, {"Location": "/b"})
    server.routes["/b"] = answer(302, {"Location": "/a"})
    client = Fetcher(Limits(per_host_delay=0.0, max_redirects=3))
    try:
        with pytest.raises(FetchError, match="more than 3 redirects"):
            await client.fetch(server.url("/a"))
    finally:
        await client.close()
    assert len(server.requests) == 4


async def fails_after(server: FeedServer, limits: Limits, match: str) -> float:
    """Seconds until fetching ``/f`` under ``limits`` fails with an error matching ``match``."""
    client = Fetcher(limits)
    started = time.monotonic()
    try:
        with pytest.raises(FetchError, match=match):
            await client.fetch(server.url("/f"))
    finally:
        await client.close()
    return time.monotonic() - started


async def test_server_that_never_answers_is_cut_by_the_read_timeout(server: FeedServer) -> None:
    server.routes["/f"] = silent()
    limits = Limits(per_host_delay=0.0, read_timeout=0.5, total_timeout=10.0)
    assert 0.4 < await fails_after(server, limits, r"timed out \(no data for 0.5s\)") < 3.0


def stalls_after(parts: int, pause: float, then: float) -> Handler:
    """Sends ``parts`` pieces of a feed ``pause`` apart, then waits ``then`` seconds and ends."""

    async def handle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        await response.write(b"<?xml version='1.0'?><rss><channel>")
        for _ in range(parts):
            await asyncio.sleep(pause)
            await response.write(b"<item><title>piece</title></item>")
        await asyncio.sleep(then)
        await response.write(b"</channel></rss>")
        await response.write_eof()
        return response

    return handle


async def test_data_coming_steadily_keeps_a_response_alive_past_the_read_timeout(
    server: FeedServer,
) -> None:
    """The read limit is for silence: each piece moves it on, so a slow but steady body
    taking three times the limit arrives whole."""
    server.routes["/f"] = stalls_after(parts=6, pause=0.2, then=0.0)
    client = Fetcher(Limits(per_host_delay=0.0, read_timeout=0.4, total_timeout=10.0))
    started = time.monotonic()
    try:
        response = await client.fetch(server.url("/f"))
    finally:
        await client.close()
    assert time.monotonic() - started > 1.2
    assert response.status == 200 and response.body.count(b"<item>") == 6


async def test_silence_after_the_first_data_is_cut_by_the_read_timeout(
    server: FeedServer,
) -> None:
    server.routes["/f"] = stalls_after(parts=2, pause=0.1, then=3600)
    limits = Limits(per_host_delay=0.0, read_timeout=0.5, total_timeout=10.0)
    assert 0.6 < await fails_after(server, limits, r"timed out \(no data for 0.5s\)") < 3.0


async def test_endless_trickle_is_cut_by_the_total_timeout(server: FeedServer) -> None:
    server.routes["/f"] = endless(b"<item/>", pause=0.05)
    limits = Limits(per_host_delay=0.0, read_timeout=5.0, total_timeout=1.0)
    assert 0.9 < await fails_after(server, limits, r"not complete within 1s") < 3.0


async def test_endless_stream_is_cut_by_the_size_cap(server: FeedServer) -> None:
    server.routes["/f"] = endless(b"<item>" + b"x" * 8000 + b"</item>")
    limits = Limits(per_host_delay=0.0, max_size=200_000, total_timeout=30.0)
    assert await fails_after(server, limits, "over the size limit of 200000 bytes") < 5.0


async def test_declared_oversize_body_is_refused_before_reading(
    server: FeedServer, fetcher: Fetcher
) -> None:
    server.routes["/f"] = document(b"<rss>" + b" " * 2_000_000 + b"</rss>")
    with pytest.raises(FetchError, match="over 1000000 bytes"):
        await fetcher.fetch(server.url("/f"))


async def test_gzip_bomb_is_cut_on_decompressed_size(server: FeedServer) -> None:
    server.routes["/f"] = gzip_bomb(200_000_000)
    await fails_after(server, Limits(per_host_delay=0.0, max_size=2_000_000), "over the size limit")


async def test_connection_refused_is_a_fetch_error(fetcher: Fetcher) -> None:
    with pytest.raises(FetchError):
        await fetcher.fetch("http://127.0.0.1:9/feed")


async def test_an_unreadable_address_is_a_fetch_error_naming_it(fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match=r"not a valid address 'http://\[::1/feed'"):
        await fetcher.fetch("http://[::1/feed")


async def test_parsed_addresses_are_kept_only_up_to_the_cap(
    server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("daemon.feeds.fetch.ADDRESSES", 3)
    for n in range(8):
        server.routes[f"/p{n}"] = document(RSS)
    client = Fetcher(Limits(per_host_delay=0.0))
    try:
        for n in range(8):
            assert (await client.fetch(server.url(f"/p{n}"))).status == 200
        assert 1 <= len(client._addresses) <= 3
    finally:
        await client.close()


async def test_per_host_limit_and_delay_hold_on_the_wire(server: FeedServer) -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.2)
        return web.Response(body=RSS)

    for i in range(8):
        server.routes[f"/f{i}"] = slow
    client = Fetcher(Limits(concurrency=50, per_host=2, per_host_delay=0.05))
    try:
        await asyncio.gather(*(client.fetch(server.url(f"/f{i}")) for i in range(8)))
        await asyncio.gather(*(client.fetch(server.url(f"/f{i}", "localhost")) for i in range(2)))
    finally:
        await client.close()
    assert server.peak["127.0.0.1"] == 2
    starts = sorted(r.started for r in server.requests if r.host == "127.0.0.1")
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # Arrival times carry scheduling noise on a busy machine (seen: 30 ms); the spacing still
    # shows. Without the delay, each pair would arrive together: a gap near zero.
    assert min(gaps) >= 0.01 and starts[-1] - starts[0] >= 7 * 0.05 - 0.02
    assert server.peak["localhost"] >= 1


async def test_global_limit_caps_requests_across_hosts(server: FeedServer) -> None:
    in_flight = peak = 0

    async def slow(request: web.Request) -> web.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.1)
        in_flight -= 1
        return web.Response(body=RSS)

    server.routes["/f"] = slow
    client = Fetcher(Limits(concurrency=3, per_host=10, per_host_delay=0.0))
    try:
        await asyncio.gather(*(client.fetch(server.url("/f")) for _ in range(9)))
    finally:
        await client.close()
    assert peak == 3
