"""One fold over a user's month (enforcement/fold.py), shared by the replay and the What-if probe.

A worked two-month history (seed policy, UTC), every position worked out by hand:

+1  03-01 09:00  meal_plan $0.30     before 0.00/0.00, 100 free      -> normal, 5 tokens, 0.30
    03-02 08:00  tokens $5.00        (no tokens recorded: 100 + 20% bonus = 120 paid)
    03-31 22:00  affiliate click
    04-01 01:00  meal_plan $0.60     new month: 0.00/0.00, 100 free + 120 paid; projected
                                     0.60 > 0.50 and profit -0.60 -> gated, clicked 3 h ago
                                     -> basic_only, 5 free tokens, cost 0.06 (10%)
    04-02 09:00  premium $9.99
    04-03 09:00  dietary_advice $0.40  before 0.06/9.99, 95 + 120, premium -> normal,
                                     no tokens (premium), cost 0.40
+2  03-05 10:00  meal_plan $0.45     -> normal, 5 tokens, 0.45
    03-06 10:00  meal_plan $0.10     projected 0.55, profit -0.55 -> gated, no click
                                     -> affiliate_required, cost 0.01
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from enforcement import fold, whatif
from enforcement.decide import State
from enforcement.replay import History, replay_plain, to_us
from tests.enforcement_fixtures import seed_policy

P = seed_policy()


def _at(month: int, day: int, hour: int) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


CLICK = _at(3, 31, 22)
REQUESTS = [("r1", "+1", _at(3, 1, 9), "meal_plan", "0.30"),
            ("r2", "+1", _at(4, 1, 1), "meal_plan", "0.60"),
            ("r3", "+1", _at(4, 3, 9), "dietary_advice", "0.40"),
            ("r4", "+2", _at(3, 5, 10), "meal_plan", "0.45"),
            ("r5", "+2", _at(3, 6, 10), "meal_plan", "0.10")]
HISTORY = History.from_rows(
    requests=REQUESTS,
    revenue=[("v1", "+1", _at(3, 2, 8), "tokens", "5.00", None),
             ("v2", "+1", _at(4, 2, 9), "premium", "9.99", None)],
    clicks=[("c1", "+1", CLICK)])

# The position before each request, in the replay's order (user, then time).
BEFORE = {
    "r1": State(0, 0, 100, 0, False, None),
    "r2": State(0, 0, 100, 120, False, CLICK),
    "r3": State(60_000, 9_990_000, 95, 120, True, CLICK),
    "r4": State(0, 0, 100, 0, False, None),
    "r5": State(450_000, 0, 95, 0, False, None),
}


def test_replay_rows_of_the_worked_history() -> None:
    table = replay_plain(HISTORY, P, "2026-03", "2026-04").table
    got = table[["user_id", "month", "requests", "served", "not_served_affiliate_required",
                 "tokens_spent", "cost", "revenue", "level"]].values.tolist()
    assert got == [
        ["+1", "2026-03", 1, 1, 0, 5, 300_000, 5_000_000, "normal"],
        ["+1", "2026-04", 2, 2, 0, 5, 460_000, 9_990_000, "normal"],
        ["+2", "2026-03", 2, 1, 1, 5, 460_000, 0, "normal"],  # 0.46 <= free tier
    ]


def test_the_probe_sees_the_replays_position_before_every_request(monkeypatch) -> None:
    seen: list[State] = []
    real = fold.decide

    def spy(state, *args):
        seen.append(state)
        return real(state, *args)

    monkeypatch.setattr(fold, "decide", spy)
    replay_plain(HISTORY, P, "2026-03", "2026-04")
    monkeypatch.setattr(fold, "decide", real)
    order = sorted(REQUESTS, key=lambda r: (r[1], r[2]))
    assert dict(zip((r[0] for r in order), seen, strict=True)) == BEFORE
    for eid, user, ts, _action, _cost in REQUESTS:
        assert whatif.month_to_date(HISTORY, user, to_us(ts), P) == BEFORE[eid], eid


def test_the_probe_at_the_end_equals_the_replays_month_end_row() -> None:
    table = replay_plain(HISTORY, P, "2026-03", "2026-04").table.set_index(["user_id", "month"])
    for user, end in (("+1", _at(4, 30, 23)), ("+2", _at(3, 31, 23))):
        state = whatif.month_to_date(HISTORY, user, to_us(end), P)
        row = table.loc[(user, f"{end:%Y-%m}")]
        assert (state.cost, state.revenue) == (row["cost"], row["revenue"])


def test_a_month_without_events_starts_fresh_and_keeps_paid_tokens_and_the_click() -> None:
    # +1 in May: cost, revenue, premium reset, 100 free tokens, the 120 paid and the click kept.
    assert whatif.month_to_date(HISTORY, "+1", to_us(_at(5, 1, 0)), P) == \
        State(0, 0, 100, 120, False, CLICK)
    assert whatif.month_to_date(HISTORY, "+2", to_us(_at(4, 15, 0)), P) == \
        State(0, 0, 100, 0, False, None)


def test_replay_and_probe_go_through_the_one_fold(monkeypatch) -> None:
    calls: list[str] = []
    real = fold.UserFold.request

    def spy(self, ts, action, est_cost):
        calls.append(action)
        return real(self, ts, action, est_cost)

    monkeypatch.setattr(fold.UserFold, "request", spy)
    replay_plain(HISTORY, P, "2026-03", "2026-04")
    assert len(calls) == 5
    calls.clear()
    whatif.month_to_date(HISTORY, "+1", to_us(_at(4, 30, 0)), P)
    assert calls == ["meal_plan", "meal_plan", "dietary_advice"]


def test_events_are_ordered_revenue_and_clicks_before_requests_then_by_event_id() -> None:
    t = _at(3, 2, 8)
    h = History.from_rows(requests=[("b", "+1", t, "meal_plan", "0.01"),
                                    ("a", "+1", t, "simple_message", "0.01")],
                          revenue=[("z", "+1", t, "tokens", "1.00", 20)],
                          clicks=[("y", "+1", t)])
    (events,) = fold.events_by_user(h, to_us(_at(3, 1, 0)), to_us(_at(4, 1, 0))).values()
    assert [(e[2], e[3]) for e in events] == [("y", "clk"), ("z", "rev"), ("a", "req"),
                                              ("b", "req")]


@pytest.mark.parametrize(("amount", "recorded", "tokens"), [
    (5_000_000, None, 120), (4_990_000, None, 99), (5_000_000, 130, 130),
    (-5_000_000, None, -100)])
def test_tokens_credited_is_the_replays(amount, recorded, tokens) -> None:
    assert fold.tokens_credited(amount, recorded, P) == tokens


def test_probe_of_an_unknown_user_says_so() -> None:
    with pytest.raises(KeyError, match=r"\+9"):
        whatif.month_to_date(HISTORY, "+9", to_us(_at(4, 1, 0)), P)


def test_fold_tallies_match_the_replay_table() -> None:
    table = replay_plain(HISTORY, P, "2026-03", "2026-04").table
    lo, hi = to_us(_at(3, 1, 0)), to_us(_at(5, 1, 0))
    rows = []
    for u, events in sorted(fold.events_by_user(HISTORY, lo, hi).items()):
        for t in fold.UserFold(P).feed(events).months:
            rows.append((str(HISTORY.users[u]), t.requests, t.served, t.tokens_spent, t.cost,
                         t.revenue))
    assert rows == list(table[["user_id", "requests", "served", "tokens_spent", "cost",
                               "revenue"]].itertuples(index=False, name=None))
