"""Webhook presets and templates, sent to a real receiver and checked against what Slack,
Discord and ntfy document for their incoming messages."""

from __future__ import annotations

import json
from email.header import decode_header, make_header
from typing import Any

import pytest
from pydantic import ValidationError

from alerts.channels import Outbound
from alerts.channels.formats import DISCORD_CONTENT, DISCORD_EMBEDS, DISCORD_TOTAL
from alerts.channels.webhook import WebhookChannel, WebhookSettings
from alerts.payload import digest_payload
from tests.support import Received
from tests.test_delivery_kit import ScriptedReceiver, alert_payload, sample_article


def one_alert(n: int = 0, **article: Any) -> dict[str, Any]:
    payload = alert_payload(sample_article(n), story_id=40 + n, n=n)
    payload["article"].update(article)
    return {"id": f"msg_{n:032x}", "alert_id": n + 1, **payload}


def digest(count: int) -> dict[str, Any]:
    return digest_payload("msg_" + "d" * 32, "digest", [one_alert(n) for n in range(count)])


async def post(receiver: ScriptedReceiver, payload: dict[str, Any], **options: Any) -> Received:
    settings = WebhookSettings.model_validate({"type": "webhook", "url": receiver.url, **options})
    channel = WebhookChannel("preset", settings)
    message = Outbound(1, payload["id"], "rule", "preset", payload, attempt=1)
    try:
        assert (await channel.send(message)).startswith("HTTP 200")
    finally:
        await channel.close()
    return receiver.requests[-1]


async def test_json_is_the_payload_itself(hook: ScriptedReceiver) -> None:
    payload = one_alert()
    request = await post(hook, payload)
    assert request.json() == payload
    assert request.headers["Content-Type"] == "application/json"


async def test_slack_incoming_webhook_body(hook: ScriptedReceiver) -> None:
    request = await post(
        hook, one_alert(url="https://news.example.org/a?x=1&y=<2>"), format="slack"
    )
    body = request.json()
    assert set(body) == {"text", "blocks"}
    assert body["text"].startswith("Water supply: Water utility in Vinnytsia")
    [section] = body["blocks"]
    assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
    text = section["text"]["text"]
    # Slack links are <url|label>; &, < and > are escaped; bold is a single asterisk.
    assert text.startswith("*<https://news.example.org/a?x=1&amp;y=&lt;2&gt;|Water utility")
    assert "boil tap *water* for another day" in text and "**" not in text


async def test_slack_digest_lists_every_alert(hook: ScriptedReceiver) -> None:
    body = (await post(hook, digest(3), format="slack")).json()
    assert body["text"] == "newswatch: 3 alerts"
    assert len(body["blocks"]) == 3
    assert all(b["type"] == "section" for b in body["blocks"])


async def test_discord_message_keeps_within_discords_limits(hook: ScriptedReceiver) -> None:
    long_excerpt = "Shelling damaged the pumping station. " * 400
    alerts = [one_alert(n) for n in range(14)]
    for alert in alerts:
        alert["excerpt"] = long_excerpt
        alert["article"]["title"] = "Pumping station " + "very " * 80 + "damaged"
    payload = digest_payload("msg_" + "e" * 32, "rate", alerts)
    body = (await post(hook, payload, format="discord")).json()
    assert set(body) == {"content", "embeds", "allowed_mentions"}
    assert body["allowed_mentions"] == {"parse": []}
    assert len(body["content"]) <= DISCORD_CONTENT
    assert 1 <= len(body["embeds"]) <= DISCORD_EMBEDS
    total = 0
    for embed in body["embeds"]:
        assert len(embed["title"]) <= 256 and len(embed["description"]) <= 4096
        assert len(embed["footer"]["text"]) <= 2048
        total += len(embed["title"]) + len(embed["description"]) + len(embed["footer"]["text"])
    assert total <= DISCORD_TOTAL
    # What did not fit as an embed is still named in the content.
    assert len(body["embeds"]) == DISCORD_EMBEDS
    assert body["content"].count("\n- ") == 14 - DISCORD_EMBEDS


async def test_discord_single_alert(hook: ScriptedReceiver) -> None:
    body = (await post(hook, one_alert(2), format="discord")).json()
    [embed] = body["embeds"]
    assert body["content"].startswith("Water supply: Water utility in Chernihiv")
    assert embed["url"] == "https://news.example.org/chernihiv/water-2"
    assert embed["timestamp"] == "2026-03-02T09:32:00+00:00"
    assert "**water**" in embed["description"]


async def test_ntfy_body_is_the_text_with_headers(hook: ScriptedReceiver) -> None:
    payload = one_alert(title="Водоканал Вінниці відновив подачу води")
    request = await post(hook, payload, format="ntfy", headers={"Priority": "urgent"})
    assert request.headers["Content-Type"].startswith("text/plain")
    assert request.body.decode() == "…asked to boil tap **water** for another day (0)…"
    title = str(make_header(decode_header(request.headers["Title"])))
    assert title == "Water supply: Водоканал Вінниці відновив подачу води"
    assert request.headers["Click"] == "https://news.example.org/vinnytsia/water-0"
    assert request.headers["Tags"] == "newspaper"
    assert request.headers["Priority"] == "urgent", "extra headers override the preset"
    assert request.headers["Markdown"] == "yes"


async def test_template_renders_any_body(hook: ScriptedReceiver) -> None:
    template = (
        '{"summary": {{ (rule ~ ": " ~ article.title) | json }}, "n": {{ count }},'
        ' "links": [{% for a in alerts %}{{ a.article.url | json }}'
        "{% if not loop.last %}, {% endif %}{% endfor %}]}"
    )
    request = await post(hook, digest(2), template=template)
    assert json.loads(request.body) == {
        "summary": "Water supply: Water utility in Vinnytsia restores supply to district 0 "
        "after pipe burst",
        "n": 2,
        "links": [
            "https://news.example.org/vinnytsia/water-0",
            "https://news.example.org/poltava/water-1",
        ],
    }


async def test_template_with_an_unknown_name_fails_the_delivery(hook: ScriptedReceiver) -> None:
    settings = WebhookSettings(type="webhook", url=hook.url, template="{{ headline }}")
    channel = WebhookChannel("t", settings)
    message = Outbound(1, "msg_1", "rule", "t", one_alert(), attempt=1)
    with pytest.raises(Exception, match="'headline' is undefined"):
        await channel.send(message)
    await channel.close()
    assert hook.requests == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"template": "{% for %}"}, "template error"),
        ({"template": "{}", "format": "slack"}, "either 'format' or 'template'"),
        ({"format": "teams"}, "format"),
        ({"rate_limit": "lots"}, "30/min"),
        ({"quiet_hours": "night"}, "22:00-07:00"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
    ],
)
def test_bad_channel_settings_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        WebhookSettings.model_validate({"type": "webhook", "url": "http://127.0.0.1/", **options})
