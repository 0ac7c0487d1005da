"""`python -m queries kpis --db PATH --grain day|week|month --period P --format json`.

`--lake DIR` reads an exported lake with DuckDB instead of the database, and
`--engine spark --lake DIR [--spark-master URL]` runs the same SQL on Spark.

Prints one JSON object with every figure of the spec for the period. A malformed period
(or grain, timezone, policy) is a one-line error and exit code 2; a period with no data
is zeros and nulls, not an error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit code 2
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m queries", description=__doc__.splitlines()[0])
    subs = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    k = subs.add_parser(
        "kpis", help="every KPI of the spec for one day, ISO week or month",
        description="Every figure of core.metrics for one period, as one JSON object "
                    "(money as exact decimal strings, shares rounded to two decimals).",
        epilog="examples (on the demo data of `make run`):\n"
               "  .venv/bin/python -m queries kpis\n"
               "  .venv/bin/python -m queries kpis --grain week --period 2026-W46\n"
               "  .venv/bin/python -m queries kpis --db data/profit.duckdb --grain day "
               "--period 2026-11-15 --timezone Europe/Paris",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    k.add_argument("--db", type=Path, help="DuckDB file (default: the settings' database)")
    k.add_argument("--grain", default="month", choices=("day", "week", "month"),
                   help="default: month")
    k.add_argument("--period", help="2026-03-14 | 2026-W11 | 2026-03 (default: the latest "
                                    "with data)")
    k.add_argument("--timezone", help="IANA reporting timezone (default: the setting, UTC)")
    k.add_argument("--policy", type=Path, help="policy TOML (default: the current policy)")
    k.add_argument("--format", choices=("json",), default="json")
    from queries.engine import add_engine_arguments
    add_engine_arguments(k)
    return parser


def kpis_command(args: argparse.Namespace) -> int:
    from core import settings
    from enforcement.policy import PolicyError
    from loaders.publish import connect_read_only
    from queries import engine as engines
    from queries import kpis

    try:
        engine, lake, master = engines.source_of(args)
        tz = args.timezone or settings.timezone()
        kpis.zone(tz)
        if args.period is not None:
            kpis.make_period(args.grain, args.period, tz)
        policy = kpis.resolve_policy(args.policy or settings.policy_path())
    except (ValueError, PolicyError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if lake:
        try:
            con = engines.connect(lake, engine, master)
        except (ValueError, RuntimeError, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    else:
        db = args.db or settings.db_path()
        if not Path(db).is_file():
            print(f"error: no database at {db}", file=sys.stderr)
            return 1
        con = connect_read_only(Path(db))
    try:
        if args.period is None:  # the latest period with data
            span = kpis.data_span(con, tz)
            if span is None:
                print(f"error: {db} holds no data; name the --period", file=sys.stderr)
                return EXIT_USAGE
            args.period = kpis.period_name(args.grain, span[1])
        figures = kpis.kpis(con, args.grain, args.period, tz, policy)
    finally:
        con.close()
    print(kpis.to_json(figures))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "kpis":
        return kpis_command(args)
    return EXIT_USAGE  # pragma: no cover - argparse refuses unknown commands


if __name__ == "__main__":
    sys.exit(main())
