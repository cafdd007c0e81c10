"""Drop-folder entries that are not the article files they look like: binary, empty, still
being written, cut short, links out of the folder, pipes and sockets, files that vanish or
cannot be opened, names that are not UTF-8. Each is quarantined with its reason, left to be
tried again, or read once complete, and the good file beside it is always ingested.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import shutil
import signal
import socket
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from daemon.drops import EMPTY_GRACE, DropScanner
from daemon.runtime import Runtime
from daemon.settings import load_settings
from storage.models import ArticleRow, DropFile
from tests.support import ROOT, DaemonProcess, Receiver, toml_str
from tests.test_drop_watch import settings as watched_settings
from tests.test_drops import ARTICLE, age

SECRET = b"NEWSWATCH-SECRET-c41d: army payroll ledger, not for any drop folder"


def write_settings(folder: Path, database_url: str) -> Path:
    (folder / "drops").mkdir()
    path = folder / "settings.toml"
    path.write_text(
        f"""
[daemon]
database = {toml_str(database_url)}
[[drops]]
name = "inbox"
path = "drops"
timezone = "Europe/Kyiv"
settle = "30s"
max_file_size = "64KB"
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
async def runtime(tmp_path: Path, database_url: str) -> AsyncIterator[Runtime]:
    rt = await Runtime.open(load_settings(write_settings(tmp_path, database_url), env={}))
    try:
        yield rt
    finally:
        await rt.close()


def scanner(runtime: Runtime) -> DropScanner:
    return runtime.scanner(runtime.settings.drops[0])


def drop(tmp_path: Path, name: str, content: bytes, *, settled: bool = True) -> Path:
    path = tmp_path / "drops" / name
    path.write_bytes(content)
    if settled:
        age(path)
    return path


def reason_beside(quarantined: Path) -> str:
    """The reason written beside a quarantined file (its second line; the first is when
    and where from)."""
    lines = quarantined.with_name(quarantined.name + ".error").read_text("utf-8").splitlines()
    return lines[1]


async def rows(runtime: Runtime) -> list[tuple[str, str, str | None]]:
    async with runtime.sessions() as session:
        found = await session.execute(
            select(DropFile.path, DropFile.status, DropFile.error).order_by(DropFile.id)
        )
        return [(Path(path).name, status, error) for path, status, error in found.all()]


async def stored_titles(runtime: Runtime) -> list[str]:
    async with runtime.sessions() as session:
        return list((await session.execute(select(ArticleRow.title))).scalars())


GOOD_TITLE = "Ukrainian army reinforces positions near Vovchansk, regional officials say"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "binary file (PDF document), not an article"),
        (b"\x7fELF\x02\x01\x01" + bytes(64), "binary file (ELF executable), not an article"),
        (gzip.compress(ARTICLE), "binary file (gzip archive), not an article"),
        (
            b"PK\x03\x04\x14\x00" + bytes(40),
            "binary file (ZIP archive (or DOCX/XLSX/ODT)), not an article",
        ),
        (b"report text" + bytes(range(0, 256)) * 8, "binary file (NUL byte at offset 11)"),
    ],
    ids=["pdf", "elf", "gzip", "zip", "nul bytes"],
)
async def test_binary_files_are_quarantined_naming_what_they_are(
    tmp_path: Path, runtime: Runtime, content: bytes, reason: str
) -> None:
    drop(tmp_path, "good.txt", ARTICLE)
    drop(tmp_path, "report.txt", content)
    result = await scanner(runtime).scan()
    assert (result.files, result.articles, result.quarantined) == (1, 1, 1)
    moved = tmp_path / "drops" / ".quarantine" / "report.txt"
    assert moved.read_bytes() == content and reason_beside(moved) == reason
    assert sorted(await rows(runtime)) == [
        ("good.txt", "ingested", None),
        ("report.txt", "quarantined", reason),
    ]
    assert await stored_titles(runtime) == [GOOD_TITLE]


async def test_an_empty_file_waits_for_its_writer_before_it_counts_as_empty(
    tmp_path: Path, runtime: Runtime
) -> None:
    """An empty file is a writer's first step as often as a mistake: one that has been empty
    for less than EMPTY_GRACE is neither read nor quarantined, and is read once it holds
    something; one empty for longer is quarantined as empty."""
    fresh = drop(tmp_path, "landing.txt", b"", settled=False)
    old = drop(tmp_path, "forgotten.txt", b"")
    age(old, EMPTY_GRACE + 60)
    first = await scanner(runtime).scan(settle=0.0)
    assert (first.files, first.quarantined) == (0, 1)
    assert fresh.exists() and not old.exists()
    assert reason_beside(tmp_path / "drops" / ".quarantine" / "forgotten.txt") == (
        "empty file (0 bytes)"
    )
    fresh.write_bytes(ARTICLE)
    second = await scanner(runtime).scan(settle=0.0)
    assert (second.files, second.articles, second.quarantined) == (1, 1, 0)
    assert fresh.exists()
    assert await stored_titles(runtime) == [GOOD_TITLE]


