"""What a rule finds and what a channel is sent, as plain data.

A rule returns one `Observation` per key it judged, firing or not, so that a cleared
condition can be sent as `resolved` with its current value. An `event` is the JSON object
every channel is built from: rule, key, state, period, value, threshold, message, url.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core import formats
from enforcement.money import fmt_usd, to_micro

FIRING, RESOLVED, ENDED = "firing", "resolved", "ended"
EVENT_KEYS = ("rule", "key", "state", "period", "value", "threshold", "message", "url")


@dataclass(frozen=True)
class Observation:
    """One (rule, key, period) as judged at this run; `value`/`threshold` are JSON-ready."""

    rule: str
    key: str
    period: str
    firing: bool
    value: Any
    threshold: Any
    message: str
    page: str = ""  # the app's page and query string the alert points at, e.g. "daily?day=…"

    @property
    def ident(self) -> tuple[str, str, str]:
        return self.rule, self.key, self.period


def json_value(value: Any, unit: str) -> Any:
    """A figure as the KPI JSON writes it: money a string with two decimals or more,
    a percentage or other number rounded to two decimals, a count an int, none a null."""
    if value is None or isinstance(value, float) and math.isnan(value):
        return None
    if unit == formats.USD:
        return fmt_usd(to_micro(Decimal(str(value)).quantize(Decimal("0.000001"))))
    if unit == formats.COUNT:
        return int(value)
    return float(formats.round_half_up(value, 2))


def link(base: str | None, page: str) -> str | None:
    """The dashboard address an alert points at, or None when no `dashboard_link` is set."""
    if not base:
        return None
    return f"{base.rstrip('/')}/{page}" if page else base


def event(record: dict[str, Any], state: str) -> dict[str, Any]:
    """The JSON object of one alert in one state, from its stored record."""
    step = record["events"][state]
    return {"rule": record["rule"], "key": record["key"], "state": state,
            "period": record["period"], "value": step["value"], "threshold": step["threshold"],
            "message": step["message"], "url": record.get("url")}
