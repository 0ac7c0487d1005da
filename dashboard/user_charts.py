"""The Users page's charts: one user's month, drawn from `queries.users` (plain Plotly).

No phone number ever enters a figure (titles, axes or hover text): the page names the
user by the masked phone beside the chart, never in it.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core import palette
from enforcement.levels import LEVELS
from enforcement.money import usd
from enforcement.policy import Policy
from report.charts import LEVEL_COLOURS, PLAIN, dollars

THRESHOLD_LINES = (("free_tier", "free tier", palette.LEVELS["reduced_quality"]),
                   ("warning", "warning", palette.LEVELS["basic_only"]),
                   ("restriction", "restriction", palette.LEVELS["affiliate_gated"]),
                   ("cutoff", "cutoff", palette.LEVELS["payment_required"]))


def mtd_chart(events: pd.DataFrame, policy: Policy) -> go.Figure:
    """Month-to-date counted cost and revenue after each event, with the policy's cost lines."""
    fig = go.Figure([
        go.Scatter(x=events["ts_local"], y=dollars(events["mtd_cost_micro"]), name="cost MTD",
                   mode="lines+markers", line={"shape": "hv", "color": palette.COST},
                   hovertemplate="%{x|%Y-%m-%d %H:%M}: cost $%{y:,.4f}<extra></extra>"),
        go.Scatter(x=events["ts_local"], y=dollars(events["mtd_revenue_micro"]),
                   name="revenue MTD", mode="lines+markers",
                   line={"shape": "hv", "color": palette.REVENUE},
                   hovertemplate="%{x|%Y-%m-%d %H:%M}: revenue $%{y:,.2f}<extra></extra>"),
    ])
    # Thresholds sit close together ($1.50, $1.75, $2.00): each is labelled at the right
    # edge with its own name, alternating above and below the line, so no two overlap.
    for i, (attr, label, colour) in enumerate(THRESHOLD_LINES):
        value = float(usd(getattr(policy, attr)))
        fig.add_hline(y=value, line_dash="dot", line_color=colour,
                      annotation_text=f"{label} ${value:,.2f}", annotation_font_color=colour,
                      annotation_position="top right" if i % 2 else "bottom right")
    fig.update_yaxes(tickprefix="$", tickformat=",.2f")
    fig.update_layout(title="Month-to-date cost and revenue (USD)", height=380,
                      xaxis_title="time (reporting timezone)", yaxis_title="USD",
                      **PLAIN, legend={"orientation": "h", "y": -0.25},
                      margin={"l": 10, "r": 10, "t": 60, "b": 10})
    return fig


def level_chart(events: pd.DataFrame) -> go.Figure:
    """The level `level_of` gives after each event, as a step line over the five levels."""
    order = [lv.value for lv in LEVELS]
    fig = go.Figure(go.Scatter(
        x=events["ts_local"], y=events["level"], mode="lines+markers",
        line={"shape": "hv", "color": palette.NEUTRAL},
        marker={"color": [LEVEL_COLOURS.get(v, "#888") for v in events["level"]], "size": 7},
        hovertemplate="%{x|%Y-%m-%d %H:%M}: %{y}<extra></extra>"))
    fig.update_yaxes(categoryorder="array", categoryarray=order, type="category",
                     range=[-0.5, len(order) - 0.5])
    fig.update_layout(title="Level after each event (level)", height=320,
                      xaxis_title="time (reporting timezone)", yaxis_title="level",
                      **PLAIN, margin={"l": 10, "r": 10, "t": 60, "b": 10})
    return fig


def balance_chart(balances: pd.DataFrame) -> go.Figure:
    """Token balance snapshots over time."""
    fig = go.Figure(go.Scatter(
        x=balances["as_of_local"], y=balances["balance"], mode="lines+markers",
        line={"shape": "hv", "color": palette.PROFIT},
        hovertemplate="%{x|%Y-%m-%d %H:%M}: %{y:,} tokens<extra></extra>"))
    fig.update_layout(title="Token balance (tokens)", height=300,
                      xaxis_title="time (reporting timezone)", yaxis_title="tokens",
                      **PLAIN, margin={"l": 10, "r": 10, "t": 60, "b": 10})
    return fig