async def watching(daemon: DaemonProcess, probe: Path) -> None:
    """Return once the daemon's folder watch runs (it starts a moment after the "started"
    line): a file it does not alert on is written until a notification has it read."""
    unmatched = ARTICLE.replace(b"army", b"navy").replace(b"Army", b"Navy")
    deadline = time.monotonic() + 20
    while "ingested source=inbox path=warm-up.txt" not in daemon.log():
        assert time.monotonic() < deadline, daemon.log()
        await asyncio.to_thread(probe.write_bytes, unmatched)
        await asyncio.sleep(0.5)


@pytest.mark.slow
async def test_a_file_landing_empty_then_written_slowly_is_read_once_complete(
    tmp_path: Path, receiver: Receiver
) -> None:
    """Watched folder: the writer creates the file, is silent for longer than watch_settle
    (the notification of an empty file comes and settles first), then writes in pieces. The
    file must be read once, whole (its last line is the byline), and never quarantined."""
    daemon = await DaemonProcess(watched_settings(tmp_path, receiver.url)).start()
    try:
        await watching(daemon, tmp_path / "drops" / "warm-up.txt")
        target = tmp_path / "drops" / "report.txt"
        with target.open("wb") as handle:
            await asyncio.sleep(1.5)
            for start in range(0, len(ARTICLE), 300):
                handle.write(ARTICLE[start : start + 300])
                handle.flush()
                await asyncio.sleep(0.05)
        [request] = await receiver.wait_for(1, within=20)
        assert request.json()["article"]["author"] == "Olena Marchenko"
        await daemon.wait_log(lambda line: "ingested source=inbox path=report.txt" in line)
        await asyncio.sleep(1.0)  # any later, second reading would show by now
    finally:
        code = await daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.log()
    assert daemon.log().count("ingested source=inbox path=report.txt") == 1
    assert "quarantined" not in daemon.log()
    assert target.read_bytes() == ARTICLE
    assert not (tmp_path / "drops" / ".quarantine").exists()


async def test_files_cut_short_mid_write(tmp_path: Path, runtime: Runtime) -> None:
    """A writer that died mid-file: a JSON record cut inside a string is quarantined with
    where it breaks; JSON Lines whose last line is cut are quarantined whole (the file is
    the unit, so nothing of it is half-stored); a feed cut inside an entry keeps the entries
    before the cut."""
    record = json.dumps(
        {
            "title": "Army engineers rebuild the Oskil bridge",
            "text": "Army engineers began rebuilding the bridge over the Oskil river. " * 4,
            "published": "2026-03-02T13:15:00Z",
        }
    )
    feed = (ROOT / "tests" / "data" / "feeds" / "rss2.xml").read_bytes()
    drop(tmp_path, "record.json", record[: record.index("the bridge")].encode())
    drop(
        tmp_path, "lines.jsonl", (record + "\n" + record.replace("Oskil", "Donets"))[:-30].encode()
    )
    drop(tmp_path, "feed.xml", feed[: feed.index(b"<description>Work on")])
    drop(tmp_path, "good.txt", ARTICLE)
    result = await scanner(runtime).scan()
    assert (result.files, result.quarantined) == (2, 2)
    quarantine = tmp_path / "drops" / ".quarantine"
    cut_string = record.index('"Army engineers began') + 1
    assert reason_beside(quarantine / "record.json") == (
        f"invalid JSON: Unterminated string starting at line 1, column {cut_string}"
    )
    assert reason_beside(quarantine / "lines.jsonl").startswith(
        "invalid JSON Lines: line 2: Unterminated string"
    )
    assert sorted(await stored_titles(runtime)) == [
        "Ferry service to Pine Island resumes after winter repairs",
        "Town council approves new cycle lanes along the shore road",
        GOOD_TITLE,
    ]


