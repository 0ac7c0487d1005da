"""The What-if page's charts: plain Plotly builders, no Streamlit, so each is testable alone.

They take the figures `enforcement.whatif` computes and only draw them; the floats here
are pixel positions, never a figure the page reports (those stay exact Decimals).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core import formats, palette
from enforcement.levels import LEVELS

BASELINE_COLOUR, CANDIDATE_COLOUR, TARGET_COLOUR = palette.PREVIOUS, palette.CANDIDATE, \
    palette.TARGET


def levels_chart(base: dict[str, Any], cand: dict[str, Any]) -> go.Figure:
    """Users by level at month end, baseline beside the edited policy (grouped bars)."""
    frame = pd.DataFrame([
        {"level": formats.level_name(lv.value), "policy": side,
         "users": summary["users_by_level"][lv.value]}
        for side, summary in (("baseline", base), ("edited policy", cand)) for lv in LEVELS])
    fig = px.bar(frame, x="level", y="users", color="policy", barmode="group",
                 # two lines: one is wider than a phone (390 px) and was cut off there
                 title="Users by level at month end,<br>before and after (users)",
                 labels={"users": "users (user-months with a request)", "level": "level"},
                 color_discrete_sequence=[BASELINE_COLOUR, CANDIDATE_COLOUR])
    fig.update_yaxes(tickformat=",d")
    fig.update_layout(legend_title_text="")
    return fig


def profit_chart(base: pd.DataFrame, cand: pd.DataFrame, target: Decimal) -> go.Figure:
    """Profit per user-month (users with a request), overlaid, with the target marked; the
    0.5% tails are not drawn so that a few outliers do not squash the bulk."""
    frames = []
    for side, table in (("baseline", base), ("edited policy", cand)):
        active = table[table["requests"] > 0]
        frames.append(pd.DataFrame({"profit": active["profit"].to_numpy() / 1_000_000,
                                    "policy": side}))
    frame = pd.concat(frames, ignore_index=True)
    lo, hi = frame["profit"].quantile(0.005), frame["profit"].quantile(0.995)
    shown = frame[(frame["profit"] >= lo) & (frame["profit"] <= hi)]
    fig = px.histogram(shown, x="profit", color="policy", barmode="overlay", nbins=60,
                       opacity=0.6, color_discrete_sequence=[BASELINE_COLOUR, CANDIDATE_COLOUR],
                       title="Profit per user-month (USD),<br>before and after",
                       labels={"profit": "profit per user-month (USD)"})
    fig.add_vline(x=float(target), line_dash="dash", line_color=TARGET_COLOUR,
                  annotation_text=f"target ${target}", annotation_position="top right")
    clipped = "<br>0.5% tails at each end not drawn" if len(shown) < len(frame) else ""
    fig.update_yaxes(tickformat=",d")
    fig.update_xaxes(tickprefix="$", tickformat=",.2~f")
    fig.update_layout(yaxis_title="user-months", legend_title_text="",
                      xaxis_title=f"profit per user-month (USD){clipped}")
    return fig


def sweep_chart(key: str, kind: str, result: pd.DataFrame, current: Any) -> go.Figure:
    """The sweep: share at target, profit and refusals against the swept value, the edited
    policy's value dashed; values the loader refused are left out."""
    ok = result[result["error"].isna()]
    unit = {"money": " (USD)", "factor": " (bp)"}.get(kind, "")
    x = [float(v) for v in ok["value"]]  # plotting positions only
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.07,
                        subplot_titles=("Users at target (% of users)", "Total profit (USD)",
                                        "Requests not served (count)"))
    fig.add_trace(go.Scatter(x=x, y=[float(v) for v in ok["users_at_target_pct"]],
                             mode="lines+markers", name="share at target (%)"), 1, 1)
    fig.add_trace(go.Scatter(x=x, y=[float(v) for v in ok["profit_usd"]],
                             mode="lines+markers", name="total profit (USD)"), 2, 1)
    fig.add_trace(go.Scatter(x=x, y=[int(v) for v in ok["not_served"]],
                             mode="lines+markers", name="not served (requests)"), 3, 1)
    for row in (1, 2, 3):
        fig.add_vline(x=float(current), line_dash="dash", line_color=TARGET_COLOUR, row=row, col=1)
    fig.update_layout(title=f"Sensitivity to {key}{unit}", height=650, showlegend=False)
    fig.update_xaxes(title_text=f"{key}{unit}", row=3, col=1)
    return fig
