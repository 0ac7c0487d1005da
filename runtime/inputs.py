"""Checks on everything a caller hands the runtime, each refusal with its reason.

The runtime never guesses: a float, a negative cost, an unknown stream or a phone that is
not one is refused before anything is read or written (`InputError`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from enforcement.money import to_micro

STREAMS = ("tokens", "premium", "affiliate", "data", "other")
AFFILIATE_KINDS = ("shown", "click", "conversion")
_PHONE_BODY = re.compile(r"[+]?[0-9 ().-]*[0-9][0-9 ().-]*")
_CHANNEL = re.compile(r"^(whatsapp|tel|sms):", re.IGNORECASE)
MAX_ID = 200


class InputError(ValueError):
    """A call the runtime refuses, with the reason (nothing was read or written)."""


def phone(value: Any) -> str:
    """E.164 as the loader stores it: `whatsapp:+1 555-000 1` -> `+15550001` (4-15 digits)."""
    if not isinstance(value, str) or not value.strip():
        raise InputError("missing user phone")
    body = _CHANNEL.sub("", value.strip())
    digits = re.sub(r"[^0-9]", "", body)
    if not _PHONE_BODY.fullmatch(body) or not 4 <= len(digits) <= 15:
        raise InputError(f"user is not a phone number: {value!r}")
    return "+" + digits


def money(value: Any, what: str, *, negative: bool = False) -> int:
    """USD (decimal string, Decimal or int) as micro-dollars; floats refused, as boto3 would."""
    if isinstance(value, float):
        raise InputError(f"{what} is a float ({value!r}): give money as a decimal string "
                         "such as \"0.30\"")
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InputError(f"missing {what}")
    try:
        micro = to_micro(value)
    except ValueError as exc:
        raise InputError(f"{what}: {exc}") from None
    if micro < 0 and not negative:
        raise InputError(f"negative {what}: {value}")
    return micro


def identifier(value: Any, what: str) -> str:
    """A request, payment or click id: a non-empty string of at most 200 characters."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"missing {what}")
    if len(value) > MAX_ID:
        raise InputError(f"{what} longer than {MAX_ID} characters")
    return value.strip()


def action(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError("missing action")
    return value.strip().lower()


def stream(value: Any) -> str:
    if value not in STREAMS:
        raise InputError(f"unknown stream: {value!r} (one of {', '.join(STREAMS)})")
    return value


def kind(value: Any) -> str:
    if value not in AFFILIATE_KINDS:
        raise InputError(f"unknown affiliate kind: {value!r} (one of {', '.join(AFFILIATE_KINDS)})")
    return value


def tokens(value: Any) -> int | None:
    """Tokens credited, where the caller says (bonus included); None means the policy decides."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise InputError(f"tokens is not a whole number: {value!r}")
    if value != int(value) or value < 0:
        raise InputError(f"tokens must be a whole number >= 0, got {value}")
    return int(value)


def instant(value: Any) -> datetime:
    """An aware UTC instant: a datetime (naive means UTC) or ISO text (`Z` allowed)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"not an ISO instant: {value!r}") from None
    if not isinstance(value, datetime):
        raise InputError(f"not an instant: {value!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
