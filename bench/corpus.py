"""Build ``.corpora/`` from a local snapshot of trafilatura's evaluation pages, with text dumps.

    .venv/bin/python bench/corpus.py                         # everything, incrementally
    .venv/bin/python bench/corpus.py --limit 20 --renderers w3m
    .venv/bin/python bench/corpus.py --force --renderers chromium

The pages and their annotations (``tests/evaldata.json``: strings that belong to the main text
and strings that do not) come from a bare git snapshot of adbar/trafilatura, read with ``git``
and never copied into this repository. Each page is then dumped to plain text the way a user
would get it (select-all and copy in Chromium, ``w3m -dump``, inscriptis), because the daemon
is fed such dumps as well as HTML, and the annotations let a bench score both.

Nothing may leave the machine, yet the saved pages reference scripts, fonts and trackers
everywhere. So the run re-executes itself in a network namespace that has only loopback (where
``unshare`` is allowed), and inside it Chromium is still confined by host-resolver rules, a dead
proxy and DevTools URL blocking (only ``file://`` loads), and w3m by the same dead proxy with
images, frames and meta-refresh off. The external requests pages attempt are counted and shown.

A dump already on disk is kept unless ``--force``; a page whose bytes changed in the snapshot
loses its dumps. The layout (pages, ``dumps/<renderer>/<stem>.txt``, ``labels.jsonl``) is read
by other bench scripts through ``bench/corpora.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import contextlib
import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from charset_normalizer import from_bytes
from lxml import etree
from lxml import html as lxml_html

from bench.corpora import CORPORA, LABELS, RENDERERS, ROOT, dump_path, page_path, split_of

DEFAULT_GIT = ROOT.parent / ".mirror" / "adbar+trafilatura" / "repo"
SNAPSHOT_DIRS = ("tests/cache", "tests/eval")  # trafilatura's own lookup order for a page

VIEWPORT = (1280, 2000)
TABS = 2
LOAD_SECONDS = 5.0
SETTLE_SECONDS = 0.25
CDP_SECONDS = 15.0
W3M_SECONDS = 30.0
PROGRESS_EVERY = 50
INNER_TEXT = "({href: location.href, text: document.body ? document.body.innerText : ''})"
BLOCKED = ["http://*", "https://*", "ws://*", "wss://*"]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
DEAD_PROXY = "127.0.0.1:9"
NETNS_MARK = "BENCH_CORPUS_NETNS"
CHROMIUM_FLAGS = [
    "--headless=new",
    "--remote-debugging-port=0",
    "--no-sandbox",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
    f"--proxy-server={DEAD_PROXY}",
    "--proxy-bypass-list=<-loopback>",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--metrics-recording-only",
    "--disable-domain-reliability",
    "--no-pings",
    "--disable-quic",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--disable-features=MediaRouter,DialMediaRouteProvider,OptimizationHints,Translate",
    "--disable-breakpad",
    "--mute-audio",
    "--hide-scrollbars",
    f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}",
]
W3M_OPTIONS = (
    "use_proxy=1",
    f"http_proxy=http://{DEAD_PROXY}/",
    f"https_proxy=http://{DEAD_PROXY}/",
    f"ftp_proxy=http://{DEAD_PROXY}/",
    "no_proxy=",
    "frame=0",
    "meta_refresh=0",
    "auto_image=0",
    "display_image=0",
)
W3M_FLAGS = [
    *("-dump", "-T", "text/html", "-cols", "200", "-I", "UTF-8", "-O", "UTF-8", "-no-cookie"),
    *(arg for option in W3M_OPTIONS for arg in ("-o", option)),
]
SEPARATORS = (" - ", " | ", " – ", " — ", ": ", " :: ", " · ", " • ", " » ", " / ")
META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([-\w:.]+)", re.IGNORECASE)
BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# browsers decode these labels with a superset, and so must we to see the same characters
WHATWG_SUPERSETS = {
    "iso8859-1": "cp1252",
    "ascii": "cp1252",
    "iso8859-9": "cp1254",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "tis-620": "cp874",
    "euc_kr": "cp949",
    "shift_jis": "cp932",
}


class RenderError(Exception):
    """A page this renderer could not turn into text; the reason is what the summary groups by."""


@dataclass(frozen=True)
class Page:
    file: str
    url: str
    annotations: dict[str, Any]
    blob: str

    @property
    def stem(self) -> str:
        return Path(self.file).stem

    @property
    def path(self) -> Path:
        return page_path(self.file)


@dataclass
class Tally:
    """What one renderer did this run, so a partial or unlucky run is visible at the end."""

    name: str
    rendered: int = 0
    kept: int = 0
    empty: int = 0
    failed: dict[str, list[str]] = field(default_factory=dict)
    seconds: float = 0.0

    def fail(self, file: str, reason: str) -> None:
        self.failed.setdefault(reason, []).append(file)
        print(f"  {self.name}: {file}: {reason}", flush=True)

    @property
    def failures(self) -> int:
        return sum(len(files) for files in self.failed.values())


# ---------------------------------------------------------------- snapshot


def git(git_dir: Path, *args: str, stdin: bytes | None = None) -> bytes:
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", *args], input=stdin, capture_output=True, check=True
    ).stdout


def check_snapshot(git_dir: Path | None) -> Path:
    """The snapshot's git dir, or an exit that tells how to get one (it is not ours to ship)."""
    how = (
        "Get a snapshot of the public repository adbar/trafilatura as a bare git dir, e.g.\n"
        "  git clone --bare https://github.com/adbar/trafilatura \\\n"
        "      ../.mirror/adbar+trafilatura/repo\n"
        "(relative to the project root, where it is found by default), or pass\n"
        "  --trafilatura-git PATH"
    )
    if git_dir is None:
        sys.exit(f"no trafilatura snapshot at {DEFAULT_GIT}.\n{how}")
    try:
        git(git_dir, "cat-file", "-e", "HEAD:tests/evaldata.json")
    except (subprocess.CalledProcessError, FileNotFoundError):
        sys.exit(f"{git_dir} is no git dir of adbar/trafilatura with tests/evaldata.json.\n{how}")
    return git_dir


