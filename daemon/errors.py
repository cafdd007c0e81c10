"""The daemon's error hierarchy.

    NewswatchError
     ├── SettingsError      settings.toml is wrong (carries every problem found, with locations)
     ├── ParseError         an input could not be read into an Article (the reason is user-facing)
     └── FetchError         a source could not be retrieved

Lower-level exceptions are mapped to these at the boundary (``raise … from exc``) so callers
contain failures per source, per file, per alert without catching bare ``Exception``.
"""

from __future__ import annotations


class NewswatchError(Exception):
    """Base of everything the daemon raises on purpose."""


class SettingsError(NewswatchError):
    """Settings failed validation; ``problems`` lists every mistake, each with its location."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


class ParseError(NewswatchError):
    """An input could not become an Article; the message is the quarantine reason."""


class FetchError(NewswatchError):
    """A source could not be retrieved (network, status, size or timeout)."""
