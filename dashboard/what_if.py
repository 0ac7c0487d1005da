"""The What-if page's pieces: pick a start, edit a policy, replay history, compare, keep it.

Every figure comes from `enforcement.whatif` (pure) over a `History` loaded once per data
version and period; this module only holds widgets, caches and charts. The edited policy
lives in the widgets' session state and, for sharing, in the query parameters
(`p.<dotted key>=<value>` for each changed key), read back when a link is opened.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st
import tomli_w
from plotly.subplots import make_subplots

from core import settings
from core.privacy import mask_phone
from dashboard import data, ui
from enforcement import whatif
from enforcement.decide import decide
from enforcement.levels import LEVELS
from enforcement.money import fmt_usd, to_micro, usd
from enforcement.policy import Policy, PolicyError, diff, load_policy
from enforcement.replay import History, ReplayResult, from_us, month_label
from queries.history import read_history

PARAM_PREFIX = "p."
START_SEED, START_CURRENT, START_UPLOAD = "seed", "current", "upload"
START_LABELS = {START_SEED: "Seed default policy", START_CURRENT: "Current policy (setting)",
                START_UPLOAD: "Uploaded policy file"}
BASE_START, BASE_RECORDED = "start", "recorded"
BASE_LABELS = {BASE_START: "Starting policy, replayed", BASE_RECORDED: "History as recorded"}
WIDGET = "wi_k:"  # session-state prefix of the policy fields
UNITS = {"money": "USD", "factor": "basis points"}

CANNOT_KNOW = (
    "**What a replay cannot know.** It replays the requests history recorded, so it cannot "
    "show demand that was never recorded: requests users did not make because they were "
    "refused, or would have made had they been served more. And it replays revenue exactly "
    "as it happened: it cannot know what users would have paid under another policy "
    "(a token purchase prompted by a cut-off that no longer happens, or one a stricter "
    "policy would have prompted). Read the figures as *the same behaviour under other rules*."
)


# -- data: history once per data version and period --
@st.cache_resource(max_entries=4, show_spinner="Loading history…")
def _history(db: str, version: tuple[int, int], first: str, last: str, tz: str) -> History:
    # cache_resource, not cache_data: a History is large and read-only; copying it out of
    # a pickle on every rerun would cost more than the replay itself.
    return read_history(data.connection(), first, last, tz)


def load_history(first: str, last: str, tz: str) -> History:
    """The period's history, cached with the data version (a new load is seen at once)."""
    return _history(str(settings.db_path()), data.current_version(), first, last, tz)


@st.cache_resource(max_entries=32, show_spinner=False)
def _replay(db: str, version: tuple[int, int], first: str, last: str, toml: str,
            recorded: bool) -> ReplayResult:
    policy = Policy.from_dict(tomllib.loads(toml))
    history = load_history(first, last, policy.timezone)
    if recorded:
        return whatif.recorded(history, policy, first, last)
    return whatif.replay(history, policy, first, last)


def replay(policy: Policy, first: str, last: str, *, recorded: bool = False) -> ReplayResult:
    """A policy replayed (or history as recorded), cached per policy, period and data."""
    return _replay(str(settings.db_path()), data.current_version(), first, last,
                   policy_toml(policy), recorded)


def available_months(tz: str) -> list[str]:
    """Every month (in `tz`) from the first to the last loaded event."""
    span = data.query("local_span", tz=tz)
    if span.empty or pd.isna(span.iloc[0]["first_local"]):
        return []
    first, last = span.iloc[0]["first_local"], span.iloc[0]["last_local"]
    lo, hi = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
    return [month_label(m) for m in range(lo, hi + 1)]


# -- policies in and out --
def policy_toml(policy: Policy) -> str:
    """The policy as the TOML file a download holds (read back equal by `load_policy`)."""
    return tomli_w.dumps(policy.to_toml_dict())