def tree_blobs(git_dir: Path) -> dict[str, str]:
    """File name to blob id, a name in ``tests/cache`` winning over ``tests/eval`` as upstream."""
    blobs: dict[str, str] = {}
    for folder in reversed(SNAPSHOT_DIRS):
        listing = git(git_dir, "ls-tree", "-z", "HEAD", f"{folder}/")
        for entry in filter(None, listing.split(b"\0")):
            meta, path = entry.split(b"\t", 1)
            if meta.split()[1] == b"blob":
                blobs[path.decode().rsplit("/", 1)[1]] = meta.split()[2].decode()
    return blobs


def read_blobs(git_dir: Path, oids: list[str]) -> Iterator[bytes | None]:
    """Blob contents in order, from one ``git cat-file`` rather than a process per page."""
    out = git(git_dir, "cat-file", "--batch", stdin="".join(f"{o}\n" for o in oids).encode())
    pos = 0
    for _ in oids:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        if header[-1] == b"missing":
            pos = end + 1
            yield None
            continue
        size = int(header[2])
        yield out[end + 1 : end + 1 + size]
        pos = end + 2 + size


def load_pages(git_dir: Path) -> tuple[list[Page], list[str]]:
    """The annotated pages present in the snapshot, sorted by file, and the files it lacks."""
    evaldata: dict[str, dict[str, Any]] = json.loads(
        git(git_dir, "show", "HEAD:tests/evaldata.json")
    )
    blobs = tree_blobs(git_dir)
    pages = sorted(
        (
            Page(item["file"], url, item, blobs[item["file"]])
            for url, item in evaldata.items()
            if item["file"] in blobs
        ),
        key=lambda page: page.file,
    )
    missing = sorted(item["file"] for item in evaldata.values() if item["file"] not in blobs)
    return pages, missing


