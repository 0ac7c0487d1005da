"""The original chatbot's DynamoDB items, mapped to the contract's rows.

Shared by every path that meets those items: the DynamoDB loader, DynamoDB-JSON
export files and S3 exports. The quirks are the data contract's: naive UTC
timestamps, Decimal numbers, `whatsapp:` phones, estimate and `_completed` lines
(paired by the loading path), and `revenue_type` names to map to a stream.

What the chatbot's runtime (`runtime/`, ../shared/spec/runtime.md) adds is read here too:
- a sort key `timestamp` made unique by a suffix, `2026-03-01T09:00:00#0000000042` (the
  user's event sequence number): the instant is the part before `#`, the event id keeps
  the whole key, so two requests in one microsecond are two rows, in decision order;
- the decision on each cost item (`requested_cost`, `decision_*`, `policy_id`,
  `request_id`);
- the affiliate table's items (`kind`: shown, click or conversion);
- its idempotency keys (`record_type: idempotency`, sort key `request#<id>` and the
  like): bookkeeping that repeats what the event items hold, so they are skipped, not
  refused.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from loaders.pipeline import Chunk

STREAMS = {
    "token_purchase": "tokens",
    "subscription": "premium",
    "premium": "premium",
    "family_plan": "premium",
    "affiliate_commission": "affiliate",
    "affiliate": "affiliate",
    "data": "data",
    "data_monetization": "data",
}
AFFILIATE_KINDS = ("shown", "click", "conversion")
IDEMPOTENCY_RECORD = "idempotency"
SEQUENCE_SEPARATOR = "#"
_TYPE_TAGS = {"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"}


def stream_of(revenue_type: object) -> str:
    """`revenue_type` to the contract's stream; anything unknown is `other`."""
    return STREAMS.get(str(revenue_type or "").strip().lower(), "other")


def _is_typed(value: object) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _TYPE_TAGS


def _number(text: object) -> Decimal:
    """A DynamoDB number, exactly as written (boto3's 38-digit context would raise on a
    longer one and fail the whole file); one DynamoDB could not hold refuses its item."""
    if not isinstance(text, str):
        raise ValueError(f"a number (N) must be written as a string, got {text!r}")
    try:
        value = Decimal(text.strip())
    except ArithmeticError:
        raise ValueError(f"not a number (N): {text[:40]!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a number (N): {text[:40]!r}")
    digits = len(value.as_tuple().digits)
    if value and (digits > 38 or not -130 <= value.adjusted() <= 125):
        # DynamoDB itself holds no such number: the export is not what DynamoDB wrote.
        shown = text if len(text) <= 40 else text[:20] + "…"
        raise ValueError(f"number past DynamoDB's range (38 digits, 1E-130 to 9.9E+125): "
                         f"{shown}")
    return value


def _binary(text: object) -> bytes:
    """A binary (B) value: base64 in DynamoDB JSON, already bytes from boto3."""
    if isinstance(text, bytes | bytearray):
        return bytes(text)
    try:
        return base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a binary (B) value is not base64") from None


def deserialize(value: dict[str, Any]) -> Any:
    """One typed DynamoDB-JSON value as plain Python (numbers Decimal, binaries bytes)."""
    (tag, inner), = value.items()
    if tag == "S":
        if not isinstance(inner, str):
            raise ValueError(f"a string (S) must be a JSON string, got {inner!r}"[:120])
        return inner
    if tag == "N":
        return _number(inner)
    if tag == "B":
        return _binary(inner)
    if tag == "BOOL":
        return bool(inner)
    if tag == "NULL":
        return None
    if tag in ("SS", "NS", "BS", "L"):
        if not isinstance(inner, list):
            raise ValueError(f"a {tag} value must be a list")
        parse = {"SS": str, "NS": _number, "BS": _binary}.get(tag)
        if parse is None:
            return [deserialize(v) if _is_typed(v) else _bad(v) for v in inner]
        return [parse(v) for v in inner]
    if not isinstance(inner, dict):
        raise ValueError("a map (M) value must be an object")
    return {k: deserialize(v) if _is_typed(v) else _bad(v) for k, v in inner.items()}


def _bad(value: object) -> Any:
    raise ValueError(f"not a typed DynamoDB value: {str(value)[:60]}")


