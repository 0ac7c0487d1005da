"""The generic webhook: the event's JSON, signed so the receiver can trust it.

`X-Profit-Signature: sha256=<hex HMAC-SHA256 of the exact body, keyed by webhook_secret>`.
The receiver recomputes it over the raw body and compares in constant time
(`hmac.compare_digest`); without `webhook_secret` the header is left out.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from alerts.channels.http import post_json
from core.settings import AlertSettings

HEADER = "X-Profit-Signature"


def body(event: dict[str, Any]) -> bytes:
    """The event as compact UTF-8 JSON: the bytes that are signed are the bytes sent."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signature(data: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), data, hashlib.sha256).hexdigest()


def verify(data: bytes, header: str | None, secret: str) -> bool:
    """What a receiver does: True when the header signs this body with this secret."""
    return bool(header) and hmac.compare_digest(signature(data, secret), str(header))


def send(conf: AlertSettings, event: dict[str, Any]) -> None:
    data = body(event)
    headers = {HEADER: signature(data, conf.webhook_secret)} if conf.webhook_secret else {}
    post_json(str(conf.webhook_url), data, timeout=conf.timeout_seconds, headers=headers)
