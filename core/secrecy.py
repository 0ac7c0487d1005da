"""Secrets never shown: redaction for messages, logs and database URLs.

`secret_values(settings.secrets())` lists what must never appear; `redact(text, values)`
takes it out of a message; `install_log_redaction(values)` does the same to every log
record (tracebacks included); `safe_url(url)` hides a database URL's password.
Plain Python, no Streamlit, so loaders can use it for their error output.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from core.privacy import mask_text

_SECRET_KEY_WORDS = re.compile(
    r"secret|password|passwd|hash|token|key|credential|dsn|url|uri", re.IGNORECASE)
REDACTED = "***"


# scheme://user:password@host..., the password running to the *last* `@` (people type
# `p@ss` unencoded; a parser that stops at the first `@` shows the rest as the host).
_USERINFO = re.compile(r"^(?P<head>[A-Za-z][\w+.-]*://[^:/@\s]*):(?P<pw>.*)@(?P<tail>[^@]*)$",
                       re.DOTALL)


def normalise_url(url: str) -> str:
    """A database URL as typed, with `@`, `/`, `:`, `?` and `#` inside its password
    percent-encoded, so a URL parser reads the whole password (and the right host)."""
    match = _USERINFO.match(url)
    if not match or not re.search(r"[@/:?#]", match.group("pw")):
        return url
    pw = "".join(f"%{ord(c):02X}" if c in "@/:?#%" else c for c in match.group("pw"))
    return f"{match.group('head')}:{pw}@{match.group('tail')}"


def safe_url(url: str) -> str:
    """A database URL with its password hidden, fit for a message or a log line."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(normalise_url(url)).render_as_string(hide_password=True)
    except Exception:  # not a URL sqlalchemy knows: hide any user:password@ by hand
        return _hide_passwords(str(url))


def _hide_passwords(text: str) -> str:
    """Every `://user:password@` in `text` as `://user:***@`, up to the last `@` of the
    word, so a password holding `@` is hidden whole."""
    return re.sub(r"(://[^:/@\s]*):\S*@", r"\1:" + REDACTED + "@", text)


def secret_values(conf: Mapping[str, Any]) -> list[str]:
    """Every value in the secrets that must never be shown: under a secret-sounding key,
    plus the password inside any URL. Longest first, so redaction removes whole values."""
    found: set[str] = set()

    def walk(node: Any, secretish: bool) -> None:
        if isinstance(node, Mapping):
            for k, v in node.items():
                walk(v, secretish or bool(_SECRET_KEY_WORDS.search(str(k))))
        elif isinstance(node, list | tuple):
            for v in node:
                walk(v, secretish)
        elif isinstance(node, str):
            match = re.search(r"//[^:/@\s]+:(\S+)@", node)
            if match and len(match.group(1)) >= 4:
                found.add(match.group(1))
            if secretish and len(node) >= 6:
                found.add(node)

    walk(conf, False)
    return sorted(found, key=len, reverse=True)


def redact(text: str, values: Iterable[str]) -> str:
    """`text` with every secret value replaced by ***, URL passwords hidden and phones
    masked: whatever reaches a page or a log goes through here."""
    out = mask_text(text)
    for value in values:
        if value:
            out = out.replace(value, REDACTED)
    return _hide_passwords(out)


class RedactingFilter(logging.Filter):
    """Rewrites a log record so no secret value reaches the log, tracebacks included."""

    def __init__(self, values: Iterable[str]) -> None:
        super().__init__("profit.redact")
        self.values = list(values)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        record.msg, record.args = redact(message, self.values), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.values)
        return True


def install_log_redaction(values: Iterable[str]) -> None:
    """Put one RedactingFilter on every handler of the root and Streamlit's loggers.

    Streamlit's loggers do not propagate, so each of their handlers gets the filter.
    Calling it again replaces the values (the secrets may have changed).
    """
    values = list(values)
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [lg for name, lg in logging.Logger.manager.loggerDict.items()
                if isinstance(lg, logging.Logger) and name.split(".")[0] in {"streamlit",
                                                                            "loaders",
                                                                            "dashboard"}]
    for logger in loggers:
        for handler in logger.handlers:
            for existing in handler.filters:
                if isinstance(existing, RedactingFilter):
                    existing.values = values
                    break
            else:
                handler.addFilter(RedactingFilter(values))


