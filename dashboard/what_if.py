"""The What-if page's widgets: pick a start, edit a policy, compare, sweep, probe, keep it.

Every figure comes from `enforcement.whatif` (pure) over a `History` loaded once per data
version and period (`what_if_data`); what the page remembers - the start, the fields, the
link that shares them - is `what_if_state`; the charts are plain Plotly builders in
`what_if_charts`. This module draws, in the order `render` lays the page out.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st

from core import formats
from core.privacy import mask_phone
from dashboard import ui, what_if_data
from dashboard import what_if_charts as charts
from dashboard import what_if_state as state
from enforcement import whatif
from enforcement.decide import decide
from enforcement.money import fmt_usd, to_micro, usd
from enforcement.policy import Policy, diff
from enforcement.replay import ReplayResult, from_us

UNITS = {"money": "USD", "factor": "basis points"}

CANNOT_KNOW = (
    "**What a replay cannot know.** It replays the requests history recorded, so it cannot "
    "show demand that was never recorded: requests users did not make because they were "
    "refused, or would have made had they been served more. And it replays revenue exactly "
    "as it happened: it cannot know what users would have paid under another policy "
    "(a token purchase prompted by a cut-off that no longer happens, or one a stricter "
    "policy would have prompted). Read the figures as *the same behaviour under other rules*.\n\n"
    "**Why these differ from Monthly.** Monthly shows what was recorded: every counted cost, "
    "including requests the original service served that a replayed policy refuses. The "
    "replay charges each request what the rules would have incurred (a refused request costs "
    "nothing, a gated one a tenth), so cost and the share at target move. *History as "
    "recorded* is the baseline that reads the decisions as they were actually made.")



# -- the start --
def choose_start() -> tuple[Policy, str]:
    """The starting policy and its label: seed, current setting, or an accepted upload."""
    options = state.start_options()
    with st.sidebar:
        st.subheader("Start from")
        choice = st.radio("Start from", options, format_func=state.START_LABELS.get,
                          key="wi_start", label_visibility="collapsed")
        st.file_uploader("Upload a policy (TOML)", type=["toml"], key="wi_upload_file",
                         on_change=state.on_upload, max_upload_size=1,  # MB; 64 KB checked after
                         help="A policy file as `python -m enforcement` reads it. A file that "
                              "is too large or not a valid policy changes nothing.")
        with st.expander("…or paste a policy"):
            st.text_area("Policy TOML", key="wi_paste", height=150)
            st.button("Use pasted policy", on_click=state.on_paste, key="wi_paste_go")
        if state.upload_error():
            st.error(state.upload_error(), icon=":material/block:")
    try:
        return state.start_policy(choice)
    except ValueError as exc:  # the policy in force is in no file the dashboard knows
        st.sidebar.error(str(exc), icon=":material/block:")
        return state.start_policy(state.START_SEED)


# -- the editor --
def _label(key: str, kind: str) -> str:
    name = key.split(".")[-1].replace("_", " ")
    if key.startswith("tokens.cost."):
        return f"{key.split('.')[-1]} (tokens)"
    unit = UNITS.get(kind)
    if key == "tokens.bonus_pct":
        unit = "%"
    elif key == "affiliate.unlock_hours":
        unit = "hours"
    elif key == "tokens.free_monthly":
        unit = "tokens"
    return f"{name} ({unit})" if unit else name


def edit_policy(start: Policy, start_sig: str) -> state.Edit:
    """Draw every key, grouped; return the policy in use and its edits.

    An edit the loader refuses shows the loader's message under its field, and the
    result stays the last valid one.
    """
    edit = state.resolve_edit(start, start_sig)
    flat = start.to_flat()
    typed, errors = edit.typed, edit.errors

    st.subheader("Edit the policy")
    if state.link_unknown():
        st.warning("The link named keys this policy does not have (ignored): "
                   + ", ".join(state.link_unknown()))
    if not edit.valid:
        st.error("The policy loader refuses this edit (see the fields marked below). "
                 "The results show the last valid policy.", icon=":material/warning:")
        stray = {k: m for k, m in errors.items() if k not in flat}
        for key, message in stray.items():
            st.error(f"`{key}`: {message}")
    groups = whatif.grouped_keys(start)
    tabs = st.tabs([f"{g} ({sum(1 for k in keys if k in typed or k in errors)} changed)"
                    if any(k in typed or k in errors for k in keys) else g
                    for g, keys in groups.items()])
    for tab, keys in zip(tabs, groups.values(), strict=True):
        with tab:
            cols = st.columns(4)
            for n, key in enumerate(keys):
                with cols[n % 4]:
                    _field(key, flat[key], errors.get(key), key in typed)
    return edit


def _field(key: str, start_value: Any, error: str | None, changed: bool) -> None:
    kind = whatif.kind_of(key, start_value)
    label = _label(key, kind)
    wkey = state.WIDGET + key
    if kind in state.NUMBER_KINDS:
        st.number_input(label, min_value=0, max_value=10_000 if kind == "factor" else None,
                        step=1, key=wkey, help=f"`{key}`")
    else:
        st.text_input(label, key=wkey, help=f"`{key}`" + (" (exact decimal, e.g. 1.50)"
                                                         if kind == "money" else ""))
    if error:
        st.error(error, icon=":material/block:")
    if changed:
        st.caption(f":orange[changed] · start: **{whatif.to_text(start_value)}**")


# -- period and baseline --
def choose_period(months: list[str]) -> tuple[str, str]:
    """The replayed months: a range slider over the loaded months, the link's by default."""
    first, last = state.period_from_link(months)
    # A (first, last) value makes it a range slider; the key keeps the reader's choice.
    picked = st.select_slider("Months replayed (policy timezone)", options=months,
                              value=(first, last), key="wi_months",
                              help="One or more whole months of the loaded history.")
    return (picked[0], picked[1]) if isinstance(picked, tuple | list) else (picked, picked)


