"""Slack's incoming webhook: `text` (the notification) plus `blocks` (the message).

Slack reads `&`, `<` and `>` as markup (`<url|label>`, `<!channel>`), so every piece of
text we send is escaped to `&amp;`, `&lt;`, `&gt;`: a source name or an error can never
ping a channel or forge a link. The dashboard link goes in a button's `url`, which is not
markup.
"""

from __future__ import annotations

import json
from typing import Any

from alerts.channels.http import post_json
from core.settings import AlertSettings

ICON = {"firing": ":rotating_light:", "resolved": ":white_check_mark:", "test": ":bell:"}


def escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def title(event: dict[str, Any]) -> str:
    return f"{event['state'].upper()}: {event['rule']} ({event['key']}, {event['period']})"


def payload(event: dict[str, Any]) -> dict[str, Any]:
    """The incoming-webhook JSON of one event."""
    head, message = escape(title(event)), escape(event["message"])
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn",
                                     "text": f"{ICON.get(event['state'], '')} *{head}*\n"
                                             f"{message}"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(
            f"value {event['value']} · threshold {event['threshold']}")}]},
    ]
    if event.get("url"):
        blocks.append({"type": "actions", "elements": [{
            "type": "button", "text": {"type": "plain_text", "text": "Open the dashboard"},
            "url": event["url"]}]})
    return {"text": f"{head}: {message}", "blocks": blocks}


def send(conf: AlertSettings, event: dict[str, Any]) -> None:
    data = json.dumps(payload(event), ensure_ascii=False).encode("utf-8")
    post_json(str(conf.slack_webhook_url), data, timeout=conf.timeout_seconds)
