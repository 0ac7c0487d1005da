"""Widgets that recur across pages, written once: KPI cards with targets, pickers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st

from core import formats, metrics, settings, targets
from dashboard import data

# A card's value shrinks with its card (container query units) instead of being cut to
# "$1,071,…": five cards in a row at 1400 px are ~170 px wide, and a month's revenue at a
# million users is 14 characters. 11% of the card a character-height fits 14 digits and
# separators; a phone's full-width card keeps Streamlit's own size.
CARD_CSS = """<style>
[data-testid="stMetric"] { container-type: inline-size; }
[data-testid="stMetricValue"] { font-size: clamp(1.1rem, 11cqi, 2.25rem); }
</style>"""


def card_style() -> None:
    """The cards' one style rule, on every page (the app's entry calls it)."""
    st.html(CARD_CSS)


def sidebar_footer() -> None:
    """What the reader should know on every page: which data, which timezone."""
    version = data.current_version()
    with st.sidebar:
        st.caption(f"Reporting timezone: **{settings.timezone()}**")
        if version is None:
            st.caption("No database yet: run `make run` or `python -m loaders demo`.")


def require_data() -> bool:
    """Stop the page with a clear message when no database has been loaded yet."""
    if data.current_version() is None:
        st.info(f"No data loaded yet at `{settings.db_path()}`. "
                "Run `python -m loaders demo --db PATH` or load a source from the Data page.")
        st.stop()
    return True


def dataframe(data: Any, **kwargs: Any) -> Any:
    """`st.dataframe` with a missing value shown as "–" and whole numbers grouped in
    thousands ("14,565"), as every other surface shows them (Streamlit's own defaults are
    the word "None" and "14565"). A column the caller configures keeps its own format."""
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    config = dict(kwargs.pop("column_config", None) or {})
    for name in frame.columns:
        if name not in config and pd.api.types.is_integer_dtype(frame[name].dtype) \
                and not pd.api.types.is_bool_dtype(frame[name].dtype):
            config[name] = st.column_config.NumberColumn(str(name), format="localized")
    return st.dataframe(frame, placeholder=formats.MISSING, column_config=config, **kwargs)


money = formats.money  # one format for every surface (core.formats): half up, "–" for none
pct = formats.pct
count = formats.count


def target_badge(ok: bool | None, text: str) -> str:
    """A red or green target line under a figure (markdown colour tags)."""
    if ok is None:
        return f":gray[{text}]"
    return f":green[✔ {text}]" if ok else f":red[✘ {text}]"


def kpi_card(label: str, value: str, *, delta: str | None = None, target: str | None = None,
             ok: bool | None = None, help: str | None = None, delta_color: str = "normal"
             ) -> None:
    """One headline figure with its change and, where the spec sets one, its target."""
    st.metric(label, value, delta=delta, help=help, delta_color=delta_color, border=True)
    if target is not None:
        st.caption(target_badge(ok, target))


def figure_card(m: metrics.Metric, now: Any, before: Any, target: targets.Target | None
                ) -> None:
    """One registry figure as a card: its value, change, direction and target.

    The delta's colour follows the figure's direction (cost down is good); a figure that is
    neither better higher nor lower gets a grey delta.
    """
    colour = {metrics.HIGHER: "normal", metrics.LOWER: "inverse"}.get(m.better, "off")
    kpi_card(m.card_label, formats.show(m.unit, now), delta=change(now, before, m.unit),
             delta_color=colour, target=target.text if target else None,
             ok=target.met(now) if target else None, help=m.definition)


def figure_cards(page: str, view: PeriodView, month_number: int, per_row: int = 4) -> None:
    """Every figure the registry puts on `page`, in rows of cards, judged at the page's grain."""
    shown = metrics.headline(page)
    grain = {"daily": "day", "weekly": "week", "monthly": "month"}[page]
    for start in range(0, len(shown), per_row):
        row = shown[start:start + per_row]
        for col, m in zip(st.columns(per_row), row, strict=False):
            with col:
                figure_card(m, view.now[m.key], view.before[m.key],
                            targets.for_grain(m.key, grain, month_number))


def query_param(name: str, default: str | None = None) -> str | None:
    """A page parameter shared through the URL, so a link carries the period."""
    return st.query_params.get(name, default)


def set_query_param(name: str, value: str) -> None:
    if st.query_params.get(name) != value:
        st.query_params[name] = value


# -- the period picker (day / ISO week / month), shared by every page -----------------------
# The picked period is written to the URL (`?day=2026-03-14`, `?week=2026-W11`,
# `?month=2026-03`) so a link carries it, and a "focus day" in the session carries it to the
# other pages, which Streamlit's navigation would otherwise reset (it clears the URL's params).

