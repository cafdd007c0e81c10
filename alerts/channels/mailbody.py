"""The email an alert becomes: multipart text + HTML, one alert or a digest of many.

Each alert shows its headline (linked), source, publication time, the rule and the evidence
snippet with the words that fired in bold. ``Message-ID`` is derived from the alert's (or
batch's) uid, so a resend after a crash is the same message to any mail client.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from alerts.channels.template import render
from alerts.payload import alert_items

DEFAULT_SUBJECT = (
    "[newswatch] {% if digest %}{{ count }} alert{{ 's' if count != 1 }}"
    "{% else %}{{ rule }}: {{ article.title }}{% endif %}"
)
_MARKED = re.compile(r"\*\*(.+?)\*\*")


def message_id(uid: str, sender: str) -> str:
    domain = sender.rpartition("@")[2].strip("<> ") or "newswatch.invalid"
    return f"<{uid}@{domain}>"


def _when(article: dict[str, Any]) -> str:
    published = article.get("published")
    return str(published).replace("T", " ") if published else "time unknown"


def text_part(item: dict[str, Any]) -> str:
    article = item["article"]
    lines = [
        article.get("title") or "(untitled)",
        f"Source: {article.get('source') or 'unknown'} · {_when(article)}",
        f"Rule: {item['rule']} (matched: {', '.join(item.get('matched', []))})",
        "",
        item.get("excerpt") or "",
    ]
    if article.get("url"):
        lines += ["", article["url"]]
    return "\n".join(lines)


def _evidence_html(excerpt: str) -> str:
    return _MARKED.sub(r"<strong>\1</strong>", html.escape(excerpt))


def html_part(item: dict[str, Any]) -> str:
    article = item["article"]
    title = html.escape(article.get("title") or "(untitled)")
    if article.get("url"):
        title = f'<a href="{html.escape(article["url"], quote=True)}">{title}</a>'
    meta = html.escape(f"{article.get('source') or 'unknown'} · {_when(article)} · {item['rule']}")
    return (
        f'<h2>{title}</h2>\n<p style="color:#555">{meta}</p>\n'
        f"<blockquote>{_evidence_html(item.get('excerpt') or '')}</blockquote>"
    )


def build_message(
    uid: str, payload: dict[str, Any], sender: str, to: Sequence[str], subject: str
) -> EmailMessage:
    """The full message; ``subject`` is a template (see alerts/channels/template.py)."""
    items = alert_items(payload)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = " ".join(render(subject, payload).split())
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id(uid, sender)
    message["X-Newswatch-Id"] = uid
    rule = "\n\n" + "-" * 60 + "\n\n"
    message.set_content(rule.join(text_part(item) for item in items))
    body = "\n<hr>\n".join(html_part(item) for item in items)
    message.add_alternative(f"<!doctype html>\n<html><body>\n{body}\n</body></html>\n", "html")
    return message
