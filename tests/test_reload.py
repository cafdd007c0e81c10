"""Editing settings.toml while the daemon runs: new rules apply, a broken edit changes nothing."""

from __future__ import annotations

import gc
import json
import signal
from pathlib import Path

from daemon.runtime import Runtime, settle_heap
from daemon.service import Daemon
from daemon.settings import load_settings
from tests.support import DATA, DaemonProcess, Receiver, toml_str

STORIES = {
    row["id"]: row
    for row in map(json.loads, (DATA / "dedup" / "articles.jsonl").read_text().splitlines())
}
CITIES = ["Kharkiv", "Odesa", "Nairobi", "Dhaka", "Malatya"]


def settings_text(database_url: str, hook_url: str, keywords: list[str], extra: str = "") -> str:
    return f"""
[daemon]
database = {toml_str(database_url)}
scan_interval = "0.2s"
delivery_interval = "0.5s"

[[drops]]
name = "inbox"
path = "drops"
settle = "0.2s"

[[rules]]
name = "Watch"
keywords = {keywords!r}
channels = ["desk"]
{extra}
[channels.desk]
type = "webhook"
url = {toml_str(hook_url)}
""".replace("'", '"')


def drop(folder: Path, name: str, story: str) -> str:
    """A JSON record of another story each time, written under a temporary name first."""
    row = STORIES[f"{story}/base"]
    record = {"title": row["title"], "text": row["text"], "published": row["published"]}
    partial = folder / f"{name}.part"
    partial.write_text(json.dumps(record), encoding="utf-8")
    partial.rename(folder / name)
    return str(row["title"])


async def test_rules_change_without_a_restart_and_a_bad_edit_is_rejected(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    (tmp_path / "drops").mkdir()
    path = tmp_path / "settings.toml"
    path.write_text(settings_text(database_url, receiver.url, ["navy"]), encoding="utf-8")
    daemon = await DaemonProcess(path).start()
    try:
        drops = tmp_path / "drops"
        drop(drops, "one.json", "kharkiv")
        await daemon.wait_log(lambda line: "ingested" in line and "one.json" in line)
        assert receiver.requests == []

        path.write_text(settings_text(database_url, receiver.url, CITIES), encoding="utf-8")
        await daemon.wait_log(lambda line: "settings reloaded" in line)
        title = drop(drops, "two.json", "odesa")
        [request] = await receiver.wait_for(1)
        assert request.json()["article"]["title"] == title

        broken = settings_text(database_url, receiver.url, CITIES, 'query = "army AND ("\n')
        path.write_text(broken, encoding="utf-8")
        rejected = await daemon.wait_log(lambda line: "settings rejected" in line)
        assert "rules[0].query" in rejected
        title = drop(drops, "three.json", "nairobi")
        await receiver.wait_for(2)
        assert receiver.requests[1].json()["article"]["title"] == title

        path.write_text(settings_text(database_url, receiver.url, ["navy"]), encoding="utf-8")
        await daemon.wait_log(lambda line: "settings reloaded" in line)
        assert daemon.proc is not None
        daemon.proc.send_signal(signal.SIGHUP)
        await daemon.wait_log(lambda line: "SIGHUP" in line)
        drop(drops, "four.json", "dhaka")
        await daemon.wait_log(lambda line: "ingested" in line and "four.json" in line)
        assert len(receiver.requests) == 2
    finally:
        code = await daemon.stop()
    assert code == 0, daemon.log()


async def test_rules_of_a_reload_are_kept_out_of_the_collectors_walk(
    tmp_path: Path, database_url: str
) -> None:
    (tmp_path / "drops").mkdir()
    path = tmp_path / "settings.toml"
    hook = "http://127.0.0.1:9/hook"
    path.write_text(settings_text(database_url, hook, ["navy"]), encoding="utf-8")
    daemon = Daemon(load_settings(path))
    runtime = daemon._runtime = await Runtime.open(daemon.settings)
    try:
        path.write_text(settings_text(database_url, hook, CITIES), encoding="utf-8")
        assert await daemon.reload()
        assert runtime.matcher.rules[0].keywords == tuple(CITIES)
        # A full collection walks what gc.get_objects() lists; frozen objects are not in it.
        assert not any(item is runtime.matcher for item in gc.get_objects())
    finally:
        gc.unfreeze()
        await runtime.close()


def test_a_settled_heap_leaves_short_lived_objects_to_their_reference_counts() -> None:
    """Thousands of objects alive at once (a round's requests and results) make no young
    collection: with the interpreter's default of 700, these 5,000 lists made seven."""
    before = gc.get_threshold()
    started: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    try:
        settle_heap()
        gc.callbacks.append(seen)
        alive = [[n] for n in range(5_000)]
        del alive
    finally:
        gc.callbacks.remove(seen)
        gc.unfreeze()
        gc.set_threshold(*before)
    assert started == []
