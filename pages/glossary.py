"""Glossary: every figure the app shows, its definition, unit, direction and target, read
from the registry (core.metrics) that the figures themselves are computed from."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import metrics, targets

UNITS = {"usd": "US dollars", "pct": "percent", "count": "count", "ratio": "number",
         "usd_by": "US dollars per part", "count_by": "users per level"}
BETTER = {metrics.HIGHER: "higher is better", metrics.LOWER: "lower is better", None: "–"}

st.title("Glossary")
st.caption("Each figure is defined once; pages, reports, the JSON command and alerts read "
           "these definitions and targets. A target set in the settings (`[targets]`) "
           "replaces the default everywhere.")


def target_text(m: metrics.Metric) -> str:
    if m.target is None:
        return "–"
    if m.key == "users_at_target_pct":
        ramp = targets.users_at_target_ramp()
        return "at least " + ", ".join(f"{v.normalize():f}% from month {k}"
                                       for k, v in sorted(ramp.items()))
    grains = "every period" if m.target.grains == metrics.GRAINS else \
        " and ".join(f"{g}ly" for g in m.target.grains)
    return f"{targets.target(m.key).bound} ({grains})"


for group in metrics.GROUPS:
    shown = [m for m in metrics.METRICS if m.group == group]
    if not shown:
        continue
    st.subheader(group)
    st.table(  # a table wraps its text: no definition is cut off, on a phone either
        pd.DataFrame({"Figure": [m.label for m in shown],
         "Definition": [m.definition for m in shown],
         "Unit": [UNITS.get(m.unit, m.unit) for m in shown],
         "Direction": [BETTER[m.better] for m in shown],
         "Target": [target_text(m) for m in shown],
         "Key (JSON)": [m.key for m in shown]}).set_index("Figure"))
