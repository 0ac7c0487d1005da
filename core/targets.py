"""The spec's targets (kpis.md "Targets"), held once, as settings.

Defaults are the seed's; a `[targets]` table in `.streamlit/secrets.toml` (or the file
named by `PROFIT_SECRETS`) overrides any of them, e.g. `revenue_usd = "6000"` or
`users_at_target_pct = {1 = 95, 3 = 99, 6 = 100}`. Plain Python: pages and the weekly
report read the same values, and a target is judged here, never in a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core import settings

AT_LEAST, AT_MOST = ">=", "<="

# name -> (comparison, value, unit). Monthly figures unless said otherwise.
_DEFAULTS: dict[str, tuple[str, Decimal, str]] = {
    "profit_per_user": (AT_LEAST, Decimal("4.50"), "usd"),
    "cost_per_user": (AT_MOST, Decimal("2.00"), "usd"),
    "revenue_usd": (AT_LEAST, Decimal("5000"), "usd"),
    "cost_usd": (AT_MOST, Decimal("500"), "usd"),
    "margin_pct": (AT_LEAST, Decimal("90"), "pct"),
    "payment_conversion_pct": (AT_LEAST, Decimal("70"), "pct"),
    "retention_pct": (AT_LEAST, Decimal("85"), "pct"),
}
# users_at_target_pct rises with the business's age: month 1 -> 95, month 3 -> 99, 6 -> 100.
_RAMP_DEFAULT: dict[int, Decimal] = {1: Decimal("95"), 3: Decimal("99"), 6: Decimal("100")}
_MIX_DEFAULT: dict[str, Decimal] = {"tokens": Decimal("40"), "premium": Decimal("30"),
                                    "affiliate": Decimal("20"), "data": Decimal("10")}


@dataclass(frozen=True)
class Target:
    """One target: `figure op value`, e.g. revenue_usd >= 5000."""

    name: str
    op: str
    value: Decimal
    unit: str  # "usd" or "pct"

    def met(self, figure: Decimal | float | int | None) -> bool | None:
        """True/False against the target; None when the figure is null (nothing to judge)."""
        if figure is None:
            return None
        f = Decimal(str(figure))
        return f >= self.value if self.op == AT_LEAST else f <= self.value

    @property
    def text(self) -> str:
        word = "at least" if self.op == AT_LEAST else "at most"
        if self.unit == "usd":
            return f"target: {word} ${self.value:,.2f}"
        return f"target: {word} {self.value.normalize():f}%"


def _overrides() -> dict[str, Any]:
    return dict(settings.secrets().get("targets", {}))


def target(name: str) -> Target:
    """The target of a monthly figure (names as in kpis.md)."""
    op, value, unit = _DEFAULTS[name]
    raw = _overrides().get(name)
    return Target(name, op, Decimal(str(raw)) if raw is not None else value, unit)


def names() -> tuple[str, ...]:
    return tuple(_DEFAULTS)


def users_at_target_ramp() -> dict[int, Decimal]:
    raw = _overrides().get("users_at_target_pct")
    if not raw:
        return dict(_RAMP_DEFAULT)
    return {int(k): Decimal(str(v)) for k, v in dict(raw).items()}


def users_at_target(month_number: int) -> Target:
    """The users_at_target_pct target in the business's `month_number`-th month (1-based):
    the last step of the ramp reached (95 in months 1-2, 99 in 3-5, 100 from month 6)."""
    ramp = users_at_target_ramp()
    reached = [m for m in sorted(ramp) if m <= max(month_number, 1)]
    value = ramp[reached[-1]] if reached else ramp[min(ramp)]
    return Target("users_at_target_pct", AT_LEAST, value, "pct")


def revenue_mix() -> dict[str, Decimal]:
    """Target share of revenue per stream, percent (streams without one: no target)."""
    raw = _overrides().get("revenue_mix")
    return {k: Decimal(str(v)) for k, v in dict(raw).items()} if raw else dict(_MIX_DEFAULT)


def month_number(first_month: str, month: str) -> int:
    """1 for the first month with data, 2 for the next, ... ('2026-01', '2026-03') -> 3."""
    fy, fm = (int(x) for x in first_month.split("-"))
    y, m = (int(x) for x in month.split("-")[:2])
    return (y - fy) * 12 + (m - fm) + 1