async def test_links_out_of_the_drop_folder_are_never_followed(
    tmp_path: Path, runtime: Runtime
) -> None:
    """Whoever can write to a drop folder must not get the daemon to store (and alert on)
    any file it can read. A link to a file outside is quarantined, the link itself moved and
    its target untouched; a link to a folder outside is not entered; a link to a file
    inside the folder is read like the file (its content once)."""
    outside = tmp_path / "private"
    outside.mkdir()
    secret = outside / "ledger.txt"
    secret.write_bytes(ARTICLE.replace(b"Vovchansk", b"ledger") + b"\n" + SECRET)
    (outside / "inner.txt").write_bytes(SECRET)
    drops = tmp_path / "drops"
    (drops / "ledger.txt").symlink_to(secret)
    (drops / "private").symlink_to(outside, target_is_directory=True)
    (drops / "inside").mkdir()
    drop(tmp_path, "inside/good.txt", ARTICLE)
    (drops / "latest.txt").symlink_to(drops / "inside" / "good.txt")
    age(secret)
    result = await scanner(runtime).scan()
    assert (result.files, result.articles, result.quarantined) == (1, 1, 1)
    link = drops / ".quarantine" / "ledger.txt"
    assert link.is_symlink() and link.readlink() == secret
    assert reason_beside(link) == (f"symbolic link to {secret}, outside the drop folder: not read")
    assert secret.read_bytes().endswith(SECRET)
    assert (drops / "private").is_symlink()
    async with runtime.sessions() as session:
        articles = list((await session.execute(select(ArticleRow))).scalars())
    assert [a.title for a in articles] == [GOOD_TITLE]
    assert "NEWSWATCH-SECRET" not in repr([vars(a) for a in articles])
    assert sorted(await rows(runtime)) == [
        ("good.txt", "ingested", None),
        (
            "ledger.txt",
            "quarantined",
            f"symbolic link to {secret}, outside the drop folder: not read",
        ),
    ]


async def test_pipes_and_sockets_are_quarantined_without_hanging_the_scan(
    tmp_path: Path, runtime: Runtime
) -> None:
    """Opening a named pipe waits for a writer that never comes: the scan, and with it every
    later scan of the folder, would hang for good. Neither a pipe nor a socket is opened."""
    drops = tmp_path / "drops"
    os.mkfifo(drops / "pipe.txt")
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(drops / "socket.txt"))
        drop(tmp_path, "good.txt", ARTICLE)
        for name in ("pipe.txt", "socket.txt"):
            age(drops / name)
        result = await asyncio.wait_for(scanner(runtime).scan(), 10)
    assert (result.files, result.articles, result.quarantined) == (1, 1, 2)
    quarantine = drops / ".quarantine"
    assert reason_beside(quarantine / "pipe.txt") == "a named pipe, not a file: not read"
    assert reason_beside(quarantine / "socket.txt") == "a socket, not a file: not read"
    assert not (drops / "pipe.txt").exists() and not (drops / "socket.txt").exists()


