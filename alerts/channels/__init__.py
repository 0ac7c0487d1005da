"""Where alerts go: a signed webhook, a Slack incoming webhook and email, per `[alerts]`.

Each channel is `send(event)`, raising DeliveryError with a message fit to print: it names
what went wrong (HTTP 500, timed out, connection refused) and never holds a URL, a
password or the body. `configured(conf)` lists the channels whose settings are present.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.settings import AlertSettings


class DeliveryError(Exception):
    """A channel that did not take the alert; the text holds no secret."""


Channel = Callable[[dict[str, Any]], None]


def configured(conf: AlertSettings) -> dict[str, Channel]:
    """The channels set up in `[alerts]`, by name, in a fixed order."""
    from alerts.channels import email, slack, webhook

    found: dict[str, Channel] = {}
    if conf.webhook_url:
        found["webhook"] = lambda ev: webhook.send(conf, ev)
    if conf.slack_webhook_url:
        found["slack"] = lambda ev: slack.send(conf, ev)
    if conf.email_ready:
        found["email"] = lambda ev: email.send(conf, ev)
    return found
