"""Exact money: integer micro-dollars inside, Decimal strings at the edges, never floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

MICRO = 1_000_000
MAX_DIGITS = 30  # digits before the point past which an amount is absurd, not money


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:20] + "…" + text[-10:]


def to_micro(value: object) -> int:
    """USD (Decimal, int or decimal string) to integer micro-dollars, refusing any rounding.

    Floats are refused on purpose: 0.1 is not a tenth in binary, and money here is exact.
    """
    if isinstance(value, bool | float):
        raise ValueError(f"write money as a decimal string such as \"3.00\", not {value!r}")
    if isinstance(value, int):
        if abs(value) >= 10 ** MAX_DIGITS:
            raise ValueError(f"too large an amount: {_short(value)}")
        return value * MICRO
    if isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not an amount: {value!r}") from None
    if not isinstance(value, Decimal):
        raise ValueError(f"not an amount: {value!r}")
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {value}")
    if value and value.adjusted() > MAX_DIGITS:
        # Checked before scaling: 1e999999 * 10**6 would overflow Decimal's context.
        raise ValueError(f"too large an amount: {_short(value)}")
    scaled = value * MICRO
    if scaled != scaled.to_integral_value():
        raise ValueError(f"more than 6 decimals (micro-dollars): {value}")
    return int(scaled)


def fmt_usd(micro: int) -> str:
    """Micro-dollars as a USD string with at least 2 decimals, keeping every non-zero digit.

    1_234_500_000 -> "1234.50", 1_234_567 -> "1.234567", -600_000 -> "-0.60".
    """
    sign = "-" if micro < 0 else ""
    whole, frac = divmod(abs(int(micro)), MICRO)
    digits = f"{frac:06d}".rstrip("0").ljust(2, "0")
    return f"{sign}{whole}.{digits}"


def usd(micro: int) -> Decimal:
    """Micro-dollars as an exact Decimal (at least 2 decimals) for display and JSON."""
    return Decimal(fmt_usd(micro))
