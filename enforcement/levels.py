"""Levels and reasons: the ordered vocabulary every rule, replay and page shares."""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    """Service levels, from least to most restrictive (the order is the enum's order)."""

    NORMAL = "normal"
    REDUCED_QUALITY = "reduced_quality"
    BASIC_ONLY = "basic_only"
    AFFILIATE_GATED = "affiliate_gated"
    PAYMENT_REQUIRED = "payment_required"

    @property
    def rank(self) -> int:
        """0 for normal .. 4 for payment_required: "at least X" is a max over ranks."""
        return _RANK[self]


LEVELS: tuple[Level, ...] = tuple(Level)
_RANK = {level: i for i, level in enumerate(LEVELS)}

REASON_OK = "ok"
REASON_SYSTEM = "system"
REASON_PAYMENT = "payment_required"
REASON_AFFILIATE = "affiliate_required"
REASON_TOKENS = "insufficient_tokens"
REASONS: tuple[str, ...] = (
    REASON_OK, REASON_SYSTEM, REASON_PAYMENT, REASON_AFFILIATE, REASON_TOKENS,
)
# The reasons a request is not served, in the order summaries list them.
NOT_SERVED_REASONS: tuple[str, ...] = (REASON_PAYMENT, REASON_AFFILIATE, REASON_TOKENS)
