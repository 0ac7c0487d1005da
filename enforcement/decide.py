"""One decision: `level_of` and `decide`, exactly as the spec's pseudo-code.

Pure functions of (state, request, policy, now): no clock, file or database, so the
chatbot answers a live request and the replay folds history with the same code.
All money is integer micro-dollars; every threshold comparison is strict (`>`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from enforcement.levels import (
    LEVELS,
    NOT_SERVED_REASONS,
    REASON_AFFILIATE,
    REASON_OK,
    REASON_PAYMENT,
    REASON_SYSTEM,
    REASON_TOKENS,
    REASONS,
    Level,
)
from enforcement.policy import Policy

__all__ = [
    "LEVELS",
    "NOT_SERVED_REASONS",
    "REASONS",
    "Decision",
    "Level",
    "State",
    "apply_factor",
    "decide",
    "level_of",
    "tokens_credited",
]

PROMPT_UPSELL = "upsell_tokens"
PROMPT_PREMIUM = "premium_promotion"


@dataclass(frozen=True)
class State:
    """A user's month-to-date position *before* a request (money in micro-dollars)."""

    cost: int = 0
    revenue: int = 0
    free_tokens: int = 0
    paid_tokens: int = 0
    premium: bool = False
    last_affiliate_click: datetime | None = None


@dataclass(frozen=True)
class Decision:
    """What happens to one request. `cost` is the micro-dollars actually incurred."""

    served: bool
    level: Level
    reason: str
    tokens_spent: int = 0
    free_tokens_spent: int = 0
    paid_tokens_spent: int = 0
    cost: int = 0
    prompts: tuple[str, ...] = ()
    payment_due: int | None = None


def apply_factor(cost: int, factor_bp: int) -> int:
    """A cost at a level's factor: (cost * bp + 5000) // 10000, round half up, the only rounding."""
    return (cost * factor_bp + 5_000) // 10_000


def level_of(cost: int, revenue: int, policy: Policy) -> Level:
    """The one map from a month-to-date position (cost, revenue) to a level."""
    profit = revenue - cost
    below = profit < policy.target
    if cost > policy.cutoff and below:
        return Level.PAYMENT_REQUIRED
    if cost <= policy.free_tier or profit > policy.band_normal:
        level = Level.NORMAL
    elif profit > policy.band_reduced_quality:
        level = Level.REDUCED_QUALITY
    elif profit > policy.band_basic_only:
        level = Level.BASIC_ONLY
    else:
        level = Level.AFFILIATE_GATED
    if cost > policy.restriction and below and level.rank < Level.REDUCED_QUALITY.rank:
        level = Level.REDUCED_QUALITY
    return level


def _utc(instant: datetime) -> datetime:
    """Naive instants are UTC (as stored); aware ones compare as they are."""
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant


def affiliate_unlocked(last_click: datetime | None, now: datetime | None, policy: Policy) -> bool:
    """`now - last_click <= unlock_hours`, inclusive: a click exactly unlock_hours ago counts."""
    if last_click is None:
        return False
    if now is None:
        raise ValueError("decide needs `now` to judge an affiliate unlock")
    return _utc(now) - _utc(last_click) <= timedelta(hours=policy.unlock_hours)


def decide(
    state: State, action: str, est_cost: int, policy: Policy, now: datetime | None = None
) -> Decision:
    """Serve, degrade or refuse one request, per the spec; `now` only matters for a click."""
    projected = state.cost + est_cost
    below = state.revenue - projected < policy.target

    if action in policy.system_actions:
        return Decision(True, level_of(state.cost, state.revenue, policy), REASON_SYSTEM,
                        cost=est_cost)

    level = level_of(projected, state.revenue, policy)
    if level is Level.PAYMENT_REQUIRED:
        due = max(policy.restore_payment, policy.target - (state.revenue - state.cost))
        return Decision(False, level, REASON_PAYMENT, payment_due=due)

    prompts: list[str] = []
    if projected > policy.warning and below:
        prompts.append(PROMPT_UPSELL)
    if projected > policy.free_tier and below and not state.premium:
        prompts.append(PROMPT_PREMIUM)

    if level is Level.AFFILIATE_GATED:
        if affiliate_unlocked(state.last_affiliate_click, now, policy):
            level = Level.BASIC_ONLY
        else:
            return Decision(False, level, REASON_AFFILIATE,
                            cost=apply_factor(est_cost, policy.factor(level)),
                            prompts=tuple(prompts))

    need = 0 if state.premium else policy.tokens_for(action)
    if need > state.free_tokens + state.paid_tokens:
        return Decision(False, level, REASON_TOKENS, prompts=tuple(prompts))

    free = min(need, max(state.free_tokens, 0))
    return Decision(True, level, REASON_OK, tokens_spent=need, free_tokens_spent=free,
                    paid_tokens_spent=need - free,
                    cost=apply_factor(est_cost, policy.factor(level)), prompts=tuple(prompts))


def tokens_credited(amount: int, recorded: int | None, policy: Policy) -> int:
    """Tokens a `tokens` purchase adds: as recorded, else floor(amount/price) + bonus_pct% (floor)
    of that when amount >= bonus_min ("at least", so exactly bonus_min earns the bonus).

    Here, not in the replay, so the live runtime credits with the same rule without numpy.
    """
    if recorded is not None:
        return recorded
    base = amount // policy.token_price
    if amount >= policy.bonus_min:
        base += base * policy.bonus_pct // 100
    return base
