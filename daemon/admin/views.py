"""What the page, the API and the scrape-time gauges show, read from the database."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from daemon import __version__, metrics
from daemon.feeds.schedule import feed_state
from daemon.runtime import Runtime
from daemon.settings import Settings
from storage import outbox, status
from storage.feeds import list_feeds
from storage.models import DEAD, utcnow

CHART_HOURS = 48
PAGE_ALERTS = 20
_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


async def feeds(runtime: Runtime, settings: Settings) -> list[dict[str, Any]]:
    now = utcnow()
    broken_after = settings.polling.broken_after
    async with runtime.sessions() as session:
        rows = await list_feeds(session)
    return [
        {
            "name": f.name,
            "url": f.url,
            "configured_url": f.configured_url,
            "state": feed_state(f, now, broken_after),
            "enabled": f.enabled,
            "last_success_at": f.last_success_at,
            "last_poll_at": f.last_poll_at,
            "last_status": f.last_status,
            "last_error": f.last_error,
            "error_count": f.error_count,
            "failing_since": f.first_error_at,
            "next_poll_at": f.next_poll_at if f.enabled else None,
            "items_seen": f.items_seen,
            "disabled_reason": f.disabled_reason,
        }
        for f in rows
    ]


async def drops(runtime: Runtime) -> list[dict[str, Any]]:
    async with runtime.sessions() as session:
        return await status.list_drops(session)


def rules(settings: Settings) -> list[dict[str, Any]]:
    seen = {
        sample.labels["rule"]: sample.value
        for family in metrics.MATCHES.collect()
        for sample in family.samples
        if sample.name.endswith("_total")
    }
    return [
        {**rule.model_dump(mode="json"), "matches_since_start": int(seen.get(rule.name, 0))}
        for rule in settings.rules
    ]


async def articles(runtime: Runtime, limit: int) -> list[dict[str, Any]]:
    async with runtime.sessions() as session:
        return await status.latest_articles(session, limit)


async def stories(runtime: Runtime, limit: int) -> list[dict[str, Any]]:
    async with runtime.sessions() as session:
        return await status.latest_stories(session, limit)


async def alerts(runtime: Runtime, state: str | None, limit: int) -> list[dict[str, Any]]:
    async with runtime.sessions() as session:
        rows = await outbox.list_alerts(session, state, limit)
    return [status.alert_view(row) for row in rows]


async def refresh_gauges(runtime: Runtime, settings: Settings) -> None:
    """Set the gauges the database knows: read at scrape time, right for the whole fleet."""
    now = utcnow()
    async with runtime.sessions() as session:
        by_channel = await status.alerts_by_channel(session)
        box = await status.outbox_state(session)
        files = await status.drop_files_by_status(session)
        rows = await list_feeds(session)
    metrics.ALERTS.clear()
    for (channel, state), count in by_channel.items():
        metrics.ALERTS.labels(channel, state).set(count)
    metrics.OUTBOX_DEPTH.set(box.pending)
    metrics.OUTBOX_OLDEST.set(box.oldest_age(now))
    metrics.DROP_FILES.clear()
    for state, count in files.items():
        metrics.DROP_FILES.labels(state).set(count)
    states = Counter(feed_state(feed, now, settings.polling.broken_after) for feed in rows)
    for state in ("ok", "failing", "broken", "disabled"):  # not "not in settings"
        metrics.FEEDS.labels(state).set(states[state])


async def render_page(
    runtime: Runtime, settings: Settings, form_key: str, *, notice: str | None = None
) -> str:
    now = utcnow()
    feed_rows = await feeds(runtime, settings)
    drop_rows = await drops(runtime)
    async with runtime.sessions() as session:
        series = await status.hourly(session, CHART_HOURS, now)
        counts = await outbox.counts_by_status(session)
        latest = await outbox.list_alerts(session, None, PAGE_ALERTS)
        dead = await outbox.list_alerts(session, DEAD, PAGE_ALERTS)
        box = await status.outbox_state(session)
    template = _TEMPLATES.get_template("status.html")
    return template.render(
        version=__version__,
        now=now,
        notice=notice,
        form_key=form_key,
        feeds=feed_rows,
        drops=drop_rows,
        rules=settings.rules,
        counts=counts,
        outbox=box,
        outbox_age=box.oldest_age(now),
        latest=[status.alert_view(row) for row in latest],
        dead=[status.alert_view(row) for row in dead],
        chart=chart_svg(series["hours"], series["articles"], series["alerts"]),
        totals={"articles": sum(series["articles"]), "alerts": sum(series["alerts"])},
        ago=lambda moment: ago(moment, now),
        states=Counter(f["state"] for f in feed_rows),
    )


def ago(moment: datetime | None, now: datetime) -> str:
    """``3m ago`` / ``in 5m``: what a person scanning a table wants, not a timestamp."""
    if moment is None:
        return "never"
    seconds = (now - moment).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m"), (1, "s")):
        if seconds >= size or unit == "s":
            amount = f"{int(seconds // size)}{unit}"
            return f"in {amount}" if future else f"{amount} ago"
    return "now"


def chart_svg(hours: list[datetime], articles: list[int], alerts: list[int]) -> Markup:
    """Articles per hour as bars, alerts per hour as darker bars in front, on one scale.

    Drawn here as plain SVG so the page needs no script and no asset from anywhere: it scales
    to the screen's width through its viewBox.
    """
    width, height, left, bottom, top = 960, 220, 60, 34, 14
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = max([*articles, *alerts, 1])
    scale = 4 * _nice(-(-peak // 4))  # four grid steps of a round size
    slot = plot_w / max(len(hours), 1)
    bar = max(slot - 2, 1)
    parts: list[str] = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Articles and alerts per hour, last {len(hours)} hours" '
        'xmlns="http://www.w3.org/2000/svg">'
    ]
    for step in range(5):
        value = scale * step / 4
        y = top + plot_h - plot_h * step / 4
        parts.append(
            f'<line x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">'
            f"{value:.0f}</text>"
        )
    for i, (hour, made, sent) in enumerate(zip(hours, articles, alerts, strict=True)):
        x = left + i * slot + 1
        for value, css in ((made, "articles"), (sent, "alerts")):
            if value:
                h = plot_h * value / scale
                y = top + plot_h - h
                label = escape(f"{hour:%Y-%m-%d %H}:00 UTC: {value} {css}")
                w = bar if css == "articles" else max(bar / 2, 1)
                parts.append(
                    f'<rect class="{css}" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" '
                    f'height="{h:.1f}"><title>{label}</title></rect>'
                )
        if hour.hour % 6 == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - 10}" class="tick" '
                f'text-anchor="middle">{hour:%H}h</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _nice(peak: int) -> float:
    """``peak`` rounded up to 1, 2 or 5 times a power of ten."""
    magnitude = 1.0
    while magnitude * 10 <= peak:
        magnitude *= 10
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= peak:
            return factor * magnitude
    return 10 * magnitude
