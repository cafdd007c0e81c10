"""newswatch: news-feed ingestion and alerting daemon."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("newswatch")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
