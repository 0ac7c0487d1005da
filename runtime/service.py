"""The chatbot's side: every request decided by `enforcement.decide`, stored atomically.

Each event is one read and one transaction:
1. `BatchGetItem` (strongly consistent): the user's state item, and the idempotency key
   of this request, payment or click. A key found means a retry: the recorded outcome
   is returned and nothing is written.
2. `decide` (or the revenue / click rule) on that state, then `TransactWriteItems`:
   the new state item on condition that its `version` is still the one read, the
   event's item, and the idempotency key on condition that it does not exist.
   A lost race (another Lambda wrote the user first) re-reads and decides again, so two
   Lambdas never spend a token twice, never serve past the cutoff and never lose a cost.

Instants are kept monotonic per user so that the replay, which orders a user's events
by time (payments and clicks first at one instant, then by event id), sees them in the
order they were decided: a request is stamped no earlier than the user's last event, a
payment or click strictly after the user's last request. With the clock that Lambdas
keep this changes nothing; it only matters under clock skew between two of them.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from enforcement.decide import Decision, decide, level_of, tokens_credited
from enforcement.levels import Level
from enforcement.money import MICRO, fmt_usd, to_micro, usd
from runtime import inputs, store
from runtime.inputs import InputError
from runtime.policy_source import LoadedPolicy, PolicySource
from runtime.settings import Settings
from runtime.state import UserState, from_us, iso, month_index, month_label, sort_key, to_us
from runtime.store import StoreUnavailable

log = logging.getLogger("runtime")

IDEMPOTENCY = "idempotency"  # record_type of the keys (the loader skips them)
REVENUE_TYPES = {"tokens": "token_purchase", "premium": "subscription",
                 "affiliate": "affiliate_commission", "data": "data_monetization",
                 "other": "other"}
MAX_RACE_ATTEMPTS = 60
_STATE, _EVENT, _KEY = 0, 1, 2  # positions in every transaction


@dataclass(frozen=True)
class RequestOutcome:
    """A decided request: the decision, and whether it was recorded by an earlier call."""

    request_id: str
    user: str
    decision: Decision
    policy_id: str
    timestamp: str
    tokens_remaining: int
    duplicate: bool = False

    def as_json(self) -> dict[str, Any]:
        """The line `simulate` prints: `python -m enforcement decide`'s keys plus request_id."""
        d = self.decision
        return {"request_id": self.request_id, "served": d.served, "level": d.level.value,
                "reason": d.reason, "tokens_spent": d.tokens_spent, "cost": fmt_usd(d.cost),
                "prompts": list(d.prompts),
                "payment_due": None if d.payment_due is None else fmt_usd(d.payment_due)}


@dataclass(frozen=True)
class RecordOutcome:
    """A recorded completion, payment or affiliate event."""

    kind: str
    event_id: str
    user: str
    timestamp: str
    amount: int = 0          # micro-dollars: the measured cost, or the payment
    tokens_credited: int = 0
    token_balance: int = 0
    duplicate: bool = False


def _ttl(ts_us: int, days: int) -> int:
    return ts_us // MICRO + days * 86_400


def _utc_month(ts_us: int) -> str:
    """The `month` attribute the MonthIndex is queried by: the UTC month of `timestamp`."""
    return iso(ts_us)[:7]


def _token(*parts: object) -> str:
    """A transaction's ClientRequestToken: the same attempt retried by botocore is one write."""
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:36]


