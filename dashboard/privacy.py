"""Phone numbers are personal data: everything shown or exported is masked by default."""

from __future__ import annotations

import re

import pandas as pd


def mask_phone(phone: str | None) -> str:
    """Keep only the last four digits: `+15551230001` -> `…0001`."""
    if phone is None or (isinstance(phone, float) and phone != phone):
        return ""
    digits = "".join(ch for ch in str(phone) if ch.isdigit())
    return "…" + digits[-4:]


def mask_column(series: pd.Series) -> pd.Series:
    """Mask a whole column of phones."""
    return series.map(mask_phone)


_PHONE = re.compile(r"(?:whatsapp:)?\+\d[\d ().-]{6,}\d")


def mask_raw_record(text: str | None) -> str:
    """A refused raw record with anything that looks like a phone masked."""
    if not text:
        return ""
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), text)