def choose_baseline() -> str:
    """What the edited policy is compared with: the start replayed, or history as recorded."""
    state.baseline_from_link()
    return st.radio("Compare with", list(state.BASE_LABELS), format_func=state.BASE_LABELS.get,
                    key="wi_base", horizontal=True,
                    help="History as recorded: what actually happened. Starting policy "
                         "replayed: the same history under the policy you started from.")


# -- results --
def _fmt(kind: str, value: Any, *, signed: bool = False) -> str:
    """A figure as the panel shows it (core.formats); "not recorded" where history has no
    record. Shares keep two decimals here: a policy edit often moves them by less than 0.1."""
    if value is None:
        return "not recorded"
    if kind == "pct":
        text = formats.pct(value, decimals=2)
        return f"{'+' if value > 0 else ''}{text.removesuffix('%')} pts" if signed else text
    unit = formats.USD if kind == "money" else formats.COUNT
    return (formats.change(unit, value, 0) or formats.MISSING) if signed else \
        formats.show(unit, value)


def comparison_frame(rows: list[whatif.Figure]) -> pd.DataFrame:
    """Every figure, baseline beside the edited policy, as display text."""
    return pd.DataFrame({
        "Figure": [r.label for r in rows],
        "Baseline": [_fmt(r.kind, r.baseline) for r in rows],
        "Edited policy": [_fmt(r.kind, r.candidate) for r in rows],
        "Change": ["–" if r.change is None else _fmt(r.kind, r.change, signed=True)
                   for r in rows],
    })


# (figure, card label): the cards are narrow, the table beside them has the full names.
KPIS = (("Users at target", "Users at target"), ("Share at target", "Share at target"),
        ("Total profit", "Total profit"), ("Profit per user", "Profit per user"),
        ("Cost", "Cost"), ("Revenue", "Revenue"), ("Served", "Requests served"),
        ("Not served: payment required", "Refused: payment"),
        ("Not served: affiliate required", "Refused: affiliate"),
        ("Not served: insufficient tokens", "Refused: no tokens"))