class ProfitRuntime:
    """The guide's tracker and enforcer in one object, over the four DynamoDB tables."""

    def __init__(self, settings: Settings | None = None, *, client: Any = None,
                 policy: LoadedPolicy | PolicySource | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings or Settings.from_env()
        self.client = client if client is not None else store.make_client(self.settings)
        if isinstance(policy, LoadedPolicy):
            policy = PolicySource.fixed(policy)
        self.policies = policy or PolicySource(self.settings.policy_location,
                                               self.settings.policy_refresh_s)
        self.tables = self.settings.tables
        self._sleep = sleep

    # -- the store ------------------------------------------------------------------------
    def _read(self, user: str, table: str, key_sort: str | None
              ) -> tuple[UserState, dict[str, Any] | None]:
        """The state item and (optionally) one idempotency key, in one consistent call."""
        tokens_name = self.tables["tokens"]
        request: dict[str, Any] = {tokens_name: {"Keys": [store.key(user)],
                                                 "ConsistentRead": True}}
        marker_table = self.tables[table]
        if key_sort is not None:
            request.setdefault(marker_table, {"Keys": [], "ConsistentRead": True})
            request[marker_table]["Keys"].append(store.key(user, key_sort))
        found: dict[str, list[dict]] = {}
        for _ in range(10):
            out = store.call(self.client, "batch_get_item",
                             f"{tokens_name} or {marker_table}", RequestItems=request)
            for name, items in out.get("Responses", {}).items():
                found.setdefault(name, []).extend(items)
            request = out.get("UnprocessedKeys") or {}
            if not request:
                break
            self._sleep(0.05)
        else:
            raise StoreUnavailable("DynamoDB kept returning unprocessed keys (throttled)")
        state_item = next((store.plain(i) for i in found.get(tokens_name, [])
                           if i.get("user_phone", {}).get("S") == user and "timestamp" not in i),
                          None)
        marker = None
        if key_sort is not None:
            marker = next((store.plain(i) for i in found.get(marker_table, [])
                           if i.get("timestamp", {}).get("S") == key_sort), None)
        return UserState.from_item(user, state_item), marker

    def _transact(self, before: UserState, after: UserState, policy_id: str,
                  event: tuple[str, dict[str, Any]], key: dict[str, Any],
                  key_condition: str = "attribute_not_exists(user_phone)",
                  key_update: dict[str, Any] | None = None) -> str | None:
        """Write state, event and key as one step. None when written, else what failed:
        "key" (a duplicate got there first) or "state" (another write won the race)."""
        state_put: dict[str, Any] = {"TableName": self.tables["tokens"],
                                     "Item": store.typed(after.to_item(policy_id))}
        if before.version == 0:
            state_put["ConditionExpression"] = "attribute_not_exists(user_phone)"
        else:
            state_put.update(ConditionExpression="#v = :v",
                             ExpressionAttributeNames={"#v": "version"},
                             ExpressionAttributeValues={":v": {"N": str(before.version)}})
        table, item = event
        items: list[dict[str, Any]] = [
            {"Put": state_put},
            {"Put": {"TableName": self.tables[table], "Item": store.typed(item),
                     "ConditionExpression": "attribute_not_exists(user_phone)"}},
        ]
        if key_update is not None:
            items.append({"Update": key_update})
        else:
            items.append({"Put": {"TableName": key["table"], "Item": store.typed(key["item"]),
                                  "ConditionExpression": key_condition}})
        event_key = (key_update or {}).get("Key") or key["item"]["timestamp"]
        try:
            store.call(self.client, "transact_write_items", self.tables["tokens"],
                       TransactItems=items,
                       ClientRequestToken=_token(before.user, item["timestamp"], after.version,
                                                 event_key))
        except ClientError as exc:
            # Two writers racing on one version at one instant could share a token but not
            # its items: DynamoDB says IdempotentParameterMismatch, a lost race like any other.
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if len(reasons) > _KEY and reasons[_KEY] == "ConditionalCheckFailed":
                return "key"
            return "state"
        return None

    def _race_lost(self, attempt: int) -> None:
        self._sleep(random.uniform(0, min(0.5, 0.005 * 2 ** min(attempt, 7))))

    def policy(self) -> LoadedPolicy:
        return self.policies.get()

    @staticmethod
    def _now(now: Any) -> int:
        return to_us(inputs.instant(now) if now is not None else datetime.now(UTC))

    # -- one request ----------------------------------------------------------------------
    def decide_request(self, user_phone: str, request_id: str, action: str, est_cost: Any,
                       now: Any = None) -> RequestOutcome:
        """Decide a request and record it (cost item, state, key) in one step; a retried
        request id returns the decision recorded the first time and writes nothing."""
        user, rid = inputs.phone(user_phone), inputs.identifier(request_id, "request_id")
        action, est = inputs.action(action), inputs.money(est_cost, "est_cost")
        now_us = self._now(now)
        key_sort = f"request#{rid}"
        for attempt in range(MAX_RACE_ATTEMPTS):
            state, marker = self._read(user, "costs", key_sort)
            if marker is not None:
                return _request_outcome(user, rid, marker, duplicate=True)
            loaded = self.policy()
            policy = loaded.policy
            ts_us = max(now_us, state.last_event_us)
            before = state.in_month(month_index(ts_us, policy.timezone), policy)
            d = decide(before.as_state(), action, est, policy, from_us(ts_us))
            after = before.after_request(d, ts_us)
            sk = sort_key(ts_us, after.version)
            recorded = _decision_fields(d, after.tokens, loaded.policy_id, sk, action)
            cost_item = {
                "user_phone": user, "timestamp": sk, "event_type": action,
                "cost_details": {"interaction_cost": fmt_usd(est), "request_id": rid,
                                 "tokens_spent": d.tokens_spent,
                                 "free_tokens_spent": d.free_tokens_spent,
                                 "paid_tokens_spent": d.paid_tokens_spent,
                                 "prompts": list(d.prompts),
                                 "payment_due": (None if d.payment_due is None
                                                 else fmt_usd(d.payment_due))},
                "actual_cost": usd(d.cost), "requested_cost": usd(est),
                "decision_served": d.served, "decision_level": d.level.value,
                "decision_reason": d.reason, "tokens_spent": d.tokens_spent,
                "policy_id": loaded.policy_id, "request_id": rid,
                "month": _utc_month(ts_us), "ttl": _ttl(ts_us, store.TTL_DAYS["costs"]),
            }
            key_item = {"user_phone": user, "timestamp": key_sort, "record_type": IDEMPOTENCY,
                        "ttl": _ttl(ts_us, store.TTL_DAYS["costs"]), **recorded,
                        "enforcement_month": after.month}
            failed = self._transact(state, after, loaded.policy_id, ("costs", cost_item),
                                    {"table": self.tables["costs"], "item": key_item})
            if failed is None:
                return _request_outcome(user, rid, key_item, duplicate=False)
            if failed == "state":
                self._race_lost(attempt)
        raise StoreUnavailable(f"{user}: gave up after {MAX_RACE_ATTEMPTS} lost races")

    # -- the measured cost of a served request --------------------------------------------
    def complete_request(self, user_phone: str, request_id: str, actual_cost: Any,
                         now: Any = None, details: dict[str, Any] | None = None
                         ) -> RecordOutcome:
        """Record `<action>_completed` with the measured cost; the month-to-date cost then
        counts it in place of the decision's cost, as the loader's pairing does."""
        user, rid = inputs.phone(user_phone), inputs.identifier(request_id, "request_id")
        actual = inputs.money(actual_cost, "actual_cost")
        now_us = self._now(now)
        key_sort = f"request#{rid}"
        for attempt in range(MAX_RACE_ATTEMPTS):
            state, marker = self._read(user, "costs", key_sort)
            if marker is None:
                raise InputError(f"unknown request_id {rid!r} for {user}: decide it first")
            if not marker.get("served"):
                raise InputError(f"request {rid!r} was not served ({marker.get('reason')}): "
                                 "there is no cost to complete")
            if marker.get("completed_sk"):
                return RecordOutcome("complete", rid, user, str(marker["completed_sk"]),
                                     to_micro(marker["completed_cost"]),
                                     token_balance=state.tokens, duplicate=True)
            loaded = self.policy()
            decided = to_micro(marker["cost"])
            # Only the month the request was decided in holds its cost.
            same_month = (state.month is not None
                          and int(marker.get("enforcement_month", -1)) == state.month)
            after = state.bumped(now_us, cost=state.cost + (actual - decided if same_month
                                                            else 0))
            sk = sort_key(now_us, after.version)
            item = {"user_phone": user, "timestamp": sk,
                    "event_type": f"{marker['action']}_completed",
                    "cost_details": {"request_id": rid, **(details or {})},
                    "actual_cost": usd(actual), "request_id": rid,
                    "policy_id": loaded.policy_id, "month": _utc_month(now_us),
                    "ttl": _ttl(now_us, store.TTL_DAYS["costs"])}
            update = {"TableName": self.tables["costs"], "Key": store.key(user, key_sort),
                      "UpdateExpression": "SET completed_sk = :sk, completed_cost = :c",
                      "ConditionExpression": "attribute_exists(user_phone) AND "
                                             "attribute_not_exists(completed_sk)",
                      "ExpressionAttributeValues": {":sk": {"S": sk},
                                                    ":c": {"N": str(usd(actual))}}}
            failed = self._transact(state, after, loaded.policy_id, ("costs", item), {},
                                    key_update=update)
            if failed is None:
                return RecordOutcome("complete", rid, user, sk, actual,
                                     token_balance=after.tokens)
            if failed == "state":
                self._race_lost(attempt)
        raise StoreUnavailable(f"{user}: gave up after {MAX_RACE_ATTEMPTS} lost races")

    # -- revenue ----------------------------------------------------------------------------
    def record_payment(self, user_phone: str, payment_id: str, amount: Any, stream: str,
                       tokens: Any = None, now: Any = None, partner: str | None = None,
                       details: dict[str, Any] | None = None) -> RecordOutcome:
        """Add a payment to the month's revenue (and tokens, premium), once per payment id.

        A negative amount is a refund or chargeback. `tokens` is what was credited where
        the payment says; otherwise the policy's price and bonus decide (as the replay does).
        """
        user, pid = inputs.phone(user_phone), inputs.identifier(payment_id, "payment_id")
        amount_micro = inputs.money(amount, "amount", negative=True)
        stream, given_tokens = inputs.stream(stream), inputs.tokens(tokens)
        now_us = self._now(now)
        key_sort = f"payment#{pid}"
        for attempt in range(MAX_RACE_ATTEMPTS):
            state, marker = self._read(user, "revenue", key_sort)
            if marker is not None:
                return RecordOutcome("payment", pid, user, str(marker["event_sk"]),
                                     to_micro(marker["amount"]), int(marker["tokens_credited"]),
                                     state.tokens, duplicate=True)
            loaded = self.policy()
            policy = loaded.policy
            ts_us = max(now_us, state.last_request_us + 1)
            before = state.in_month(month_index(ts_us, policy.timezone), policy)
            credited = (tokens_credited(amount_micro, given_tokens, policy)
                        if stream == "tokens" else 0)
            after = before.bumped(
                ts_us, revenue=before.revenue + amount_micro,
                paid_tokens=before.paid_tokens + credited,
                premium=before.premium or (stream == "premium" and amount_micro > 0),
                last_event_us=max(before.last_event_us, ts_us))
            sk = sort_key(ts_us, after.version)
            info: dict[str, Any] = {"payment_id": pid, **(details or {})}
            if stream == "tokens":
                info.update(tokens_purchased=credited,
                            bonus_applied=given_tokens is None and amount_micro >= policy.bonus_min)
            if partner:
                info["partner"] = partner
            item = {"user_phone": user, "timestamp": sk, "revenue_type": REVENUE_TYPES[stream],
                    "revenue_amount": usd(amount_micro), "details": info,
                    "policy_id": loaded.policy_id, "month": _utc_month(ts_us),
                    "ttl": _ttl(ts_us, store.TTL_DAYS["revenue"])}
            key_item = {"user_phone": user, "timestamp": key_sort, "record_type": IDEMPOTENCY,
                        "event_sk": sk, "amount": usd(amount_micro), "stream": stream,
                        "tokens_credited": credited,
                        "ttl": _ttl(ts_us, store.TTL_DAYS["revenue"])}
            failed = self._transact(state, after, loaded.policy_id, ("revenue", item),
                                    {"table": self.tables["revenue"], "item": key_item})
            if failed is None:
                return RecordOutcome("payment", pid, user, sk, amount_micro, credited,
                                     after.tokens)
            if failed == "state":
                self._race_lost(attempt)
        raise StoreUnavailable(f"{user}: gave up after {MAX_RACE_ATTEMPTS} lost races")

    # -- affiliate events -------------------------------------------------------------------
    def record_affiliate_event(self, user_phone: str, event_id: str, partner: str | None,
                               kind: str = "click", now: Any = None) -> RecordOutcome:
        """Record a partner shown, clicked or converted, once per id; a click unlocks gated
        service for the policy's unlock_hours."""
        user, eid = inputs.phone(user_phone), inputs.identifier(event_id, "click_id")
        kind = inputs.kind(kind)
        now_us = self._now(now)
        key_sort = f"affiliate#{eid}"
        for attempt in range(MAX_RACE_ATTEMPTS):
            state, marker = self._read(user, "affiliate", key_sort)
            if marker is not None:
                return RecordOutcome(kind, eid, user, str(marker["event_sk"]),
                                     token_balance=state.tokens, duplicate=True)
            loaded = self.policy()
            ts_us = max(now_us, state.last_request_us + 1)
            changes: dict[str, Any] = {"last_event_us": max(state.last_event_us, ts_us)}
            if kind == "click":
                changes["last_click_us"] = max(state.last_click_us or 0, ts_us)
            after = state.bumped(ts_us, **changes)
            sk = sort_key(ts_us, after.version)
            item = {"user_phone": user, "timestamp": sk, "partner": partner, "kind": kind,
                    "event_id": eid, "month": _utc_month(ts_us),
                    "ttl": _ttl(ts_us, store.TTL_DAYS["affiliate"])}
            key_item = {"user_phone": user, "timestamp": key_sort, "record_type": IDEMPOTENCY,
                        "event_sk": sk, "ttl": _ttl(ts_us, store.TTL_DAYS["affiliate"])}
            failed = self._transact(state, after, loaded.policy_id, ("affiliate", item),
                                    {"table": self.tables["affiliate"], "item": key_item})
            if failed is None:
                return RecordOutcome(kind, eid, user, sk, token_balance=after.tokens)
            if failed == "state":
                self._race_lost(attempt)
        raise StoreUnavailable(f"{user}: gave up after {MAX_RACE_ATTEMPTS} lost races")

    # -- reading --------------------------------------------------------------------------
    def user_state(self, user_phone: str, now: Any = None) -> UserState:
        """The user's position now (a new month shows as its start, not yet written)."""
        user = inputs.phone(user_phone)
        state, _ = self._read(user, "tokens", None)
        policy = self.policy().policy
        ts_us = max(self._now(now), state.last_event_us)
        return state.in_month(month_index(ts_us, policy.timezone), policy)

    # -- the guide's names (profit-guarantee-guide.md) -------------------------------------
    def enforce_profit_requirements(self, user_phone: str, requested_action: str,
                                    interaction_cost: Any, request_id: str | None = None,
                                    now: Any = None) -> dict[str, Any]:
        """The guide's check before serving, with its keys plus the full `decision`.

        Bad input raises InputError. DynamoDB down: the configured fail mode answers
        (`enforcement_type` "fail_open" or "fail_closed"), after one log line.
        """
        rid = request_id or _generated_id(user_phone, requested_action, now)
        try:
            outcome = self.decide_request(user_phone, rid, requested_action, interaction_cost,
                                          now)
        except StoreUnavailable as exc:
            return self._failed(exc, "enforce_profit_requirements")
        return self.guide_answer(outcome)

    def guide_answer(self, outcome: RequestOutcome) -> dict[str, Any]:
        d, s = outcome.decision, self.settings
        policy = self.policy().policy
        messages = {
            "payment_required": (f"💳 Your monthly usage needs a payment to continue: "
                                 f"${fmt_usd(d.payment_due or 0)} restores full service."),
            "affiliate_required": "🛒 Check out our partner recommendations first!",
            "insufficient_tokens": ("🪙 You need more tokens! Purchase "
                                    f"${fmt_usd(policy.bonus_min)} for tokens + "
                                    f"{policy.bonus_pct}% bonus!"),
        }
        if d.served:
            kind = "none" if d.level is Level.NORMAL else "service_reduced"
            message = "" if d.level is Level.NORMAL else f"Service level: {d.level.value}."
            if "upsell_tokens" in d.prompts:
                message = (message + " " + messages["insufficient_tokens"]).strip()
        else:
            kind, message = d.reason, messages.get(d.reason, d.reason)
        url = {"payment_required": s.restore_url, "insufficient_tokens": s.purchase_url}.get(
            d.reason, s.premium_url if "premium_promotion" in d.prompts else s.purchase_url)
        amount = d.payment_due if d.payment_due is not None else (
            policy.bonus_min if d.reason == "insufficient_tokens" else None)
        return {
            "action_allowed": d.served, "enforcement_type": kind, "message": message,
            "restriction_level": d.level.value,
            "payment_amount": usd(amount) if amount is not None else None,
            "purchase_url": url, "tokens_remaining": outcome.tokens_remaining,
            "affiliate_required": d.reason == "affiliate_required",
            "request_id": outcome.request_id, "policy_id": outcome.policy_id,
            "duplicate": outcome.duplicate, "decision": d,
        }

    def _failed(self, exc: Exception, where: str) -> dict[str, Any]:
        mode = self.settings.fail_mode
        log.error("%s: %s; failing %s", where, exc, mode)
        allowed = mode == "open"
        return {"action_allowed": allowed, "enforcement_type": f"fail_{mode}",
                "message": "" if allowed else "⚠️ We cannot check your account right now; "
                                              "please try again in a minute.",
                "restriction_level": Level.NORMAL.value if allowed else None,
                "payment_amount": None, "purchase_url": None, "tokens_remaining": None,
                "affiliate_required": False, "request_id": None, "policy_id": None,
                "duplicate": False, "decision": None, "error": str(exc)}

    def track_cost_event(self, user_phone: str, event_type: str,
                         cost_details: dict[str, Any] | None = None, actual_cost: Any = None,
                         request_id: str | None = None, now: Any = None) -> dict[str, Any]:
        """The guide's cost tracking: the measured cost of a served request (by its id),
        or a system cost (an action in the policy's `system.actions`, never refused)."""
        action = inputs.action(event_type).removesuffix("_completed")
        if request_id is not None:
            out = self.complete_request(user_phone, request_id, actual_cost, now, cost_details)
            return {"recorded": True, "duplicate": out.duplicate, "event_type": action +
                    "_completed", "actual_cost": usd(out.amount), "timestamp": out.timestamp}
        if action not in self.policy().policy.system_actions:
            raise InputError(f"a cost of {action!r} needs the request_id it completes "
                             "(decisions are recorded by enforce_profit_requirements)")
        rid = _generated_id(user_phone, action, now)
        outcome = self.decide_request(user_phone, rid, action, actual_cost, now)
        return {"recorded": True, "duplicate": outcome.duplicate, "event_type": action,
                "actual_cost": usd(outcome.decision.cost), "timestamp": outcome.timestamp}

    def process_token_purchase(self, user_phone: str, payment_amount: Any, payment_id: str,
                               tokens: Any = None, now: Any = None,
                               details: dict[str, Any] | None = None) -> dict[str, Any]:
        """The guide's purchase: credit tokens once per payment id."""
        if inputs.money(payment_amount, "payment_amount", negative=True) <= 0:
            raise InputError(f"a token purchase must be more than 0, got {payment_amount}")
        out = self.record_payment(user_phone, payment_id, payment_amount, "tokens", tokens, now,
                                  details=details)
        return {"success": True, "duplicate": out.duplicate, "payment_id": payment_id,
                "tokens_added": out.tokens_credited, "new_balance": out.token_balance,
                "amount": usd(out.amount)}

    def record_revenue_event(self, user_phone: str, revenue_type: str, amount: Any,
                             payment_id: str, details: dict[str, Any] | None = None,
                             now: Any = None) -> dict[str, Any]:
        """The guide's revenue record, by stream (or the guide's revenue_type names)."""
        stream = revenue_type if revenue_type in inputs.STREAMS else _stream_of(revenue_type)
        details = dict(details or {})
        partner = details.pop("partner", None)
        tokens = details.pop("tokens_purchased", None)
        out = self.record_payment(user_phone, payment_id, amount, stream, tokens, now,
                                  partner=partner, details=details)
        return {"recorded": True, "duplicate": out.duplicate, "stream": stream,
                "amount": usd(out.amount), "tokens_added": out.tokens_credited}

    def record_affiliate_click(self, user_phone: str, partner: str, click_id: str,
                               now: Any = None) -> dict[str, Any]:
        out = self.record_affiliate_event(user_phone, click_id, partner, "click", now)
        return {"recorded": True, "duplicate": out.duplicate, "partner": partner,
                "timestamp": out.timestamp}

    def get_user_profitability_status(self, user_phone: str, now: Any = None) -> dict[str, Any]:
        """The guide's status: monthly_cost, monthly_revenue, monthly_profit, is_profitable."""
        state = self.user_state(user_phone, now)
        policy = self.policy().policy
        profit = state.revenue - state.cost
        return {"user_phone": state.user,
                "month": month_label(state.month) if state.month is not None else None,
                "monthly_cost": usd(state.cost), "monthly_revenue": usd(state.revenue),
                "monthly_profit": usd(profit), "is_profitable": profit >= policy.target,
                "level": level_of(state.cost, state.revenue, policy).value,
                "token_balance": state.tokens, "free_tokens": state.free_tokens,
                "paid_tokens": state.paid_tokens, "premium": state.premium}


# The guide's two class names, so its handler code finds them.
UserCostTracker = ProfitEnforcementService = ProfitRuntime


def _decision_fields(d: Decision, tokens_left: int, policy_id: str, sk: str, action: str
                     ) -> dict[str, Any]:
    return {"event_sk": sk, "action": action, "served": d.served, "level": d.level.value,
            "reason": d.reason, "tokens_spent": d.tokens_spent,
            "free_tokens_spent": d.free_tokens_spent, "paid_tokens_spent": d.paid_tokens_spent,
            "cost": usd(d.cost), "prompts": list(d.prompts),
            "payment_due": None if d.payment_due is None else usd(d.payment_due),
            "tokens_remaining": tokens_left, "policy_id": policy_id}


def _request_outcome(user: str, rid: str, rec: dict[str, Any], *, duplicate: bool
                     ) -> RequestOutcome:
    due = rec.get("payment_due")
    d = Decision(bool(rec["served"]), Level(rec["level"]), str(rec["reason"]),
                 int(rec["tokens_spent"]), int(rec["free_tokens_spent"]),
                 int(rec["paid_tokens_spent"]), to_micro(Decimal(rec["cost"])),
                 tuple(rec.get("prompts") or ()),
                 None if due is None else to_micro(Decimal(due)))
    return RequestOutcome(rid, user, d, str(rec["policy_id"]),
                          str(rec["event_sk"]).split("#", 1)[0], int(rec["tokens_remaining"]),
                          duplicate)


def _generated_id(user_phone: str, action: str, now: Any) -> str:
    """A request id where the caller has none (the guide's calls): unique, so never a retry."""
    stamp = now if now is not None else datetime.now(UTC)
    seed = f"{user_phone}|{action}|{stamp}|{random.random()}"
    return "gen-" + hashlib.sha256(seed.encode()).hexdigest()[:20]


def _stream_of(revenue_type: str) -> str:
    names = {"token_purchase": "tokens", "subscription": "premium", "family_plan": "premium",
             "affiliate_commission": "affiliate", "data_monetization": "data"}
    if revenue_type not in names:
        raise InputError(f"unknown stream: {revenue_type!r} (one of "
                         f"{', '.join(inputs.STREAMS)} or the guide's revenue types)")
    return names[revenue_type]


__all__ = ["ProfitEnforcementService", "ProfitRuntime", "RecordOutcome", "RequestOutcome",
           "UserCostTracker"]
