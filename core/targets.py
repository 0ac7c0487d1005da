"""The targets (kpis.md "Targets"), judged in one place for every page, export and alert.

Defaults are the registry's (`core.metrics`, from the seed); a `[targets]` table in
`.streamlit/secrets.toml` (or the file named by `PROFIT_SECRETS`) overrides any of them,
e.g. `margin_pct = "87.25"`, `revenue_usd = "6000"` or
`users_at_target_pct = {1 = 95, 3 = 99, 6 = 100}`. A target is judged here, never in a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from core import formats, metrics, settings
from core.metrics import AT_LEAST, AT_MOST

__all__ = ["AT_LEAST", "AT_MOST", "Target", "target", "for_grain", "names", "revenue_mix",
           "users_at_target", "users_at_target_ramp", "month_number"]

_MIX_DEFAULT: dict[str, Decimal] = {"tokens": Decimal("40"), "premium": Decimal("30"),
                                    "affiliate": Decimal("20"), "data": Decimal("10")}


@dataclass(frozen=True)
class Target:
    """One target: `figure op value`, e.g. revenue_usd >= 5000."""

    name: str
    op: str
    value: Decimal
    unit: str  # the figure's unit: "usd" or "pct" (core.formats)

    def met(self, figure: Decimal | float | int | None) -> bool | None:
        """True/False against the target; None when the figure is null (nothing to judge)."""
        if formats.is_missing(figure):
            return None
        f = Decimal(str(figure))
        return f >= self.value if self.op == AT_LEAST else f <= self.value

    @property
    def bound(self) -> str:
        """`at least $5,000.00`, `at most 87.25%`."""
        word = "at least" if self.op == AT_LEAST else "at most"
        if self.unit == formats.USD:
            return f"{word} {formats.money(self.value)}"
        return f"{word} {_plain(self.value)}%"

    @property
    def text(self) -> str:
        return f"target: {self.bound}"


def _plain(value: Decimal) -> str:
    """87.25 -> '87.25', 90 -> '90' (a target is shown as it was set)."""
    text = f"{value.normalize():f}"
    return text


def _overrides() -> dict[str, Any]:
    return dict(settings.secrets().get("targets", {}))


def _decimal(name: str, raw: Any) -> Decimal:
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        raise ValueError(f"[targets] {name} is not a number: {raw!r}") from None


def target(name: str) -> Target:
    """The (monthly) target of a figure, with the settings' override."""
    m = metrics.metric(name)
    if m.target is None:
        raise KeyError(f"{name} has no target")
    raw = _overrides().get(name)
    value = _decimal(name, raw) if raw is not None and not isinstance(raw, dict) \
        else m.target.value
    return Target(name, m.target.op, value, m.unit)


def for_grain(name: str, grain: str, month_number_: int = 1) -> Target | None:
    """The target that judges a figure at a grain, or None (a monthly sum on a day has none).

    users_at_target_pct takes the ramp's step for the business's month number.
    """
    m = metrics.metric(name)
    if m.target is None or grain not in m.target.grains:
        return None
    if name == "users_at_target_pct":
        return users_at_target(month_number_)
    return target(name)


def names() -> tuple[str, ...]:
    """Every figure that has a target."""
    return tuple(m.key for m in metrics.METRICS if m.target is not None)


def users_at_target_ramp() -> dict[int, Decimal]:
    raw = _overrides().get("users_at_target_pct")
    if raw is None:
        return {k: v for k, v in metrics.metric("users_at_target_pct").target.ramp}
    if not isinstance(raw, dict):  # one value for every month
        return {1: _decimal("users_at_target_pct", raw)}
    return {int(k): _decimal("users_at_target_pct", v) for k, v in dict(raw).items()}


def users_at_target(month_number: int) -> Target:
    """The users_at_target_pct target in the business's `month_number`-th month (1-based):
    the last step of the ramp reached (95 in months 1-2, 99 in 3-5, 100 from month 6)."""
    ramp = users_at_target_ramp()
    reached = [m for m in sorted(ramp) if m <= max(month_number, 1)]
    value = ramp[reached[-1]] if reached else ramp[min(ramp)]
    return Target("users_at_target_pct", AT_LEAST, value, formats.PCT)


def revenue_mix() -> dict[str, Decimal]:
    """Target share of revenue per stream, percent (streams without one: no target)."""
    raw = _overrides().get("revenue_mix")
    return {k: _decimal(f"revenue_mix.{k}", v) for k, v in dict(raw).items()} if raw \
        else dict(_MIX_DEFAULT)


def month_number(first_month: str, month: str) -> int:
    """1 for the first month with data, 2 for the next, ... ('2026-01', '2026-03') -> 3."""
    fy, fm = (int(x) for x in first_month.split("-"))
    y, m = (int(x) for x in month.split("-")[:2])
    return (y - fy) * 12 + (m - fm) + 1
