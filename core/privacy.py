"""Phone numbers are personal data: everything shown, exported or logged is masked.

`mask_phone` masks a value known to be a phone. `mask_text` masks every phone-like run
inside any other string (a refusal's reason, a raw record, an error, a log line),
however the number is written: `+1 555 765 4321`, `15557654321`, `whatsapp:1555…`,
`(555) 765-4321`. Dates and times are left readable.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a column is masked where pandas is already loaded: a loader starts
    import pandas as pd  # without it (0.24 s of a day's load)

MIN_PHONE_DIGITS = 7  # the shortest subscriber number; anything shorter is not personal


def mask_phone(phone: str | None) -> str:
    """Keep only the last four digits: `+15551230001` -> `…0001`."""
    if phone is None or (isinstance(phone, float) and phone != phone):
        return ""
    digits = "".join(ch for ch in str(phone) if ch.isdigit())
    return "…" + digits[-4:]


def mask_column(series: pd.Series) -> pd.Series:
    """Mask a whole column of phones."""
    return series.map(mask_phone)


# A date or time (kept as it is), else a run of digits with the separators people put in
# phone numbers, after an optional channel prefix and `+`. Dates and IPv4 addresses come
# first, so `2026-03-01 09:00` and `127.0.0.1` are never read as phones.
_DATE = r"\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_PHONE_RUN = r"(?:(?:whatsapp|tel|sms):)?\+?\(?\d[\d ().\-/]*\d\)?"
_IP = r"\d{1,3}(?:\.\d{1,3}){3}(?![\d.])"  # 127.0.0.1 in an error stays readable
_CANDIDATE = re.compile(rf"(?P<keep>{_DATE}|{_IP})|(?P<run>{_PHONE_RUN})", re.IGNORECASE)


def _mask_match(match: re.Match[str]) -> str:
    run = match.group("run")
    if run is None:
        return match.group(0)
    digits = sum(ch.isdigit() for ch in run)
    return mask_phone(run) if digits >= MIN_PHONE_DIGITS else run


def mask_text(text: object) -> str:
    """`text` with every run of 7+ digits that could be a phone masked to its last four."""
    if text is None or (isinstance(text, float) and text != text):
        return ""
    return _CANDIDATE.sub(_mask_match, str(text))


def mask_raw_record(text: str | None) -> str:
    """A refused raw record with anything that could be a phone masked."""
    return mask_text(text) if text else ""
