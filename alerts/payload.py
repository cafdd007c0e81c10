"""The alert payload (version 1): what webhooks receive and what the file channel writes.

Built once when the alert is enqueued and stored with it, so every retry sends the same body.
"""

from __future__ import annotations

from typing import Any

from alerts.match import RuleHit
from storage.types import Article

PAYLOAD_VERSION = 1


def build_payload(hit: RuleHit, article: Article, story_id: int) -> dict[str, Any]:
    return {
        "version": PAYLOAD_VERSION,
        "type": "alert",
        "rule": hit.rule.name,
        "story_id": story_id,
        "matched": list(hit.terms),
        "excerpt": hit.excerpt,
        "score": hit.score,
        "evidence": [e.to_json() for e in hit.evidence],
        "article": {
            "title": article.title,
            "url": article.url,
            "author": article.authors[0] if article.authors else None,
            "authors": list(article.authors),
            "published": article.published.isoformat() if article.published else None,
            "source": article.source,
            "language": article.language,
            "tags": list(article.tags),
        },
    }


def digest_payload(uid: str, reason: str, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    """Several alerts as one message (type ``digest``); each item is a full alert payload.

    ``reason`` says why they travel together: ``digest`` (the channel's schedule), ``quiet``
    (held through quiet hours) or ``rate`` (over the channel's rate limit).
    """
    return {
        "version": PAYLOAD_VERSION,
        "type": "digest",
        "id": uid,
        "reason": reason,
        "count": len(alerts),
        "alerts": alerts,
    }


def sample_payload(uid: str) -> dict[str, Any]:
    """What ``newswatch channels test`` sends: a made-up alert, marked as a test."""
    return {
        "id": uid,
        "alert_id": 0,
        "version": PAYLOAD_VERSION,
        "type": "test",
        "rule": "newswatch channel test",
        "story_id": 0,
        "matched": ["test"],
        "excerpt": "This is a **test** alert sent by `newswatch channels test`.",
        "article": {
            "title": "newswatch test alert",
            "url": "https://example.org/newswatch-test",
            "author": None,
            "authors": [],
            "published": None,
            "source": "newswatch",
            "language": "en",
            "tags": [],
        },
    }


def alert_items(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The alerts a message carries: the members of a digest, else the payload itself."""
    if payload.get("type") == "digest":
        items: list[dict[str, Any]] = payload.get("alerts", [])
        return items
    return [payload]
