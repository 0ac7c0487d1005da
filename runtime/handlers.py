"""Thin Lambda handlers over the package: WhatsApp messages, and Stripe's payment webhook.

`message_handler` is an example of the guide's profit-enforced message handler: it
classifies a message into an action, asks `enforce_profit_requirements` (the message id
is the request id, so WhatsApp's redelivery of a message is decided once), and, when
served, records the measured cost with `track_cost_event`. The reply text and the cost
measurement are stand-ins for the chatbot's own AI call.

`click_handler` records an affiliate click (the link a gated reply carries) and redirects.

`payment_webhook_handler` verifies Stripe's signature with `stripe.Webhook.construct_event`
(never by hand) and credits once per payment id: Stripe's retries, and the two events one
checkout sends (`checkout.session.completed`, `payment_intent.succeeded`), share the
payment intent's id.

Neither handler raises: a failure is one log line and an HTTP status (WhatsApp gets 200
so it does not redeliver what the fail mode already answered; Stripe gets 500 when the
store is down, so it redelivers later and the payment is not lost).
"""

from __future__ import annotations

import base64
import json
import logging
import os
from decimal import Decimal
from typing import Any

from enforcement.money import usd
from runtime.inputs import InputError
from runtime.service import ProfitRuntime
from runtime.store import StoreUnavailable

log = logging.getLogger("runtime")
if not logging.getLogger().handlers:  # Lambda installs a handler; elsewhere, one line each
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")

# Words that pick an action, and the action's estimated cost at full service (USD).
ACTION_WORDS = (("meal plan", "meal_plan"), ("grocery", "grocery_list"),
                ("nutrition", "nutrition_analysis"), ("recipe", "recipe_search"),
                ("diet", "dietary_advice"))
ESTIMATES = {"simple_message": "0.002", "meal_plan": "0.08", "grocery_list": "0.02",
             "nutrition_analysis": "0.03", "recipe_search": "0.02", "dietary_advice": "0.04"}
PAYMENT_EVENTS = ("payment_intent.succeeded", "checkout.session.completed")

_runtime: ProfitRuntime | None = None


def runtime() -> ProfitRuntime:
    """One runtime per Lambda instance (its client and policy kept between invocations)."""
    global _runtime
    if _runtime is None:
        _runtime = ProfitRuntime()
    return _runtime


def _response(status: int, body: Any) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"},
            "body": body if isinstance(body, str) else json.dumps(body, default=str)}


def _body(event: dict[str, Any]) -> str:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8")
    return body


def classify(text: str) -> str:
    lowered = text.lower()
    return next((action for word, action in ACTION_WORDS if word in lowered), "simple_message")


def reply_for(answer: dict[str, Any], action: str) -> str:
    """Stand-in for the chatbot's answer at the decided level (or the refusal message)."""
    if not answer["action_allowed"]:
        return answer["message"]
    return f"[{answer.get('restriction_level') or 'normal'}] your {action.replace('_', ' ')}"


# -- WhatsApp -------------------------------------------------------------------------------
def message_handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """WhatsApp Cloud API webhook: the GET handshake, then one decision per message."""
    try:
        if event.get("httpMethod", event.get("requestContext", {}).get("http", {})
                     .get("method")) == "GET":
            return _verify_subscription(event.get("queryStringParameters") or {})
        messages = _messages(json.loads(_body(event) or "{}"))
        replies = [_handle_message(m) for m in messages]
        return _response(200, {"replies": [r for r in replies if r is not None]})
    except Exception as exc:  # noqa: BLE001 - a handler never raises: one line, then 200
        log.error("message_handler: %s: %s", type(exc).__name__, exc)
        return _response(200, {"replies": [], "error": type(exc).__name__})


def _verify_subscription(params: dict[str, str]) -> dict[str, Any]:
    token = os.environ.get("WHATSAPP_VERIFY_TOKEN")
    if params.get("hub.mode") == "subscribe" and token and params.get("hub.verify_token") == token:
        return _response(200, params.get("hub.challenge", ""))
    return _response(403, {"error": "verification failed"})


