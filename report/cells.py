"""One cell of a report table: its kind, its typed value and its text, for every surface.

A table is described as (column, label, kind) triples (report.columns); the page, the HTML,
the xlsx and the csv all turn a query frame into cells here, so a value is converted and
shown one way. Money arrives as integer micro-dollars and leaves as an exact Decimal; text
is shown through core.formats. Text that a spreadsheet would run as a formula is
neutralised here too (`csv_safe`), for every file that a spreadsheet opens.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pandas as pd

from core import formats
from core.privacy import mask_phone
from core.targets import Target
from queries import kpis as kpi_layer

# Kinds of cell: how each value is shown, written and compared.
MONEY, COUNT, PCT, RATIO = formats.USD, formats.COUNT, formats.PCT, formats.RATIO
TEXT, BOOL, WHEN = "text", "bool", "datetime"
# Money per request (a meal plan's $0.0125): fractions of a cent, so shown to 4 decimals,
# half up like every amount; totals stay MONEY, to the cent.
UNIT_MONEY = "usd_per_request"
UNIT_DECIMALS = 4
MONEYS = (MONEY, UNIT_MONEY)
NUMERIC = (MONEY, UNIT_MONEY, PCT, COUNT, RATIO)

Columns = Sequence[tuple[str, str, str]]  # (column of the frame, label, kind)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def to_usd(micro: Any) -> Decimal | None:
    """Integer micro-dollars as an exact Decimal (None stays None)."""
    if micro is None or pd.isna(micro):
        return None
    return kpi_layer.usd(int(micro))


fmt_money = formats.money  # the one format of every surface (core.formats)
fmt_pct = formats.pct
fmt_count = formats.count


def fmt_change(kind: str, now: Any, before: Any) -> str:
    """The change from the week before: money and counts as a difference, ratios in points."""
    return formats.change(kind, now, before) or formats.MISSING


def fmt_target(target: Target | None, kind: str = "") -> str:
    """`at least 90%`, or nothing where the figure has no target at this grain."""
    return target.bound if target is not None else ""


def show(kind: str, value: Any) -> str:
    """One cell's text in the HTML and the page."""
    if kind == MONEY:
        return fmt_money(value)
    if kind == UNIT_MONEY:
        return fmt_money(value, decimals=UNIT_DECIMALS)
    if kind == PCT:
        return fmt_pct(value)
    if kind == COUNT:
        return fmt_count(value)
    if kind == RATIO:
        return formats.ratio(value)
    if kind == BOOL:
        return "–" if value is None or pd.isna(value) else ("yes" if value else "no")
    if kind == WHEN:
        return "" if value is None else f"{pd.Timestamp(value):%Y-%m-%d %H:%M}"
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def phone(value: str, masked: bool) -> str:
    """A phone as a table shows it: its last four digits unless asked for in full."""
    return mask_phone(value) if masked else str(value)


LEVEL_KEYS = ("level", "level_before", "level_after")  # shown as words: "payment required"


def _typed(key: str, kind: str, value: Any, masked: bool, words: bool = True) -> Any:
    if key == "user_id":
        return phone(value, masked)
    if words and key in LEVEL_KEYS and isinstance(value, str):
        return formats.level_name(value)
    if kind == TEXT:
        return "" if value is None or (isinstance(value, float) and pd.isna(value)) \
            else str(value)
    if value is None or pd.isna(value):
        return None
    if kind in MONEYS:
        return to_usd(value)
    if kind == COUNT:
        return int(value)
    if kind in (PCT, RATIO):
        return float(value)
    if kind == BOOL:
        return bool(value)
    return value


def table_values(df: pd.DataFrame, columns: Columns, masked: bool, *, words: bool = True
                 ) -> list[list[Any]]:
    """Rows of typed values (Decimal money, int counts, str text) for any renderer."""
    return [[_typed(key, kind, record.get(key), masked, words) for key, _label, kind in columns]
            for record in df.to_dict("records")]


def display_frame(df: pd.DataFrame, columns: Columns, masked: bool = True) -> pd.DataFrame:
    """A table for the page's `st.dataframe`: labelled columns, phones masked, money as
    dollars (floats for sorting and display only; the files keep exact values).
    Vectorised, so a week of 100,000 users stays quick."""
    out = pd.DataFrame(index=df.index)
    for key, label, kind in columns:
        col = df[key] if key in df.columns else pd.Series(None, index=df.index, dtype=object)
        if key == "user_id":
            col = col.map(lambda u: phone(u, masked))
        elif key in LEVEL_KEYS:
            col = col.map(lambda v: formats.level_name(v) if isinstance(v, str) else "")
        elif kind in MONEYS:
            col = col.astype("Float64") / 1_000_000
        elif kind == COUNT:
            col = col.astype("Int64")
        elif kind in (PCT, RATIO):
            col = col.astype("Float64")
        elif kind == BOOL:
            col = col.astype("boolean")
        elif kind == TEXT:
            col = col.astype(object).where(col.notna(), "").astype(str)
        out[label] = col
    return out.reset_index(drop=True)


def csv_safe(text: str) -> str:
    """A text cell a spreadsheet would run as a formula gets a leading `'` (OWASP advice)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
