"""Jinja2 templates for webhook bodies and email text, in a sandbox with strict undefined.

Every template sees the same names: ``payload`` (the whole message), ``alerts`` (the alerts
it carries: one, or the members of a digest), ``alert`` (the first), ``digest`` (true for a
batch), ``count``, and, for convenience, the first alert's keys (``rule``, ``article``,
``excerpt``, ``matched``, ``id`` …). A misspelt name is an error, not an empty string.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from alerts.payload import alert_items


def _environment(autoescape: bool) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=autoescape, keep_trailing_newline=True
    )
    # ``tojson`` in Jinja escapes for HTML; a JSON body wants plain JSON strings.
    env.filters["json"] = lambda value: json.dumps(value, ensure_ascii=False)
    return env


_PLAIN = _environment(autoescape=False)
_HTML = _environment(autoescape=True)


@lru_cache(maxsize=128)
def compile_template(source: str, html: bool = False) -> Template:
    """Parse once; raises ValueError with Jinja's message so settings can point at it."""
    try:
        return (_HTML if html else _PLAIN).from_string(source)
    except TemplateError as exc:
        raise ValueError(f"template error: {exc}") from exc


def context(payload: dict[str, Any]) -> dict[str, Any]:
    items = alert_items(payload)
    first = items[0] if items else {}
    return {
        **first,
        "payload": payload,
        "alerts": items,
        "alert": first,
        "digest": payload.get("type") == "digest",
        "count": len(items),
    }


def render(source: str, payload: dict[str, Any], html: bool = False) -> str:
    """Render or raise ValueError (an undefined name, a failing filter …)."""
    try:
        return compile_template(source, html).render(context(payload))
    except TemplateError as exc:
        raise ValueError(f"template error: {exc}") from exc
