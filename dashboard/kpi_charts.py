"""Plotly figures of the Daily and Monthly pages: every chart titled, every axis with its unit.

Figures only draw what the query layer computed; money becomes float here, at the edge,
because a chart is display (the figures themselves stay Decimal).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import pandas as pd
import plotly.graph_objects as go

from core import palette

GREEN, RED, GREY = palette.TARGET, palette.MISS, palette.NEUTRAL
SERIES_COLORS = palette.SERIES
LEVEL_COLORS = list(palette.LEVELS.values())


def _f(value: Decimal | float | int | None) -> float | None:
    return None if value is None or (isinstance(value, float) and value != value) \
        else float(value)


def _layout(fig: go.Figure, title: str, *, x: str, y: str, height: int = 340) -> go.Figure:
    # a title past ~40 characters is cut off on a phone's 390 px: long ones take two lines
    top = 75 if "<br>" in title else 50
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y, height=height,
                      margin={"l": 10, "r": 10, "t": top, "b": 10}, legend_title_text="")
    return fig


MONEY_AXIS = {"tickprefix": "$", "tickformat": ",.2~f", "separatethousands": True}
COUNT_AXIS = {"tickformat": ",d"}


def money_trend(series: pd.DataFrame) -> go.Figure:
    """Daily revenue, cost and profit (USD) over the series' days."""
    fig = go.Figure()
    for name in ("revenue", "cost", "profit"):
        fig.add_trace(go.Scatter(x=list(series["day"]), y=[_f(v) for v in series[f"{name}_usd"]],
                                 name=name.capitalize(), mode="lines",
                                 line={"color": SERIES_COLORS[name]}))
    fig.update_yaxes(**MONEY_AXIS)
    return _layout(fig, f"Daily revenue, cost and profit,<br>last {len(series)} days (USD)",
                   x="Day", y="USD per day")


def at_target_trend(series: pd.DataFrame, target_pct: Decimal | None) -> go.Figure:
    """Share of users at the profit target month to date, per day (%), with the target line."""
    fig = go.Figure(go.Scatter(x=list(series["day"]),
                               y=[_f(v) for v in series["users_at_target_pct"]],
                               name="Users at target (MTD)", mode="lines",
                               line={"color": SERIES_COLORS["profit"]}))
    if target_pct is not None:
        fig.add_hline(y=float(target_pct), line_dash="dash", line_color=GREEN,
                      annotation_text=f"target {target_pct:f}%")
    fig.update_yaxes(range=[0, 100])
    return _layout(fig, "Share of users at the profit target,<br>month to date (%)",
                   x="Day", y="% of users with cost this month")


def money_bars(values: Mapping[str, Decimal], title: str, *, x: str,
               color: str = palette.REVENUE) -> go.Figure:
    """A horizontal bar per key (USD), largest on top."""
    items = sorted(values.items(), key=lambda kv: kv[1])
    fig = go.Figure(go.Bar(x=[_f(v) for _, v in items], y=[k for k, _ in items],
                           orientation="h", marker_color=color,
                           text=[f"${v:,.2f}" for _, v in items], textposition="auto"))
    fig.update_xaxes(**MONEY_AXIS)
    return _layout(fig, title, x="USD", y=x, height=max(240, 60 + 34 * len(items)))


def levels_bars(by_level: Mapping[str, int], title: str) -> go.Figure:
    """Users per service level, least to most restrictive."""
    names = list(by_level)
    fig = go.Figure(go.Bar(x=[n.replace("_", " ") for n in names],
                           y=[by_level[n] for n in names],
                           marker_color=[palette.LEVELS.get(n, GREY) for n in names],
                           text=[f"{by_level[n]:,}" for n in names], textposition="auto"))
    fig.update_yaxes(**COUNT_AXIS)
    return _layout(fig, title, x="Level (month to date)", y="Users")


def revenue_mix(shares: Mapping[str, float | None], targets: Mapping[str, Decimal]
                ) -> go.Figure:
    """Each stream's share of revenue (%) beside its target share."""
    streams = list(shares)
    fig = go.Figure([
        go.Bar(name="Actual", x=streams, y=[_f(shares[s]) for s in streams],
               marker_color=palette.REVENUE,
               text=[None if shares[s] is None else f"{shares[s]:.1f}%" for s in streams],
               textposition="auto"),
        go.Bar(name="Target", x=streams, y=[_f(targets.get(s)) for s in streams],
               marker_color=palette.PREVIOUS),
    ])
    fig.update_layout(barmode="group")
    return _layout(fig, "Revenue mix against the 40/30/20/10<br>target (% of revenue)",
                   x="Stream", y="% of revenue")


def cohort_heatmap(cohorts: pd.DataFrame) -> go.Figure:
    """Retention cohorts: month of first activity x months since (% of the cohort active)."""
    if cohorts.empty:
        grid = pd.DataFrame()
    else:
        grid = cohorts.pivot(index="cohort", columns="months_since", values="pct")
    fig = go.Figure(go.Heatmap(
        z=[[_f(v) for v in row] for row in grid.to_numpy()] if not grid.empty else [],
        x=[int(c) for c in grid.columns], y=list(grid.index), zmin=0, zmax=100,
        colorscale="Teal", colorbar={"title": "% active"},
        text=[[("" if v != v else f"{v:.0f}%") for v in row] for row in grid.to_numpy()]
        if not grid.empty else [], texttemplate="%{text}"))
    fig.update_yaxes(autorange="reversed", type="category")
    return _layout(fig, "Retention by cohort<br>(% of the cohort active)",
                   x="Months since first activity", y="Cohort (month of first activity)",
                   height=max(300, 80 + 40 * len(grid)))


def profit_distribution(bins: pd.DataFrame, target: Decimal) -> go.Figure:
    """How many users made how much profit in the month (USD), with the profit target line:
    `bins` is `kpis.profit_histogram`'s (forty bars, whatever the number of users)."""
    fig = go.Figure(go.Bar(x=(bins["lo_usd"] + bins["hi_usd"]) / 2, y=bins["users"],
                           width=bins["hi_usd"] - bins["lo_usd"], marker_color=palette.PROFIT,
                           customdata=bins[["lo_usd", "hi_usd"]],
                           hovertemplate="$%{customdata[0]:,.2f} to $%{customdata[1]:,.2f}: "
                                         "%{y:,} users<extra></extra>"))
    fig.add_vline(x=float(target), line_dash="dash", line_color=GREEN,
                  annotation_text=f"target ${target:,.2f}")
    fig.update_xaxes(**MONEY_AXIS)
    fig.update_yaxes(**COUNT_AXIS)
    return _layout(fig, "Profit per user this month<br>(USD per user)",
                   x="Profit per user (USD)", y="Users")


def segments_bars(segments: pd.DataFrame) -> go.Figure:
    """Users per usage segment, and each segment's profit per user (USD)."""
    fig = go.Figure([
        go.Bar(name="Users", x=list(segments["segment"]), y=list(segments["users"]),
               marker_color=palette.REVENUE, yaxis="y"),
        go.Scatter(name="Profit per user (USD)", x=list(segments["segment"]),
                   y=[_f(v) for v in segments["profit_per_user"]], yaxis="y2",
                   mode="lines+markers", line={"color": palette.COST}),
    ])
    fig = _layout(fig, "Users by usage (counted requests, month)",
                  x="Segment", y="Users")
    fig.update_layout(yaxis2={"title": "Profit per user (USD)", "overlaying": "y", **MONEY_AXIS,
                              "side": "right", "showgrid": False},
                      legend={"orientation": "h", "y": -0.35, "x": 0})
    return fig