def unpack(data: bytes) -> bytes:
    if data[:2] == b"\x1f\x8b":
        with contextlib.suppress(OSError, EOFError):
            return gzip.decompress(data)
    return data


def sync_pages(git_dir: Path, pages: list[Page]) -> int:
    """Write pages whose bytes differ from the snapshot; their old dumps describe other bytes."""
    changed = 0
    for page, data in zip(pages, read_blobs(git_dir, [p.blob for p in pages]), strict=True):
        if data is None:
            continue
        data = unpack(data)
        if page.path.is_file() and page.path.read_bytes() == data:
            continue
        write_atomic(page.path, data)
        for renderer in RENDERERS:
            dump_path(renderer, page.stem).unlink(missing_ok=True)
        changed += 1
    return changed


def write_atomic(path: Path, data: bytes) -> None:
    """A dump cut short by Ctrl-C must not pass for a finished one on the next run."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_bytes(data)
    tmp.replace(path)


# ---------------------------------------------------------------- decoding


def codec_of(label: str) -> str | None:
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return WHATWG_SUPERSETS.get(name, name)


def charset_of(data: bytes) -> str:
    """BOM, then the declared charset, then valid UTF-8, then charset-normalizer's guess."""
    for bom, name in BOMS:
        if data.startswith(bom):
            return name
    match = META_CHARSET.search(data, 0, 100_000)
    if match and (declared := codec_of(match.group(1).decode("ascii", "replace"))):
        return declared
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        guess = from_bytes(data).best()
        if guess is not None:
            return codec_of(guess.encoding) or "utf-8"
    return "utf-8"


def decode_page(data: bytes) -> str:
    """Text as a browser would see it: stray bytes become U+FFFD instead of failing the page."""
    return data.decode(charset_of(data), "replace")


# ---------------------------------------------------------------- headline truth


def collapse(text: str) -> str:
    return " ".join(text.split())


def titles_agree(og_title: str, h1: str) -> bool:
    """Equal, or one is the other plus a separator and more (a site name, a subtitle), compared
    case-folded. Only a shared start counts: the tail is where the site name goes, so a match
    there would as often vouch for an ``<h1>`` holding just the site name."""
    a, b = og_title.casefold(), h1.casefold()
    short, long = sorted((a, b), key=len)
    return short == long or any(long.startswith(short + sep) for sep in SEPARATORS)


def og_property(doc: lxml_html.HtmlElement, name: str) -> str:
    return next(
        (
            collapse(m.get("content", ""))
            for m in doc.iter("meta")
            if m.get("property", "").strip().lower() == name
        ),
        "",
    )


def headline_of(data: bytes) -> str | None:
    """The ``<h1>`` where ``og:title`` vouches for it, since either alone often names the site
    or a section; an ``<h1>`` that is ``og:site_name`` is no headline even when they agree."""
    parser = lxml_html.HTMLParser(encoding="utf-8")
    try:
        doc = lxml_html.fromstring(decode_page(data).encode("utf-8"), parser=parser)
    except (etree.ParserError, ValueError):
        return None
    og_title, site = og_property(doc, "og:title"), og_property(doc, "og:site_name")
    first_h1 = next(doc.iter("h1"), None)
    h1 = collapse(first_h1.text_content()) if first_h1 is not None else ""
    if not (og_title and h1) or h1.casefold() == site.casefold():
        return None
    return h1 if titles_agree(og_title, h1) else None


# ---------------------------------------------------------------- rendering loop


def page_done(renderer: str, page: Page) -> bool:
    return dump_path(renderer, page.stem).is_file()