def parse_policy_upload(uploaded: Any, max_bytes: int | None = None) -> Policy:
    """An uploaded (or pasted) policy: size-limited, TOML, validated; ValueError if not.

    `uploaded` is a file-like with `getvalue()` (st.file_uploader's) or the text itself.
    """
    from dashboard.uploads import MAX_POLICY_BYTES, parse_policy_text, read_policy_upload

    limit = max_bytes or MAX_POLICY_BYTES
    if isinstance(uploaded, str):
        if len(uploaded.encode("utf-8")) > limit:
            raise ValueError(f"the text is more than {limit:,} bytes; a policy is smaller")
        doc = parse_policy_text(uploaded)
        source = "pasted policy"
    else:
        doc = parse_policy_text(read_policy_upload(uploaded, limit))
        source = getattr(uploaded, "name", "uploaded policy")
    try:
        return Policy.from_dict(doc, source=source)
    except PolicyError as exc:
        raise ValueError(str(exc)) from None


def _accept_start(policy: Policy) -> None:
    st.session_state["wi_uploaded"] = policy_toml(policy)
    st.session_state["wi_upload_error"] = None
    st.session_state["wi_start"] = START_UPLOAD


def _on_upload() -> None:
    """Callback: a new file replaces the start only when it is a valid policy."""
    uploaded = st.session_state.get("wi_upload_file")
    if uploaded is None:
        return
    try:
        _accept_start(parse_policy_upload(uploaded))
    except ValueError as exc:
        st.session_state["wi_upload_error"] = f"{getattr(uploaded, 'name', 'file')}: {exc}"


def _on_paste() -> None:
    text = st.session_state.get("wi_paste", "")
    if not text.strip():
        return
    try:
        _accept_start(parse_policy_upload(text))
    except ValueError as exc:
        st.session_state["wi_upload_error"] = f"pasted text: {exc}"


def choose_start() -> tuple[Policy, str]:
    """The starting policy and its label: seed, current setting, or an accepted upload."""
    params = st.query_params
    if "wi_start" not in st.session_state:
        wanted = params.get("start", START_SEED)
        st.session_state["wi_start"] = wanted if wanted in (START_SEED, START_CURRENT) \
            else START_SEED
    with st.sidebar:
        st.subheader("Start from")
        options = [START_SEED, START_CURRENT]
        if st.session_state.get("wi_uploaded"):
            options.append(START_UPLOAD)
        if st.session_state["wi_start"] not in options:
            st.session_state["wi_start"] = START_SEED
        choice = st.radio("Start from", options, format_func=START_LABELS.get, key="wi_start",
                          label_visibility="collapsed")
        st.file_uploader("Upload a policy (TOML)", type=["toml"], key="wi_upload_file",
                         on_change=_on_upload, max_upload_size=1,  # MB; 64 KB checked after
                         help="A policy file as `python -m enforcement` reads it. A file that "
                              "is too large or not a valid policy changes nothing.")
        with st.expander("…or paste a policy"):
            st.text_area("Policy TOML", key="wi_paste", height=150)
            st.button("Use pasted policy", on_click=_on_paste, key="wi_paste_go")
        if st.session_state.get("wi_upload_error"):
            st.error(st.session_state["wi_upload_error"], icon=":material/block:")
    if choice == START_UPLOAD:
        return Policy.from_dict(tomllib.loads(st.session_state["wi_uploaded"]),
                                source="uploaded"), "uploaded file"
    path = settings.DEFAULT_POLICY if choice == START_SEED else settings.policy_path()
    return load_policy(path), f"{START_LABELS[choice].lower()} ({path.name})"


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


def _widget_value(kind: str, value: Any) -> Any:
    return int(value) if kind in ("count", "factor") else whatif.to_text(value)


