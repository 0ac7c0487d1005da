"""The Weekly page's charts, built once for the page and the weekly report.

Plain Plotly (no Streamlit), so `report` embeds exactly the figures the page
shows. Money arrives as integer micro-dollars and becomes dollars only here, for drawing.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go

from core import formats, palette

THIS_WEEK = palette.PROFIT
WEEK_BEFORE = palette.PREVIOUS
HOVER_USD = "%{x}: $%{y:,.2f}<extra>%{fullData.name}</extra>"
HOVER_USD_H = "%{y}: $%{x:,.2f}<extra>%{fullData.name}</extra>"
# A white plot with light grid lines, set by hand: naming a template ("plotly_white") makes
# Plotly re-validate it for every figure, a quarter of a second each.
PLAIN = {"plot_bgcolor": "white", "paper_bgcolor": "white",
         "xaxis": {"gridcolor": "#eeeeee", "zerolinecolor": "#cccccc"},
         "yaxis": {"gridcolor": "#eeeeee", "zerolinecolor": "#cccccc"}}
LEVEL_COLOURS = palette.LEVELS


def dollars(micro: pd.Series) -> list[float]:
    """Micro-dollars to dollars, for drawing only (figures stay exact elsewhere)."""
    return [int(m) / 1_000_000 for m in micro]


def _layout(fig: go.Figure, title: str, *, x: str, y: str, height: int = 360) -> go.Figure:
    # a long title takes two lines (`<br>`), so it is not cut off on a phone's 390 px
    top = 85 if "<br>" in title else 60
    fig.update_layout(title=title, height=height, margin={"l": 70, "r": 20, "t": top, "b": 10},
                      legend={"orientation": "h", "y": -0.2}, xaxis_title=x, yaxis_title=y,
                      **PLAIN, barmode="group")
    return fig


def _whole_counts(fig: go.Figure, most: int) -> go.Figure:
    """A count axis without half users (one tick per user while there are few), with
    thousands separators rather than Plotly's "1.5k"."""
    fig.update_yaxes(tickformat=",d")
    if most <= 10:
        fig.update_yaxes(tick0=0, dtick=1)
    return fig


def streams_chart(streams: pd.DataFrame, week: str, previous: str) -> go.Figure:
    """Revenue per stream, this week beside the week before."""
    fig = go.Figure([
        go.Bar(name=previous, x=streams["stream"], y=dollars(streams["prev_revenue_micro"]),
               marker_color=WEEK_BEFORE, hovertemplate=HOVER_USD),
        go.Bar(name=week, x=streams["stream"], y=dollars(streams["revenue_micro"]),
               marker_color=THIS_WEEK, hovertemplate=HOVER_USD),
    ])
    fig.update_yaxes(tickprefix="$")
    return _layout(fig, "Revenue by stream (USD)", x="stream", y="revenue (USD)")


def actions_chart(actions: pd.DataFrame, week: str, previous: str) -> go.Figure:
    """Counted cost per action, this week beside the week before (largest on top)."""
    data = actions.iloc[::-1]
    fig = go.Figure([
        go.Bar(name=previous, y=data["action"], x=dollars(data["prev_cost_micro"]),
               orientation="h", marker_color=WEEK_BEFORE,
               hovertemplate=HOVER_USD_H),
        go.Bar(name=week, y=data["action"], x=dollars(data["cost_micro"]), orientation="h",
               marker_color=THIS_WEEK,
               hovertemplate=HOVER_USD_H),
    ])
    fig.update_xaxes(tickprefix="$")
    return _layout(fig, "Cost by action (USD)", x="cost (USD)", y="action",
                   height=max(300, 60 + 45 * len(data)))


def top_users_chart(top: pd.DataFrame, labels: pd.Series) -> go.Figure:
    """The users who cost most this week; `labels` are their (masked) phones."""
    fig = go.Figure([
        go.Bar(name="cost", x=list(labels), y=dollars(top["cost_micro"]), marker_color=palette.COST,
               hovertemplate="%{x}: cost $%{y:,.2f}<extra></extra>"),
        go.Bar(name="revenue", x=list(labels), y=dollars(top["revenue_micro"]),
               marker_color=palette.REVENUE,
               hovertemplate="%{x}: revenue $%{y:,.2f}<extra></extra>"),
    ])
    fig.update_yaxes(tickprefix="$")
    fig.update_xaxes(type="category")
    return _layout(fig, "Top users by cost this week:<br>cost and revenue (USD)", x="user",
                   y="USD")


def levels_chart(by_level: Mapping[str, int]) -> go.Figure:
    """Users per level, month to date at the week's end."""
    names = list(by_level)
    fig = go.Figure(go.Bar(x=[formats.level_name(n) for n in names],
                           y=[by_level[n] for n in names],
                           marker_color=[LEVEL_COLOURS.get(n, "#888") for n in names],
                           hovertemplate="%{x}: %{y:,} users<extra></extra>"))
    _whole_counts(fig, max(by_level.values(), default=0))
    return _layout(fig, "Users by level, month to date<br>at the week's end (users)", x="level",
                   y="users")


def interventions_chart(summary: pd.DataFrame) -> go.Figure:
    """Users who crossed each threshold in the week, and those who paid within 7 days."""
    fig = go.Figure([
        go.Bar(name="crossed in the week", x=summary["threshold"], y=summary["crossed"],
               marker_color=palette.NEUTRAL,
               hovertemplate="%{x}: %{y:,} users crossed<extra></extra>"),
        go.Bar(name="paid within 7 days", x=summary["threshold"], y=summary["paid"],
               marker_color=palette.REVENUE,
               hovertemplate="%{x}: %{y:,} users paid<extra></extra>"),
    ])
    _whole_counts(fig, int(summary["crossed"].max()) if len(summary) else 0)
    return _layout(fig, "Intervention effectiveness (users)", x="threshold crossed", y="users")


def economics_chart(economics: pd.DataFrame) -> go.Figure:
    """Per action, what a request costs beside what its tokens bring (the worst on top)."""
    data = economics.iloc[::-1]
    fig = go.Figure([
        go.Bar(name="token revenue per request", y=data["action"],
               x=dollars(data["token_revenue_per_request_micro"]), orientation="h",
               marker_color=palette.REVENUE,
               hovertemplate="%{y}: tokens bring $%{x:,.4f}<extra></extra>"),
        go.Bar(name="cost per request", y=data["action"],
               x=dollars(data["cost_per_request_micro"]), orientation="h",
               marker_color=palette.COST,
               hovertemplate="%{y}: costs $%{x:,.4f}<extra></extra>"),
    ])
    fig.update_xaxes(tickprefix="$")
    return _layout(fig, "Per request: cost against<br>token revenue (USD)", x="USD per request",
                   y="action", height=max(300, 60 + 45 * len(data)))