LOWER_IS_BETTER = {"Cost", "Not served: payment required", "Not served: affiliate required",
                   "Not served: insufficient tokens"}


def show_results(base: ReplayResult, cand: ReplayResult, base_recorded: bool,
                 target: Decimal) -> None:
    """The headline cards (edited policy, change from the baseline), the table and charts."""
    rows = whatif.comparison(base.total, cand.total, base_recorded)
    by_label = {r.label: r for r in rows}
    cols = st.columns(5)
    for n, (label, card) in enumerate(KPIS):
        r = by_label[label]
        with cols[n % 5]:
            ui.kpi_card(card, _fmt(r.kind, r.candidate),
                        delta=None if r.change is None else _fmt(r.kind, r.change, signed=True),
                        delta_color="off" if not r.change else
                        "inverse" if label in LOWER_IS_BETTER else "normal",
                        help=f"{label}. Baseline: {_fmt(r.kind, r.baseline)}; the arrow is "
                             "the change under the edited policy.")
    with st.expander("Every figure, side by side", expanded=False):
        ui.dataframe(comparison_frame(rows), hide_index=True, width="stretch")
    left, right = st.columns(2)
    with left:
        st.plotly_chart(charts.levels_chart(base.total, cand.total), width="stretch")
    with right:
        st.plotly_chart(charts.profit_chart(base.table, cand.table, target), width="stretch")


def show_who_changes(base: ReplayResult, cand: ReplayResult) -> None:
    """The user-months that move most, phones masked."""
    movers = whatif.who_changes(base.table, cand.table, limit=25)
    if movers.empty:
        st.info("No user's level or profit changes under the edited policy.")
        return
    shown = pd.DataFrame({
        "Phone": movers["user_id"].map(mask_phone),
        "Month": movers["month"],
        "Level before": movers["level_before"].map(formats.level_name),
        "Level after": movers["level_after"].map(formats.level_name),
        "Profit before": movers["profit_before"].map(ui.money),
        "Profit after": movers["profit_after"].map(ui.money),
        "Change": movers["profit_change"].map(lambda v: ("+" if v > 0 else "") + ui.money(v)),
    })
    ui.dataframe(shown, hide_index=True, width="stretch")


# -- the sweep --
@st.fragment
def sweep_panel(policy: Policy, first: str, last: str) -> None:
    """One key over a range: share at target, profit and refusals (reruns alone)."""
    flat = policy.to_flat()
    keys = [k for k, v in flat.items() if whatif.kind_of(k, v) in whatif.SWEEPABLE]
    default = keys.index("thresholds.cutoff") if "thresholds.cutoff" in keys else 0
    c1, c2, c3, c4 = st.columns([3, 2, 2, 1])
    key = c1.selectbox("Key to sweep", keys, index=default, key="wi_sweep_key")
    kind = whatif.kind_of(key, flat[key])
    current = flat[key]
    lo_default, hi_default = (whatif.to_text(v) for v in whatif.default_range(policy, key))
    if st.session_state.get("wi_sweep_for") != key:
        st.session_state["wi_sweep_for"] = key
        st.session_state["wi_sweep_lo"], st.session_state["wi_sweep_hi"] = lo_default, hi_default
    lo = c2.text_input("From", key="wi_sweep_lo")
    hi = c3.text_input("To", key="wi_sweep_hi")
    steps = c4.number_input("Steps", min_value=2, max_value=50, value=20, step=1,
                            key="wi_sweep_steps")
    if st.button("Run sweep", key="wi_sweep_go", type="primary"):
        try:
            values = whatif.with_current(whatif.sweep_values(lo, hi, int(steps), kind),
                                         current, kind)
        except (ValueError, ArithmeticError) as exc:
            st.error(f"From/To: {exc}")
            return
        history = what_if_data.load_history(first, last, policy.timezone)
        bar = st.progress(0.0, text="Replaying…")

        def progress(done: int, total: int) -> None:
            bar.progress(done / total, text=f"Replayed {done} of {total} values")

        started = datetime.now()
        result = whatif.sweep(history, policy, key, values, first, last, progress)
        seconds = (datetime.now() - started).total_seconds()
        bar.empty()
        st.session_state["wi_sweep_result"] = (key, current, result, seconds)
    saved = st.session_state.get("wi_sweep_result")
    if saved and saved[0] == key:
        _, at, result, seconds = saved
        st.plotly_chart(charts.sweep_chart(key, kind, result, at), width="stretch")
        refused = result[result["error"].notna()]
        st.caption(f"{len(result)} values replayed in {seconds:.1f} s, "
                   f"{first}–{last}; the dashed line marks the edited policy's value ({at}).")
        if not refused.empty:
            st.warning(f"{len(refused)} values were refused by the policy loader, e.g. "
                       f"{refused.iloc[0]['value']}: {refused.iloc[0]['error']}")


