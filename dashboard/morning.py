"""The landing page's answer, drawn: the verdict first, then whom to act on.

The numbers come from `queries.verdict` and `queries.actions`; this module only lays
them out (a verdict container that fits a phone's first screen, and the action list with
links to each user's drill-down and a CSV export with masked phones).
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from core import audit, formats, secrecy, settings
from core.privacy import mask_phone
from dashboard import data, ui
from queries import actions, verdict

TREND_DAYS = 90  # Daily's trend charts: the picked day and the days before it


def trend_window(day: str, first: date) -> tuple[date, date]:
    """The days of Daily's trend charts for `day`: TREND_DAYS up to it, from the first
    day with data at the earliest (the page and dashboard/warm.py ask for the same)."""
    last = date.fromisoformat(day)
    return max(last - timedelta(days=TREND_DAYS - 1), first), last


KIND_ORDER = (actions.OVER_CUTOFF, actions.LOAD_FAILED, actions.LOAD_STALE, actions.HIGH_RATE,
              actions.BELOW_TARGET)


def render_verdict(day: str, tz: str, policy: str, first: date,
                   mtd: tuple[int, int] | None = None) -> verdict.Verdict:
    """One sentence, coloured by the target, and the month's profit beside it. `mtd`: the
    day's month-to-date (users, at target) where the page has them (its KPIs)."""
    v: verdict.Verdict = data.cached(verdict.verdict)(
        day=day, tz=tz, policy=policy, first_month=f"{first:%Y-%m}", mtd=mtd)
    with st.container(key="verdict", border=True):
        colour = {True: "green", False: "red", None: "gray"}[v.met]
        st.markdown(f"#### :{colour}[{v.sentence()}]")
        left, mid, right = st.columns(3)
        left.metric("Profit this month", formats.money(v.profit_mtd),
                    help=f"Revenue minus counted cost from the 1st to the end of {day}")
        mid.metric("Projected month-end", formats.money(v.projected_profit),
                   help="Month-to-date profit run on at its daily pace to the month's end")
        right.metric(f"Pace vs {v.last_month_day:%d %b}", formats.pct(v.at_target_pct),
                     delta=ui.change(v.at_target_pct, v.last_month_at_target_pct, "pct"),
                     help="Share of users at target now against the same day last month; "
                          "the share climbs through a month, so compare like with like")
        st.caption(v.pace_sentence() + " How to read this: a user is *at target* when "
                   "month-to-date profit reaches the policy's target; the level *normal* "
                   "is about service, not profit (see the Glossary).")
    return v


def user_link(user_id: str | None) -> str | None:
    """The Users page for one user, named by its keyed reference, never by the number."""
    return None if user_id is None else f"/users?ref={audit.user_ref(user_id)}"


def action_frame(day: str, tz: str, policy: str) -> pd.DataFrame:
    """The list as shown and exported: phones masked, money rounded, levels readable."""
    raw: pd.DataFrame = data.cached(actions.action_needed)(day=day, tz=tz, policy=policy)
    hidden = secrecy.secret_values(settings.secrets())
    order = {k: i for i, k in enumerate(KIND_ORDER)}
    raw = raw.assign(_o=raw["kind"].map(order)).sort_values("_o", kind="stable")
    return pd.DataFrame({
        "what": raw["kind"],
        "user": [mask_phone(u) if isinstance(u, str) else formats.MISSING
                 for u in raw["user_id"]],
        "open": [user_link(u) if isinstance(u, str) else None for u in raw["user_id"]],
        "cost MTD": [formats.money(v) for v in raw["cost_usd"]],
        "revenue MTD": [formats.money(v) for v in raw["revenue_usd"]],
        "requests MTD": [formats.count(v) for v in raw["requests"]],
        "level": [formats.level_name(v) if isinstance(v, str) else formats.MISSING
                  for v in raw["level"]],
        "detail": [secrecy.redact(d, hidden) for d in raw["detail"]],  # errors quote URLs
    })


def render_actions(day: str, tz: str, policy: str, *, key: str) -> pd.DataFrame:
    """The action-needed list with its export; says so when nothing needs a look."""
    frame = action_frame(day, tz, policy)
    st.subheader("Action needed")
    if frame.empty:
        st.success("Nothing needs a look: no user over the cutoff unpaid, no unusual usage, "
                   "every load fresh.")
        return frame
    counts = frame["what"].value_counts()
    st.caption(" · ".join(f"{formats.count(counts[k])} {k}" for k in KIND_ORDER if k in counts)
               + f" · month to date at the end of {day}")
    ui.dataframe(frame, hide_index=True, width="stretch", key=f"{key}_table",
                 column_config={"open": st.column_config.LinkColumn(
                     "open", display_text="drill down", help="the user's month, on Users")})
    st.download_button("Export the list (CSV)", frame.drop(columns="open").to_csv(index=False),
                       file_name=f"action-needed-{day}.csv", mime="text/csv",
                       key=f"{key}_csv", icon=":material/download:")
    return frame