def _messages(payload: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for entry in payload.get("entry", []):
        for change in entry.get("changes", []):
            out.extend(change.get("value", {}).get("messages", []))
    return out


def _handle_message(message: dict[str, Any]) -> dict[str, Any] | None:
    rt = runtime()
    phone, rid = f"+{message.get('from', '')}", message.get("id")
    action = classify(message.get("text", {}).get("body", ""))
    try:
        answer = rt.enforce_profit_requirements(phone, action, ESTIMATES[action],
                                                request_id=rid)
    except InputError as exc:
        log.warning("message %s refused: %s", rid, exc)
        return None
    if answer["action_allowed"] and answer["decision"] is not None and not answer["duplicate"]:
        # The real handler measures its AI call here; the example records the decided cost.
        try:
            rt.track_cost_event(phone, f"{action}_completed", {"source": "example"},
                                actual_cost=usd(answer["decision"].cost), request_id=rid)
        except (InputError, StoreUnavailable) as exc:
            log.error("message %s: cost not recorded: %s", rid, exc)
    return {"to": phone, "request_id": rid, "action": action,
            "enforcement_type": answer["enforcement_type"], "text": reply_for(answer, action)}


# -- Stripe ---------------------------------------------------------------------------------
def payment_webhook_handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Stripe webhook: verify the signature, then credit the payment once per payment id."""
    import stripe

    payload = _body(event)
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    secret = os.environ.get("STRIPE_WEBHOOK_SECRET")
    try:
        stripe.Webhook.construct_event(payload, headers.get("stripe-signature"), secret)
    except (ValueError, stripe.SignatureVerificationError) as exc:
        log.warning("payment webhook refused: %s", str(exc).splitlines()[0])
        return _response(400, {"error": "invalid signature or payload"})
    try:
        return _credit(json.loads(payload))  # verified: the raw JSON as plain dicts
    except StoreUnavailable as exc:
        log.error("payment webhook: %s; Stripe will retry", exc)
        return _response(500, {"error": "store unavailable, retry"})
    except InputError as exc:
        log.error("payment webhook ignored: %s", exc)
        return _response(200, {"received": True, "ignored": str(exc)})
    except Exception as exc:  # noqa: BLE001 - a handler never raises
        log.error("payment webhook: %s: %s", type(exc).__name__, exc)
        return _response(500, {"error": type(exc).__name__})


def _credit(event: dict[str, Any]) -> dict[str, Any]:
    kind = event.get("type")
    if kind not in PAYMENT_EVENTS:
        return _response(200, {"received": True, "ignored": kind})
    obj = event.get("data", {}).get("object", {})
    if kind == "checkout.session.completed" and obj.get("payment_status") != "paid":
        return _response(200, {"received": True, "ignored": "checkout not paid"})
    cents = obj.get("amount_received" if kind == "payment_intent.succeeded" else "amount_total")
    if not isinstance(cents, int) or isinstance(cents, bool):
        raise InputError(f"{kind} {obj.get('id')}: amount is not whole cents: {cents!r}")
    if str(obj.get("currency", "")).lower() != "usd":
        raise InputError(f"{kind} {obj.get('id')}: currency {obj.get('currency')!r} is not usd")
    payment_id = obj.get("payment_intent") or obj.get("id")
    meta = obj.get("metadata") or {}
    tokens = meta.get("tokens")
    if tokens is not None:
        if not str(tokens).isdigit():
            raise InputError(f"{kind} {obj.get('id')}: metadata tokens is not whole: {tokens!r}")
        tokens = int(tokens)
    out = runtime().record_payment(
        meta.get("user_phone"), payment_id, str(Decimal(cents) / 100),
        meta.get("stream", "tokens"), tokens, partner=meta.get("plan"),
        details={"payment_method": "stripe", "webhook_event_id": event.get("id")})
    return _response(200, {"received": True, "payment_id": payment_id,
                           "duplicate": out.duplicate, "tokens_added": out.tokens_credited})


# -- affiliate clicks -------------------------------------------------------------------------
def click_handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """`GET /go?partner=..&user=..&click=..`: record the click (once per click id), then
    redirect to the partner's link. Only links in PROFIT_PARTNER_LINKS are redirected to,
    so the endpoint is no open redirect; a store failure is logged and still redirects."""
    params = event.get("queryStringParameters") or {}
    try:
        links = json.loads(os.environ.get("PROFIT_PARTNER_LINKS") or "{}")
    except ValueError:
        links = {}
    partner = params.get("partner")
    if partner not in links:
        return _response(404, {"error": f"unknown partner: {partner!r}"})
    try:
        runtime().record_affiliate_event(f"+{str(params.get('user', '')).lstrip('+')}",
                                         params.get("click"), partner, "click")
    except InputError as exc:
        log.warning("click refused: %s", exc)
        return _response(400, {"error": str(exc)})
    except StoreUnavailable as exc:
        log.error("click not recorded: %s", exc)
    return {"statusCode": 302, "headers": {"Location": links[partner]}, "body": ""}


class ProfitEnforcedMessageHandler:
    """The guide's Step 3 name: `ProfitEnforcedMessageHandler().handle_message(event)`."""

    def handle_message(self, event: dict[str, Any]) -> dict[str, Any]:
        return message_handler(event)
