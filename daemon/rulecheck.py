"""Compile the rules of validated settings, reporting bad queries and regions like settings.

Kept apart from ``daemon.settings`` because it needs the gazetteer (a cached load, ~0.3 s),
which plain settings validation should not pay for when no rule names a region.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alerts.match import Matcher, RuleErrors, needs_gazetteer
from alerts.regions import Gazetteer
from daemon.errors import SettingsError
from daemon.settings import Settings
from daemon.settings_locate import locate

log = logging.getLogger("newswatch.rules")


def gazetteer_for(settings: Settings) -> Gazetteer | None:
    if not needs_gazetteer(settings.rules):
        return None
    cache = settings.data_dir / "cache"
    log.info("loading gazetteer cache=%s", cache)
    return Gazetteer.load(cache)


def build_matcher(settings: Settings, gazetteer: Gazetteer | None = None) -> Matcher:
    """The matcher for these settings; SettingsError names each bad rule key and its line."""
    if gazetteer is None:
        gazetteer = gazetteer_for(settings)
    try:
        return Matcher(settings.rules, gazetteer)
    except RuleErrors as exc:
        text = _text(settings.path)
        problems = []
        for problem in exc.problems:
            line = locate(text, ("rules", problem.index, problem.key), problem.message)
            if problem.detail:
                line += "\n" + "\n".join("    " + d for d in problem.detail.splitlines())
            problems.append(line)
        raise SettingsError(str(settings.path), problems) from exc


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""
