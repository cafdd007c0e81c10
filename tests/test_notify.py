"""systemd's notify protocol, read by a fake ``NOTIFY_SOCKET`` from a real ``newswatch run``."""

from __future__ import annotations

import asyncio
import configparser
import contextlib
import itertools
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from daemon.notify import Notifier
from tests.support import ROOT, DaemonProcess, toml_str

UNIT = ROOT / "deploy" / "newswatch.service"


def quiet_settings(tmp_path: Path) -> Path:
    (tmp_path / "inbox").mkdir()
    settings = tmp_path / "settings.toml"
    database = f"sqlite+aiosqlite:///{tmp_path / 'nw.db'}"
    settings.write_text(
        f"""
[daemon]
database = {toml_str(database)}

[[drops]]
name = "inbox"
path = "inbox"

[[rules]]
name = "Ferries"
keywords = ["ferry"]
channels = ["desk"]

[channels.desk]
type = "file"
path = "alerts.jsonl"
""",
        encoding="utf-8",
    )
    return settings


class Listener:
    """A datagram socket standing in for systemd; collects what the daemon sends."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        bind_to = "\0" + address[1:] if address.startswith("@") else address
        self.sock.bind(bind_to)
        self.sock.setblocking(False)
        self.messages: list[tuple[float, str]] = []

    async def wait(self, done: Callable[[list[str]], bool], within: float = 30.0) -> list[str]:
        """Read datagrams until ``done`` says enough came; returns their texts."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(within):
            while not done(self.texts()):
                data = await loop.sock_recv(self.sock, 4096)
                self.messages.append((time.monotonic(), data.decode()))
        return self.texts()

    def texts(self) -> list[str]:
        return [text for _, text in self.messages]

    async def quiet_for(self, seconds: float) -> list[str]:
        """What arrives during ``seconds`` (for what must not come)."""
        with contextlib.suppress(TimeoutError):
            await self.wait(lambda texts: False, within=seconds)
        return self.texts()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A socket path must fit in 108 bytes: pytest's own temporary folders may not."""
    folder = Path(tempfile.mkdtemp(prefix="nw-", dir="/tmp"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("kind", ["path", "abstract"])
async def test_ready_watchdog_and_stopping_reach_the_notify_socket(
    tmp_path: Path, short_dir: Path, kind: str
) -> None:
    address = str(short_dir / "notify") if kind == "path" else f"@nw-test-{uuid.uuid4().hex}"
    listener = Listener(address)
    env = {"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "400000"}
    daemon = await DaemonProcess(quiet_settings(tmp_path), env=env).start()
    try:
        seen = await listener.wait(lambda texts: any("READY=1" in t for t in texts))
        ready = next(text for text in seen if "READY=1" in text)
        assert "STATUS=feeds=0 rules=1" in ready
        await listener.wait(lambda texts: texts.count("WATCHDOG=1") >= 5)
        pings = [at for at, text in listener.messages if text == "WATCHDOG=1"]
        gaps = [b - a for a, b in itertools.pairwise(pings)]
        assert all(0.1 < gap < 0.6 for gap in gaps), gaps  # every WATCHDOG_USEC / 2
        assert daemon.proc is not None
        daemon.proc.send_signal(signal.SIGTERM)
        await listener.wait(lambda texts: "STOPPING=1" in texts)
        assert await daemon.stop() == 0
        assert listener.texts().index("STOPPING=1") > listener.texts().index(ready)
    finally:
        listener.close()


async def test_a_watchdog_meant_for_another_process_is_not_fed(
    tmp_path: Path, short_dir: Path
) -> None:
    listener = Listener(str(short_dir / "notify"))
    env = {"NOTIFY_SOCKET": listener.address, "WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"}
    daemon = await DaemonProcess(quiet_settings(tmp_path), env=env).start()
    try:
        await listener.wait(lambda texts: any("READY=1" in t for t in texts))
        texts = await listener.quiet_for(1.0)
        assert "WATCHDOG=1" not in texts
        assert await daemon.stop() == 0
    finally:
        listener.close()


async def test_a_notify_socket_nobody_listens_on_changes_nothing_but_a_warning(
    tmp_path: Path, short_dir: Path
) -> None:
    env = {"NOTIFY_SOCKET": str(short_dir / "absent"), "WATCHDOG_USEC": "200000"}
    daemon = await DaemonProcess(quiet_settings(tmp_path), env=env).start()
    await daemon.wait_log(lambda line: "systemd notify failed" in line)
    await asyncio.sleep(0.5)
    assert await daemon.stop() == 0


def test_without_a_notify_socket_nothing_is_sent() -> None:
    notifier = Notifier.from_env({})
    assert notifier.address is None and notifier.watchdog is None
    assert notifier.send("READY=1") is False
    assert Notifier.from_env({"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "soon"}).watchdog is None


def unit_file() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNIT, encoding="utf-8")
    return parser


def test_the_systemd_unit_waits_for_ready_feeds_the_watchdog_and_is_hardened() -> None:
    unit = unit_file()
    service = unit["Service"]
    assert service["Type"] == "notify"
    assert int(service["WatchdogSec"].rstrip("s")) >= 10
    assert service["ExecStart"].split()[-1] == "run"
    assert "newswatch" in service["ExecStart"].split()[0]
    assert service["ExecReload"].endswith("-HUP $MAINPID")
    assert service["DynamicUser"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["StateDirectory"] == "newswatch"
    assert service["WorkingDirectory"] == "/var/lib/newswatch"
    assert service["NoNewPrivileges"] == "yes"
    assert "newswatch.db" in service["Environment"]
    assert unit["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze absent")
def test_systemd_analyze_finds_nothing_wrong_with_the_unit() -> None:
    done = subprocess.run(
        ["systemd-analyze", "verify", str(UNIT)], capture_output=True, text=True, timeout=60
    )
    problems = [
        line
        for line in done.stderr.splitlines()
        if "newswatch.service" in line
        and "is not executable" not in line
        and "No such file" not in line
    ]
    assert not problems, done.stderr