async def render_all(
    tally: Tally, pages: list[Page], render: Callable[[Page], Awaitable[str]], workers: int
) -> None:
    """Render with at most ``workers`` pages in flight; a page's failure is counted, not raised."""
    queue = list(reversed(pages))
    start = time.perf_counter()

    async def worker() -> None:
        while queue:
            page = queue.pop()
            try:
                text = await render(page)
            except RenderError as error:
                tally.fail(page.file, str(error))
                continue
            except Exception as error:  # an unforeseen failure still costs only this page
                tally.fail(page.file, f"{type(error).__name__}: {error}"[:200])
                continue
            store(tally, page, text)
            done = tally.rendered + tally.failures
            if done % PROGRESS_EVERY == 0:
                print(
                    f"  {tally.name}: {done}/{len(pages)} in {time.perf_counter() - start:.0f}s",
                    flush=True,
                )

    await asyncio.gather(*(worker() for _ in range(workers)))


def store(tally: Tally, page: Page, text: str) -> None:
    """Whitespace-only text is stored as an empty file: rendered, nothing to show, not retried."""
    if not text.strip():
        text = ""
        tally.empty += 1
    elif not text.endswith("\n"):
        text += "\n"
    write_atomic(dump_path(tally.name, page.stem), text.encode("utf-8"))
    tally.rendered += 1


# ---------------------------------------------------------------- w3m and inscriptis


async def render_w3m(page: Page, home: Path) -> str:
    """``w3m -dump`` fed our decoding as UTF-8, so it and inscriptis read the same characters."""
    text = decode_page(page.path.read_bytes()).encode("utf-8")
    proc = await asyncio.create_subprocess_exec(
        "w3m",
        *W3M_FLAGS,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "W3M_DIR": str(home), "HOME": str(home)},
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(text), W3M_SECONDS)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise RenderError(f"w3m took over {W3M_SECONDS:.0f}s") from None
    if proc.returncode != 0:
        raise RenderError(f"w3m exit {proc.returncode}: {err.decode(errors='replace')[:80]}")
    return out.decode("utf-8", "replace")


def inscriptis_text() -> Callable[[str], str] | None:
    try:
        from inscriptis import get_text
    except ImportError:
        return None
    return get_text  # type: ignore[no-any-return]


async def render_inscriptis(page: Page, get_text: Callable[[str], str]) -> str:
    try:
        return get_text(decode_page(page.path.read_bytes()))
    except Exception as error:  # any library failure on one page is that page's failure
        raise RenderError(f"inscriptis {type(error).__name__}") from None


# ---------------------------------------------------------------- chromium


@dataclass
class BrowserLog:
    """External requests pages attempted and how each ended (all should be blocked), and the
    pages whose text was taken in a second-best way."""

    blocked: int = 0
    other: Counter[str] = field(default_factory=Counter)
    samples: dict[str, str] = field(default_factory=dict)
    load_timeouts: list[str] = field(default_factory=list)
    scripts_off: list[str] = field(default_factory=list)
    _open: dict[str, str] = field(default_factory=dict)

    def on_event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if not url.startswith(LOCAL_SCHEMES):
                self._open[params["requestId"]] = url
        elif method == "Network.loadingFailed" and params["requestId"] in self._open:
            url = self._open.pop(params["requestId"])
            if params.get("blockedReason") == "inspector":
                self.blocked += 1
            else:
                self.note(f"failed {params.get('errorText')}", url)
        elif method == "Network.responseReceived" and params["requestId"] in self._open:
            url = self._open.pop(params["requestId"])
            self.note(f"answered {params['response'].get('status')}", url)

    def note(self, outcome: str, url: str) -> None:
        self.other[outcome] += 1
        self.samples.setdefault(outcome, url)