def _sync_widgets(start: Policy, start_sig: str) -> None:
    """Reset the fields when the start changes; on a session's first run, read a shared link."""
    flat = start.to_flat()
    first_run = "wi_start_sig" not in st.session_state
    if st.session_state.get("wi_start_sig") != start_sig:
        for key in [k for k in st.session_state if str(k).startswith(WIDGET)]:
            del st.session_state[key]
        st.session_state["wi_start_sig"] = start_sig
        st.session_state.pop("wi_last_valid", None)
    unknown = []
    for key, value in flat.items():
        wkey = WIDGET + key
        if wkey not in st.session_state:
            st.session_state[wkey] = _widget_value(whatif.kind_of(key, value), value)
    if first_run:
        for pkey, text in st.query_params.items():
            if not pkey.startswith(PARAM_PREFIX):
                continue
            key = pkey[len(PARAM_PREFIX):]
            if key not in flat:
                unknown.append(key)
                continue
            kind = whatif.kind_of(key, flat[key])
            parsed = whatif.from_text(kind, text)
            if kind in ("count", "factor") and not isinstance(parsed, int):
                unknown.append(key)
                continue
            st.session_state[WIDGET + key] = _widget_value(kind, parsed) \
                if kind in ("count", "factor") else text
        if unknown:
            st.session_state["wi_link_unknown"] = unknown


def current_values(start: Policy) -> dict[str, Any]:
    """The fields' values as flat policy values (before any widget is drawn this run)."""
    out = {}
    for key, value in start.to_flat().items():
        kind = whatif.kind_of(key, value)
        raw = st.session_state[WIDGET + key]
        out[key] = raw if kind in ("count", "factor") else whatif.from_text(kind, str(raw))
    return out


def edit_policy(start: Policy, start_sig: str) -> tuple[Policy, dict[str, Any], bool]:
    """Draw every key, grouped; return (policy in use, its edits, whether the edits are valid).

    An edit the loader refuses shows the loader's message under its field, and the
    result stays the last valid one.
    """
    _sync_widgets(start, start_sig)
    flat = start.to_flat()
    edits = whatif.changed_keys(start, current_values(start))
    typed = dict(edits)  # what the fields hold now, valid or not
    candidate, errors = whatif.apply_edits(start, edits)
    valid = candidate is not None
    if valid:
        st.session_state["wi_last_valid"] = edits
    else:
        kept = st.session_state.get("wi_last_valid", {})
        candidate, _ = whatif.apply_edits(start, kept)
        if candidate is None:  # pragma: no cover - the last valid edits always apply
            candidate, kept = start, {}
        edits = kept

    st.subheader("Edit the policy")
    if st.session_state.get("wi_link_unknown"):
        st.warning("The link named keys this policy does not have (ignored): "
                   + ", ".join(st.session_state["wi_link_unknown"]))
    if not valid:
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
    return candidate, edits, valid


def _field(key: str, start_value: Any, error: str | None, changed: bool) -> None:
    kind = whatif.kind_of(key, start_value)
    label = _label(key, kind)
    wkey = WIDGET + key
    if kind in ("count", "factor"):
        st.number_input(label, min_value=0, max_value=10_000 if kind == "factor" else None,
                        step=1, key=wkey, help=f"`{key}`")
    else:
        st.text_input(label, key=wkey, help=f"`{key}`" + (" (exact decimal, e.g. 1.50)"
                                                         if kind == "money" else ""))
    if error:
        st.error(error, icon=":material/block:")
    if changed:
        st.caption(f":orange[changed] · start: **{whatif.to_text(start_value)}**")


def share_params(edits: dict[str, Any], start_choice: str, months: tuple[str, str],
                 baseline: str) -> dict[str, str]:
    """The query parameters that reproduce this view (an upload cannot travel in a link)."""
    params = {"start": start_choice if start_choice != START_UPLOAD else START_SEED,
              "from": months[0], "to": months[1], "baseline": baseline}
    params.update({PARAM_PREFIX + k: whatif.to_text(v) for k, v in edits.items()})
    return params


def write_params(params: dict[str, str]) -> None:
    """Keep the address bar equal to the view, so copying it shares the edit."""
    for key in list(st.query_params):
        if key.startswith(PARAM_PREFIX) and key not in params:
            del st.query_params[key]
    for key, value in params.items():
        ui.set_query_param(key, value)


