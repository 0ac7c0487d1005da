"""Targets: what each figure is judged against, per user first; an admin sets them for this
business and they are saved to the settings' `[targets]`, which every page, report and
alert reads."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import streamlit as st

from core import formats, metrics, settings, targets
from dashboard import auth

st.title("Targets")
st.caption("Per-user targets come first: the promise is a profit per user, whatever the "
           "size of the business. Absolute targets (revenue, cost) depend on the business: "
           "set them to yours.")

if saved_to := st.session_state.pop("targets_saved", None):
    st.success(f"Saved to {saved_to}; every page, report and alert now uses them.")

viewer = auth.current_viewer()
may_edit = bool(viewer and (viewer.admin or viewer.mode == "local"))
editable = [m for m in metrics.headline(metrics.MONTHLY) if m.target is not None
            and m.key != "users_at_target_pct"]
editable += [m for m in metrics.METRICS if m.target is not None and m not in editable
             and m.key != "users_at_target_pct"]

rows = []
for m in editable:
    t = targets.target(m.key)
    unit = "$" if m.unit == formats.USD else "%"
    rows.append({"Figure": m.label, "Target": t.bound,
                 "Default": targets.Target(m.key, m.target.op, m.target.value, m.unit).bound,
                 "Unit": unit})
st.table(rows)
ramp = targets.users_at_target_ramp()
st.caption("Share of users at target: " + ", ".join(
    f"at least {v.normalize():f}% from month {k}" for k, v in sorted(ramp.items()))
    + " of the business (set `users_at_target_pct` in `[targets]` to change the steps).")

if not may_edit:
    st.info("Only an admin can change the targets.")
    st.stop()

with st.form("targets_form"):
    st.subheader("Set this business's targets")
    values: dict[str, str] = {}
    cols = st.columns(2)
    for i, m in enumerate(editable):
        current = targets.target(m.key).value
        default = m.target.value
        values[m.key] = cols[i % 2].text_input(
            f"{m.label} ({'$' if m.unit == formats.USD else '%'}, "
            f"{'at least' if m.target.op == metrics.AT_LEAST else 'at most'})",
            value="" if current == default else f"{current.normalize():f}",
            placeholder=f"{default.normalize():f} (default)", key=f"target_{m.key}")
    saved = st.form_submit_button("Save targets", type="primary")

if saved:
    bad = []
    for key, text in values.items():
        try:
            if text.strip() and not Decimal(text.strip()).is_finite():
                bad.append(key)
        except InvalidOperation:
            bad.append(key)
    if bad:
        st.error("Not a number: " + ", ".join(metrics.metric(k).label for k in bad))
    else:
        st.session_state["targets_saved"] = settings.save_targets(values).name
        st.rerun()