class Chromium:
    """One headless Chromium driven over a single DevTools websocket, a fresh tab per page."""

    def __init__(self, binary: str, net_log: Path | None, log: BrowserLog) -> None:
        self.binary, self.net_log, self.log = binary, net_log, log
        self.profile = Path(tempfile.mkdtemp(prefix="corpus-chromium-"))
        self.proc: asyncio.subprocess.Process | None = None
        self.http: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.stderr: deque[str] = deque(maxlen=20)
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.listeners: dict[str, Callable[[str, dict[str, Any]], None]] = {}
        self.tasks: set[asyncio.Task[Any]] = set()
        self.next_id = 0

    @classmethod
    async def launch(cls, binary: str, net_log: Path | None, log: BrowserLog) -> Chromium:
        browser = cls(binary, net_log, log)
        try:
            await browser.start()
        except BaseException:
            await browser.close()
            raise
        return browser

    def flags(self) -> list[str]:
        flags = [*CHROMIUM_FLAGS, f"--user-data-dir={self.profile}"]
        if self.net_log:
            flags.append(f"--log-net-log={self.net_log.resolve()}")
        return [*flags, "about:blank"]

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            self.binary,
            *self.flags(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        url = await asyncio.wait_for(self.devtools_url(), 30)
        self.spawn(self.drain_stderr())
        self.http = aiohttp.ClientSession()
        self.ws = await self.http.ws_connect(url, max_msg_size=256 * 2**20)
        self.spawn(self.read_messages())

    async def devtools_url(self) -> str:
        assert self.proc is not None and self.proc.stderr is not None
        async for raw in self.proc.stderr:
            line = raw.decode(errors="replace").strip()
            self.stderr.append(line)
            if line.startswith("DevTools listening on "):
                return line.removeprefix("DevTools listening on ")
        raise RenderError("chromium exited before DevTools listened: " + " | ".join(self.stderr))

    async def drain_stderr(self) -> None:
        """Chromium logs freely; an unread pipe would fill and stall it."""
        assert self.proc is not None and self.proc.stderr is not None
        async for raw in self.proc.stderr:
            self.stderr.append(raw.decode(errors="replace").rstrip())

    def spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    @property
    def alive(self) -> bool:
        return (
            self.ws is not None
            and not self.ws.closed
            and self.proc is not None
            and self.proc.returncode is None
        )

    async def read_messages(self) -> None:
        """Routes replies to their waiting ``send`` and events to their tab; when the socket
        ends, every waiting ``send`` fails at once instead of at its timeout."""
        assert self.ws is not None
        try:
            async for message in self.ws:
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break
                self.dispatch(json.loads(message.data))
        finally:
            for future in self.pending.values():
                if not future.done():
                    future.set_exception(RenderError("browser connection closed"))
            self.pending.clear()

    def dispatch(self, data: dict[str, Any]) -> None:
        if "id" in data:
            future = self.pending.pop(data["id"], None)
            if future is not None and not future.done():
                future.set_result(data)
        elif listener := self.listeners.get(data.get("sessionId", "")):
            listener(data["method"], data.get("params", {}))

    async def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        within: float = CDP_SECONDS,
    ) -> dict[str, Any]:
        if not self.alive:
            raise RenderError("browser gone")
        assert self.ws is not None
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        await self.ws.send_str(json.dumps(message))
        try:
            reply = await asyncio.wait_for(future, within)
        except TimeoutError:
            self.pending.pop(message["id"], None)
            raise RenderError(f"{method} took over {within:.0f}s") from None
        if "error" in reply:
            raise RenderError(f"{method}: {reply['error'].get('message')}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    async def inner_text(self, page: Page, scripts: bool) -> str:
        target = (await self.send("Target.createTarget", {"url": "about:blank"}))["targetId"]
        try:
            session = (
                await self.send("Target.attachToTarget", {"targetId": target, "flatten": True})
            )["sessionId"]
            try:
                return await self.read_tab(session, page, scripts)
            finally:
                self.listeners.pop(session, None)
        finally:
            with contextlib.suppress(RenderError):
                await self.send("Target.closeTarget", {"targetId": target})

    async def read_tab(self, session: str, page: Page, scripts: bool) -> str:
        loaded = asyncio.Event()

        def on_event(method: str, params: dict[str, Any]) -> None:
            self.log.on_event(method, params)
            if method == "Page.loadEventFired":
                loaded.set()
            elif method == "Page.javascriptDialogOpening":  # an open alert() blocks the page
                self.spawn(self.send("Page.handleJavaScriptDialog", {"accept": True}, session))

        self.listeners[session] = on_event
        await self.prepare_tab(session, scripts)
        url = page.path.resolve().as_uri()
        navigated = await self.send("Page.navigate", {"url": url}, session)
        if navigated.get("errorText"):
            raise RenderError(f"navigate: {navigated['errorText']}")
        try:
            await asyncio.wait_for(loaded.wait(), LOAD_SECONDS)
        except TimeoutError:
            self.log.load_timeouts.append(page.file)
        await asyncio.sleep(SETTLE_SECONDS)
        return await self.evaluate(session, url)

    async def prepare_tab(self, session: str, scripts: bool) -> None:
        await self.send("Page.enable", session=session)
        await self.send("Network.enable", session=session)
        await self.send("Network.setBlockedURLs", {"urls": BLOCKED}, session)
        if not scripts:
            await self.send("Emulation.setScriptExecutionDisabled", {"value": True}, session)
        width, height = VIEWPORT
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": width,
                "height": height,
                "deviceScaleFactor": 1,
                "mobile": False,
            },
            session,
        )

    async def evaluate(self, session: str, url: str) -> str:
        reply = await self.send(
            "Runtime.evaluate", {"expression": INNER_TEXT, "returnByValue": True}, session
        )
        if "exceptionDetails" in reply:
            raise RenderError("innerText threw")
        value = reply["result"].get("value") or {}
        href = str(value.get("href", ""))
        if unquote(href.split("#")[0]) != unquote(url):
            raise RenderError(f"page navigated away to {href[:60]}")
        return str(value.get("text", ""))

    async def close(self) -> None:
        """Ends the browser's whole process group, whatever state the run is in."""
        if self.ws is not None and not self.ws.closed:
            with contextlib.suppress(RenderError, aiohttp.ClientError, OSError):
                await self.send("Browser.close", within=3)
        if self.http is not None:
            await self.http.close()
        if self.proc is not None:
            await self.stop_process(self.proc)
        for task in list(self.tasks):
            task.cancel()
        shutil.rmtree(self.profile, ignore_errors=True)

    @staticmethod
    async def stop_process(proc: asyncio.subprocess.Process) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                await asyncio.wait_for(proc.wait(), 5)
                return
            except TimeoutError:
                continue


