"""The ``newswatch`` command. Exit codes: 0 fine, 1 the work failed, 2 bad settings or usage."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from daemon import __version__
from daemon.errors import SettingsError
from daemon.logs import FORMATS
from daemon.settings import Settings, load_settings

DEFAULT_SETTINGS = "settings.toml"
Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newswatch", description="News-feed ingestion and alerting daemon."
    )
    parser.add_argument("--version", action="version", version=f"newswatch {__version__}")
    parser.add_argument(
        "--settings",
        "-s",
        default=os.environ.get("NEWSWATCH_SETTINGS", DEFAULT_SETTINGS),
        help="settings file (default: $NEWSWATCH_SETTINGS or ./settings.toml)",
    )
    parser.add_argument(
        "--log-format",
        type=log_format,
        choices=FORMATS,
        default=os.environ.get("NEWSWATCH_LOG_FORMAT", "text"),
        help="text (default, or $NEWSWATCH_LOG_FORMAT) or json: one object per line",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the daemon in the foreground")
    run.set_defaults(handler=cmd_run)
    _log_format(run)

    check = sub.add_parser("check", help="validate a settings file")
    check.add_argument("file", nargs="?", help="settings file (default: --settings)")
    check.set_defaults(handler=cmd_check)

    ingest = sub.add_parser("ingest", help="read one file or folder once, alert, then exit")
    ingest.add_argument("path")
    ingest.add_argument("--source", help="a [[drops]] name whose options apply (time zone …)")
    ingest.add_argument("--no-deliver", action="store_true", help="only enqueue the alerts")
    _log_format(ingest)
    ingest.set_defaults(handler=cmd_ingest)

    parse = sub.add_parser("parse", help="print how a file is read, as JSON")
    parse.add_argument("file")
    parse.add_argument("--timezone", help="zone for local times in the page, e.g. Europe/Kyiv")
    parse.add_argument(
        "--explain", action="store_true", help="each line of a text dump and what it was read as"
    )
    parse.set_defaults(handler=cmd_parse)
    _add_rule_commands(sub)
    _add_delivery_commands(sub)

    feeds = sub.add_parser("feeds", help="feed status table; import or export OPML")
    feeds.set_defaults(handler=cmd_feeds)
    feeds_sub = feeds.add_subparsers(dest="feeds_command", metavar="ACTION")
    feeds_import = feeds_sub.add_parser("import", help="append an OPML file's feeds to settings")
    feeds_import.add_argument("file")
    feeds_sub.add_parser("export", help="print the configured feeds as OPML")
    return parser


def _log_format(command: argparse.ArgumentParser) -> None:
    """Also accepted after the command, where people type it (``run --log-format json``)."""
    command.add_argument(
        "--log-format",
        type=log_format,
        choices=FORMATS,
        default=argparse.SUPPRESS,
        help="text or json",
    )


def log_format(value: str) -> str:
    """argparse checks ``choices`` on typed values only, never on a default, so a mistyped
    $NEWSWATCH_LOG_FORMAT is caught here (exit 2 with usage) instead of deep in a command."""
    fmt = value.strip().lower()
    if fmt not in FORMATS:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not one of {', '.join(FORMATS)} (--log-format or $NEWSWATCH_LOG_FORMAT)"
        )
    return fmt


def _add_delivery_commands(sub: Any) -> None:
    stories = sub.add_parser("stories", help="the newest stories and what joined each article")
    stories.add_argument("--limit", type=int, default=20, help="newest N (default 20)")
    stories.set_defaults(handler=cmd_stories)
    stories_sub = stories.add_subparsers(dest="stories_command", metavar="ACTION")
    explain = stories_sub.add_parser(
        "explain", help="which story each file would join and why, or why none (stores nothing)"
    )
    explain.add_argument("files", nargs="+", metavar="FILE")
    alerts = sub.add_parser("alerts", help="list alerts by status; re-queue them")
    alerts.add_argument("--status", choices=["pending", "delivered", "dead"])
    alerts.add_argument("--limit", type=int, default=50, help="newest N (default 50)")
    alerts.set_defaults(handler=cmd_alerts)
    alerts_sub = alerts.add_subparsers(dest="alerts_command", metavar="ACTION")
    retry = alerts_sub.add_parser("retry", help="re-queue alerts by id, or every dead one")
    retry.add_argument("ids", nargs="*", type=int, metavar="ID")
    retry.add_argument("--dead", action="store_true", help="re-queue every dead alert")

    channels = sub.add_parser("channels", help="channel state; send a test alert; re-enable")
    channels.set_defaults(handler=cmd_channels)
    channels_sub = channels.add_subparsers(dest="channels_command", metavar="ACTION")
    test = channels_sub.add_parser("test", help="send a sample alert, print the answer")
    test.add_argument("name")
    enable = channels_sub.add_parser("enable", help="re-enable a channel disabled by a 410")
    enable.add_argument("name")


def _add_rule_commands(sub: Any) -> None:
    rules = sub.add_parser("rules", help="try the rules on files")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True, metavar="ACTION")
    test = rules_sub.add_parser("test", help="say per rule whether each file matches, and why")
    test.add_argument("files", nargs="+", metavar="FILE")
    test.add_argument("--timezone", help="zone for local times in the pages")
    test.add_argument("--json", action="store_true", help="one JSON line per article")
    test.set_defaults(handler=cmd_rules_test)

    regions = sub.add_parser("regions", help="look up places; list the places in files")
    regions_sub = regions.add_subparsers(dest="regions_command", required=True, metavar="ACTION")
    lookup = regions_sub.add_parser("lookup", help="show what a place name resolves to")
    lookup.add_argument("name")
    lookup.set_defaults(handler=cmd_regions_lookup)
    find = regions_sub.add_parser("find", help="list the places found in each file")
    find.add_argument("files", nargs="+", metavar="FILE")
    find.add_argument("--json", action="store_true", help="one JSON line per file")
    find.add_argument(
        "--explain",
        action="store_true",
        help="every name seen: the place chosen, the others it could have been, and why",
    )
    find.set_defaults(handler=cmd_regions_find)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except SettingsError as exc:
        print_settings_error(exc)
        return 2
    except KeyboardInterrupt:
        return 130


def print_settings_error(exc: SettingsError) -> None:
    for problem in exc.problems:
        print(f"{exc.path}: {problem}", file=sys.stderr)


def _load(args: argparse.Namespace) -> Settings:
    return load_settings(Path(args.settings))


def cmd_run(args: argparse.Namespace) -> int:
    from daemon import logs
    from daemon.service import Daemon

    settings = _load(args)
    logs.configure(settings.daemon.log_level, args.log_format, logs.secrets_of(settings))
    return asyncio.run(Daemon(settings).run())


def cmd_ingest(args: argparse.Namespace) -> int:
    from daemon import logs
    from daemon.oneshot import ingest_path

    settings = _load(args)
    logs.configure(settings.daemon.log_level, args.log_format, logs.secrets_of(settings))
    return ingest_path(
        settings,
        Path(args.path),
        args.source,
        not args.no_deliver,
        json_logs=args.log_format == "json",
    )


def cmd_parse(args: argparse.Namespace) -> int:
    from daemon.parse.command import main as parse_main

    return parse_main(args.file, args.timezone, explain=args.explain)


def cmd_stories(args: argparse.Namespace) -> int:
    from daemon.commands import stories

    if args.stories_command == "explain":
        return stories.explain(_load(args), args.files)
    return stories.list_stories(_load(args), args.limit)


def cmd_alerts(args: argparse.Namespace) -> int:
    from daemon.commands import alerts

    if args.alerts_command == "retry":
        return alerts.retry(_load(args), args.ids, args.dead)
    return alerts.list_alerts(_load(args), args.status, args.limit)


def cmd_channels(args: argparse.Namespace) -> int:
    from daemon.commands import channels

    if args.channels_command == "test":
        return channels.test(_load(args), args.name)
    if args.channels_command == "enable":
        return channels.enable(_load(args), args.name)
    return channels.status(_load(args))


def cmd_feeds(args: argparse.Namespace) -> int:
    from daemon.commands import feeds

    if args.feeds_command == "import":
        return feeds.import_opml(Path(args.settings), Path(args.file))
    if args.feeds_command == "export":
        return feeds.export_opml(_load(args))
    return feeds.status(_load(args))


def cmd_check(args: argparse.Namespace) -> int:
    from daemon.rulecheck import build_matcher

    path = Path(args.file or args.settings)
    settings = load_settings(path)
    build_matcher(settings)
    print(
        f"{path}: OK ({len(settings.feeds)} feeds, {len(settings.drops)} drops, "
        f"{len(settings.rules)} rules, {len(settings.channels)} channels)"
    )
    return 0


def cmd_rules_test(args: argparse.Namespace) -> int:
    from daemon.commands.rules import test_files
    from daemon.rulecheck import build_matcher

    matcher = build_matcher(_load(args))
    return test_files(matcher, args.files, args.timezone, args.json)


def _cache_dir(args: argparse.Namespace) -> Path:
    """The gazetteer cache of the settings in use, or ./data/cache without a settings file."""
    try:
        return _load(args).data_dir / "cache"
    except SettingsError:
        return Path("data") / "cache"


def cmd_regions_lookup(args: argparse.Namespace) -> int:
    from daemon.commands.regions import lookup

    return lookup(args.name, _cache_dir(args))


def cmd_regions_find(args: argparse.Namespace) -> int:
    from daemon.commands.regions import find

    return find(args.files, args.json, _cache_dir(args), explain=args.explain)
