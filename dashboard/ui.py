"""Widgets that recur across pages, written once: KPI cards with targets, pickers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import streamlit as st

from dashboard import data, settings


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


def money(value: Decimal | float | int | None, *, decimals: int = 2) -> str:
    """Money as a founder reads it: `$1,234.50`, `–` for none."""
    if value is None:
        return "–"
    value = Decimal(str(value))
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.{decimals}f}"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}%"


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


def query_param(name: str, default: str | None = None) -> str | None:
    """A page parameter shared through the URL, so a link carries the period."""
    return st.query_params.get(name, default)


def set_query_param(name: str, value: str) -> None:
    if st.query_params.get(name) != value:
        st.query_params[name] = value


def day_from_params(default: date) -> date:
    raw = query_param("day")
    try:
        return date.fromisoformat(raw) if raw else default
    except ValueError:
        return default


def week_picker(weeks: list[str], *, default: str | None = None, label: str = "ISO week"
                ) -> str | None:
    """An ISO-week picker carried in `st.query_params["week"]`, so a link keeps the week.

    `weeks` are `2026-W11` names, newest first; the default is the URL's week, else
    `default`, else the newest. A valid week named in the URL but outside `weeks` is offered.
    """
    from queries import kpis

    options = list(weeks)
    wanted = query_param("week")
    if wanted and wanted not in options:
        try:
            wanted = kpis.make_period("week", wanted).name
        except ValueError:
            wanted = None
        if wanted and wanted not in options:
            options.insert(0, wanted)
    if not options:
        return None
    if wanted not in options:
        wanted = default
    index = options.index(wanted) if wanted in options else 0
    week = st.selectbox(label, options, index=index,
                        format_func=lambda w: kpis.make_period("week", w).label)
    set_query_param("week", week)
    return week