# -- probe one request --
def probe_panel(start: Policy, edited: Policy, first: str, last: str) -> None:
    """One user's next request under both policies, from their replayed month to date."""
    history = what_if_data.load_history(first, last, edited.timezone)
    digits = st.columns(3)[0].text_input("Phone ends with", key="wi_probe_digits",
                                         help="Type the last digits of the user's phone.")
    users = [str(u) for u in history.users]
    matches = [u for u in users if digits and u.endswith(digits.strip())][:200]
    if not digits.strip():
        st.caption("Type a few last digits to pick a user.")
        return
    if not matches:
        st.info("No user in the replayed period has a phone ending with those digits.")
        return
    c1, c2, c3 = st.columns(3)
    user = c1.selectbox("User", matches, format_func=mask_phone, key="wi_probe_user")
    actions = sorted(set(map(str, pd.unique(history.req_action)))
                     | {a for a, _ in edited.token_cost})
    action = c2.selectbox("Action", actions, key="wi_probe_action",
                          index=actions.index("meal_plan") if "meal_plan" in actions else 0)
    default_cost = fmt_usd(whatif.typical_cost(history, action))
    est_text = c3.text_input("Estimated cost (USD)", value=default_cost,
                             key=f"wi_probe_cost:{action}",
                             help="Default: the median recorded cost of this action.")
    try:
        est = to_micro(est_text)
    except ValueError as exc:
        st.error(f"Estimated cost: {exc}")
        return
    stamps = [t for t in (history.req_ts, history.rev_ts) if len(t)]
    now_us = max(int(t.max()) for t in stamps) + 1
    now = from_us(now_us)
    st.caption(f"*Now* is just after the last loaded event ({now:%Y-%m-%d %H:%M:%S} UTC); "
               "the month to date is the user's history replayed under each policy.")
    rows = {}
    for label, policy in (("Starting policy", start), ("Edited policy", edited)):
        state = whatif.month_to_date(history, user, now_us, policy)
        d = decide(state, action, est, policy, now)
        rows[label] = {
            "Month-to-date cost": ui.money(usd(state.cost), decimals=4),
            "Month-to-date revenue": ui.money(usd(state.revenue)),
            "Free / paid tokens": f"{state.free_tokens} / {state.paid_tokens}",
            "Premium this month": "yes" if state.premium else "no",
            "Served": "yes" if d.served else "no",
            "Level": d.level.value,
            "Reason": d.reason,
            "Tokens spent": str(d.tokens_spent),
            "Cost incurred": ui.money(usd(d.cost), decimals=4),
            "Prompts": ", ".join(d.prompts) or "–",
            "Payment due": "–" if d.payment_due is None else ui.money(usd(d.payment_due)),
        }
    frame = pd.DataFrame(rows)
    ui.dataframe(frame, width="stretch", height=35 * (len(frame) + 1) + 3)


