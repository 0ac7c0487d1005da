"""Benchmark: our commands as whole processes against the floors of issue 13.

Each row is the best of REPEAT whole-process runs of one of our commands and of its floor,
the minimal DuckDB program that gives the same answer (`floors/floor.py`):
- KPIs per grain: `python -m queries kpis` against one hand-written query (floors/kpis.sql);
  the floor's headline figures are checked equal to ours first.
- The month's replay: `python -m enforcement replay` (read + decide) against an unsorted
  read of the same rows into Arrow (floors/replay_read.sql); row counts checked.
- A load of about LOAD_COST_LINES cost lines (the bench database's first users, all four
  tables), as Parquet, CSV and JSON Lines files: `python -m loaders files` (validate,
  refuse, upsert, pair, publish) against `CREATE TABLE AS SELECT * FROM read_<format>` and
  a checkpoint; rows checked.
`python -m tests.bench.bench_floors --db PATH --users N` runs it alone.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import duckdb

from enforcement.policy import load_policy
from queries import kpis as K

ROOT = pathlib.Path(__file__).resolve().parents[2]
FLOOR = pathlib.Path(__file__).resolve().parent / "floors" / "floor.py"
POLICY = ROOT / "enforcement" / "policies" / "seed-default.toml"
REPEAT = 3
PERIODS = (("month", "2026-03"), ("week", "2026-W11"), ("day", "2026-03-14"))
LOAD_COST_LINES = 2_000_000
TABLES = {"cost_events": "--costs", "revenue_events": "--revenue",
          "token_balances": "--tokens", "affiliate_events": "--affiliate"}
LEVELS = ("normal", "reduced_quality", "basic_only", "affiliate_gated", "payment_required")


def _best(cmd: list[str], repeat: int = REPEAT) -> tuple[float, str]:
    """The best wall time of `repeat` runs of a command, and its last standard output."""
    best, out = float("inf"), ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - t0
        if done.returncode not in (0, 1) or not done.stdout:
            raise RuntimeError(f"{' '.join(cmd[:4])} failed: {done.stderr[-500:]}")
        best, out = min(best, seconds), done.stdout
    return best, out


def _row(name: str, users: int, ours: float, floor: float, floor_name: str) -> dict:
    return {"benchmark": name, "users": users, "figure": f"{ours:.2f} s",
            "baseline": f"{floor:.2f} s {floor_name}", "ratio": f"{ours / floor:.1f}x floor"}


def _thresholds() -> str:
    p = load_policy(POLICY)
    return json.dumps({"target": p.target, "cutoff": p.cutoff, "restriction": p.restriction,
                       "free_tier": p.free_tier, "band_normal": p.band_normal,
                       "band_reduced": p.band_reduced_quality,
                       "band_basic": p.band_basic_only})


def _same_kpis(ours: dict, floor: dict) -> None:
    micro = lambda usd: round(float(usd) * 1_000_000)  # noqa: E731 - exact at 6 places
    pairs = {
        "active_users": ours["active_users"], "paying_users": ours["paying_users"],
        "token_buyers": ours["token_buyers"], "mtd_users": ours["mtd_users"],
        "users_at_target": ours["users_at_target"],
        "cost_micro": micro(ours["cost_usd"]), "revenue_micro": micro(ours["revenue_usd"]),
        **{lv: ours["users_by_level"][lv] for lv in LEVELS},
    }
    differ = {k: (v, floor[k]) for k, v in pairs.items() if v != floor[k]}
    if differ:
        raise AssertionError(f"KPIs differ from the floor: {differ}")


def bench_kpis(users: int, db: pathlib.Path) -> list[dict]:
    rows = []
    for grain, period in PERIODS:
        p = K.make_period(grain, period, "UTC")
        (start, end), mtd_start = p.utc(), K.mtd_bounds(p)[0]
        ours_s, ours_out = _best([sys.executable, "-m", "queries", "kpis", "--db", str(db),
                                  "--grain", grain, "--period", period, "--timezone", "UTC",
                                  "--policy", str(POLICY)])
        floor_s, floor_out = _best([sys.executable, str(FLOOR), "kpis", str(db),
                                    start.replace(tzinfo=None).isoformat(),
                                    end.replace(tzinfo=None).isoformat(),
                                    mtd_start.astimezone(start.tzinfo).replace(
                                        tzinfo=None).isoformat(), _thresholds()])
        _same_kpis(json.loads(ours_out), json.loads(floor_out))
        rows.append(_row(f"{grain} KPIs, whole process (goal ≤ 1.5x)", users, ours_s, floor_s,
                         "one hand-written query"))
    return rows


def bench_replay(users: int, db: pathlib.Path) -> list[dict]:
    ours_s, ours_out = _best([sys.executable, "-m", "enforcement", "replay", "--db", str(db),
                              "--policy", str(POLICY), "--end", "2026-03", "--engine", "fast",
                              "--format", "json"])
    floor_s, floor_out = _best([sys.executable, str(FLOOR), "replay", str(db),
                                "2026-03-01T00:00:00", "2026-04-01T00:00:00"])
    requests = json.loads(ours_out)["total"]["requests"]
    if not 0 < requests <= int(floor_out):
        raise AssertionError(f"replay read {requests} requests, floor {floor_out} rows")
    return [_row(f"month replay ({requests:,} requests), whole process (goal ≤ 3x)", users, ours_s,
                 floor_s, "unsorted read to Arrow")]


# How DuckDB writes each contract format, and the floor's reader of it.
FORMATS = {"parquet": "(FORMAT parquet)", "csv": "(FORMAT csv, HEADER)",
           "jsonl": "(FORMAT json)"}
# The text formats take minutes through the loading path (Python reads them line by line:
# 3.5 min at the 2 M-line sample), so by default they run at 10,000 users (0.9 M lines).
TEXT_LOAD_MAX_USERS = int(os.environ.get("BENCH_TEXT_LOAD_MAX_USERS", "10000"))


def bench_load(users: int, db: pathlib.Path) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(dir=db.parent) as tmp:
        work = pathlib.Path(tmp)
        with duckdb.connect(str(db), read_only=True) as con:
            per_user = con.execute("SELECT count(*) / count(DISTINCT user_id) "
                                   "FROM cost_events").fetchone()[0]
            sample = max(1, int(LOAD_COST_LINES / per_user))
            con.execute("CREATE TEMP TABLE _users AS SELECT DISTINCT user_id FROM cost_events "
                        "ORDER BY user_id LIMIT ?", [sample])
            for table in TABLES:
                for ext, options in FORMATS.items():
                    con.execute(f"COPY (SELECT * EXCLUDE (source, load_id) FROM {table} "
                                f"WHERE user_id IN (FROM _users)) TO '{work / table}.{ext}' "
                                f"{options}")
            cost_lines = con.execute(f"SELECT count(*) FROM read_parquet("
                                     f"'{work / 'cost_events'}.parquet')").fetchone()[0]
        for ext in FORMATS:
            if ext != "parquet" and users > TEXT_LOAD_MAX_USERS:
                rows.append({"benchmark": f"{ext} load (goal ≤ 3x)", "users": users,
                             "figure": f"not run above {TEXT_LOAD_MAX_USERS:,} users",
                             "baseline": "BENCH_TEXT_LOAD_MAX_USERS=1000000 runs it",
                             "ratio": "–"})
                continue
            ours_s, floor_s = _load_both(work, ext)
            row = _row(f"{ext} load ({cost_lines:,} cost lines, {sample:,} users; goal ≤ 3x)",
                       users, ours_s, floor_s, "CREATE TABLE AS")
            row["figure"] += f" ({cost_lines / ours_s:,.0f} cost lines/s)"
            rows.append(row)
    return rows


def _load_both(work: pathlib.Path, ext: str) -> tuple[float, float]:
    """`python -m loaders files` and the floor on one format's files; their row counts equal."""
    args = [a for t, flag in TABLES.items() for a in (flag, str(work / f"{t}.{ext}"))]
    ours, base = work / f"ours-{ext}.duckdb", work / f"floor-{ext}.duckdb"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "loaders", "files", "--db", str(ours), *args],
                   cwd=ROOT, check=True, capture_output=True)
    ours_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    subprocess.run([sys.executable, str(FLOOR), "load", str(base),
                    *(f"{t}={work / t}.{ext}" for t in TABLES)], check=True,
                   capture_output=True)
    floor_s = time.perf_counter() - t0
    with duckdb.connect(str(ours), read_only=True) as a, \
            duckdb.connect(str(base), read_only=True) as b:
        for table in TABLES:
            n, m = (c.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for c in (a, b))
            if n != m:
                raise AssertionError(f"{ext} {table}: loaded {n} rows, floor {m}")
    for path in (ours, base):
        path.unlink()
    return ours_s, floor_s


def run(users: int, db: pathlib.Path) -> list[dict]:
    return [*bench_kpis(users, db), *bench_replay(users, db), *bench_load(users, db)]


def main(argv: list[str] | None = None) -> int:
    from tests.bench.__main__ import run_alone

    return run_alone(run, "python -m tests.bench.bench_floors", argv)


if __name__ == "__main__":
    sys.exit(main())