# -- period and baseline --
def choose_period(months: list[str]) -> tuple[str, str]:
    # A month picked on another page (`month`) is the default period here.
    carried = st.query_params.get("month", months[-1])
    first = st.query_params.get("from", carried)
    last = st.query_params.get("to", carried)
    first = first if first in months else months[-1]
    last = last if last in months and last >= first else first
    # A (first, last) value makes it a range slider; the key keeps the reader's choice.
    picked = st.select_slider("Months replayed (policy timezone)", options=months,
                              value=(first, last), key="wi_months",
                              help="One or more whole months of the loaded history.")
    return (picked[0], picked[1]) if isinstance(picked, tuple | list) else (picked, picked)


def choose_baseline() -> str:
    if "wi_base" not in st.session_state:
        wanted = st.query_params.get("baseline", BASE_START)
        st.session_state["wi_base"] = wanted if wanted in BASE_LABELS else BASE_START
    return st.radio("Compare with", list(BASE_LABELS), format_func=BASE_LABELS.get,
                    key="wi_base", horizontal=True,
                    help="History as recorded: what actually happened. Starting policy "
                         "replayed: the same history under the policy you started from.")


# -- results --
def _fmt(kind: str, value: Any, *, signed: bool = False) -> str:
    if value is None:
        return "not recorded"
    if kind == "money":
        text = ui.money(value)
        return f"+{text}" if signed and value > 0 else text
    if kind == "pct":
        text = f"{Decimal(value):.2f}%" if not signed else f"{Decimal(value):+.2f} pts"
        return text
    return f"{int(value):+,}" if signed else f"{int(value):,}"


def comparison_frame(rows: list[whatif.Figure]) -> pd.DataFrame:
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
        st.dataframe(comparison_frame(rows), hide_index=True, width="stretch")
    left, right = st.columns(2)
    with left:
        st.plotly_chart(levels_chart(base.total, cand.total), width="stretch")
    with right:
        st.plotly_chart(profit_chart(base.table, cand.table, target), width="stretch")


def levels_chart(base: dict[str, Any], cand: dict[str, Any]) -> go.Figure:
    frame = pd.DataFrame([
        {"level": lv.value, "policy": side, "users": summary["users_by_level"][lv.value]}
        for side, summary in (("baseline", base), ("edited policy", cand)) for lv in LEVELS])
    fig = px.bar(frame, x="level", y="users", color="policy", barmode="group",
                 title="Users by level at month end, before and after (users)",
                 labels={"users": "users (user-months with a request)", "level": "level"},
                 color_discrete_sequence=["#9aa5b1", "#1f77b4"])
    fig.update_layout(legend_title_text="")
    return fig


def profit_chart(base: pd.DataFrame, cand: pd.DataFrame, target: Decimal) -> go.Figure:
    # Plotting only: the floats here are pixel positions, never a figure the page reports.
    frames = []
    for side, table in (("baseline", base), ("edited policy", cand)):
        active = table[table["requests"] > 0]
        frames.append(pd.DataFrame({"profit": active["profit"].to_numpy() / 1_000_000,
                                    "policy": side}))
    frame = pd.concat(frames, ignore_index=True)
    lo, hi = frame["profit"].quantile(0.005), frame["profit"].quantile(0.995)
    shown = frame[(frame["profit"] >= lo) & (frame["profit"] <= hi)]
    fig = px.histogram(shown, x="profit", color="policy", barmode="overlay", nbins=60,
                       opacity=0.6, color_discrete_sequence=["#9aa5b1", "#1f77b4"],
                       title="Profit per user-month (USD), before and after",
                       labels={"profit": "profit per user-month (USD)"})
    fig.add_vline(x=float(target), line_dash="dash", line_color="#d62728",
                  annotation_text=f"target ${target}", annotation_position="top right")
    clipped = " – 0.5% tails at each end not drawn" if len(shown) < len(frame) else ""
    fig.update_layout(yaxis_title="user-months", legend_title_text="",
                      xaxis_title=f"profit per user-month (USD){clipped}")
    return fig


