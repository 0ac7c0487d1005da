"""Progress for long loads, written once: a terminal bar per table, or the app's bar.

A loader reports `(table, rows done, total or None)` as it reads each table in turn
(`TableProgress`). On a terminal that is one tqdm bar per table (`terminal_tables`);
on the Data page it is one fraction over all tables (`fraction_progress`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

from tqdm import tqdm

TableProgress = Callable[[str, int, int | None], None]


@contextmanager
def terminal_progress(desc: str, total: int | None = None, unit: str = "rows"
                      ) -> Iterator[Callable[[int], None]]:
    """A tqdm bar on stderr (hidden when stderr is not a terminal); yields `advance(n)`."""
    bar = tqdm(total=total, desc=desc, unit=unit, unit_scale=True, file=sys.stderr,
               disable=not sys.stderr.isatty(), leave=False)
    try:
        yield bar.update
    finally:
        bar.close()


@contextmanager
def terminal_tables(unit: str = "rows") -> Iterator[TableProgress]:
    """One terminal bar per table, in turn: each closes when the next table starts."""
    with ExitStack() as stack:
        current: dict[str, object] = {}

        def report(table: str, done: int, total: int | None) -> None:
            if current.get("table") != table:
                stack.close()
                current.update(table=table, seen=0,
                               advance=stack.enter_context(
                                   terminal_progress(table, total=total, unit=unit)))
            advance = current["advance"]
            advance(done - current["seen"])  # type: ignore[operator]
            current["seen"] = done

        yield report


def fraction_progress(report: Callable[[float | None, str], None], tables: int | None
                      ) -> TableProgress:
    """Table progress as one fraction over `tables` tables (None: a count, no fraction)."""
    seen: list[str] = []

    def progress(table: str, done: int, total: int | None) -> None:
        if table not in seen:
            seen.append(table)
        text = f"{table}: {done:,} rows" + (f" of {total:,}" if total else "")
        if not tables:
            report(None, text)
            return
        part = min(done / total, 1.0) if total else 0.0
        report(min((len(seen) - 1 + part) / tables, 1.0), text)

    return progress
