"""The registry of figures: every KPI's key, label, definition, unit, direction and target.

This is the one place a figure is described. `queries.kpis` computes each entry (from the
SQL file it names, or from the figures it is derived from), and every surface reads the
entry to show it: the pages' cards, the weekly report in all four formats, the JSON
command, the What-if panel, alerts and the glossary. Adding a KPI is writing its SQL file
(one row, one column named as the figure; money as BIGINT micro-dollars) and one entry
here; `tests/test_metrics_registry.py` holds that this is enough.

Definitions are the glossary's text, from ../shared/spec/kpis.md. Plain Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from core.formats import COUNT, COUNT_BY, PCT, RATIO, USD, USD_BY

GRAINS = ("day", "week", "month")
HIGHER, LOWER = "higher", "lower"
AT_LEAST, AT_MOST = ">=", "<="
# Surfaces that show a figure as a headline (the JSON and the glossary show every figure).
DAILY, WEEKLY, MONTHLY = "daily", "weekly", "monthly"


@dataclass(frozen=True)
class DefaultTarget:
    """A figure's default target from kpis.md: `figure op value` at the given grains.

    `ramp` replaces `value` for users_at_target_pct, whose target rises with the business's
    age in months ({1: 95, 3: 99, 6: 100}).
    """

    op: str
    value: Decimal
    grains: tuple[str, ...] = ("month",)
    ramp: tuple[tuple[int, Decimal], ...] = ()


@dataclass(frozen=True)
class Derived:
    """A figure computed from others: `pct` 100*a/b, `per_user` a/active_users,
    `minus` a-b, `per` a/b rounded to two decimals. Null where the divisor is 0 or less."""

    op: str
    args: tuple[str, ...]


@dataclass(frozen=True)
class Metric:
    """One figure, described once."""

    key: str
    label: str
    definition: str
    unit: str
    better: str | None = None          # HIGHER, LOWER or None (neither is good in itself)
    target: DefaultTarget | None = None
    sql: str | None = None             # queries/<sql>.sql holds it as column `column`
    column: str | None = None          # default: the key (`*_usd` money: `*_micro`)
    derived: Derived | None = None
    computed: bool = False             # assembled in queries.kpis (needs the rules or rows)
    grains: tuple[str, ...] = GRAINS   # where the figure exists (else null)
    headline: tuple[str, ...] = ()     # pages that show it as a card
    in_report: bool = True             # a row of the weekly report's KPI table
    short: str | None = None           # a card's label where the full one is long
    group: str = "Profit"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def sql_column(self) -> str:
        if self.column:
            return self.column
        return self.key.removesuffix("_usd") + "_micro" if self.unit == USD else self.key

    @property
    def card_label(self) -> str:
        return self.short or self.label


_M = Metric
METRICS: tuple[Metric, ...] = (
    _M("active_users", "Active users", "Distinct users with at least one counted cost event "
       "in the period.", COUNT, HIGHER, sql="period_kpis", headline=(DAILY, WEEKLY, MONTHLY),
       group="Users"),
    _M("new_users", "New users", "Active users whose earliest event in all loaded data "
       "(counted cost events and revenue events) falls in the period.", COUNT, HIGHER,
       sql="period_kpis", headline=(MONTHLY,), group="Users"),
    _M("cost_usd", "Cost", "Sum of counted cost in the period (an estimate replaced by its "
       "measured cost is not counted).", USD, LOWER, DefaultTarget(AT_MOST, Decimal("500")),
       sql="period_kpis", headline=(DAILY, WEEKLY, MONTHLY)),
    _M("revenue_usd", "Revenue", "Sum of revenue in the period, refunds and chargebacks "
       "included (negative).", USD, HIGHER, DefaultTarget(AT_LEAST, Decimal("5000")),
       sql="period_kpis", headline=(DAILY, WEEKLY, MONTHLY)),
    _M("revenue_by_stream", "Revenue by stream", "Revenue per stream: tokens, premium, "
       "affiliate, data, other (all five, 0 where none).", USD_BY, HIGHER, computed=True,
       in_report=False),
    _M("profit_usd", "Profit", "Revenue minus cost.", USD, HIGHER,
       derived=Derived("minus", ("revenue_usd", "cost_usd")),
       headline=(DAILY, WEEKLY, MONTHLY)),
    _M("margin_pct", "Margin", "100 × profit / revenue; none where revenue is 0 or less.",
       PCT, HIGHER, DefaultTarget(AT_LEAST, Decimal("90"), GRAINS),
       derived=Derived("pct", ("profit_usd", "revenue_usd")),
       headline=(DAILY, WEEKLY, MONTHLY)),
    _M("cost_per_user", "Cost per active user", "Cost divided by active users.", USD, LOWER,
       DefaultTarget(AT_MOST, Decimal("2.00")), derived=Derived("per_user", ("cost_usd",)),
       headline=(MONTHLY,), short="Cost per user", group="Per user"),
    _M("revenue_per_user", "Revenue per active user", "Revenue divided by active users.",
       USD, HIGHER, DefaultTarget(AT_LEAST, Decimal("8.00")),
       derived=Derived("per_user", ("revenue_usd",)), headline=(MONTHLY,),
       short="Revenue per user", group="Per user"),
    _M("profit_per_user", "Profit per active user", "Profit divided by active users.", USD,
       HIGHER, DefaultTarget(AT_LEAST, Decimal("4.50")),
       derived=Derived("per_user", ("profit_usd",)), headline=(MONTHLY,),
       short="Profit per user", group="Per user"),
    _M("paying_users", "Paying users", "Active users with a positive sum of revenue in the "
       "period.", COUNT, HIGHER, sql="period_kpis", headline=(MONTHLY,), group="Users"),
    _M("payment_conversion_pct", "Payment conversion", "100 × paying users / active users.",
       PCT, HIGHER, DefaultTarget(AT_LEAST, Decimal("70"), ("week", "month")),
       derived=Derived("pct", ("paying_users", "active_users")),
       headline=(DAILY, WEEKLY, MONTHLY), group="Users"),
    _M("token_buyers", "Token buyers", "Active users with a positive sum of tokens revenue "
       "in the period.", COUNT, HIGHER, sql="period_kpis", group="Tokens"),
    _M("token_purchase_rate_pct", "Token purchase rate", "100 × token buyers / active users.",
       PCT, HIGHER, derived=Derived("pct", ("token_buyers", "active_users")),
       headline=(MONTHLY,), group="Tokens"),
    _M("users_at_target", "Users at target (month to date)", "Among users with a counted "
       "cost event month to date at the end of the period, those whose month-to-date profit "
       "(revenue minus counted cost) is at least the policy's profit target.", COUNT, HIGHER,
       computed=True, group="Users"),
    _M("users_at_target_pct", "Share of users at target (month to date)", "100 × users at "
       "target / users with a counted cost event month to date.", PCT, HIGHER,
       DefaultTarget(AT_LEAST, Decimal("95"), GRAINS,
                     ramp=((1, Decimal("95")), (3, Decimal("99")), (6, Decimal("100")))),
       computed=True, headline=(DAILY, WEEKLY, MONTHLY), short="Users at target (MTD)",
       group="Users"),
    _M("mtd_users", "Users with a cost month to date", "Users with a counted cost event "
       "month to date at the end of the period (the base of the share at target).", COUNT,
       None, computed=True, in_report=False, group="Users"),
    _M("users_by_level", "Users by level (month to date)", "The same users, counted by the "
       "rules' level_of(month-to-date cost, month-to-date revenue): all five levels.",
       COUNT_BY, None, computed=True, in_report=False, group="Users"),
    _M("cost_by_action", "Cost by action", "Counted cost per action.", USD_BY, LOWER,
       computed=True, in_report=False),
    _M("cost_by_category", "Cost by category", "Counted cost per category (unknown for "
       "none).", USD_BY, LOWER, computed=True, in_report=False),
    _M("retention_pct", "Retention", "Of the users active in the previous month, the share "
       "also active in this month; none where the previous month had none. Monthly only.",
       PCT, HIGHER, DefaultTarget(AT_LEAST, Decimal("85")), computed=True, grains=("month",),
       headline=(MONTHLY,), in_report=False, group="Users"),
    # The guide's secondary KPIs: affiliates, token habits and upgrades.
    _M("affiliate_shown", "Affiliate offers shown", "Affiliate events of kind shown in the "
       "period, for all users.", COUNT, HIGHER, sql="affiliate_kpis", group="Affiliates"),
    _M("affiliate_clicks", "Affiliate clicks", "Affiliate events of kind click in the "
       "period, for all users.", COUNT, HIGHER, sql="affiliate_kpis", group="Affiliates"),
    _M("affiliate_conversions", "Affiliate conversions", "Affiliate events of kind "
       "conversion in the period, for all users.", COUNT, HIGHER, sql="affiliate_kpis",
       group="Affiliates"),
    _M("affiliate_ctr_pct", "Affiliate click-through", "100 × affiliate clicks / affiliate "
       "offers shown; none where none was shown.", PCT, HIGHER,
       DefaultTarget(AT_LEAST, Decimal("15")),
       derived=Derived("pct", ("affiliate_clicks", "affiliate_shown")), headline=(MONTHLY,),
       short="Affiliate CTR", group="Affiliates"),
    _M("affiliate_conversion_pct", "Affiliate conversion", "100 × affiliate conversions / "
       "affiliate clicks; none where there was no click.", PCT, HIGHER,
       derived=Derived("pct", ("affiliate_conversions", "affiliate_clicks")),
       headline=(MONTHLY,), group="Affiliates"),
    _M("token_purchases", "Token purchases", "Revenue lines of stream tokens with a positive "
       "amount in the period, of active users.", COUNT, HIGHER, sql="period_kpis",
       group="Tokens"),
    _M("token_purchases_per_buyer", "Token purchases per buyer", "Token purchases / token "
       "buyers, rounded to two decimals; none where there are no buyers.", RATIO, HIGHER,
       derived=Derived("per", ("token_purchases", "token_buyers")), headline=(MONTHLY,),
       short="Purchases per buyer", group="Tokens"),
    _M("premium_upgrades", "Premium upgrades", "Active users whose first positive premium "
       "line in all loaded data falls in the period, with a positive tokens line before "
       "that premium line.", COUNT, HIGHER, sql="period_kpis", group="Upgrades"),
    _M("premium_upgrade_base", "Users who could upgrade", "Active users who had a positive "
       "tokens line before the period's end and no positive premium line before its start "
       "(the base of the upgrade rate).", COUNT, None, sql="period_kpis",
       in_report=False, group="Upgrades"),
    _M("premium_upgrade_pct", "Premium upgrade rate", "100 × premium upgrades / the users "
       "who could upgrade.", PCT, HIGHER, DefaultTarget(AT_LEAST, Decimal("20")),
       derived=Derived("pct", ("premium_upgrades", "premium_upgrade_base")),
       headline=(MONTHLY,), short="Premium upgrades", group="Upgrades"),
)

BY_KEY: dict[str, Metric] = {m.key: m for m in METRICS}


def metric(key: str) -> Metric:
    """The entry of one figure; KeyError names the figure."""
    try:
        return BY_KEY[key]
    except KeyError:
        raise KeyError(f"no figure named {key!r} in core.metrics") from None


def figure_keys() -> tuple[str, ...]:
    """Every figure's key, in the registry's (the spec's) order: what the JSON holds."""
    return tuple(m.key for m in METRICS)


# The order a page shows its cards in: per user first (the promise is per user, and a
# business of any size reads it the same), then totals, users, the guide's secondary ones.
GROUPS = ("Per user", "Profit", "Users", "Tokens", "Affiliates", "Upgrades")


def headline(page: str) -> tuple[Metric, ...]:
    """The figures a page shows as cards: by group (GROUPS), then in the registry's order."""
    shown = [m for m in METRICS if page in m.headline]
    return tuple(sorted(shown, key=lambda m: GROUPS.index(m.group)
                        if m.group in GROUPS else len(GROUPS)))


def report_rows() -> tuple[Metric, ...]:
    """The rows of the weekly report's KPI table."""
    return tuple(m for m in METRICS if m.in_report)
