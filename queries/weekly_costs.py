"""Cost optimisation opportunities of one ISO week (the guide's weekly report section).

Four tables, for the Weekly page and the weekly report:
- `action_economics`: per action, what a request costs against what its tokens bring at
  the policy's price; the actions that lose money on every request first;
- `category_growth`: the categories whose cost grew against the week before, most first;
- `loss_users`: the users whose cost exceeds their revenue the most;
- `estimate_accuracy`: per action, the estimates against the actuals that replaced them,
  which the guide's "predictive cost modeling" depends on.
SQL in `weekly_cost_categories.sql` and `weekly_estimate_accuracy.sql`; the week's cost per
action is `queries.weekly.cost_by_action`'s. Money is integer micro-dollars (`*_micro`);
what is divided (per request, a share) is rounded half up once, here.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import duckdb
import pandas as pd

from enforcement.policy import Policy
from queries import rollups, run
from queries.ranking import most
from queries.weekly import week_bounds

LOSS_USERS = 10
ACCURACY_SUMS = ("pairs", "estimated_micro", "actual_micro", "abs_error_micro",
                 "estimates_alone")


def _per(total: int, n: int) -> int:
    """total / n rounded half up (away from zero) to a whole micro-dollar."""
    return int((Decimal(int(total)) / Decimal(int(n))).quantize(Decimal(1), ROUND_HALF_UP))


def _pct(part: int, whole: int) -> float | None:
    """100 × part / whole to two decimals, None where whole is 0."""
    if not whole:
        return None
    return float((Decimal(100 * int(part)) / Decimal(int(whole))).quantize(
        Decimal("0.01"), ROUND_HALF_UP))


def tokens_per_request(action: str, policy: Policy) -> int:
    """The tokens the rules charge for one request: none for a system action."""
    return 0 if action in policy.system_actions else policy.tokens_for(action)


def action_economics(actions: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Per action with requests in the week: cost per request, tokens per request and what
    they bring at `tokens.price`, and the unit margin (token revenue per request minus cost
    per request). Lowest unit margin first, so the actions that lose money on every request
    lead. `actions` is `queries.weekly.cost_by_action` (its `events` are the requests).

    The token revenue is nominal: what the tokens the rules charge are worth at the list
    price, whether they were bought or came free, and 0 for a premium user's request.
    """
    rows = []
    for r in actions[actions["events"] > 0].to_dict("records"):
        requests, cost = int(r["events"]), int(r["cost_micro"])
        tokens = tokens_per_request(r["action"], policy)
        revenue = requests * tokens * policy.token_price
        rows.append({
            "action": r["action"], "requests": requests, "cost_micro": cost,
            "cost_per_request_micro": _per(cost, requests), "tokens": tokens,
            "token_revenue_per_request_micro": tokens * policy.token_price,
            "unit_margin_micro": _per(revenue - cost, requests),
            "token_revenue_micro": revenue, "margin_micro": revenue - cost,
            "_order": Fraction(revenue - cost, requests),  # exact, so no rounding reorders
        })
    columns = ["action", "requests", "cost_micro", "cost_per_request_micro", "tokens",
               "token_revenue_per_request_micro", "unit_margin_micro", "token_revenue_micro",
               "margin_micro"]
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object if c == "action" else "int64")
                             for c in columns})
    rows.sort(key=lambda row: (row["_order"], row["action"]))
    return pd.DataFrame(rows)[columns]


def category_growth(con: duckdb.DuckDBPyConnection, *, week: str, tz: str) -> pd.DataFrame:
    """The categories whose counted cost grew against the week before, most growth first,
    with the growth as a share of the week before's cost (None where that was $0)."""
    df = run(con, rollups.utc_twin(con, "weekly_cost_categories", tz),
             **week_bounds(week, tz).params())
    df = df[df["change_micro"] > 0].reset_index(drop=True)
    df["change_pct"] = pd.Series([_pct(c, p) for c, p in
                                  zip(df["change_micro"], df["prev_cost_micro"], strict=True)],
                                 dtype=object)
    return df


def loss_users(table: pd.DataFrame, n: int = LOSS_USERS) -> pd.DataFrame:
    """The `n` users whose week cost exceeds their week revenue the most (ties by user id),
    from `queries.weekly.user_table`; `loss_micro` is cost minus revenue."""
    losing = table[table["profit_micro"] < 0].copy()
    losing["loss_micro"] = -losing["profit_micro"]
    return most(losing, "loss_micro", n).reset_index(drop=True)


def estimate_accuracy(con: duckdb.DuckDBPyConnection, *, week: str, tz: str) -> pd.DataFrame:
    """Per action, the week's estimates against the actuals that replaced them.

    `difference_micro` is estimated minus actual (positive: the estimates ran high),
    `bias_pct` that difference as a share of the actual, `mean_abs_error_micro` the
    average size of a request's miss; `estimates_alone` counts the estimates no actual
    replaced (they stand as the cost), where the loader paired the lines: a source that
    gave `counted` itself does not say which of its counted lines are estimates.
    """
    # per UTC day; in UTC a week is whole rollup days (13 s → 0.01 s at 1,000,000 users)
    days = run(con, rollups.utc_twin(con, "weekly_estimate_accuracy", tz),
               **week_bounds(week, tz).params(), parts=1, part=0)
    df = (days.drop(columns="day").groupby("action", as_index=False).sum()
          .astype({c: "int64" for c in ACCURACY_SUMS})
          .sort_values(["actual_micro", "action"], ascending=[False, True], kind="stable")
          .reset_index(drop=True))
    df["difference_micro"] = df["estimated_micro"] - df["actual_micro"]
    df["bias_pct"] = pd.Series([_pct(d, a) for d, a in
                                zip(df["difference_micro"], df["actual_micro"], strict=True)],
                               dtype=object)
    df["mean_abs_error_micro"] = pd.Series(
        [_per(e, n) if n else None for e, n in zip(df["abs_error_micro"], df["pairs"],
                                                   strict=True)], dtype="Int64")
    return df
