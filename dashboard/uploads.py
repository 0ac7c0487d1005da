"""Uploaded files are data, never code: a policy upload is size-checked and parsed as TOML.

The What-if page calls `read_policy_upload(st.file_uploader(...))`; a refusal is a
ValueError whose message can be shown as is (it never echoes the file's content).
"""

from __future__ import annotations

from typing import Any, Protocol

from enforcement.policy import PolicyError, parse_toml

MAX_POLICY_BYTES = 64_000


class _Upload(Protocol):
    name: str

    def getvalue(self) -> bytes: ...


def read_policy_upload(uploaded_file: _Upload | None, max_bytes: int = MAX_POLICY_BYTES) -> str:
    """The upload's text when it is a small, valid UTF-8 TOML file; else ValueError.

    A policy is a few hundred bytes; the limit keeps a stray large file from being
    held in memory and parsed on every rerun.
    """
    if uploaded_file is None:
        raise ValueError("no file was uploaded")
    size = getattr(uploaded_file, "size", None)
    if size is not None and size > max_bytes:
        raise ValueError(f"the file is {size:,} bytes; a policy may be at most {max_bytes:,} bytes")
    data = uploaded_file.getvalue()
    if len(data) > max_bytes:
        raise ValueError(
            f"the file is {len(data):,} bytes; a policy may be at most {max_bytes:,} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("the file is not UTF-8 text; a policy is a TOML file") from None
    parse_policy_text(text)
    return text


def parse_policy_text(text: str) -> dict[str, Any]:
    """Parse TOML; a syntax error, or nesting thousands deep, becomes a ValueError the
    page can show (the parser's own message names the line, not the content)."""
    try:
        return parse_toml(text, "the file")
    except PolicyError as exc:
        raise ValueError("; ".join(msg for _, msg in exc.errors).replace(
            "not valid TOML", "the file is not valid TOML")) from None
