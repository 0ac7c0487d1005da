"""`python -m tests.bench --users 10000,100000 [--months 1]`: every benchmark, one table.

For each size it builds (once, then keeps) `data/bench/demo-<users>u-<months>m.duckdb` with
the demo generator, imports every `tests/bench/bench_*.py`, calls its
`run(users, db) -> list[dict]` and prints one table at the end. A benchmark that raises
gets an ERROR row and makes the runner exit 1.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from loaders.demo import DEFAULT_SEED, DemoSpec, generate, month_starts

ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = ROOT / "data" / "bench"
BENCH_END = "2026-03"     # fixed, so a kept database is the same data whenever it was built
COLUMNS = ("benchmark", "users", "figure", "baseline", "ratio")


def bench_db(users: int, months: int = 1) -> Path:
    """The kept demo database of that size, built on first use (fast path: same tables)."""
    path = BENCH_DIR / f"demo-{users}u-{months}m.duckdb"
    if not path.exists():
        t0 = time.perf_counter()
        spec = DemoSpec(users=users, months=month_starts(BENCH_END, months), seed=DEFAULT_SEED)
        generate(path, spec, progress=sys.stderr.isatty(), direct=True)
        print(f"built {path.relative_to(ROOT)} in {time.perf_counter() - t0:.1f} s",
              file=sys.stderr)
    return path


def modules(only: str | None = None) -> list[str]:
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)])
                   if m.name.startswith("bench_"))
    return [n for n in names if not only or only in n]


def run_all(sizes: list[int], months: int, only: str | None = None) -> tuple[list[dict], bool]:
    rows: list[dict] = []
    ok = True
    for users in sizes:
        db = bench_db(users, months)
        for name in modules(only):
            try:
                module = importlib.import_module(f"tests.bench.{name}")
                result = module.run(users, db)
                for row in result:
                    missing = [c for c in COLUMNS if c not in row]
                    if missing:
                        raise ValueError(f"row without {', '.join(missing)}: {row}")
                rows.extend(result)
            except Exception as exc:  # noqa: BLE001 - reported in the table, exit code 1
                ok = False
                traceback.print_exc(file=sys.stderr)
                rows.append({"benchmark": name, "users": users,
                             "figure": f"ERROR {type(exc).__name__}: {exc}"[:70],
                             "baseline": "-", "ratio": "-"})
    return rows, ok


def render(rows: list[dict]) -> str:
    cells = [[str(c) for c in COLUMNS]] + [
        [f"{r['users']:,}" if c == "users" and isinstance(r[c], int) else str(r[c])
         for c in COLUMNS] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    lines = ["  ".join(v.rjust(w) if i == 1 else v.ljust(w)
                       for i, (v, w) in enumerate(zip(row, widths, strict=True))).rstrip()
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run_alone(run: Callable[[int, Path], list[dict]], prog: str,
              argv: list[str] | None = None) -> int:
    """One benchmark module as its own command: `--users N [--db PATH]` (by default the
    kept database of that size), its rows printed as the whole run prints them."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--db", type=Path)
    args = parser.parse_args(argv)
    print(render(run(args.users, args.db or bench_db(args.users))))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--users", default="10000,100000",
                        help="comma-separated sizes (default 10000,100000)")
    parser.add_argument("--months", type=int, default=1)
    parser.add_argument("--only", help="run only the benchmark modules whose name has this")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.users.split(",") if s.strip()]
    rows, ok = run_all(sizes, args.months, args.only)
    print(render(rows))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
