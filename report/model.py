"""The weekly report's content: every figure it shows, from the query layer, before any format.

`build_weekly` gathers one ISO week (KPIs for it and the week before from `queries.kpis`,
its tables from `queries.weekly` and `queries.weekly_costs`, its targets from
`core.targets`); the Weekly page calls it too, so the page, the files and cron agree to
the cent. Each format (report.html, .xlsx, .csv, .pdf) only lays this object out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import duckdb
import pandas as pd

from core import metrics, targets
from core.targets import Target
from enforcement.policy import Policy
from queries import kpis as kpi_layer
from queries import weekly, weekly_costs
from queries.actions import COLUMNS as action_columns
from queries.actions import action_needed
from queries.verdict import Verdict, mtd_of
from queries.verdict import verdict as verdict_at
from report.cells import fmt_money, to_usd

TOP_USERS = 10

INTERVENTION_DEFINITION = (
    "A user crosses a threshold at the counted cost event that takes their month-to-date "
    "cost (calendar month, reporting timezone) from at most the threshold to above it. "
    "Counted: first crossings whose instant falls in the week, once per user and threshold. "
    "Paid: their tokens + premium revenue (refunds netted) from the crossing to 7 days after "
    "it sums to more than $0; the amount is that sum. 'Window open': the data does not yet "
    "reach 7 days after the crossing, so the user may still pay.")

ECONOMICS_DEFINITION = (
    "Per action with counted requests in the week. Token revenue per request: the tokens the "
    "policy charges for the action (tokens.cost; none for a system action) at its token "
    "price: what the request brings at list price, whether the tokens were bought or free. "
    "Unit margin: token revenue per request minus cost per request. Actions whose unit "
    "margin is negative lose money on every request and come first.")
CATEGORY_DEFINITION = (
    "Counted cost per category against the week before; only the categories whose cost "
    "grew, most growth first. Growth %: the growth as a share of the week before's cost "
    "(none where that was $0).")
LOSS_DEFINITION = (
    "The users whose cost this week exceeds their revenue this week (refunds netted) the "
    "most; phones masked.")
ACCURACY_DEFINITION = (
    "The original service wrote an estimate before serving a request and the actual cost "
    "(<action>_completed) after it; the actual counts in place of the estimate. Here each "
    "of the week's actuals is set against its estimate, per action (the loader's pairing "
    "rule: same user and action, at most two minutes apart). Estimate off by: (estimated − "
    "actual) / actual; positive when the estimates ran high. Estimates without an actual "
    "stand as the cost (known where the loader paired the lines).")


class ReportError(Exception):
    """A report that cannot be made as asked; the message says what to do."""


# -- targets --------------------------------------------------------------------------------

def weekly_targets(launch: date | None, week_end: date) -> dict[str, Target]:
    """The targets that judge a week (core.targets at the week grain: ratios, not monthly
    sums), with the settings' overrides; users_at_target_pct by the business's month."""
    age = 1 if launch is None else targets.month_number(f"{launch:%Y-%m}", f"{week_end:%Y-%m}")
    found = {m.key: targets.for_grain(m.key, "week", age) for m in metrics.report_rows()}
    return {k: t for k, t in found.items() if t is not None}


def target_met(value: Any, target: Target | None) -> bool | None:
    """True or False against the target; None when there is no target or no value."""
    return None if target is None else target.met(value)


def kpi_rows() -> tuple[tuple[str, str, str], ...]:
    """(key, label, kind) of the KPI table: the registry's report rows (core.metrics)."""
    return tuple((m.key, m.label, m.unit) for m in metrics.report_rows())


# -- the report ------------------------------------------------------------------------------

@dataclass
class WeeklyReport:
    """Everything one weekly report shows, from the query layer, before any formatting."""

    week: str
    previous: str
    label: str
    timezone: str
    policy: Policy
    kpis: dict[str, Any]
    prev_kpis: dict[str, Any]
    targets: dict[str, Target]
    users: pd.DataFrame
    streams: pd.DataFrame
    partners: pd.DataFrame
    actions: pd.DataFrame
    interventions: pd.DataFrame
    crossings: pd.DataFrame
    economics: pd.DataFrame      # cost optimisation: per action, cost against token revenue
    categories: pd.DataFrame     # cost optimisation: categories whose cost grew
    accuracy: pd.DataFrame       # cost optimisation: estimated against actual cost
    verdict: Verdict | None = None   # the morning answer at the week's last day
    to_act: pd.DataFrame = field(default_factory=pd.DataFrame)  # the action-needed list
    generated: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    @property
    def empty(self) -> bool:
        """No cost or revenue event in the week."""
        return self.users.empty

    @property
    def top_users(self) -> pd.DataFrame:
        return weekly.top_users_by_cost(self.users, TOP_USERS)

    @property
    def loss_users(self) -> pd.DataFrame:
        """Cost optimisation: the users whose cost exceeds their revenue the most."""
        return weekly_costs.loss_users(self.users)