FOCUS_KEY = "period_focus_day"
# The most rows a page's table sends to the browser (a million users would be 100 MB and
# seconds of drawing); the report's downloads hold every row.
TABLE_ROWS = 10_000
_GRAIN_LABEL = {"day": "Day", "week": "ISO week", "month": "Month"}


def _periods(grain: str, first_day: date, last_day: date) -> list[str]:
    """Every period of a grain between two days, newest first."""
    from datetime import timedelta

    from queries.kpis import period_name

    names: list[str] = []
    day = last_day
    while day >= first_day:
        name = period_name(grain, day)
        if not names or names[-1] != name:
            names.append(name)
        day -= timedelta(days=1)
    return names


def _focus(grain: str, period: str, last_day: date) -> date:
    """The day a picked period hands to the other pages: its last day with data."""
    from queries.kpis import parse_period

    return min(parse_period(grain, period)[1], last_day)


def period_picker(grain: str, first_day: date, last_day: date, *,
                  default: str | None = None) -> str:
    """The one period picker of every page: a day, ISO week or month with data.

    Starts from the URL's parameter when valid, else the period the other pages last
    focused, else `default` (Weekly: the newest complete week), else the latest; returns
    the canonical period name (`2026-W11`). A week or month named in a link but outside
    the data is still offered, so the page can say it holds no data.
    """
    from queries.kpis import make_period, parse_period, period_name

    key = f"picker_{grain}"
    if key not in st.session_state:
        wanted = None
        raw = query_param(grain)
        focus = st.session_state.get(FOCUS_KEY)
        if raw:
            try:
                wanted = period_name(grain, parse_period(grain, raw)[0])
            except ValueError:
                st.toast(f"Ignored the link's {grain} {raw!r}: not a valid {grain}.")
        elif isinstance(focus, date):
            wanted = period_name(grain, min(max(focus, first_day), last_day))
        wanted = wanted or default or period_name(grain, last_day)
        if grain == "day":
            day = min(max(parse_period(grain, wanted)[0], first_day), last_day)
            st.session_state[key] = day
        else:
            st.session_state[key] = wanted
    label = _GRAIN_LABEL[grain]
    if grain == "day":
        picked = st.date_input(label, key=key, min_value=first_day, max_value=last_day,
                               format="YYYY-MM-DD")
        period = picked.isoformat()
    else:
        options = _periods(grain, first_day, last_day)
        if st.session_state[key] not in options:
            options.insert(0, st.session_state[key])
        period = st.selectbox(label, options, key=key,
                              format_func=lambda name: make_period(grain, name).label)
    set_query_param(grain, period)
    st.session_state[FOCUS_KEY] = _focus(grain, period, last_day)
    return period


def change(current: Decimal | float | int | None, previous: Decimal | float | int | None,
           kind: str = "money") -> str | None:
    """The change from the previous period as a card's delta ("+$1.20", "-3.5 pts", "+4");
    None (no arrow) when unknown or when it rounds to zero."""
    unit = {"money": formats.USD, "pct": formats.PCT, "count": formats.COUNT}.get(kind, kind)
    if formats.change_amount(unit, current, previous) == 0:
        return None
    return formats.change(unit, current, previous)


@dataclass(frozen=True)
class PeriodView:
    """What a period page starts from: the picked period, its figures and the one before."""

    tz: str
    policy: str
    first: date
    last: date
    period: str
    previous: str
    now: dict[str, Any]
    before: dict[str, Any]


def current_policy() -> Any:
    """The current policy (settings), or an error on the page and a stop: a policy file
    the loader refuses (absurd numbers, nesting) must not end in a traceback."""
    from enforcement.policy import PolicyError, load_policy

    path = settings.policy_path()
    try:
        return load_policy(path)
    except (PolicyError, OSError) as exc:
        st.error(f"The current policy ({path.name}) cannot be used: {exc}. Fix it, or point "
                 "`PROFIT_POLICY` / `[policy] path` at a valid one.", icon=":material/block:")
        st.stop()


def period_page(title: str, grain: str) -> PeriodView:
    """The top of a period page: data check, title, period picker and both periods' KPIs."""
    from queries import kpis as K

    require_data()
    tz = settings.timezone()
    st.title(title)
    current_policy()  # checked here, so the figures below never meet a refused policy
    policy = str(settings.policy_path())
    span = data.cached(K.data_span)(tz=tz)
    if span is None:
        st.info("The database holds no cost or revenue event yet.")
        st.stop()
    first, last = span
    period = period_picker(grain, first, last)
    previous = K.previous_period(grain, period)
    kpis = data.cached(K.kpis)
    return PeriodView(tz, policy, first, last, period, previous,
                      kpis(grain=grain, period=period, tz=tz, policy=policy),
                      kpis(grain=grain, period=previous, tz=tz, policy=policy))
