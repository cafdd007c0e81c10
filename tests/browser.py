"""Headless Chromium driven over the DevTools protocol with aiohttp's websocket client.

The protocol is JSON over one websocket: commands carry an id and get an answer with that id;
events (a page finished loading) come unasked. That is all a test needs to load a page, read
the DOM, click and take a screenshot, without a browser-automation dependency.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


def chromium_binary() -> str:
    """Debian's Chromium, installed here when missing (the tests run as root on a fresh
    machine); skipped only where it cannot be installed."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
            check=False,
            capture_output=True,
            timeout=900,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        found = shutil.which("chromium")
        if found:
            return found
    pytest.skip("Chromium is not installed and cannot be installed here (apt-get as root)")


class Browser:
    def __init__(self, binary: str, profile: Path) -> None:
        self.binary = binary
        self.profile = profile
        self.proc: asyncio.subprocess.Process | None = None
        self.http: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._answers: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._events: list[dict[str, Any]] = []
        self._event = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def start(self, width: int = 1280, height: int = 900) -> Browser:
        self.proc = await asyncio.create_subprocess_exec(
            self.binary,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            f"--user-data-dir={self.profile}",
            "--remote-debugging-port=0",
            f"--window-size={width},{height}",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        assert self.proc.stderr is not None
        browser_ws = ""
        async with asyncio.timeout(60):
            async for raw in self.proc.stderr:
                found = LISTENING.search(raw.decode(errors="replace"))
                if found:
                    browser_ws = found.group(1)
                    break
        assert browser_ws, "Chromium did not open its DevTools port"
        asyncio.get_running_loop().create_task(self._drain(self.proc.stderr))
        port = browser_ws.split(":")[2].split("/")[0]
        self.http = aiohttp.ClientSession()
        async with self.http.get(f"http://127.0.0.1:{port}/json/list") as resp:
            targets = await resp.json(content_type=None)
        page = next(t for t in targets if t.get("type") == "page")
        self.ws = await self.http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0)
        self._reader = asyncio.get_running_loop().create_task(self._read())
        await self.send("Page.enable")
        await self.send("Runtime.enable")
        return self

    async def _drain(self, stream: asyncio.StreamReader) -> None:
        with contextlib.suppress(Exception):
            while await stream.read(65536):
                pass

    async def _read(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            waiter = self._answers.pop(data.get("id", -1), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(data)
            elif "method" in data:
                self._events.append(data)
                self._event.set()

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        assert self.ws is not None
        number = next(self._ids)
        waiter = asyncio.get_running_loop().create_future()
        self._answers[number] = waiter
        await self.ws.send_str(json.dumps({"id": number, "method": method, "params": params}))
        async with asyncio.timeout(30):
            answer = await waiter
        if "error" in answer:
            raise AssertionError(f"{method}: {answer['error']}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    async def wait_event(self, method: str, since: int, within: float = 20.0) -> dict[str, Any]:
        async with asyncio.timeout(within):
            while True:
                for event in self._events[since:]:
                    if event["method"] == method:
                        return event
                self._event.clear()
                await self._event.wait()

    async def loading(self, action: Callable[[], Any]) -> None:
        """Run ``action`` (a navigation or a click) and wait until the page it leads to loaded."""
        mark = len(self._events)
        result = action()
        if asyncio.iscoroutine(result):
            await result
        await self.wait_event("Page.loadEventFired", mark)

    async def goto(self, url: str) -> None:
        await self.loading(lambda: self.send("Page.navigate", url=url))

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def screenshot(self, path: Path) -> Path:
        shot = await self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        await asyncio.to_thread(path.write_bytes, base64.b64decode(shot["data"]))
        return path

    async def phone(self, width: int = 390, height: int = 844) -> None:
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=2,
            mobile=True,
        )

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self.ws is not None:
            await self.ws.close()
        if self.http is not None:
            await self.http.close()
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
