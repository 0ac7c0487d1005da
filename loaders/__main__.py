"""`python -m loaders <source> ...`: one sub-command per source module.

Each source module declares itself once (`LOADER = Source(...)`, loaders/registry.py):
its command, arguments and `main`. The sub-commands are built from the registry, so
adding a source is adding a module and no other file changes.
"""

from __future__ import annotations

import argparse
import sys

from core import secrecy, settings
from loaders import registry
from loaders.pipeline import LoadError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit code 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m loaders", description=__doc__.splitlines()[0])
    subs = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command, source in sorted(registry.sources().items()):
        sub = subs.add_parser(
            command, help=source.help, description=source.help,
            epilog=f"example:\n{source.example}" if source.example else None,
            formatter_class=argparse.RawDescriptionHelpFormatter)
        source.add_arguments(sub)
        sub.set_defaults(_main=source.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args._main(args)
    except (LoadError, FileNotFoundError, ValueError) as exc:
        hidden = secrecy.secret_values(settings.secrets())  # an error may quote a URL or phone
        print(f"error: {secrecy.redact(str(exc), hidden)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