class ChromiumPool:
    """Restarts the browser if it dies, so one crashing page does not fail every page after it."""

    def __init__(self, binary: str, net_log: Path | None) -> None:
        self.binary, self.net_log = binary, net_log
        self.log = BrowserLog()
        self.browser: Chromium | None = None
        self.lock = asyncio.Lock()
        self.restarts = 0

    async def __aenter__(self) -> ChromiumPool:
        self.browser = await Chromium.launch(self.binary, self.net_log, self.log)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.browser is not None:
            await self.browser.close()

    async def render(self, page: Page) -> str:
        """With scripts, as a user sees it; where scripts navigate away or keep reloading and
        leave nothing (offline, a redirect becomes an error page and an http-to-https reload of a
        file:// URL never ends), without them, and the page is noted."""
        browser = await self.live_browser()
        first: RenderError | None = None
        try:
            text = await browser.inner_text(page, scripts=True)
        except RenderError as error:
            if not browser.alive:
                raise
            first, text = error, ""
        if text.strip():
            return text
        try:
            second = await browser.inner_text(page, scripts=False)
        except RenderError:
            second = ""
        if second.strip():
            self.log.scripts_off.append(page.file)
            return second
        if first is not None:
            raise first
        return text

    async def live_browser(self) -> Chromium:
        async with self.lock:
            if self.browser is None or not self.browser.alive:
                await self.restart()
        assert self.browser is not None
        return self.browser

    async def restart(self) -> None:
        if self.restarts >= 5:
            raise RenderError("browser died too often")
        self.restarts += 1
        print(f"  chromium: restarting the browser ({self.restarts})", flush=True)
        if self.browser is not None:
            await self.browser.close()
            tail = " | ".join(self.browser.stderr)[-300:]
            print(f"  chromium: last stderr: {tail}", flush=True)
        net_log = self.net_log and self.net_log.with_suffix(f".{self.restarts}.json")
        self.browser = await Chromium.launch(self.binary, net_log, self.log)


