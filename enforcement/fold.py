"""One user's months, folded: the replay's month-to-date bookkeeping, written once.

The spec's "Replaying history", step by step: at the first event of each calendar month
(policy timezone) cost, revenue and premium reset and the free tokens are granted again;
a revenue event adds its amount, its tokens and premium; a click unlocks; a request goes
to `decide`, then its cost is added and its tokens are spent. Paid tokens and the last
click carry over. The plain replay folds every user through `UserFold`, and the What-if
probe folds one user up to "now" through the same class, so the two cannot drift apart.
`fast_replay.py` is the one compiled copy, held equal to this by a Hypothesis test.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from enforcement.decide import Decision, State, decide, tokens_credited
from enforcement.levels import NOT_SERVED_REASONS
from enforcement.months import from_us, month_of, month_start_us
from enforcement.policy import Policy

if TYPE_CHECKING:  # only for the annotation: replay.py imports this module
    from enforcement.replay import History

# An event: (ts_us, rank, event_id, kind, *payload). Sorted as tuples, that is the spec's
# order: by instant, revenue and clicks (rank 0) before requests (rank 1), then event_id.
#   revenue: (ts, 0, id, REVENUE, stream, amount_micro, tokens or None)
#   click:   (ts, 0, id, CLICK)
#   request: (ts, 1, id, REQUEST, action, est_cost_micro)
Event = tuple[Any, ...]
REVENUE, CLICK, REQUEST = "rev", "clk", "req"
__all__ = ["CLICK", "REQUEST", "REVENUE", "Event", "MonthTally", "UserFold", "events_by_user",
           "tokens_credited"]  # tokens_credited: decide's, so the runtime needs no numpy


@dataclass(slots=True)
class MonthTally:
    """One user-month so far: its counts and its month-to-date money (micro-dollars)."""

    month: int  # month index (year * 12 + month - 1)
    requests: int = 0
    served: int = 0
    not_served: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(NOT_SERVED_REASONS, 0))
    tokens_spent: int = 0
    cost: int = 0
    revenue: int = 0


class UserFold:
    """One user's position, advanced event by event in the spec's order.

    `months` holds a tally per calendar month the user had an event in (clicks alone open
    none); the last one is the month to date.
    """

    __slots__ = ("_hi", "_lo", "_month", "free", "last_click", "months", "paid", "policy",
                 "premium")

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.free = 0
        self.paid = 0  # carries over month starts (the replay starts with none)
        self.premium = False
        self.last_click: datetime | None = None  # carries over month starts
        self.months: list[MonthTally] = []
        self._month: MonthTally | None = None
        self._lo = self._hi = 0  # the current month's [start, end), UTC micro-seconds

    def month_at(self, ts: int) -> MonthTally:
        """The tally of the month `ts` is in; a new month resets cost, revenue and premium
        and grants `free_monthly` tokens (not carried over)."""
        if self._month is not None and self._lo <= ts < self._hi:
            return self._month
        tz = self.policy.timezone
        m = month_of(ts, tz)
        self._lo, self._hi = month_start_us(m, tz), month_start_us(m + 1, tz)
        self.free, self.premium = self.policy.free_monthly, False
        self._month = MonthTally(m)
        self.months.append(self._month)
        return self._month

    def revenue(self, ts: int, stream: str, amount: int, recorded_tokens: int | None) -> None:
        """All revenue counts; `tokens` credits paid tokens, a positive `premium` sets premium."""
        self.month_at(ts).revenue += amount
        if stream == "tokens":
            self.paid += tokens_credited(amount, recorded_tokens, self.policy)
        elif stream == "premium" and amount > 0:
            self.premium = True

    def click(self, ts: int) -> None:
        """An affiliate click: unlocks gated service for `unlock_hours` from now."""
        self.last_click = from_us(ts)

    def request(self, ts: int, action: str, est_cost: int) -> Decision:
        """`decide` on the position before the request, then its cost and tokens booked."""
        tally = self.month_at(ts)
        d = decide(State(tally.cost, tally.revenue, self.free, self.paid, self.premium,
                         self.last_click), action, est_cost, self.policy, from_us(ts))
        tally.requests += 1
        if d.served:
            tally.served += 1
        else:
            tally.not_served[d.reason] += 1
        tally.tokens_spent += d.tokens_spent
        tally.cost += d.cost
        self.free -= d.free_tokens_spent
        self.paid -= d.paid_tokens_spent
        return d

    def feed(self, events: Iterable[Event]) -> UserFold:
        """Fold sorted events (see `Event`) in; returns self, for chaining."""
        for event in events:
            kind = event[3]
            if kind == REQUEST:
                self.request(event[0], event[4], event[5])
            elif kind == REVENUE:
                self.revenue(event[0], event[4], event[5], event[6])
            else:
                self.click(event[0])
        return self

    def state_at(self, ts: int) -> State:
        """The position just before a request at `ts` (a later month starts fresh)."""
        tally = self.month_at(ts)
        return State(tally.cost, tally.revenue, self.free, self.paid, self.premium,
                     self.last_click)


def events_by_user(history: History, lo: int, hi: int, user: int | None = None
                   ) -> dict[int, list[Event]]:
    """Each user's events with lo <= ts < hi (all users, or one user code), sorted."""

    def pick(users: np.ndarray, stamps: np.ndarray) -> np.ndarray:
        keep = (stamps >= lo) & (stamps < hi)
        if user is not None:
            keep &= users == user
        return np.flatnonzero(keep)

    events: defaultdict[int, list[Event]] = defaultdict(list)
    h = history
    i = pick(h.rev_user, h.rev_ts)
    for u, t, eid, stream, amount, tokens, has in zip(
            h.rev_user[i].tolist(), h.rev_ts[i].tolist(), h.rev_event_id[i].tolist(),
            h.rev_stream[i].tolist(), h.rev_amount[i].tolist(), h.rev_tokens[i].tolist(),
            h.rev_has_tokens[i].tolist(), strict=True):
        events[u].append((t, 0, eid, REVENUE, str(stream), amount,
                          tokens if has else None))
    i = pick(h.clk_user, h.clk_ts)
    for u, t, eid in zip(h.clk_user[i].tolist(), h.clk_ts[i].tolist(),
                         h.clk_event_id[i].tolist(), strict=True):
        events[u].append((t, 0, eid, CLICK))
    i = pick(h.req_user, h.req_ts)
    for u, t, eid, action, est in zip(
            h.req_user[i].tolist(), h.req_ts[i].tolist(), h.request_ids(i).tolist(),
            h.req_action[i].tolist(), h.req_cost[i].tolist(), strict=True):
        events[u].append((t, 1, eid, REQUEST, str(action), est))
    for user_events in events.values():
        user_events.sort()
    return events
