"""The audit log of admin reveals: who saw which user's full phone number, and when.

The log names the user by masked number and a keyed reference, never the full number:
the log then holds no phone to leak, and an auditor holding the key (the `.key` file
made beside the log) finds the user with
`python -m core.audit find-ref REF --db PATH`. Plain Python, no Streamlit.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import logging
import os
import secrets as secrets_module
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from core import settings
from core.privacy import mask_phone

AUDIT_LOGGER = "profit.audit"


def audit_log_path() -> Path:
    """`PROFIT_AUDIT_LOG`, else `[access] audit_log` in the secrets, else data/audit.log."""
    raw = os.environ.get("PROFIT_AUDIT_LOG") or settings.secrets().get("access", {}).get(
        "audit_log") or str(settings.ROOT / "data" / "audit.log")
    path = Path(raw)
    return path if path.is_absolute() else settings.ROOT / path


def _audit_key(log_path: Path) -> bytes:
    """A random key made once beside the log, readable by the server's user only."""
    key_path = log_path.with_suffix(".key")
    if not key_path.exists():
        key_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets_module.token_bytes(32))
    return key_path.read_bytes()


def user_ref(user_id: str, *, log_path: Path | None = None) -> str:
    """A stable 16-hex reference for a user that cannot be turned back into the number."""
    key = _audit_key(log_path or audit_log_path())
    return hmac.new(key, str(user_id).encode("utf-8"), hashlib.sha256).hexdigest()[:16]


_audit_lock = threading.Lock()


def _audit_logger(path: Path) -> logging.Logger:
    logger = logging.getLogger(f"{AUDIT_LOGGER}.{path}")
    with _audit_lock:
        if not logger.handlers:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(path, encoding="utf-8")
            handler.setFormatter(logging.Formatter("%(message)s"))
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
            logger.propagate = False  # the reveal goes to the audit file, nowhere else
    return logger


def log_reveal(who: str, user_id: str, *, path: Path | None = None) -> str:
    """Record that `who` revealed `user_id`'s full number; returns the line written.

    Line: `2026-03-02T09:00:00Z reveal who="alice" user=…0001 ref=3f2a…`.
    """
    path = path or audit_log_path()
    when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    safe_who = str(who).replace('"', "'").replace("\n", " ")[:120]
    line = (f'{when} reveal who="{safe_who}" user={mask_phone(user_id)} '
            f"ref={user_ref(user_id, log_path=path)}")
    logger = _audit_logger(path)
    logger.info(line)
    for handler in logger.handlers:
        handler.flush()
    return line


def find_ref(ref: str, user_ids: Iterable[str], *, log_path: Path | None = None) -> str | None:
    """The user whose reference is `ref` (for an auditor), or None."""
    for user_id in user_ids:
        if hmac.compare_digest(user_ref(user_id, log_path=log_path), ref):
            return user_id
    return None


def main(argv: list[str] | None = None) -> int:
    """`python -m core.audit find-ref REF [--db PATH]`: which user an audit line names."""
    import queries  # only the auditor's command reads the database
    from loaders.publish import connect_read_only

    parser = argparse.ArgumentParser(prog="python -m core.audit")
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("find-ref", help="print the user_id an audit-log ref= names",
                         description="Which user an audit-log line's ref= names (needs the "
                                     "key file beside the log).",
                         formatter_class=argparse.RawDescriptionHelpFormatter,
                         epilog="example:\n  .venv/bin/python -m core.audit find-ref "
                                "3f2a9c0d1e2b4a5f --db data/profit.duckdb")
    cmd.add_argument("ref")
    cmd.add_argument("--db", type=Path, default=None)
    args = parser.parse_args(argv)
    con = connect_read_only(args.db or settings.db_path())
    try:
        user_ids = queries.run(con, "audit_user_ids")["user_id"].tolist()
    finally:
        con.close()
    found = find_ref(args.ref, user_ids)
    if found is None:
        print("no user has that reference", file=sys.stderr)
        return 1
    print(found)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
