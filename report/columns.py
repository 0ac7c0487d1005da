"""What each table of the weekly report shows: (column of the query frame, label, kind).

Written once, read by the Weekly page and every file format, so a column is named and
typed in one place. The frames come from `queries.weekly` and `queries.weekly_costs`.
"""

from __future__ import annotations

from report.cells import BOOL, COUNT, MONEY, PCT, TEXT, UNIT_MONEY, WHEN

# (column of queries.weekly.user_table, csv header, label, kind) of the user-level table.
USER_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("user_id", "phone", "Phone", TEXT),
    ("level", "level_mtd", "Level (MTD)", TEXT),
    ("at_target", "at_target_mtd", "At target (MTD)", BOOL),
    ("requests", "requests", "Requests", COUNT),
    ("cost_micro", "cost_usd", "Cost", MONEY),
    ("revenue_micro", "revenue_usd", "Revenue", MONEY),
    ("profit_micro", "profit_usd", "Profit", MONEY),
    ("mtd_cost_micro", "mtd_cost_usd", "Cost MTD", MONEY),
    ("mtd_revenue_micro", "mtd_revenue_usd", "Revenue MTD", MONEY),
    ("mtd_profit_micro", "mtd_profit_usd", "Profit MTD", MONEY),
    ("token_balance", "token_balance", "Token balance", COUNT),
    ("payments", "payments", "Payments", COUNT),
    ("partners", "partners", "Partners / plans", TEXT),
)


def user_columns() -> list[tuple[str, str, str]]:
    """The user table as (column, label, kind), like every other table."""
    return [(key, label, kind) for key, _csv, label, kind in USER_COLUMNS]


STREAM_COLUMNS = (
    ("stream", "Stream", TEXT), ("revenue_micro", "Revenue", MONEY),
    ("prev_revenue_micro", "Week before", MONEY), ("change_micro", "Change", MONEY),
    ("payers", "Payers", COUNT), ("prev_payers", "Payers week before", COUNT),
    ("payments", "Payments", COUNT), ("refunds_micro", "Refunds", MONEY),
)
PARTNER_COLUMNS = (
    ("stream", "Stream", TEXT), ("partner", "Partner / plan", TEXT),
    ("revenue_micro", "Revenue", MONEY), ("prev_revenue_micro", "Week before", MONEY),
    ("users", "Users", COUNT),
)
ACTION_COLUMNS = (
    ("action", "Action", TEXT), ("cost_micro", "Cost", MONEY),
    ("prev_cost_micro", "Week before", MONEY), ("change_micro", "Change", MONEY),
    ("share_pct", "Share of cost", PCT), ("events", "Events", COUNT),
    ("users", "Users", COUNT),
)
TOP_USER_COLUMNS = (
    ("user_id", "Phone", TEXT), ("cost_micro", "Cost", MONEY),
    ("revenue_micro", "Revenue", MONEY), ("profit_micro", "Profit", MONEY),
    ("requests", "Requests", COUNT), ("level", "Level (MTD)", TEXT),
)
INTERVENTION_COLUMNS = (
    ("threshold", "Threshold crossed", TEXT), ("threshold_micro", "Month-to-date cost above",
                                               MONEY),
    ("crossed", "Users who crossed", COUNT), ("paid", "Paid within 7 days", COUNT),
    ("paid_pct", "Share who paid", PCT), ("paid_micro", "Amount paid", MONEY),
    ("window_open", "Window still open", COUNT),
)
CROSSING_COLUMNS = (
    ("threshold", "Threshold", TEXT), ("user_id", "Phone", TEXT),
    ("crossed_at_local", "Crossed at (local)", WHEN), ("paid", "Paid within 7 days", BOOL),
    ("paid_micro", "Tokens + premium paid", MONEY),
    ("window_complete", "Window complete", BOOL),
)

# -- cost optimisation opportunities (queries.weekly_costs) ---------------------------------

ECONOMICS_COLUMNS = (
    ("action", "Action", TEXT), ("requests", "Requests", COUNT),
    ("cost_per_request_micro", "Cost per request", UNIT_MONEY),
    ("tokens", "Tokens per request", COUNT),
    ("token_revenue_per_request_micro", "Token revenue per request", UNIT_MONEY),
    ("unit_margin_micro", "Unit margin", UNIT_MONEY),
    ("cost_micro", "Cost", MONEY), ("token_revenue_micro", "Token revenue", MONEY),
    ("margin_micro", "Token revenue − cost", MONEY),
)
CATEGORY_COLUMNS = (
    ("category", "Category", TEXT), ("cost_micro", "Cost", MONEY),
    ("prev_cost_micro", "Week before", MONEY), ("change_micro", "Growth", MONEY),
    ("change_pct", "Growth %", PCT),
)
LOSS_USER_COLUMNS = (
    ("user_id", "Phone", TEXT), ("cost_micro", "Cost", MONEY),
    ("revenue_micro", "Revenue", MONEY), ("loss_micro", "Cost above revenue", MONEY),
    ("requests", "Requests", COUNT), ("level", "Level (MTD)", TEXT),
)
ACCURACY_COLUMNS = (
    ("action", "Action", TEXT), ("pairs", "Requests with both", COUNT),
    ("estimated_micro", "Estimated", MONEY), ("actual_micro", "Actual", MONEY),
    ("difference_micro", "Estimated − actual", MONEY),
    ("bias_pct", "Estimate off by", PCT),
    ("mean_abs_error_micro", "Mean absolute error per request", UNIT_MONEY),
    ("estimates_alone", "Estimates without an actual", COUNT),
)
