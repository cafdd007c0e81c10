"""Delivery channels behind one small Protocol; one module per channel type."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from alerts.channels.base import Channel, DeliveryError, Outbound
from alerts.channels.email import EmailChannel, EmailSettings
from alerts.channels.file import FileChannel, FileSettings
from alerts.channels.webhook import WebhookChannel, WebhookSettings
from alerts.flow import Flow

ChannelSettings = WebhookSettings | EmailSettings | FileSettings

SETTINGS_BY_TYPE: dict[str, type[ChannelSettings]] = {
    "webhook": WebhookSettings,
    "email": EmailSettings,
    "file": FileSettings,
}


def build_channel(name: str, settings: ChannelSettings, base_dir: Path) -> Channel:
    """Instantiate a configured channel; relative file paths count from the settings file."""
    if isinstance(settings, WebhookSettings):
        return WebhookChannel(name, settings)
    if isinstance(settings, EmailSettings):
        return EmailChannel(name, settings)
    return FileChannel(name, base_dir / settings.path)


def build_flows(channels: Mapping[str, ChannelSettings]) -> dict[str, Flow]:
    """Flow control for the channels that ask for any (digest, quiet hours, rate limit)."""
    flows = {name: Flow.from_settings(cfg) for name, cfg in channels.items()}
    return {name: flow for name, flow in flows.items() if flow.digest or flow.quiet or flow.limiter}


__all__ = [
    "SETTINGS_BY_TYPE",
    "Channel",
    "ChannelSettings",
    "DeliveryError",
    "Outbound",
    "build_channel",
    "build_flows",
]
