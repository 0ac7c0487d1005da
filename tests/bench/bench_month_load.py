"""Benchmark: a whole month of Parquet files through the loading path, and a day's load on top.

Issue 13's load goals beyond the ~2 M-line sample of `bench_floors`:
- the bench database's month, every table written to Parquet (about 90 M rows at
  1,000,000 users), loaded by `python -m loaders files` into an empty database, against the
  floor's `CREATE TABLE AS` of the same files; its rows per second (the 100,000-user month
  is the "10 M rows" of the goal) and the loader's peak memory;
- a day's lines (the month's 16th again, 16 days later, with new ids: about 3 M rows at
  1,000,000 users) loaded into a copy of the month, against the floor's `INSERT INTO ...
  BY NAME` of the same files into another copy, in place, each side's best of
  DAY_REPEAT runs into fresh copies.
Row counts are checked equal on both sides. The month's load runs once; it took 3.6 min at
1,000,000 users (the README), an eighth of issue 13's 30-minute `make bench`; above
BENCH_MONTH_LOAD_MAX_USERS (default 1,000,000) it is not run, and its row says so.
`python -m tests.bench.bench_month_load --db PATH --users N` runs it alone.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import duckdb

ROOT = pathlib.Path(__file__).resolve().parents[2]
FLOOR = pathlib.Path(__file__).resolve().parent / "floors" / "floor.py"
TABLES = {"cost_events": "--costs", "revenue_events": "--revenue",
          "token_balances": "--tokens", "affiliate_events": "--affiliate"}
MONTH_LOAD_MAX_USERS = int(os.environ.get("BENCH_MONTH_LOAD_MAX_USERS", "1000000"))
DAY = "2026-03-16"
SHIFT_DAYS = 16


def _measured(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak resident bytes of one process (its own rusage, not the runner's)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed: {err[-500:]}")
    return seconds, usage.ru_maxrss * 1024


def _export(db: pathlib.Path, folder: pathlib.Path, *, day: bool) -> int:
    """Each table to `folder/<table>.parquet` (the whole month, or one day moved on); rows."""
    folder.mkdir()
    rows = 0
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        for table in TABLES:
            time_col = "as_of" if table == "token_balances" else "ts"
            if day:
                key = "" if table == "token_balances" else ", 'next-' || event_id AS event_id"
                drop = f"source, load_id, {time_col}" + ("" if not key else ", event_id")
                select = (f"SELECT * EXCLUDE ({drop}){key}, "
                          f"{time_col} + INTERVAL {SHIFT_DAYS} DAY AS {time_col} FROM {table} "
                          f"WHERE CAST({time_col} AS DATE) = DATE '{DAY}'")
            else:
                select = f"SELECT * EXCLUDE (source, load_id) FROM {table}"
            target = folder / f"{table}.parquet"
            con.execute(f"COPY ({select}) TO '{target}' (FORMAT parquet)")
            rows += con.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchone()[0]
    return rows


def _uncache(path: pathlib.Path) -> None:
    """Drop a file's pages from the page cache (it stays on disk)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def _recache(path: pathlib.Path) -> None:
    """Read a file through once, so its pages are cached again."""
    with open(path, "rb") as fh:
        while fh.read(1 << 24):
            pass


