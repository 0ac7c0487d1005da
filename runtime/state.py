"""A user's month-to-date position as the runtime keeps it: one item in the tokens table.

The item holds what the data contract reads (`token_balance`, `last_updated`, `month`)
and what `decide` needs (month-to-date cost and revenue, free and paid tokens, the
premium flag, the last affiliate click), plus `version`, the count of events written for
the user: every write is conditional on it, and it numbers the event's sort key.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from enforcement.decide import Decision, State
from enforcement.money import to_micro, usd
from enforcement.months import from_us, month_label, month_of, to_us
from enforcement.policy import Policy

__all__ = ["UserState", "from_us", "iso", "month_index", "month_label", "sort_key", "to_us"]

SEQUENCE_DIGITS = 10


def iso(us: int) -> str:
    """Naive UTC ISO text, microseconds left out when zero (the data contract's form)."""
    return from_us(us).replace(tzinfo=None).isoformat()


def month_index(us: int, tz: str) -> int:
    """The calendar month (year * 12 + month - 1) an instant falls in, in timezone `tz`:
    the replay's own `month_of`, so live and replayed months start at the same instant."""
    return month_of(us, tz)


def sort_key(us: int, sequence: int) -> str:
    """`<iso>#<sequence>`: unique per user even for two events in one microsecond, and
    ordered as they were decided (the loader takes the instant before `#`)."""
    return f"{iso(us)}#{sequence:0{SEQUENCE_DIGITS}d}"


@dataclass(frozen=True)
class UserState:
    """The position before an event. Money in micro-dollars; instants in epoch micro-seconds.

    `version` 0 means no item yet. `month` is the enforcement month (policy timezone).
    """

    user: str
    version: int = 0
    month: int | None = None
    cost: int = 0
    revenue: int = 0
    free_tokens: int = 0
    paid_tokens: int = 0
    premium: bool = False
    last_click_us: int | None = None
    last_event_us: int = 0
    last_request_us: int = 0
    last_updated_us: int = 0

    @property
    def tokens(self) -> int:
        return self.free_tokens + self.paid_tokens

    def in_month(self, month: int, policy: Policy) -> UserState:
        """The position at `month`: a new month starts from nothing but paid tokens and the
        last click, with the policy's free tokens (the replay's month start, exactly)."""
        if self.month == month:
            return self
        return replace(self, month=month, cost=0, revenue=0, free_tokens=policy.free_monthly,
                       premium=False)

    def as_state(self) -> State:
        click = from_us(self.last_click_us) if self.last_click_us is not None else None
        return State(self.cost, self.revenue, self.free_tokens, self.paid_tokens, self.premium,
                     click)

    def after_request(self, d: Decision, ts_us: int) -> UserState:
        return replace(self, version=self.version + 1, cost=self.cost + d.cost,
                       free_tokens=self.free_tokens - d.free_tokens_spent,
                       paid_tokens=self.paid_tokens - d.paid_tokens_spent,
                       last_event_us=max(self.last_event_us, ts_us),
                       last_request_us=max(self.last_request_us, ts_us),
                       last_updated_us=max(self.last_updated_us, ts_us))

    def bumped(self, ts_us: int, **changes: Any) -> UserState:
        """The next version, touched at `ts_us`, with `changes`."""
        return replace(self, version=self.version + 1,
                       last_updated_us=max(self.last_updated_us, ts_us), **changes)

    # -- the item ----------------------------------------------------------------------
    def to_item(self, policy_id: str) -> dict[str, Any]:
        item: dict[str, Any] = {
            "user_phone": self.user,
            "token_balance": self.tokens,
            "last_updated": iso(self.last_updated_us),
            "month": month_label(self.month) if self.month is not None else None,
            "version": self.version,
            "month_cost": usd(self.cost),
            "month_revenue": usd(self.revenue),
            "free_tokens": self.free_tokens,
            "paid_tokens": self.paid_tokens,
            "premium": self.premium,
            "last_affiliate_click": (iso(self.last_click_us)
                                     if self.last_click_us is not None else None),
            "last_click_us": self.last_click_us,
            "last_event_us": self.last_event_us,
            "last_request_us": self.last_request_us,
            "last_updated_us": self.last_updated_us,
            "policy_id": policy_id,
        }
        return {k: v for k, v in item.items() if v is not None}

    @classmethod
    def from_item(cls, user: str, item: dict[str, Any] | None) -> UserState:
        if not item:
            return cls(user)
        month = item.get("month")
        y, m = (int(x) for x in month.split("-")) if month else (0, 0)

        def num(name: str, default: int = 0) -> int:
            value = item.get(name)
            return int(value) if value is not None else default

        return cls(
            user=user,
            version=num("version"),
            month=y * 12 + m - 1 if month else None,
            cost=to_micro(Decimal(item.get("month_cost", 0))),
            revenue=to_micro(Decimal(item.get("month_revenue", 0))),
            free_tokens=num("free_tokens"),
            paid_tokens=num("paid_tokens"),
            premium=bool(item.get("premium", False)),
            last_click_us=num("last_click_us") if "last_click_us" in item else None,
            last_event_us=num("last_event_us"),
            last_request_us=num("last_request_us"),
            last_updated_us=num("last_updated_us"),
        )