def show_who_changes(base: ReplayResult, cand: ReplayResult) -> None:
    movers = whatif.who_changes(base.table, cand.table, limit=25)
    if movers.empty:
        st.info("No user's level or profit changes under the edited policy.")
        return
    shown = pd.DataFrame({
        "Phone": movers["user_id"].map(mask_phone),
        "Month": movers["month"],
        "Level before": movers["level_before"],
        "Level after": movers["level_after"],
        "Profit before": movers["profit_before"].map(ui.money),
        "Profit after": movers["profit_after"].map(ui.money),
        "Change": movers["profit_change"].map(lambda v: ("+" if v > 0 else "") + ui.money(v)),
    })
    st.dataframe(shown, hide_index=True, width="stretch")


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
        history = load_history(first, last, policy.timezone)
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
        st.plotly_chart(sweep_chart(key, kind, result, at), width="stretch")
        refused = result[result["error"].notna()]
        st.caption(f"{len(result)} values replayed in {seconds:.1f} s, "
                   f"{first}–{last}; the dashed line marks the edited policy's value ({at}).")
        if not refused.empty:
            st.warning(f"{len(refused)} values were refused by the policy loader, e.g. "
                       f"{refused.iloc[0]['value']}: {refused.iloc[0]['error']}")


def sweep_chart(key: str, kind: str, result: pd.DataFrame, current: Any) -> go.Figure:
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
        fig.add_vline(x=float(current), line_dash="dash", line_color="#d62728", row=row, col=1)
    fig.update_layout(title=f"Sensitivity to {key}{unit}", height=650, showlegend=False)
    fig.update_xaxes(title_text=f"{key}{unit}", row=3, col=1)
    return fig


# -- probe one request --
def probe_panel(start: Policy, edited: Policy, first: str, last: str) -> None:
    history = load_history(first, last, edited.timezone)
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
    st.dataframe(frame, width="stretch", height=35 * (len(frame) + 1) + 3)


# -- keep the result --
def keep_panel(start: Policy, edited: Policy, params: dict[str, str]) -> None:
    changes = diff(start, edited)
    left, right = st.columns([3, 2])
    with left:
        if changes:
            st.dataframe(pd.DataFrame({
                "Key": [k for k, _, _ in changes],
                "Start": [whatif.to_text(o) if o is not None else "–" for _, o, _ in changes],
                "Edited": [whatif.to_text(n) if n is not None else "–" for _, _, n in changes],
            }), hide_index=True, width="stretch", height=35 * (len(changes) + 1) + 3)
        else:
            st.caption("No change yet: the edited policy equals the start.")
    with right:
        toml = policy_toml(edited)
        st.download_button("Download the edited policy (TOML)", toml.encode("utf-8"),
                           file_name=f"{edited.name}-edited.toml", mime="application/toml",
                           key="wi_download", icon="⬇️", type="primary")
        st.caption("Share this edit: the address bar carries it. Link:")
        if st.session_state.get("wi_start") == START_UPLOAD:
            st.caption(":orange[An uploaded start cannot travel in a link: the link starts "
                       "from the seed policy. Share the downloaded file instead.]")
        st.code("?" + urlencode(params), language=None, wrap_lines=True)
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
    start_sig = policy_toml(start)
    months = available_months(start.timezone)
    if not months:
        st.info("The database holds no requests or revenue yet.")
        return
    st.info(CANNOT_KNOW, icon=":material/info:")

    c1, c2 = st.columns([3, 2])
    with c1:
        first, last = choose_period(months)
    with c2:
        baseline = choose_baseline()
    edited, edits, _valid = edit_policy(start, start_sig)
    params = share_params(edits, st.session_state["wi_start"], (first, last), baseline)
    write_params(params)

    st.subheader("Result")
    started = datetime.now()
    base_recorded = baseline == BASE_RECORDED
    try:
        base = replay(start, first, last, recorded=base_recorded)
        cand = replay(edited, first, last)
    except Exception as exc:  # a timezone edit can ask for months outside the data
        st.error(f"The replay failed: {exc}")
        return
    seconds = (datetime.now() - started).total_seconds()
    st.caption(f"{first}–{last} · baseline: {BASE_LABELS[baseline].lower()} "
               f"(from {start_label}) · edited policy: {len(edits)} key(s) changed · "
               f"{seconds:.2f} s")
    show_results(base, cand, base_recorded, usd(edited.target))

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

