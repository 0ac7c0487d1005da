"""How a figure is shown, written once for every page, export and alert.

Money is rounded half up to the cent (`0.125` -> `$0.13`), percentages half up to one
decimal, counts with thousands separators; a missing value is `–` everywhere. Changes
read `+$1.20`, `-3.5 pts`, `+4`. Plain Python, no Streamlit.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

MISSING = "–"
CENT = Decimal("0.01")

# The units a figure can have (core.metrics names one per figure).
USD, PCT, COUNT, RATIO, USD_BY, COUNT_BY = "usd", "pct", "count", "ratio", "usd_by", "count_by"


def is_missing(value: Any) -> bool:
    """None, NaN and pandas' NA/NaT are all 'no value'."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    try:
        return bool(value != value)  # NaN, NaT and pd.NA are not equal to themselves
    except TypeError:  # pd.NA in a boolean context
        return True


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def round_half_up(value: Any, places: int) -> Decimal:
    """The value rounded half up (away from zero at .5) to `places` decimals."""
    return _decimal(value).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


def money(value: Any, *, decimals: int = 2) -> str:
    """`$1,234.50`, `-$5.00`, `–`; half up to the cent (or to `decimals`) for display only."""
    if is_missing(value):
        return MISSING
    shown = round_half_up(value, decimals)
    return f"{'-' if shown < 0 else ''}${abs(shown):,.{decimals}f}"


def pct(value: Any, *, decimals: int = 1) -> str:
    """`73.1%`, `–`; half up to one decimal."""
    if is_missing(value):
        return MISSING
    return f"{round_half_up(value, decimals):,.{decimals}f}%"


def count(value: Any) -> str:
    """`1,234`, `–`."""
    if is_missing(value):
        return MISSING
    return f"{int(value):,}"


def ratio(value: Any, *, decimals: int = 2) -> str:
    """A plain number such as purchases per buyer: `1.25`, `–`."""
    if is_missing(value):
        return MISSING
    return f"{round_half_up(value, decimals):,.{decimals}f}"


def show(unit: str, value: Any) -> str:
    """One value in its unit's form."""
    if unit == USD:
        return money(value)
    if unit == PCT:
        return pct(value)
    if unit == COUNT:
        return count(value)
    if unit == RATIO:
        return ratio(value)
    if unit in (USD_BY, COUNT_BY) and isinstance(value, dict):
        one = money if unit == USD_BY else count
        return ", ".join(f"{k} {one(v)}" for k, v in value.items()) or MISSING
    return MISSING if is_missing(value) else str(value)


def change_amount(unit: str, now: Any, before: Any) -> Decimal | None:
    """The change as it would be shown (rounded as the unit shows it); None when unknown."""
    if is_missing(now) or is_missing(before) or unit not in (USD, PCT, COUNT, RATIO):
        return None
    places = {USD: 2, PCT: 1, COUNT: 0, RATIO: 2}[unit]
    return round_half_up(_decimal(now) - _decimal(before), places)


def change(unit: str, now: Any, before: Any) -> str | None:
    """The change from the period before: `+$1.20`, `-3.5 pts`, `+4`; None when unknown.

    A change that rounds to zero reads `0` in its unit, with no sign (and no arrow on a card).
    """
    diff = change_amount(unit, now, before)
    if diff is None:
        return None
    sign = "" if diff == 0 else ("+" if diff > 0 else "-")
    if unit == USD:
        return f"{sign}${abs(diff):,.2f}"
    if unit == PCT:
        return f"{sign}{abs(diff):,.1f} pts"
    if unit == RATIO:
        return f"{sign}{abs(diff):,.2f}"
    return f"{sign}{abs(diff):,.0f}"


def level_name(level: str) -> str:
    """A level as a founder reads it: `payment_required` -> `payment required`."""
    return str(level).replace("_", " ")