def plain_item(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB-JSON item (`{"a": {"S": "x"}}`) as plain Python, numbers as Decimal.

    An item that is already plain (as boto3's resource API returns it) is kept. A value
    that is not what its type tag says raises ValueError, which refuses that item only.
    """
    if not isinstance(item, dict):
        raise ValueError("the item is not a JSON object")
    if item and all(_is_typed(v) for v in item.values()):
        return {k: deserialize(v) for k, v in item.items()}
    return item


def _json_safe(value: Any) -> Any:
    """Details kept as JSON: whole Decimals as ints, others as exact strings, binaries as
    base64. A Decimal far past any amount stays a string (`int(1E+400000)` is huge)."""
    if isinstance(value, Decimal):
        if value.is_finite() and value == value.to_integral_value() and value.adjusted() < 20:
            return int(value)
        return str(value)
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json_safe(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _text(value: Any) -> str | None:
    """An item's value as the text the loading path parses: numbers written out plainly,
    unless their exponent is absurd (then as given, which the path refuses)."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        if value.is_finite() and -30 < value.adjusted() < 30:
            return format(value, "f")
        return str(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


def _details(value: Any) -> dict | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {"text": value}
    return value if isinstance(value, dict) else None


def instant_text(timestamp: Any) -> str | None:
    """The instant of a sort key: the runtime's `<iso>#<sequence>` loses its suffix."""
    text = _text(timestamp)
    return text.split(SEQUENCE_SEPARATOR, 1)[0] if text else text


def table_of(item: dict[str, Any]) -> str | None:
    """Which original table an item comes from, by its shape; None when unknown."""
    if "revenue_type" in item or "revenue_amount" in item:
        return "revenue_events"
    if "token_balance" in item:
        return "token_balances"
    if "kind" in item and "event_type" not in item:
        return "affiliate_events"
    if "event_type" in item or "actual_cost" in item:
        return "cost_events"
    return None


def cost_row(item: dict[str, Any]) -> dict[str, Any]:
    details = _details(item.get("cost_details"))
    return {
        "event_id": f"costs:{item.get('user_phone')}#{item.get('timestamp')}",
        "user_id": _text(item.get("user_phone")),
        "ts": instant_text(item.get("timestamp")),
        "action": None,  # derived from event_type by the loading path
        "event_type": _text(item.get("event_type")),
        "cost_usd": _text(item.get("actual_cost")),
        "counted": None,  # estimate/actual pairing decides
        "category": _text((details or {}).get("category")),
        "details": json.dumps(_json_safe(details)) if details is not None else None,
        "requested_cost_usd": _text(item.get("requested_cost")),
        "decision_served": _text(item.get("decision_served")),
        "decision_level": _text(item.get("decision_level")),
        "decision_reason": _text(item.get("decision_reason")),
        "policy_id": _text(item.get("policy_id")),
        "request_id": _text(item.get("request_id")),
    }


def revenue_row(item: dict[str, Any]) -> dict[str, Any]:
    details = _details(item.get("details")) or {}
    tokens = details.get("tokens_purchased", details.get("tokens"))
    partner = (details.get("partner") or details.get("partner_name") or details.get("plan")
               or details.get("plan_name"))
    return {
        "event_id": f"revenue:{item.get('user_phone')}#{item.get('timestamp')}",
        "user_id": _text(item.get("user_phone")),
        "ts": instant_text(item.get("timestamp")),
        "stream": stream_of(item.get("revenue_type")),
        "amount_usd": _text(item.get("revenue_amount")),
        "tokens": _text(tokens),
        "partner": _text(partner),
        "details": json.dumps(_json_safe(
            {"revenue_type": item.get("revenue_type"), **details})),
    }


def token_row(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "user_id": _text(item.get("user_phone")),
        "as_of": _text(item.get("last_updated")),
        "balance": _text(item.get("token_balance")),
    }


def affiliate_row(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": f"affiliate:{item.get('user_phone')}#{item.get('timestamp')}",
        "user_id": _text(item.get("user_phone")),
        "ts": instant_text(item.get("timestamp")),
        "partner": _text(item.get("partner")),
        "kind": _text(item.get("kind")),
    }


MAPPERS = {"cost_events": cost_row, "revenue_events": revenue_row, "token_balances": token_row,
           "affiliate_events": affiliate_row}


def items_to_chunk(items: Iterable[dict[str, Any]], *, expect: str | None = None,
                   lines: Sequence[int] | None = None, raws: Sequence[str] | None = None
                   ) -> Chunk:
    """Map original items (plain or DynamoDB-JSON) into one chunk for the loading path.

    `expect` names the table the items were read from; an item of another or no
    known shape is refused with its reason instead of being guessed, and so is one
    whose values cannot be read (`lines` numbers the items in their file for that
    reason; `raws` gives each item's text as it came, kept as its raw record).
    """
    chunk = Chunk()
    frames: dict[str, list[dict[str, Any]]] = {}
    read = 0
    for i, raw in enumerate(items):
        read += 1
        where = f"line {lines[i]}" if lines is not None else f"item {i + 1} of its page"
        raw_text = raws[i] if raws is not None else json.dumps(_json_safe(raw), default=str)
        try:
            item = plain_item(raw.get("Item", raw) if isinstance(raw, dict) else raw)
            if item.get("record_type") == IDEMPOTENCY_RECORD:
                continue  # the runtime's bookkeeping: the event item it guards is loaded
            table = table_of(item)
            row = MAPPERS[table](item) if table is not None and table == (expect or table) \
                else None
        except (ValueError, TypeError, ArithmeticError) as exc:
            chunk.rejects.append((expect or "unknown", raw_text,
                                  f"unreadable DynamoDB item: {where}: {exc}"))
            continue
        if row is None:
            found = table or "no known table"
            reason = f"unknown table shape: {found}" + (f", expected {expect}" if expect else "")
            chunk.rejects.append((expect or "unknown", raw_text, reason))
            continue
        row["_raw"] = raw_text
        frames.setdefault(table, []).append(row)
    chunk.frames = dict(frames)
    chunk.rows_read = read
    return chunk
