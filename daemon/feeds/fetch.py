"""Getting a feed's bytes politely: one shared aiohttp session, conditional requests, limits.

Politeness is enforced here, for every request the daemon makes to a publisher (feeds and
full-text pages alike): at most ``per_host`` requests in flight to one host, ``per_host_delay``
between their starts, and at most ``concurrency`` requests overall, all kept by one ``Gate`` so
requests queued behind a slow host never hold up the others.

Redirects are followed by hand so each hop is rate-limited too and we know whether every hop
was permanent (then the caller moves the feed). The size cap counts decompressed bytes as they
stream in, so neither an endless body nor a gzip bomb can exhaust memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import aiohttp
from yarl import URL

from daemon import __version__
from daemon.errors import FetchError
from daemon.feeds.gate import Gate
from daemon.settings import PollingSettings

USER_AGENT = f"newswatch/{__version__} (+https://github.com/newswatch/newswatch)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9,"
    " application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT = frozenset({301, 308})
CHUNK = 64 * 1024
# Parsed addresses kept for the next poll (see ``Fetcher._address``); past this many (a
# full-text crawl's pages), the cache starts over.
ADDRESSES = 65_536


@dataclass(frozen=True, slots=True)
class Limits:
    concurrency: int = 64
    per_host: int = 2
    per_host_delay: float = 1.0
    max_size: int = 10_000_000
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 60.0
    max_redirects: int = 5

    @classmethod
    def from_settings(cls, polling: PollingSettings) -> Limits:
        return cls(
            concurrency=polling.concurrency,
            per_host=polling.per_host_concurrency,
            per_host_delay=polling.per_host_delay,
            max_size=polling.max_response_size,
            connect_timeout=polling.connect_timeout,
            read_timeout=polling.read_timeout,
            total_timeout=polling.total_timeout,
            max_redirects=polling.max_redirects,
        )


@dataclass(frozen=True, slots=True)
class Validators:
    """What the server told us last time, sent back so an unchanged feed costs a 304."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        found = {"If-None-Match": self.etag, "If-Modified-Since": self.last_modified}
        return {k: v for k, v in found.items() if v}


@dataclass(slots=True)
class Response:
    status: int
    url: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    moved_to: str | None = None

    @property
    def etag(self) -> str | None:
        return self.headers.get("ETag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("Last-Modified")


_KEPT_HEADERS = ("ETag", "Last-Modified", "Cache-Control", "Retry-After", "Content-Type")


class Fetcher:
    """The one HTTP client of the poller; ``close`` it when done."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.gate = Gate(limits.concurrency, limits.per_host, limits.per_host_delay)
        self._session: aiohttp.ClientSession | None = None
        self._addresses: dict[str, URL] = {}

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300),
                # Read and total limits are kept by one timer per request (see ``_one``).
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.limits.connect_timeout),
                headers={
                    "User-Agent": USER_AGENT,
                    "Accept": ACCEPT,
                    "Accept-Encoding": "gzip, deflate, br",
                },
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(
        self,
        url: str,
        validators: Validators | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """One document, following redirects; raises FetchError for anything but an answer."""
        sent = {**(validators.headers() if validators else {}), **(headers or {})}
        permanent = True
        for hop in range(self.limits.max_redirects + 1):
            response = await self._one(url, sent)
            if response.status not in REDIRECTS:
                if hop and permanent:
                    response.moved_to = url
                return response
            target = response.headers.get("Location")
            if not target:
                raise FetchError(f"HTTP {response.status} redirect without a Location")
            permanent = permanent and response.status in PERMANENT
            url = urljoin(response.url, target)
            if urlsplit(url).scheme not in ("http", "https"):
                raise FetchError(f"redirect to a non-HTTP address {url!r}")
        raise FetchError(f"more than {self.limits.max_redirects} redirects")

    async def _one(self, url: str, headers: Mapping[str, str]) -> Response:
        """One request under one timer for both the read and the total limit: aiohttp's own
        read timeout re-arms a timer on every packet, three timers for a 304 where this needs
        one. The deadline is the read limit from now, moved on as data comes, never past the
        total limit."""
        try:
            address = self._address(url)
        except ValueError as exc:
            raise FetchError(f"not a valid address {url!r}: {exc}") from exc
        host = await self.gate.enter(address.raw_host or "")
        deadline = _Deadline(asyncio.get_running_loop(), self.limits)
        try:
            async with asyncio.timeout_at(deadline.start()) as deadline.timer:
                return await self._request(url, address, headers, deadline)
        except TimeoutError as exc:
            raise FetchError(f"timed out ({deadline.hint(exc)})") from exc
        except aiohttp.ClientError as exc:
            raise FetchError(f"{type(exc).__name__}: {exc}") from exc
        except (OSError, ValueError) as exc:
            raise FetchError(f"cannot connect: {exc}") from exc
        finally:
            self.gate.leave(host)

    def _address(self, url: str) -> URL:
        """The parsed address, the same object every poll: yarl's own cache holds 128, so at
        thousands of feeds each request parsed its URL again, and aiohttp reads a dozen
        properties of it that the object keeps once worked out."""
        address = self._addresses.get(url)
        if address is None:
            if len(self._addresses) >= ADDRESSES:
                self._addresses.clear()
            address = self._addresses[url] = URL(url)
        return address

    async def _request(
        self, url: str, address: URL, headers: Mapping[str, str], deadline: _Deadline
    ) -> Response:
        """Redirects are not followed here, so the answer comes from ``url`` itself."""
        async with self._client().get(address, headers=headers, allow_redirects=False) as resp:
            kept = {name: resp.headers[name] for name in _KEPT_HEADERS if name in resp.headers}
            if "Location" in resp.headers:
                kept["Location"] = resp.headers["Location"]
            result = Response(resp.status, url, headers=kept)
            if 200 <= resp.status < 300:
                result.body = await self._read(resp, deadline)
            return result

    async def _read(self, resp: aiohttp.ClientResponse, deadline: _Deadline) -> bytes:
        limit = self.limits.max_size
        if resp.content_length is not None and resp.content_length > limit and not _encoded(resp):
            raise FetchError(f"response of {resp.content_length} bytes is over {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        deadline.data_came()  # the headers were data too
        async for chunk in resp.content.iter_chunked(CHUNK):
            deadline.data_came()
            size += len(chunk)
            if size > limit:
                raise FetchError(f"response is over the size limit of {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


@dataclass(slots=True)
class _Deadline:
    """A request's one timer: the read limit from the last data, never past the total limit."""

    loop: asyncio.AbstractEventLoop
    limits: Limits
    ends: float = 0.0  # the total limit, in loop time
    timer: asyncio.Timeout | None = None

    def start(self) -> float:
        """The first deadline; the total limit counts from here (not from a wait for a slot)."""
        now = self.loop.time()
        self.ends = now + self.limits.total_timeout
        return min(self.ends, now + self.limits.read_timeout)

    def data_came(self) -> None:
        assert self.timer is not None, "data before the request started"
        self.timer.reschedule(min(self.ends, self.loop.time() + self.limits.read_timeout))

    def hint(self, exc: BaseException) -> str:
        """Which limit a timeout was: aiohttp keeps the connect one, this timer the others."""
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            return f"no connection within {self.limits.connect_timeout:g}s"
        if self.loop.time() < self.ends:
            return f"no data for {self.limits.read_timeout:g}s"
        return f"not complete within {self.limits.total_timeout:g}s"


def _encoded(resp: aiohttp.ClientResponse) -> bool:
    return bool(resp.headers.get("Content-Encoding"))
