"""The weekly report command, for cron and by hand.

    python -m report weekly --db PATH --week 2026-W11 [--timezone TZ]
        [--policy FILE] --out FILE [--unmasked]
    python -m report weekly --engine spark --lake DIR_OR_S3 [--spark-master URL] ...

(`python -m dashboard.report weekly ...` is the same command, as cron lines type it.)
The format comes from the extension: `.html`, `.xlsx`, `.csv` or `.pdf` (report.files).
Exit 0 when written, 2 for a bad argument, 1 for anything else, with one line on stderr.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import duckdb

from core import settings
from enforcement.policy import PolicyError, load_policy
from queries import kpis as kpi_layer
from queries import weekly
from report.files import format_of, render
from report.model import ReportError, build_weekly


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dashboard.report",
                                     description="Make the weekly profitability report.")
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser(
        "weekly", help="one ISO week's report",
        description="One ISO week's profitability report, as the Weekly page shows it: "
                    "html, xlsx, csv or pdf by the file's extension.",
        epilog="examples (on the demo data of `make run`):\n"
               "  .venv/bin/python -m dashboard.report weekly --out reports/week.pdf\n"
               "  .venv/bin/python -m dashboard.report weekly --week 2026-W46 "
               "--out week.xlsx --email",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    w.add_argument("--db", type=Path, default=None, help="DuckDB file (default: settings)")
    w.add_argument("--week", default=None,
                   help="ISO week like 2026-W11 (default: the last complete week)")
    w.add_argument("--timezone", default=None, help="IANA timezone (default: settings)")
    w.add_argument("--policy", type=Path, default=None, help="policy TOML (default: settings)")
    w.add_argument("--out", type=Path, required=True, help="file .html, .xlsx, .csv or .pdf")
    w.add_argument("--unmasked", action="store_true", help="show phones in full")
    w.add_argument("--email", action="store_true",
                   help="also mail the file to [alerts] email_to, the week's verdict in the body")
    from queries.engine import add_engine_arguments
    add_engine_arguments(w)
    return parser


def _fail(message: str, code: int) -> int:
    print(f"report: error: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None, *, today: date | None = None) -> int:
    """Exit 0 when written, 2 for a bad argument (week, timezone, policy, format), 1 else."""
    args = _parser().parse_args(argv)
    try:
        tz = settings.check_timezone(args.timezone or settings.timezone())
        week = args.week
        if week is None:
            today = today or datetime.now(kpi_layer.zone(tz)).date()
            week = weekly.last_complete_week(today)
        week = weekly.parse_week(week)
        fmt = format_of(args.out)
        policy = load_policy(args.policy or settings.policy_path())
        from queries import engine as engines
        engine, lake, master = engines.source_of(args)
    except (ValueError, ReportError, PolicyError, OSError) as exc:
        return _fail(str(exc).splitlines()[0], 2)
    db = args.db or settings.db_path()
    if not lake and not Path(db).is_file():
        return _fail(f"no database at {db}", 1)
    from loaders.publish import connect_read_only
    from report import mail

    try:
        conf = settings.alerts(Path(db)) if args.email else None
    except ValueError as exc:
        return _fail(str(exc), 2)
    if conf is not None and not conf.email_ready:
        return _fail("--email needs smtp_host, email_from and email_to in [alerts]", 2)
    try:
        con = engines.connect(lake, engine, master) if lake else connect_read_only(Path(db))
        try:
            report = build_weekly(con, week=week, tz=tz, policy=policy)
        finally:
            con.close()
        data = render(report, fmt, masked=not args.unmasked)
    except (ReportError, duckdb.Error, subprocess.TimeoutExpired, FileNotFoundError,
            RuntimeError) as exc:
        return _fail(str(exc).splitlines()[0], 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    note = " (no data in that week)" if report.empty else ""
    print(f"wrote {args.out} ({fmt}, {report.week}, {len(report.users):,} users){note}")
    if conf is not None:
        try:
            mail.send(conf, report, args.out)
        except mail.DeliveryError as exc:
            return _fail(f"the email failed after {conf.retries} attempts ({exc}); "
                         f"the report is in {args.out}", 1)
        print(f"mailed {args.out.name} to {', '.join(conf.email_to)}")
    return 0
