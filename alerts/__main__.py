"""`python -m alerts check [--db PATH] [--now ISO] [--dry-run]`: the cron entry."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import duckdb

from alerts.check import check, hidden_values, parse_now
from alerts.state import StateError
from core import secrecy, settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m alerts",
                                     description="Check the alert rules and send what is new.")
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser(
        "check", help="evaluate, send what is new, record it (for cron)",
        description="Evaluate the alert rules of [alerts], send each new alert once to "
                    "every channel, and record it beside the database.",
        epilog="examples:\n  .venv/bin/python -m alerts check --dry-run\n"
               "  .venv/bin/python -m alerts check --now 2026-11-15T10:00:00",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    c.add_argument("--db", type=Path, default=None, help="DuckDB file (default: settings)")
    c.add_argument("--now", default=None,
                   help="the instant to judge at, ISO (default: now; no offset means UTC)")
    c.add_argument("--dry-run", action="store_true",
                   help="print what would fire or resolve; send and record nothing")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        now = parse_now(args.now)
        db = args.db or settings.db_path()
        conf = settings.alerts(db)
        settings.timezone()
    except ValueError as exc:
        print(f"alerts: error: {exc}", file=sys.stderr)
        return 2
    if not Path(db).is_file():
        print(f"alerts: error: no database at {db}", file=sys.stderr)
        return 1
    try:
        return check(Path(db), now, dry_run=args.dry_run)
    except StateError as exc:
        print(secrecy.redact(f"alerts: error: {exc}", hidden_values(conf)), file=sys.stderr)
        return 2
    except duckdb.Error as exc:
        line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(secrecy.redact(f"alerts: error: cannot read {db}: {line}", hidden_values(conf)),
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
