"""Benchmark: the month's KPIs and a month's replay, as whole processes, on three engines.

DuckDB on the database (the baseline), DuckDB on the lake (`python -m loaders export`) and
Spark local on the lake: each command is run as a user would run it (`python -m queries
kpis ...`, `python -m enforcement replay ...`), timed from start to exit, and its JSON
must equal the baseline's. Then, in one process, where Spark's time goes: starting the JVM,
reading the lake's footers into views, planning each KPI query (analysis, optimisation,
physical plan) against running it, and for the replay the read and shuffle by user
against the fold on the workers. Also the export itself, first and incremental.

`python -m tests.bench.bench_spark --db PATH --users N` runs it alone.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[2]
POLICY = ROOT / "enforcement" / "policies" / "seed-default.toml"
MASTER = "local[2]"
# The one-process breakdown repeats every query: measured up to this size (where it goes
# is the same further up, and it doubles a 1,000,000-user run).
BREAKDOWN_MAX_USERS = 100_000
# Spark past one machine is issue 10's; at 1,000,000 users its rows alone took over 15 of a
# 50-minute `make bench`, at 100,000 3 minutes (issue 13 asks the whole run under 30).
# Larger sizes run when BENCH_SPARK_MAX_USERS says so (the README has their figures).
SPARK_MAX_USERS = int(os.environ.get("BENCH_SPARK_MAX_USERS", "10000"))
KPI_QUERIES = ("period_kpis", "affiliate_kpis", "mtd_positions",
               "cost_breakdown", "retention")

def _timed(args: list[str]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    seconds = time.perf_counter() - t0
    if done.returncode:
        raise RuntimeError(f"{' '.join(args[:3])} failed: {done.stderr[-800:]}")
    return seconds, json.loads(done.stdout)

def _month(db: pathlib.Path) -> str:
    from loaders.publish import connect_read_only

    con = connect_read_only(db)
    try:
        (last,) = con.execute("SELECT strftime(max(ts), '%Y-%m') FROM cost_events "
                              "WHERE counted").fetchone()
    finally:
        con.close()
    return last

def _breakdown(lake: pathlib.Path, month: str) -> dict[str, float]:
    """In one process: JVM start, views, planning vs running the KPI queries, replay parts."""

    from enforcement.policy import load_policy
    from queries import kpis as K
    from queries.engine import SparkEngine, spark_session
    from queries.spark_replay import events_frame, replay_spark

    out: dict[str, float] = {}
    t0 = time.perf_counter()
    spark = spark_session(MASTER)
    out["jvm"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    engine = SparkEngine(spark, lake)
    out["views"] = time.perf_counter() - t0
    p = K.make_period("month", month, "UTC")
    start, end = p.utc()
    prev = K.make_period("month", K.previous_period("month", month), "UTC").utc()[0]
    params = {"start": start, "end": end, "prev_start": prev}
    for label in ("cold", "warm"):
        plan = run = 0.0
        for name in KPI_QUERIES:
            t0 = time.perf_counter()
            frame = engine.frame(name, **params)
            frame._jdf.queryExecution().executedPlan()  # analyse, optimise, plan physically
            plan += time.perf_counter() - t0
            t0 = time.perf_counter()
            frame.toArrow()
            run += time.perf_counter() - t0
        out[f"kpi plan {label}"], out[f"kpi run {label}"] = plan, run
    policy = load_policy(POLICY)
    t0 = time.perf_counter()
    n = int(spark.conf.get("spark.sql.shuffle.partitions"))
    events = events_frame(engine, month, month, policy.timezone)
    events.repartition(n, "user_id").groupBy().count().collect()  # read + shuffle only
    out["replay read+shuffle"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    replay_spark(engine, policy, month, month)
    out["replay whole"] = time.perf_counter() - t0
    spark.stop()
    return out

def run(users: int, db: pathlib.Path) -> list[dict]:
    from loaders.export import export

    if users > SPARK_MAX_USERS:
        return [{"benchmark": "lake and Spark rows", "users": users,
                 "figure": f"not run above {SPARK_MAX_USERS:,} users",
                 "baseline": "BENCH_SPARK_MAX_USERS=1000000 runs them", "ratio": "–"}]

    month = _month(db)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-lake-") as tmp:
        copy = pathlib.Path(tmp) / "db.duckdb"  # the export writes the load log: not the kept db
        copy.write_bytes(pathlib.Path(db).read_bytes())
        lake = pathlib.Path(tmp) / "lake"
        t0 = time.perf_counter()
        first = export(copy, str(lake))
        first_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        export(copy, str(lake))
        again_s = time.perf_counter() - t0
        rows.append({"benchmark": f"export to the lake ({first.rows_written:,} rows)",
                     "users": users, "figure": f"{first_s:.2f} s",
                     "baseline": f"unchanged re-export {again_s:.2f} s",
                     "ratio": f"{first_s / again_s:.1f}x"})

        kpis = ["-m", "queries", "kpis", "--grain", "month", "--period", month]
        replay = ["-m", "enforcement", "replay", "--policy", str(POLICY), "--start", month,
                  "--end", month]
        for what, base_args in (("KPIs month", kpis), ("replay month", replay)):
            base_s, base = _timed([*base_args, "--db", str(copy)])
            for label, extra in (("DuckDB on the lake", ["--lake", str(lake)]),
                                 ("Spark local[2] on the lake",
                                  ["--engine", "spark", "--lake", str(lake),
                                   "--spark-master", MASTER])):
                secs, got = _timed([*base_args, *extra])
                if got != base:
                    raise AssertionError(f"{what}: {label} differs from DuckDB on the database")
                rows.append({"benchmark": f"{what} ({month}), {label}, whole process",
                             "users": users, "figure": f"{secs:.2f} s",
                             "baseline": f"DuckDB db {base_s:.2f} s",
                             "ratio": f"{secs / base_s:.1f}x slower"})
                print(rows[-1], file=sys.stderr, flush=True)  # kept if a later step fails
        if users > BREAKDOWN_MAX_USERS:
            return rows
        parts = _breakdown(lake, month)
    rows.append({"benchmark": "Spark: where the time goes (one process)", "users": users,
                 "figure": f"JVM start {parts['jvm']:.1f} s, views {parts['views']:.1f} s",
                 "baseline": (f"KPI queries plan {parts['kpi plan cold']:.1f} s + run "
                              f"{parts['kpi run cold']:.1f} s cold, plan "
                              f"{parts['kpi plan warm']:.1f} s + run "
                              f"{parts['kpi run warm']:.1f} s warm"),
                 "ratio": (f"replay: read+shuffle {parts['replay read+shuffle']:.1f} s of "
                           f"{parts['replay whole']:.1f} s")})
    return rows

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=pathlib.Path, required=True)
    parser.add_argument("--users", type=int, default=0)
    args = parser.parse_args(argv)
    for row in run(args.users, args.db):
        print(row)
    return 0

if __name__ == "__main__":
    sys.exit(main())
