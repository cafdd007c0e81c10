"""Webhook bodies for popular receivers, built from the alert payload (pure functions).

- ``json``: the payload itself (documented in README.md, versioned).
- ``slack``: an incoming-webhook message, ``{"text": …, "blocks": [section …]}`` in mrkdwn.
- ``discord``: an execute-webhook message, ``{"content": …, "embeds": [...]}`` within
  Discord's limits (content 2000 characters; at most 10 embeds; title 256, description 4096,
  footer 2048, 6000 characters over all embeds); mentions are disabled.
- ``ntfy``: the body is the message text; ``Title``, ``Tags``, ``Click``, ``Priority`` and
  ``Markdown`` headers carry the rest (non-ASCII header values are RFC 2047 encoded).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.header import Header
from typing import Any

from alerts.payload import alert_items

DISCORD_CONTENT, DISCORD_EMBEDS, DISCORD_TOTAL = 2000, 10, 6000
DISCORD_TITLE, DISCORD_DESCRIPTION, DISCORD_FOOTER = 256, 4096, 2048
SLACK_SECTION, SLACK_BLOCKS = 3000, 50
NTFY_BODY = 4096


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def headline(payload: dict[str, Any]) -> str:
    """One line that says what happened: the rule, or how many alerts a digest holds."""
    if payload.get("type") == "digest":
        count = int(payload.get("count", 0))
        return f"newswatch: {count} alert{'s' if count != 1 else ''}"
    title = payload["article"].get("title") or "(untitled)"
    return f"{payload['rule']}: {title}"


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def render_json(payload: dict[str, Any]) -> Rendered:
    return Rendered(_json_bytes(payload))


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_section(item: dict[str, Any]) -> dict[str, Any]:
    article = item["article"]
    title = _slack_escape(article.get("title") or "(untitled)")
    url = _slack_escape(article.get("url") or "").replace("|", "%7C")
    link = f"<{url}|{title}>" if url else title
    source = _slack_escape(article.get("source") or "")
    # Slack's mrkdwn bolds with single asterisks; the evidence marks hits with double ones.
    excerpt = _slack_escape(item.get("excerpt") or "").replace("**", "*")
    text = f"*{link}*\n_{_slack_escape(item['rule'])}_ · {source}\n>{excerpt}"
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SLACK_SECTION)}}


def render_slack(payload: dict[str, Any]) -> Rendered:
    items = alert_items(payload)
    blocks = [_slack_section(item) for item in items[: SLACK_BLOCKS - 1]]
    if len(items) > len(blocks):
        more = f"…and {len(items) - len(blocks)} more"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    return Rendered(_json_bytes({"text": _slack_escape(headline(payload)), "blocks": blocks}))


def _discord_embed(item: dict[str, Any]) -> dict[str, Any]:
    article = item["article"]
    embed: dict[str, Any] = {
        "title": clip(article.get("title") or "(untitled)", DISCORD_TITLE),
        "description": clip(item.get("excerpt") or "", DISCORD_DESCRIPTION),
        "footer": {"text": clip(f"{item['rule']} · {article.get('source') or ''}", 200)},
    }
    if article.get("url"):
        embed["url"] = article["url"]
    if article.get("published"):
        embed["timestamp"] = article["published"]
    return embed


def render_discord(payload: dict[str, Any]) -> Rendered:
    """Up to 10 embeds sharing the 6000-character budget; the rest are listed in ``content``."""
    items = alert_items(payload)
    shown = items[:DISCORD_EMBEDS]
    share = DISCORD_TOTAL // max(1, len(shown))
    embeds = []
    for item in shown:
        embed = _discord_embed(item)
        embed["title"] = clip(embed["title"], min(DISCORD_TITLE, share // 4))
        room = share - len(embed["title"]) - len(embed["footer"]["text"])
        embed["description"] = clip(embed["description"], max(1, room))
        embeds.append(embed)
    lines = [headline(payload)]
    for count, item in enumerate(items[len(shown) :]):
        line = f"- {clip(headline(item), 150)}"
        if sum(len(x) + 1 for x in lines) + len(line) > DISCORD_CONTENT - 40:
            lines.append(f"…and {len(items) - len(shown) - count} more")
            break
        lines.append(line)
    body = {"content": clip("\n".join(lines), DISCORD_CONTENT), "embeds": embeds}
    return Rendered(_json_bytes({**body, "allowed_mentions": {"parse": []}}))


def _ntfy_header(value: str) -> str:
    """HTTP headers are Latin-1 at best; ntfy decodes RFC 2047 for anything else."""
    if value.isascii():
        return value
    return Header(value, "utf-8").encode(maxlinelen=10_000)


def render_ntfy(payload: dict[str, Any]) -> Rendered:
    items = alert_items(payload)
    lines = []
    for item in items:
        article = item["article"]
        if len(items) > 1:
            lines.append(f"**{article.get('title') or '(untitled)'}** ({item['rule']})")
        lines.append(item.get("excerpt") or "")
        if len(items) > 1 and article.get("url"):
            lines.append(article["url"])
    headers = {"Title": _ntfy_header(clip(headline(payload), 250)), "Tags": "newspaper"}
    headers["Markdown"] = "yes"
    url = items[0]["article"].get("url") if len(items) == 1 else None
    if url:
        headers["Click"] = url
    if payload.get("type") == "digest":
        headers["Priority"] = "default"
    else:
        headers["Priority"] = "high"
    body = "\n\n".join(line for line in lines if line).encode()
    if len(body) > NTFY_BODY:
        body = body[: NTFY_BODY - 3].decode("utf-8", "ignore").encode() + "…".encode()
    return Rendered(body, "text/plain; charset=utf-8", headers)


RENDERERS = {
    "json": render_json,
    "slack": render_slack,
    "discord": render_discord,
    "ntfy": render_ntfy,
}
