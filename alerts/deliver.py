"""Sending what is pending: retry with backoff within a run, the rest on the next run.

Every (alert, state, channel) not yet sent is tried in the order the alerts happened.
A channel gets `retries` attempts, waiting backoff, 2×backoff, … between them; if they
all fail it is down for the rest of this run (its other alerts wait too, so one dead
server does not stall the run) and is named in one line. The other channels still get
everything. A success is written to the state at once, so no channel gets an alert twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from alerts import state as store
from alerts.channels import Channel, DeliveryError
from alerts.model import event
from core.settings import AlertSettings


def with_retry(channel: Channel, payload: dict[str, Any], attempts: int, backoff: float,
               sleep: Callable[[float], None] = time.sleep) -> None:
    """Send once, or retry up to `attempts` in all with exponential backoff."""
    for attempt in range(attempts):
        try:
            channel(payload)
            return
        except DeliveryError:
            if attempt == attempts - 1:
                raise
            sleep(backoff * 2 ** attempt)


def deliver(state: dict[str, Any], channels: dict[str, Channel], conf: AlertSettings,
            save: Callable[[dict[str, Any]], None],
            sleep: Callable[[float], None] = time.sleep) -> list[str]:
    """Send every pending alert; return one line per channel that failed."""
    down: dict[str, DeliveryError] = {}
    for record in state["alerts"]:
        for st, name in store.pending(record, channels):
            if name in down:
                continue
            try:
                with_retry(channels[name], event(record, st), conf.retries,
                           conf.backoff_seconds, sleep)
            except DeliveryError as exc:
                down[name] = exc
                continue
            step = record["events"][st]
            step["sent"].append(name)
            step["sent_at"][name] = datetime.now(UTC).replace(microsecond=0).isoformat()
            save(state)
    lines = []
    for name, exc in down.items():
        left = sum(1 for r in state["alerts"] for _, ch in store.pending(r, channels)
                   if ch == name)
        lines.append(f"alerts: channel {name} failed after {conf.retries} attempts ({exc}); "
                     f"{left} alert{'' if left == 1 else 's'} kept for the next run")
    return lines


def test_event(conf: AlertSettings, channel: str, sent_by: str, now: datetime) -> dict[str, Any]:
    """A test alert: the shape of a real one (state firing, rule `test`), never recorded."""
    return {"rule": "test", "key": channel, "state": "firing", "period": now.date().isoformat(),
            "value": None, "threshold": None,
            "message": f"Test alert from the profit dashboard, sent by {sent_by}: the "
                       f"{channel} channel works.",
            "url": conf.dashboard_link}


def send_test(conf: AlertSettings, channel: str, sent_by: str,
              sleep: Callable[[float], None] = time.sleep) -> None:
    """Send one test alert to one configured channel (retried as a real one would be)."""
    from alerts.channels import configured

    channels = configured(conf)
    if channel not in channels:
        raise DeliveryError(f"{channel} is not set up in [alerts]")
    with_retry(channels[channel], test_event(conf, channel, sent_by, datetime.now(UTC)),
               conf.retries, conf.backoff_seconds, sleep)