async def test_a_file_gone_between_listing_and_reading_costs_nothing_else(
    tmp_path: Path, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    """Another tool takes a file away after the scan listed it: it is reported once, nothing
    is recorded or quarantined for it, and the files after it are still read."""
    first = drop(tmp_path, "a-first.txt", ARTICLE)
    age(first, 300)  # listed first: oldest
    doomed = drop(tmp_path, "b-doomed.txt", ARTICLE.replace(b"Vovchansk", b"Kupiansk"))
    age(doomed, 200)
    drop(tmp_path, "c-last.txt", ARTICLE.replace(b"Vovchansk", b"Lyman"))

    def take_away(done: int, total: int) -> None:
        if done == 1:
            doomed.unlink()

    result = await scanner(runtime).scan(progress=take_away)
    assert (result.files, result.quarantined) == (2, 0)
    assert [m for m in caplog.messages if "cannot read" in m] == [
        f"cannot read drop file source=inbox path={doomed}: cannot read: No such file or "
        "directory (tried again at the next scan)"
    ]
    assert sorted(name for name, _, _ in await rows(runtime)) == ["a-first.txt", "c-last.txt"]
    assert not (tmp_path / "drops" / ".quarantine").exists()


UNPRIVILEGED = ("setpriv", "--bounding-set=-dac_override,-dac_read_search")


async def run(args: list[str]) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of a process run from the project's folder."""
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def without_file_privileges(args: list[str]) -> list[str]:
    """``args`` run so that file permissions hold: as root (these tests' usual user) that
    means dropping the two capabilities that let root read a mode 000 file. The process
    stays uid 0, so the interpreter under /root stays reachable."""
    if os.geteuid() != 0:
        return args
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv (util-linux): chmod 000 cannot deny a read")
    return [*UNPRIVILEGED, *args]


SCAN_TWICE_THEN_UNLOCK = textwrap.dedent(
    """
    import asyncio, json, logging, os, sys
    from daemon.runtime import Runtime
    from daemon.settings import load_settings

    async def main() -> None:
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(message)s")
        runtime = await Runtime.open(load_settings(sys.argv[1], env={}))
        scanner = runtime.scanner(runtime.settings.drops[0])
        out = []
        for unlock in (False, False, True):
            if unlock:
                os.chmod(sys.argv[2], 0o644)
            result = await scanner.scan(settle=0.0)
            out.append([result.files, result.articles, result.quarantined])
        await runtime.close()
        print(json.dumps(out))

    asyncio.run(main())
    """
)


@pytest.mark.slow
async def test_a_file_without_read_permission_is_retried_until_readable(
    tmp_path: Path,
) -> None:
    """chmod 000, really denied: the daemon's scanner leaves the file in place (it is not
    broken, only locked), says so once however many scans fail, and reads it at the first
    scan after it becomes readable. The one-off ``newswatch ingest`` counts it as unreadable
    and exits 1."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'newswatch.db'}"
    settings = write_settings(tmp_path, url)
    drop(tmp_path, "good.txt", ARTICLE)
    locked = drop(tmp_path, "locked.txt", ARTICLE.replace(b"Vovchansk", b"Kupiansk"))
    locked.chmod(0)
    code, out, err = await run(
        without_file_privileges(
            [
                sys.executable,
                "-m",
                "daemon",
                "--settings",
                str(settings),
                "ingest",
                str(tmp_path / "drops"),
                "--no-deliver",
            ]
        )
    )
    assert code == 1, err
    assert f"error: {locked}: cannot read: Permission denied" in err.splitlines()
    assert out.startswith("1 files read, 1 new articles")
    assert out.rstrip().endswith("1 unreadable")

    locked.chmod(0)
    (tmp_path / "newswatch.db").unlink()
    code, out, err = await run(
        without_file_privileges(
            [sys.executable, "-c", SCAN_TWICE_THEN_UNLOCK, str(settings), str(locked)]
        )
    )
    assert code == 0, err
    assert json.loads(out) == [[1, 1, 0], [0, 0, 0], [1, 1, 0]]
    warnings = [line for line in err.splitlines() if "cannot read" in line]
    assert warnings == [
        f"cannot read drop file source=inbox path={locked}: cannot read: Permission denied "
        "(tried again at the next scan)"
    ]
    assert locked.exists() and not (tmp_path / "drops" / ".quarantine").exists()


def write_aged(path: bytes, content: bytes, seconds: float) -> None:
    """A file by a name given as bytes, last changed ``seconds`` ago."""
    with open(path, "wb") as handle:
        handle.write(content)
    past = time.time() - seconds
    os.utime(path, (past, past))


def read_lines(path: bytes) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        return handle.read().splitlines()


async def test_file_names_that_are_not_utf8_are_read_and_quarantined_by_their_bytes(
    tmp_path: Path, runtime: Runtime
) -> None:
    """Names written by another system's code page (latin-1, windows-1251) or holding a
    newline: the file is read by its real name, the quarantine keeps that name byte for
    byte, and what is logged, stored and written beside it shows the odd bytes escaped."""
    drops = os.fsencode(tmp_path / "drops")
    latin = b"r\xe9sum\xe9-report.txt"  # "résumé" in latin-1
    cyrillic = b"\xcd\xee\xe2\xee\xf1\xf2\xe8.txt"  # "Новости" in windows-1251
    forged = b"notes\nquarantined source=inbox path=all.txt.txt"
    for name, content in ((latin, ARTICLE), (cyrillic, b"%PDF-1.7\n"), (forged, b"")):
        write_aged(os.path.join(drops, name), content, EMPTY_GRACE + 60)
    result = await scanner(runtime).scan()
    assert (result.files, result.articles, result.quarantined) == (1, 1, 2)
    quarantine = os.path.join(drops, b".quarantine")
    assert sorted(os.listdir(quarantine)) == sorted(
        [cyrillic, cyrillic + b".error", forged, forged + b".error"]
    )
    first, reason = read_lines(os.path.join(quarantine, cyrillic + b".error"))
    assert first.endswith("/drops/\\xcd\\xee\\xe2\\xee\\xf1\\xf2\\xe8.txt")
    assert reason == "binary file (PDF document), not an article"
    assert sorted(await rows(runtime)) == [
        ("\\xcd\\xee\\xe2\\xee\\xf1\\xf2\\xe8.txt", "quarantined", reason),
        (
            "notes\\x0aquarantined source=inbox path=all.txt.txt",
            "quarantined",
            "empty file (0 bytes)",
        ),
        ("r\\xe9sum\\xe9-report.txt", "ingested", None),
    ]
    assert latin in os.listdir(drops)
    assert await stored_titles(runtime) == [GOOD_TITLE]
