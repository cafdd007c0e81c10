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