# ---------------------------------------------------------------- driver


async def run_renderer(
    name: str, todo: list[Page], tally: Tally, args: argparse.Namespace
) -> BrowserLog | None:
    if name == "chromium":
        async with ChromiumPool(args.chromium, args.net_log) as pool:
            await render_all(tally, todo, pool.render, TABS)
        return pool.log
    if name == "w3m":
        with tempfile.TemporaryDirectory(prefix="corpus-w3m-") as home:
            await render_all(tally, todo, lambda page: render_w3m(page, Path(home)), TABS)
        return None
    get_text = inscriptis_text()
    assert get_text is not None
    await render_all(tally, todo, lambda page: render_inscriptis(page, get_text), 1)
    return None


async def render(name: str, pages: list[Page], args: argparse.Namespace) -> Tally:
    tally = Tally(name)
    todo = pages if args.force else [p for p in pages if not page_done(name, p)]
    tally.kept = len(pages) - len(todo)
    print(f"{name}: {len(todo)} to render, {tally.kept} already there", flush=True)
    start = time.perf_counter()
    log = None
    try:
        log = await run_renderer(name, todo, tally, args) if todo else None
    except (RenderError, OSError, aiohttp.ClientError, TimeoutError) as error:
        tally.fail("(the renderer itself)", f"{type(error).__name__}: {error}"[:300])
    tally.seconds = time.perf_counter() - start
    if log is not None:
        report_browser(log)
    return tally


def report_browser(log: BrowserLog) -> None:
    other = (
        ", ".join(
            f"{reason} ×{n} (e.g. {log.samples[reason][:70]})"
            for reason, n in log.other.most_common()
        )
        or "none"
    )
    print(
        f"chromium: external requests blocked by DevTools: {log.blocked}; ended otherwise: {other}"
    )
    if log.load_timeouts:
        print(
            f"chromium: no load event within {LOAD_SECONDS:.0f}s (text taken as it was): "
            f"{len(log.load_timeouts)} pages, e.g. {', '.join(log.load_timeouts[:5])}"
        )
    if log.scripts_off:
        print(
            f"chromium: empty or failed with scripts, text taken without them: "
            f"{len(log.scripts_off)} pages, e.g. {', '.join(log.scripts_off[:5])}"
        )


def write_labels(pages: list[Page]) -> tuple[int, Counter[str]]:
    """``labels.jsonl`` from what is on disk now, whichever renderers this run touched."""
    rows = []
    for page in pages:
        made = [
            name
            for name in RENDERERS
            if (dump := dump_path(name, page.stem)).is_file() and dump.stat().st_size > 0
        ]
        rows.append(
            {
                "file": page.file,
                "stem": page.stem,
                "url": page.url,
                "with": page.annotations["with"],
                "without": page.annotations["without"],
                "headline": headline_of(page.path.read_bytes()),
                "split": split_of(page.file),
                "renderers": made,
            }
        )
    write_atomic(LABELS, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode())
    return sum(r["headline"] is not None for r in rows), Counter(r["split"] for r in rows)


def summarize(tallies: list[Tally]) -> None:
    print("\nrenderer     rendered  empty  failed  kept  seconds")
    for t in tallies:
        print(f"{t.name:<12} {t.rendered:8} {t.empty:6} {t.failures:7} {t.kept:5} {t.seconds:8.1f}")
        for reason, files in sorted(t.failed.items(), key=lambda kv: -len(kv[1])):
            print(f"    {len(files):4} × {reason}  (e.g. {files[0]})")


