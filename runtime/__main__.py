"""`python -m runtime simulate ...`: the runtime from the command line (see simulate.py)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from runtime import simulate


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runtime")
    sub = parser.add_subparsers(dest="command", required=True)
    sp = sub.add_parser("simulate", help="feed EVENTS.jsonl through the Lambda's code",
                        description=simulate.__doc__,
                         formatter_class=argparse.RawDescriptionHelpFormatter,
                        epilog="example (a dev table on a local endpoint):\n"
                               "  .venv/bin/python -m runtime simulate --policy "
                               "enforcement/policies/seed-default.toml \\\n"
                               "      --events events.jsonl --endpoint-url "
                               "http://127.0.0.1:5000 --env dev --create-tables")
    simulate.add_arguments(sp)
    args = parser.parse_args(argv)
    return simulate.main(args)


if __name__ == "__main__":
    sys.exit(main())