# -- keep the result --
def keep_panel(start: Policy, edited: Policy, params: dict[str, str]) -> None:
    """The diff from the start, the download and the share link."""
    changes = diff(start, edited)
    left, right = st.columns([3, 2])
    with left:
        if changes:
            ui.dataframe(pd.DataFrame({
                "Key": [k for k, _, _ in changes],
                "Start": [whatif.to_text(o) if o is not None else "–" for _, o, _ in changes],
                "Edited": [whatif.to_text(n) if n is not None else "–" for _, _, n in changes],
            }), hide_index=True, width="stretch", height=35 * (len(changes) + 1) + 3)
        else:
            st.caption("No change yet: the edited policy equals the start.")
    with right:
        toml = state.policy_toml(edited)
        st.download_button("Download the edited policy (TOML)", toml.encode("utf-8"),
                           file_name=f"{edited.name}-edited.toml", mime="application/toml",
                           key="wi_download", icon="⬇️", type="primary")
        st.caption("Share this edit: the address bar carries it. Link:")
        if state.start_choice() == state.START_UPLOAD:
            st.caption(":orange[An uploaded start cannot travel in a link: the link starts "
                       "from the seed policy. Share the downloaded file instead.]")
        st.code(state.share_link(params), language=None, wrap_lines=True)
        with st.expander("The file"):
            st.code(toml, language="toml")


# -- the page --
def render() -> None:
    """The whole page, top to bottom (pages/what_if.py calls only this)."""
    st.title("What-if")
    st.caption("Tune the rules on real history before changing them: edit any policy key, "
               "replay the loaded months through the same rules the chatbot runs, compare.")
    ui.require_data()
    start, start_label = choose_start()
    start_sig = state.policy_toml(start)
    months = what_if_data.available_months(start.timezone)
    if not months:
        st.info("The database holds no requests or revenue yet.")
        return
    st.info(CANNOT_KNOW, icon=":material/info:")

    c1, c2 = st.columns([3, 2])
    with c1:
        first, last = choose_period(months)
    with c2:
        baseline = choose_baseline()
    edit = edit_policy(start, start_sig)
    edited, edits = edit.policy, edit.edits
    params = state.share_params(edits, state.start_choice(), (first, last), baseline)
    state.write_params(params)

    st.subheader("Result")
    started = datetime.now()
    base_recorded = baseline == state.BASE_RECORDED
    try:
        base = what_if_data.replay(start, first, last, recorded=base_recorded)
        cand = what_if_data.replay(edited, first, last)
    except Exception as exc:  # a timezone edit can ask for months outside the data
        st.error(f"The replay failed: {exc}")
        return
    seconds = (datetime.now() - started).total_seconds()
    st.caption(f"{first}–{last} · baseline: {state.BASE_LABELS[baseline].lower()} "
               f"(from {start_label}) · edited policy: {len(edits)} key(s) changed · "
               f"{seconds:.2f} s")
    # History as recorded has served/refused/tokens only where the runtime recorded them.
    unrecorded = base_recorded and not whatif.decisions_recorded(
        what_if_data.load_history(first, last, start.timezone), start, first, last)
    show_results(base, cand, unrecorded, usd(edited.target))

    st.subheader("Who changes")
    st.caption("The user-months whose level at month end or profit moves most "
               "(level first, then the size of the profit change).")
    show_who_changes(base, cand)

    st.subheader("Sensitivity sweep")
    st.caption("Vary one key of the edited policy over a range, everything else fixed.")
    sweep_panel(edited, first, last)

    st.subheader("Probe one request")
    probe_panel(start, edited, first, last)

    st.subheader("Keep the result")
    keep_panel(start, edited, params)

