"""The morning answer: are we OK this month? One sentence and the figures beside it.

"1,065 of 3,955 users (26.9%) are below $3 this month — target 99% ✗", with month-to-date
profit, a projected month-end and the pace against the same day last month. The landing
page, the weekly report's first page and the alert mails say it in the same words, from
here. Plain Python over the query layer.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb

from core import formats, targets
from enforcement.policy import Policy
from queries import kpis as K


@dataclass(frozen=True)
class Verdict:
    """Month to date at the end of `day`, against the target and against last month."""

    day: date
    users: int                 # users with a counted cost event month to date
    below: int                 # of them, below the policy's profit target
    target_profit: Decimal     # the policy's monthly profit per user ($3.00)
    at_target_pct: float | None
    target: targets.Target     # users_at_target_pct's target this month of the business
    profit_mtd: Decimal
    projected_profit: Decimal | None  # month-to-date profit run on at its daily pace
    last_month_day: date
    last_month_at_target_pct: float | None
    last_month_profit_mtd: Decimal

    @property
    def met(self) -> bool | None:
        return self.target.met(self.at_target_pct)

    @property
    def below_pct(self) -> float | None:
        return K.ratio_pct(self.below, self.users)

    @property
    def pace_pts(self) -> Decimal | None:
        """Share at target now minus on the same day last month, in points."""
        return formats.change_amount(formats.PCT, self.at_target_pct,
                                     self.last_month_at_target_pct)

    def sentence(self) -> str:
        """The verdict in one line, as the founder reads it."""
        if self.users == 0:
            return f"No user has a cost this month yet ({self.day:%d %b %Y})."
        mark = {True: "✓", False: "✗", None: ""}[self.met]
        return (f"{formats.count(self.below)} of {formats.count(self.users)} users "
                f"({formats.pct(self.below_pct)}) are below {formats.money(self.target_profit)}"
                f" this month — target {_plain(self.target.value)}% {mark}").strip()

    def pace_sentence(self) -> str:
        """The share at target against the same day last month."""
        if self.last_month_at_target_pct is None or self.at_target_pct is None:
            return "No data for the same day last month."
        word = "ahead of" if (self.pace_pts or 0) > 0 else \
            "behind" if (self.pace_pts or 0) < 0 else "level with"
        return (f"{formats.pct(self.at_target_pct)} at target, {word} "
                f"{formats.pct(self.last_month_at_target_pct)} on "
                f"{self.last_month_day:%d %b}.")


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


def same_day_last_month(day: date) -> date:
    """The same day of the month before, clamped to its length (31 March -> 28 February)."""
    first = day.replace(day=1) - timedelta(days=1)
    return first.replace(day=min(day.day, first.day))


def _profit_mtd(con: duckdb.DuckDBPyConnection, day: date, tz: str) -> Decimal:
    start = K.local_midnight(day.replace(day=1), tz)
    end = K.local_midnight(day + timedelta(days=1), tz)
    row = K.period_money(con, K.to_utc(start), K.to_utc(end))
    return K.usd(int(row["revenue_micro"]) - int(row["cost_micro"]))


def projected(profit_mtd: Decimal, day: date) -> Decimal:
    """Month-end profit if the rest of the month goes at the month-to-date daily pace."""
    days = calendar.monthrange(day.year, day.month)[1]
    return (profit_mtd * days / day.day).quantize(Decimal("0.000001"), ROUND_HALF_UP)


def mtd_of(figures: dict[str, Any]) -> tuple[int, int] | None:
    """A day's or a week's KPIs' month to date at their end, as `verdict` takes it (None
    where the figures lack it)."""
    mtd = (figures.get("mtd_users"), figures.get("users_at_target"))
    return None if None in mtd else mtd  # type: ignore[return-value]


def verdict(con: duckdb.DuckDBPyConnection, day: str | date, tz: str,
            policy: Policy | str | Path, first_month: str | None = None,
            mtd: tuple[int, int] | None = None) -> Verdict:
    """The verdict at the end of local day `day`; `first_month` (YYYY-MM, the first month
    with data) sets the month number of the users-at-target target's ramp. `mtd` is the
    month to date's (users, at target) at the end of `day` where the caller has counted
    them already (the Weekly report's week ends that day: its KPIs hold them; 0.3 s of a
    million users' positions not counted twice)."""
    day = date.fromisoformat(day) if isinstance(day, str) else day
    pol = K.resolve_policy(policy)
    users, at_target = mtd if mtd is not None else K.mtd_counts(con, "day", day.isoformat(),
                                                                  tz, pol)
    before = same_day_last_month(day)
    then_users, then_at_target = K.mtd_counts(con, "day", before.isoformat(), tz, pol)
    age = targets.month_number(first_month, f"{day:%Y-%m}") if first_month else 1
    profit = _profit_mtd(con, day, tz)
    return Verdict(
        day=day, users=users, below=users - at_target,
        target_profit=K.usd(pol.target),
        at_target_pct=K.ratio_pct(at_target, users),
        target=targets.users_at_target(age), profit_mtd=profit,
        projected_profit=projected(profit, day) if users else None,
        last_month_day=before,
        last_month_at_target_pct=K.ratio_pct(then_at_target, then_users),
        last_month_profit_mtd=_profit_mtd(con, before, tz))