def build_weekly(con: duckdb.DuckDBPyConnection, *, week: str, tz: str, policy: Policy
                 ) -> WeeklyReport:
    """Gather the week's figures from the query layer (KPIs for the week and the one before)."""
    bounds = weekly.week_bounds(week, tz)
    span = kpi_layer.data_span(con, tz)
    launch = span[0] if span else None
    crossings = weekly.intervention_detail(con, week=bounds.week, tz=tz, policy=policy)
    crossings["crossed_at_local"] = _local(crossings["crossed_at"], tz)
    actions = weekly.cost_by_action(con, week=bounds.week, tz=tz)
    end_day = bounds.period.last_day
    has_data = span is not None and span[0] <= end_day
    kpis = kpi_layer.kpis(con, "week", bounds.week, tz, policy)
    return WeeklyReport(
        week=bounds.week, previous=bounds.previous, label=bounds.period.label, timezone=tz,
        policy=policy,
        kpis=kpis,
        prev_kpis=kpi_layer.kpis(con, "week", bounds.previous, tz, policy),
        targets=weekly_targets(launch, bounds.period.last_day),
        users=weekly.user_table(con, week=bounds.week, tz=tz, policy=policy),
        streams=weekly.stream_performance(con, week=bounds.week, tz=tz),
        partners=weekly.partner_performance(con, week=bounds.week, tz=tz),
        actions=actions,
        interventions=weekly.intervention_summary(crossings, policy),
        crossings=crossings,
        economics=weekly_costs.action_economics(actions, policy),
        categories=weekly_costs.category_growth(con, week=bounds.week, tz=tz),
        accuracy=weekly_costs.estimate_accuracy(con, week=bounds.week, tz=tz),
        verdict=verdict_at(con, end_day.isoformat(), tz, policy,
                           f"{launch:%Y-%m}" if launch else None,
                           # the week's month to date ends with its last day: the verdict's
                           mtd=mtd_of(kpis)) if has_data else None,
        to_act=action_needed(con, end_day.isoformat(), tz, policy) if has_data
        else pd.DataFrame(columns=action_columns),
    )


def movers(report: WeeklyReport, n: int = 3) -> list[dict[str, Any]]:
    """The week's headline figures that moved most against the week before (relative to
    their previous value), each with whether the move is good for the business."""
    rows = []
    for r in kpi_table(report):
        m = metrics.metric(r["key"])
        now, before = r["value"], r["previous"]
        if metrics.WEEKLY not in m.headline or now is None or before is None or not before:
            continue
        change = (Decimal(str(now)) - Decimal(str(before))) / abs(Decimal(str(before)))
        if change == 0:
            continue
        good = (change > 0) == (m.better == metrics.HIGHER) if m.better else None
        rows.append({**r, "relative": change, "good": good})
    return sorted(rows, key=lambda r: abs(r["relative"]), reverse=True)[:n]


def _local(ts: pd.Series, tz: str) -> pd.Series:
    """Stored naive-UTC instants as naive local times in the reporting timezone, in one
    vectorised pass (one `Timestamp` a row took 1.3 s for a million users' 184,000
    crossings)."""
    return pd.to_datetime(ts).dt.tz_localize("UTC").dt.tz_convert(tz).dt.tz_localize(None)


def kpi_table(report: WeeklyReport) -> list[dict[str, Any]]:
    """The KPI rows: key, label, kind, this week, the week before, target and whether met."""
    rows = []
    for key, label, kind in kpi_rows():
        target = report.targets.get(key)
        now = report.kpis.get(key)
        rows.append({"key": key, "label": label, "kind": kind, "value": now,
                     "previous": report.prev_kpis.get(key), "target": target,
                     "met": target_met(now, target)})
    return rows


def level_rows(report: WeeklyReport) -> list[tuple[str, int]]:
    """Users per level month to date at the week's end (the KPI layer's users_by_level)."""
    return list(report.kpis["users_by_level"].items())


# -- the words every format shows -------------------------------------------------------------

def title(report: WeeklyReport) -> str:
    return f"Weekly profitability report: {report.week}"


def heading_lines(report: WeeklyReport, masked: bool) -> list[str]:
    """The title, the week, the policy's thresholds and how phones are shown."""
    return [
        title(report),
        f"{report.label}, timezone {report.timezone}; compared with {report.previous}.",
        f"Policy {report.policy.name}: warning above {fmt_money(to_usd(report.policy.warning))}, "
        f"cutoff above {fmt_money(to_usd(report.policy.cutoff))} month-to-date cost; "
        f"profit target {fmt_money(to_usd(report.policy.target))} per user per month.",
        f"Generated {report.generated:%Y-%m-%d %H:%M} UTC. Phones "
        + ("masked to their last four digits." if masked else "shown in full (unmasked)."),
    ]


def empty_message(report: WeeklyReport) -> str:
    return (f"No data for {report.week}: no cost or revenue event between {report.label} "
            f"in {report.timezone}.")
