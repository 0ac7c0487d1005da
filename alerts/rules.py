"""The alert rules: each judges one condition on the query layer's figures at `now`.

A rule reads figures through `queries` (never SQL of its own) and targets through
`core.targets`, and returns one Observation per key it could judge, firing or not. Its
period is the month to date at `now` (`month`), the last complete local day (`day`), or,
for the state of the loads and the data, the local day of `now` (`today`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

import duckdb
import pandas as pd

from alerts.model import Observation, json_value
from core import formats, secrecy, targets
from core.formats import COUNT, PCT, RATIO, USD
from enforcement.policy import Policy
from queries import kpis as K
from queries import run

PERIOD_KIND = {"users_over_cutoff_unpaid": "month", "users_at_target_below_target": "month",
               "cost_per_user_spike": "day", "margin_below_target": "month",
               "load_failed": "today", "data_stale": "today"}
SPIKE_LOOKBACK_DAYS = 90  # the Daily page's trend: the spike rule sees the same history


@dataclass
class Context:
    """One evaluation: the read-only connection, the clock, the timezone and the policy."""

    con: duckdb.DuckDBPyConnection
    now: datetime                       # aware
    tz: str
    policy: Policy
    params: dict[str, dict[str, Any]]   # enabled rules and their parameters
    hidden: list[str] = field(default_factory=list)  # secrets to keep out of messages

    @cached_property
    def local_now(self) -> datetime:
        return self.now.astimezone(K.zone(self.tz))

    @property
    def today(self) -> date:
        return self.local_now.date()

    @property
    def month(self) -> str:
        return K.period_name("month", self.today)

    @property
    def month_start(self) -> datetime:
        return K.local_midnight(self.today.replace(day=1), self.tz)

    def period(self, rule: str) -> str:
        """The period a rule judges at `now`."""
        kind = PERIOD_KIND[rule]
        if kind == "month":
            return self.month
        day = self.today - timedelta(days=1) if kind == "day" else self.today
        return day.isoformat()

    def month_label(self, month: str | None = None) -> str:
        return K.make_period("month", month or self.month, self.tz).label

    @cached_property
    def span(self) -> tuple[date, date] | None:
        return K.data_span(self.con, self.tz)

    @cached_property
    def mtd(self) -> K.Positions:
        """Users with a counted cost this month up to `now`, counted (no row per user: at
        1,000,000 users the frame alone took 1.7 s of the landing page's first open)."""
        return K.positions(self.con, self.month_start, self.local_now, self.policy)


Rule = Callable[[Context, dict[str, Any]], list[Observation]]
RULES: dict[str, Rule] = {}


def rule(func: Rule) -> Rule:
    RULES[func.__name__] = func
    return func


def _users(n: int) -> str:
    return f"{formats.count(n)} user{'' if n == 1 else 's'}"


def _share(pos: K.Positions) -> Decimal | None:
    """100 × users at target / users, exact; None without users."""
    if not pos.users:
        return None
    return Decimal(100 * pos.at_target) / Decimal(pos.users)


def same_point_last_month(local_now: datetime) -> datetime:
    """The same day and time of the month before; a day it lacks is its last day."""
    first = local_now.date().replace(day=1)
    prev_last = first - timedelta(days=1)
    day = prev_last.replace(day=min(local_now.day, prev_last.day))
    return datetime.combine(day, local_now.timetz()).replace(fold=0)


@rule
def users_over_cutoff_unpaid(ctx: Context, p: dict[str, Any]) -> list[Observation]:
    """Month-to-date cost strictly over the policy's cutoff and revenue <= 0 (the rules' and
    the Daily page's definition); the value is how many users."""
    n = ctx.mtd.over_cutoff_unpaid
    cutoff = K.usd(ctx.policy.cutoff)
    return [Observation(
        "users_over_cutoff_unpaid", "users", ctx.month, n >= p["min_users"],
        json_value(n, COUNT), json_value(p["min_users"], COUNT),
        f"{_users(n)} over the {formats.money(cutoff)} cutoff with no payment, "
        f"{ctx.month_label()} to date", f"daily?day={ctx.today}")]


@rule
def users_at_target_below_target(ctx: Context, p: dict[str, Any]) -> list[Observation]:
    """The month-to-date share at target against its target (the ramp's step for the
    business's month), and against the share at the same point of last month."""
    share = _share(ctx.mtd)
    if share is None:
        return []
    first = ctx.span[0] if ctx.span else ctx.today
    target = targets.for_grain("users_at_target_pct", "month",
                               targets.month_number(f"{first:%Y-%m}", ctx.month))
    head = f"Users at target, {ctx.month_label()} to date: {formats.pct(share)}"
    page = f"daily?day={ctx.today}"
    found = [Observation("users_at_target_below_target", "target", ctx.month,
                         target.met(share) is False, json_value(share, PCT),
                         json_value(target.value, PCT), f"{head} ({target.text})", page)]
    then = same_point_last_month(ctx.local_now)
    before = _share(K.positions(ctx.con, K.local_midnight(then.date().replace(day=1), ctx.tz),
                                then, ctx.policy))
    if before is not None:
        last = K.period_name("month", then.date())
        found.append(Observation(
            "users_at_target_below_target", "pace", ctx.month,
            share < before - p["pace_points"], json_value(share, PCT),
            json_value(before, PCT),
            f"{head}; {formats.pct(before)} at the same point of {ctx.month_label(last)}",
            page))
    return found


@rule
def cost_per_user_spike(ctx: Context, p: dict[str, Any]) -> list[Observation]:
    """The Daily page's spike rule on the last complete day: cost per active user over
    `factor` times the median of the `window` days before (with `min_history` of them)."""
    day = ctx.today - timedelta(days=1)
    if ctx.span is None or day < ctx.span[0]:
        return []
    start = max(day - timedelta(days=SPIKE_LOOKBACK_DAYS - 1), ctx.span[0])
    series = K.daily_series(ctx.con, start, day, ctx.tz, ctx.policy)
    spikes = K.cost_per_user_alerts(series, window=p["window"], factor=p["factor"],
                                    min_history=p["min_history"])
    spike = spikes[spikes["day"] == day]
    cpu = series.loc[series["day"] == day, "cost_per_user"].iloc[0]
    head = f"Cost per user on {day}: {formats.money(cpu, decimals=4)}"
    if spike.empty:
        return [Observation("cost_per_user_spike", "cost_per_user", day.isoformat(), False,
                            json_value(cpu, USD), None,
                            f"{head}, not over {p['factor']}× the usual", f"daily?day={day}")]
    usual = spike["usual"].iloc[0]
    return [Observation(
        "cost_per_user_spike", "cost_per_user", day.isoformat(), True, json_value(cpu, USD),
        json_value(p["factor"] * usual, USD),
        f"{head}, {formats.ratio(cpu / usual, decimals=1)}× the usual "
        f"{formats.money(usual, decimals=4)} (median of the {p['window']} days before)",
        f"daily?day={day}")]


@rule
def margin_below_target(ctx: Context, p: dict[str, Any]) -> list[Observation]:
    """Month-to-date margin (100 × profit / revenue) under its monthly target; not judged
    while month-to-date revenue is 0 or less (the margin is then none)."""
    start, end = K.to_utc(ctx.month_start), K.to_utc(ctx.now)
    row = K.period_money(ctx.con, start, end)
    revenue, cost = K.usd(int(row["revenue_micro"])), K.usd(int(row["cost_micro"]))
    if revenue <= 0:
        return []
    margin = Decimal(100) * (revenue - cost) / revenue
    target = targets.for_grain("margin_pct", "month")
    return [Observation(
        "margin_below_target", "margin_pct", ctx.month, target.met(margin) is False,
        json_value(margin, PCT), json_value(target.value, PCT),
        f"Margin, {ctx.month_label()} to date: {formats.pct(margin)} ({target.text}); "
        f"profit {formats.money(revenue - cost)} on revenue {formats.money(revenue)}",
        f"monthly?month={ctx.month}")]


@rule
def load_failed(ctx: Context, p: dict[str, Any]) -> list[Observation]:
    """One key per source in the load log: firing while its newest load failed."""
    found = []
    for row in run(ctx.con, "latest_loads").itertuples():
        at = row.started if formats.is_missing(row.finished) else row.finished
        when = f"{pd.Timestamp(at):%Y-%m-%d %H:%M} UTC"
        failed = row.status == "failed"
        error = str(row.error or "unknown error").splitlines()[0]
        text = f"The last load of {row.source} failed at {when}: {error}" if failed else \
            f"The last load of {row.source} succeeded at {when}"
        found.append(Observation("load_failed", secrecy.redact(row.source, ctx.hidden),
                                 ctx.today.isoformat(), failed, json_value(row.load_id, COUNT),
                                 None, secrecy.redact(text, ctx.hidden), "data"))
    return found


@rule
def data_stale(ctx: Context, p: dict[str, Any]) -> list[Observation]:
    """No new cost event for `stale_hours` (at `now` minus the newest event's instant)."""
    newest = run(ctx.con, "newest_cost_event").iloc[0]["newest"]
    limit = p["stale_hours"]
    after = f"alert after {formats.ratio(limit, decimals=1)} hours"
    if formats.is_missing(newest):
        return [Observation("data_stale", "cost_events", ctx.today.isoformat(), True, None,
                            json_value(limit, RATIO), f"No cost event is loaded ({after})",
                            "data")]
    newest = pd.Timestamp(newest).to_pydatetime()
    seconds = (ctx.now.astimezone(UTC).replace(tzinfo=None) - newest).total_seconds()
    hours = Decimal(int(seconds)) / Decimal(3600)
    return [Observation(
        "data_stale", "cost_events", ctx.today.isoformat(), hours >= limit,
        json_value(hours, RATIO), json_value(limit, RATIO),
        f"No new cost event for {formats.ratio(hours, decimals=1)} hours (the newest is from "
        f"{newest:%Y-%m-%d %H:%M} UTC; {after})", "data")]


def observe(ctx: Context) -> list[Observation]:
    """Every enabled rule's observations, in the settings' order of rules."""
    found: list[Observation] = []
    for name, params in ctx.params.items():
        found.extend(RULES[name](ctx, params))
    return found
