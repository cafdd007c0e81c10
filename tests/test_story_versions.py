"""One report in the versions newsrooms make, dropped one file at a time through
``newswatch ingest``: every version of a report joins one story and alerts once; reports
that only look alike (same place and day, a follow-up, another piece quoting the statement)
alert on their own."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from daemon.cli import main as cli_main

PUBLISHED = datetime(2025, 10, 5, 18, 10, tzinfo=UTC)
TITLE = "Danish shipping group halts Red Sea transits after drone attack"
BODY = [
    "A Danish shipping group said on Sunday it would pause all transits through the Red Sea "
    "after one of its container vessels was hit by a drone off the coast of Yemen.",
    "No crew members were hurt and the vessel continued to Djibouti under its own power, the "
    "company said in a statement, adding that damage to the deck was being assessed.",
    "The group will route its ships around the Cape of Good Hope instead, adding about ten "
    "days to voyages between Asia and northern Europe and raising fuel costs sharply.",
    "Freight rates on the main Asia-Europe lane have risen by a third since the start of "
    "September, according to industry data, as more carriers avoid the Suez Canal.",
    "Insurers have also raised war-risk premiums for ships calling at ports in the region, "
    "two brokers in London said, and some crews have asked to be paid a danger bonus.",
    "The company's shares fell four percent in Copenhagen trading on Monday morning.",
]
MENU = ["WORLD WIRE DIGEST", "Home", "World", "Business", "Markets", "Tech", "Sport", "Opinion"]
TRENDING = [
    "Trending",
    "Oil prices climb as supply worries return",
    "Central bank holds rates and signals patience",
    "Late goal sends champions through to the quarter-finals",
]


def _page(
    title: str,
    byline: list[str],
    body: list[str],
    *,
    above: Sequence[str] = (),
    below: Sequence[str] = (),
) -> str:
    return "\n".join([*above, title, *byline, "", *"\n\n".join(body).split("\n"), "", *below])


def _versions() -> dict[str, tuple[str, datetime]]:
    dated = ["By Lars Madsen", "October 5, 2025 8:10 PM GMT+2"]
    later = PUBLISHED + timedelta(hours=2)
    wire_lead = "COPENHAGEN, Oct 5 (Newswire) - " + BODY[0]
    follow = [
        "The Danish shipping group said on Monday it would resume some Red Sea sailings next "
        "week under naval escort, a day after pausing all transits through the strait.",
        "Escorted convoys will leave Djibouti twice a week, the company said, starting with "
        "three container ships bound for Singapore and Colombo.",
        "European navies have offered frigates for the convoys, a defence ministry spokesman "
        "in Copenhagen confirmed, without saying how many ships would take part.",
        "The company said the drone damage to its vessel had been repaired in Djibouti.",
    ]
    return {
        "original": (_page(TITLE, dated, BODY), PUBLISHED),
        "wire": (
            _page(TITLE, ["By Lars Madsen · Sunday"], [wire_lead, *BODY[1:], "(Newswire)"]),
            PUBLISHED + timedelta(minutes=40),
        ),
        "aggregator": (
            _page(
                "Red Sea: Danish carrier stops sailings after its ship is hit",
                [],
                BODY,
                above=MENU,
                below=TRENDING,
            ),
            later,
        ),
        "shortened": (_page(TITLE, dated, BODY[:3]), later),
        "brief": (
            _page(
                "Shipping giant pulls out of Red Sea route",
                ["By Newswire staff · Sunday"],
                [wire_lead, BODY[1], "More to follow."],
                above=MENU,
            ),
            later,
        ),
        "corrected": (
            _page(
                TITLE,
                ["By Lars Madsen", "Updated October 5, 2025 10:40 PM GMT+2"],
                [
                    *BODY[:3],
                    BODY[3].replace("a third", "a quarter"),
                    *BODY[4:],
                    "Correction: an earlier version of this article misstated the rise in "
                    "freight rates on the Asia-Europe lane.",
                ],
            ),
            later,
        ),
        "added": (
            _page(
                TITLE,
                dated,
                [
                    *BODY[:4],
                    "Shipping analysts said other European carriers "
                    "were expected to announce similar decisions within days.",
                    *BODY[4:],
                ],
            ),
            later,
        ),
        # Reports that are not this one:
        "same-day-other-event": (
            _page(
                "Dockworkers strike closes Rotterdam container terminal",
                dated,
                [
                    "Dockworkers at Rotterdam's largest container terminal walked out on Sunday "
                    "in a dispute over night shifts, halting loading for about twenty ships.",
                    "The union said the strike would last 48 hours unless the operator withdrew "
                    "plans to extend automated handling to the night shift.",
                    "Freight forwarders warned of delays for cargo bound for Germany and Austria, "
                    "where many importers are already short of stock.",
                ],
            ),
            later,
        ),
        "follow-up": (
            _page("Danish carrier to resume Red Sea sailings under escort", dated, follow),
            PUBLISHED + timedelta(days=1),
        ),
        "quoting": (
            _page(
                "Why shipping insurers are getting nervous",
                dated,
                [
                    "Marine insurers in London have spent the past month rewriting their maps of "
                    "risk, as attacks on merchant ships spread further from the coast.",
                    BODY[1],
                    "Brokers say the cost of cover has doubled for a single voyage, and that some "
                    "underwriters now refuse ships with links to certain flags.",
                    "For smaller carriers, the premium can now exceed the profit of the voyage.",
                ],
            ),
            later,
        ),
    }


REPORTS = 4  # the report itself, and the three that only resemble it


@pytest.mark.parametrize("order", ["as-published", "reversed"])
def test_every_version_of_a_report_alerts_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], order: str
) -> None:
    alerts = tmp_path / "alerts.jsonl"
    settings = tmp_path / "settings.toml"
    settings.write_text(
        f'[daemon]\ndatabase = "sqlite+aiosqlite:///{tmp_path / "n.db"}"\n\n'
        '[[rules]]\nname = "Shipping"\n'
        'keywords = ["ships", "shipping", "container", "vessel", "carrier", "cargo"]\n'
        'channels = ["log"]\n\n'
        f'[channels.log]\ntype = "file"\npath = "{alerts}"\n',
        encoding="utf-8",
    )
    versions = list(_versions().items())
    if order == "reversed":
        versions.reverse()
    for kind, (text, when) in versions:
        path = tmp_path / f"{kind}.txt"
        path.write_text(text, encoding="utf-8")
        os.utime(path, (when.timestamp(), when.timestamp()))
        assert cli_main(["--settings", str(settings), "ingest", str(path)]) == 0, kind
    capsys.readouterr()
    sent = [json.loads(line) for line in alerts.read_text(encoding="utf-8").splitlines()]
    titles = sorted(alert["article"]["title"] for alert in sent)
    assert len(sent) == REPORTS, titles
    assert len({alert["story_id"] for alert in sent}) == REPORTS