def missing_tool(name: str, chromium: str) -> str | None:
    """Why a renderer cannot run here, so that the others still do."""
    if name == "chromium" and shutil.which(chromium) is None:
        return f"no browser at {chromium} (apt-get install chromium)"
    if name == "w3m" and shutil.which("w3m") is None:
        return "w3m is not installed (apt-get install w3m)"
    if name == "inscriptis" and inscriptis_text() is None:
        return "inscriptis is not installed (.venv/bin/pip install -e '.[bench]')"
    return None


def chosen_renderers(spec: str, chromium: str) -> list[str]:
    names = [n.strip() for n in spec.split(",") if n.strip()]
    unknown = sorted(set(names) - set(RENDERERS))
    if unknown:
        sys.exit(f"unknown renderer(s) {', '.join(unknown)}; known: {', '.join(RENDERERS)}")
    usable = []
    for name in names:
        if why := missing_tool(name, chromium):
            print(f"{why}; left out")
        else:
            usable.append(name)
    return usable


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--trafilatura-git",
        type=Path,
        default=DEFAULT_GIT if DEFAULT_GIT.exists() else None,
        help=f"bare git dir of adbar/trafilatura (default {DEFAULT_GIT})",
    )
    parser.add_argument(
        "--renderers",
        default=",".join(RENDERERS),
        help="comma-separated, from " + ", ".join(RENDERERS),
    )
    parser.add_argument("--limit", type=int, default=None, help="render the first N pages only")
    parser.add_argument("--force", action="store_true", help="render again dumps already there")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="browser binary")
    parser.add_argument(
        "--net-log",
        type=Path,
        default=None,
        help="write Chromium's net log here, to check what it tried to reach",
    )
    return parser.parse_args()


async def build(args: argparse.Namespace) -> None:
    git_dir = check_snapshot(args.trafilatura_git)
    renderers = chosen_renderers(args.renderers, args.chromium)
    pages, missing = load_pages(git_dir)
    changed = sync_pages(git_dir, pages)
    print(
        f"{len(pages)} pages from {git_dir} ({changed} written, {len(missing)} absent "
        f"from the snapshot) into {CORPORA}",
        flush=True,
    )
    if missing:
        print(f"  absent: {', '.join(missing[:10])}{' …' if len(missing) > 10 else ''}")
    to_render = pages[: args.limit] if args.limit is not None else pages
    tallies = [await render(name, to_render, args) for name in renderers]
    headlines, splits = write_labels(pages)
    summarize(tallies)
    print(
        f"\n{LABELS.relative_to(ROOT)}: {len(pages)} pages, {headlines} with a headline truth, "
        f"{splits['dev']} dev / {splits['heldout']} heldout"
    )


def isolate_network() -> str:
    """Re-executes this script in a network namespace with only loopback, where no packet can
    leave whatever a page or a browser component tries; the flags and URL blocking remain the
    second line where namespaces are not allowed."""
    if os.environ.get(NETNS_MARK) == "1":
        if subprocess.run(["ip", "link", "set", "lo", "up"]).returncode != 0:
            sys.exit("could not bring loopback up inside the network namespace")
        return "in a network namespace with loopback only"
    if shutil.which("unshare") and shutil.which("ip"):
        for unshare in (["unshare", "--net"], ["unshare", "--user", "--map-root-user", "--net"]):
            if subprocess.run([*unshare, "true"], capture_output=True).returncode == 0:
                env = {**os.environ, NETNS_MARK: "1"}
                os.execvpe(unshare[0], [*unshare, "--", sys.executable, *sys.argv], env)
    return "WITHOUT a network namespace (unshare not allowed here): browser confinement only"


def main() -> None:
    args = parse_args()
    print(f"running {isolate_network()}", flush=True)
    try:
        asyncio.run(build(args))
    except KeyboardInterrupt:
        sys.exit("interrupted; dumps written so far are kept, rerun to continue")


if __name__ == "__main__":
    main()
