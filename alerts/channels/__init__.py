"""Delivery channels behind one small Protocol; one module per channel type."""

from __future__ import annotations

from pathlib import Path

from alerts.channels.base import Channel, DeliveryError, Outbound
from alerts.channels.file import FileChannel, FileSettings
from alerts.channels.webhook import WebhookChannel, WebhookSettings

ChannelSettings = WebhookSettings | FileSettings

SETTINGS_BY_TYPE: dict[str, type[ChannelSettings]] = {
    "webhook": WebhookSettings,
    "file": FileSettings,
}


def build_channel(name: str, settings: ChannelSettings, base_dir: Path) -> Channel:
    """Instantiate a configured channel; relative file paths count from the settings file."""
    if isinstance(settings, WebhookSettings):
        return WebhookChannel(name, settings)
    return FileChannel(name, base_dir / settings.path)


__all__ = [
    "SETTINGS_BY_TYPE",
    "Channel",
    "ChannelSettings",
    "DeliveryError",
    "Outbound",
    "build_channel",
]