def _counts(db: pathlib.Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def _ours(db: pathlib.Path, folder: pathlib.Path) -> tuple[float, int]:
    args = [a for t, flag in TABLES.items() for a in (flag, str(folder / f"{t}.parquet"))]
    return _measured([sys.executable, "-m", "loaders", "files", "--db", str(db), *args])


def _floor(mode: str, db: pathlib.Path, folder: pathlib.Path) -> float:
    return _measured([sys.executable, str(FLOOR), mode, str(db),
                      *(f"{t}={folder / t}.parquet" for t in TABLES)])[0]


def _check(ours: pathlib.Path, floor: pathlib.Path) -> None:
    if _counts(ours) != _counts(floor):
        raise AssertionError(f"loaded {_counts(ours)}, floor {_counts(floor)}")


def bench_month(users: int, db: pathlib.Path, work: pathlib.Path) -> list[dict]:
    if users > MONTH_LOAD_MAX_USERS:
        return [{"benchmark": "a month of Parquet files, full loading path (goal < 2 min at "
                              "1,000,000 users)", "users": users,
                 "figure": f"not run above {MONTH_LOAD_MAX_USERS:,} users",
                 "baseline": "BENCH_MONTH_LOAD_MAX_USERS=1000000 runs it", "ratio": "–"}]
    files = work / "month"
    rows = _export(db, files, day=False)
    ours_db, floor_db = work / "month-ours.duckdb", work / "month-floor.duckdb"
    ours_s, peak = _ours(ours_db, files)
    floor_s = _floor("load", floor_db, files)
    _check(ours_db, floor_db)
    for path in (ours_db, floor_db):
        path.unlink()
    return [
        {"benchmark": f"a month of Parquet files ({rows:,} rows), full loading path "
                      "(goal < 2 min at 1,000,000 users; ≥ 1.5 M rows/s at 10 M rows)",
         "users": users, "figure": f"{ours_s:.1f} s ({rows / ours_s:,.0f} rows/s)",
         "baseline": f"{floor_s:.1f} s CREATE TABLE AS ({rows / floor_s:,.0f} rows/s)",
         "ratio": f"{ours_s / floor_s:.1f}x floor"},
        {"benchmark": "the same load's peak memory (goal < 8 GB)", "users": users,
         "figure": f"{peak / 1e9:.2f} GB", "baseline": "8 GB goal",
         "ratio": f"{peak / 8e9:.2f}x goal"},
    ]


DAY_REPEAT = 2  # each side's best of this many runs, each into a fresh copy of the month


def _day_once(db: pathlib.Path, files: pathlib.Path, work: pathlib.Path
              ) -> tuple[float, float]:
    """One run of each side, each into its own fresh copy of the month: (ours, floor) s."""
    ours_db, floor_db = work / "day-ours.duckdb", work / "day-floor.duckdb"
    for path in (ours_db, floor_db):
        shutil.copyfile(db, path)
    # The two copies' write-back (twice the database) is the setup's, not either load's:
    # flushed first, as a database at rest between two daily loads is. And a server at rest
    # holds its one database in the page cache, not the bench's source of the copies too:
    # with three 2.9 GB copies cached, the load's own copy of the file took 3.5-6.9 s on
    # this machine against 0.8 s with two (the source is read back in after, for the
    # benchmarks that follow).
    os.sync()
    _uncache(db)
    try:
        # The app keeps the published file open while a load runs (loaders/publish.py), so
        # the version a load replaces is freed when the app lets it go, not in the rename
        # (freeing 2.9 GB took 0.58 s of the rename here): a reader holds it, as the app would.
        with open(ours_db, "rb"):
            ours_s, _ = _ours(ours_db, files)
        floor_s = _floor("append", floor_db, files)
    finally:
        _recache(db)
    _check(ours_db, floor_db)
    for path in (ours_db, floor_db):
        path.unlink()
    return ours_s, floor_s


def bench_day(users: int, db: pathlib.Path, work: pathlib.Path) -> list[dict]:
    files = work / "day"
    rows = _export(db, files, day=True)
    # this machine's speed moves by a fifth within the hour: the best of DAY_REPEAT each
    runs = [_day_once(db, files, work) for _ in range(DAY_REPEAT)]
    ours_s, floor_s = min(r[0] for r in runs), min(r[1] for r in runs)
    every = ", ".join(f"{o:.1f}" for o, _ in runs)
    return [{"benchmark": f"a day's load ({rows:,} rows) into the month, best of {DAY_REPEAT} "
                          "(goal < 10 s at 1,000,000 users)",
             "users": users, "figure": f"{ours_s:.1f} s (runs {every} s)", "baseline":
             f"{floor_s:.1f} s INSERT in place", "ratio": f"{ours_s / floor_s:.1f}x floor"}]


def run(users: int, db: pathlib.Path) -> list[dict]:
    with tempfile.TemporaryDirectory(dir=db.parent) as tmp:
        work = pathlib.Path(tmp)
        return [*bench_month(users, db, work), *bench_day(users, db, work)]


def main(argv: list[str] | None = None) -> int:
    from tests.bench.__main__ import run_alone

    return run_alone(run, "python -m tests.bench.bench_month_load", argv)


if __name__ == "__main__":
    sys.exit(main())
