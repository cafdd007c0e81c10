"""``newswatch feeds``, ``feeds import`` and ``feeds export`` as users run them."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from daemon.cli import main
from daemon.settings import load_settings
from tests.test_feeds_rig import FAST_POLLING, open_rig
from tests.test_feeds_server import FeedServer, answer, document, feed_bytes

OPML = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>My subscriptions</title></head>
  <body>
    <outline text="Regional">
      <outline type="rss" text="Lakeside Courier" xmlUrl="http://lakeside.example/rss"/>
      <outline type="rss" title="Valley &amp; Hills" text="ignored" xmlUrl="https://valley.example/atom"/>
    </outline>
    <outline type="rss" text="Harbour Gazette" xmlUrl="http://harbour.example/rss"/>
    <outline type="link" text="Not a feed" url="http://example.org/page"/>
    <outline type="rss" text="Lakeside Courier" xmlUrl="http://lakeside.example/other"/>
  </body>
</opml>
"""

EXISTING = """# my settings, written by hand
[daemon]
database = "sqlite+aiosqlite:///data/nw.db"   # keep this comment

[[feeds]]
name = "Harbour"
url = "http://harbour.example/rss"
"""


def test_import_appends_new_feeds_and_keeps_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text(EXISTING, encoding="utf-8")
    opml = tmp_path / "subs.opml"
    opml.write_bytes(OPML)

    assert main(["--settings", str(settings), "feeds", "import", str(opml)]) == 0
    out = capsys.readouterr().out
    assert "3 feeds added" in out and "skipped (already configured): http://harbour" in out
    text = settings.read_text(encoding="utf-8")
    assert text.startswith(EXISTING)
    feeds = {f.key: f.url for f in load_settings(settings).feeds}
    assert feeds == {
        "Harbour": "http://harbour.example/rss",
        "Lakeside Courier": "http://lakeside.example/rss",
        "Valley & Hills": "https://valley.example/atom",
        "Lakeside Courier (2)": "http://lakeside.example/other",
    }

    assert main(["--settings", str(settings), "feeds", "import", str(opml)]) == 0
    assert "0 feeds added" in capsys.readouterr().out
    assert settings.read_text(encoding="utf-8") == text


def test_import_refuses_a_file_that_is_not_opml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text(EXISTING, encoding="utf-8")
    bad = tmp_path / "subs.opml"
    bad.write_bytes(feed_bytes("rss2.xml"))
    assert main(["--settings", str(settings), "feeds", "import", str(bad)]) == 1
    assert "not an OPML file" in capsys.readouterr().err
    assert settings.read_text(encoding="utf-8") == EXISTING


def test_export_prints_the_configured_feeds_as_opml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text(
        EXISTING + '\n[[feeds]]\nurl = "https://valley.example/atom?a=1&b=2"\n', encoding="utf-8"
    )
    assert main(["--settings", str(settings), "feeds", "export"]) == 0
    root = ET.fromstring(capsys.readouterr().out)
    outlines = [(o.get("text"), o.get("xmlUrl")) for o in root.iter("outline")]
    assert outlines == [
        ("Harbour", "http://harbour.example/rss"),
        ("https://valley.example/atom?a=1&b=2", "https://valley.example/atom?a=1&b=2"),
    ]


def test_status_table_shows_each_feed_and_marks_broken_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'nw.db'}"
    polling = FAST_POLLING + 'broken_after = "1s"\n'

    async def poll_twice() -> None:
        server = await FeedServer().start()
        server.routes["/good"] = document(feed_bytes("rss2.xml"))
        server.routes["/bad"] = answer(500)
        feeds = [("Lakeside", "/good", ""), ("Dead end", "/bad", "")]
        try:
            async with open_rig(tmp_path, database, server, feeds, polling) as rig:
                rig.clock.advance(-7200)  # failing since two hours ago
                await rig.tick()
                rig.clock.advance(3600)
                await rig.tick()
        finally:
            await server.stop()

    asyncio.run(poll_twice())
    settings = tmp_path / "settings.toml"
    assert main(["--settings", str(settings), "feeds"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["name", "url", "last"]
    good = next(line for line in lines if line.startswith("Lakeside"))
    bad = next(line for line in lines if line.startswith("Dead end "))
    assert good.split()[-1] == "ok" and " 200 " in good
    assert bad.split()[-1] == "BROKEN" and " 500 " in bad
    assert "Dead end: HTTP 500" in "\n".join(lines)
