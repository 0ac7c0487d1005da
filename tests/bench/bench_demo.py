"""How long the demo generator takes, and how big its database is.

Baseline: the same generated rows written to Parquet with pyarrow (zstd), the cheapest
way to persist them; the ratio says what the database costs on top. Both sides are
checked to hold the same rows and the same money. The generic loading path is timed
too, up to 20,000 users (above that it takes minutes and several GB: see the README).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from loaders.demo import DEFAULT_SEED, DemoSpec, chunks, generate, month_starts
from tests.bench.__main__ import BENCH_END

PIPELINE_MAX_USERS = 20_000
TABLES = ("cost_events", "revenue_events", "token_balances", "affiliate_events")


def _parquet_baseline(spec: DemoSpec, out: Path) -> tuple[float, int, dict[str, int]]:
    """Generate and write every table to Parquet; returns seconds, bytes, rows per table."""
    t0 = time.perf_counter()
    writers: dict[str, pq.ParquetWriter] = {}
    rows = dict.fromkeys(TABLES, 0)
    for part in chunks(spec):
        for table, frame in part.frames.items():
            frame = frame.combine_chunks()
            frame = pa.table({n: (c.cast(c.type.value_type) if pa.types.is_dictionary(c.type)
                                  else c) for n, c in zip(frame.column_names, frame.columns,
                                                          strict=True)})
            if table not in writers:
                writers[table] = pq.ParquetWriter(out / f"{table}.parquet", frame.schema,
                                                  compression="zstd")
            writers[table].write_table(frame)
            rows[table] += frame.num_rows
    for w in writers.values():
        w.close()
    seconds = time.perf_counter() - t0
    return seconds, sum(p.stat().st_size for p in out.glob("*.parquet")), rows


def _db_rows(db: Path) -> tuple[dict[str, int], object]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        money = con.execute("SELECT sum(cost_usd) FROM cost_events").fetchone()[0]
        return rows, money
    finally:
        con.close()


def run(users: int, db: Path) -> list[dict]:
    spec = DemoSpec(users=users, months=month_starts(BENCH_END, 1), seed=DEFAULT_SEED)
    out: list[dict] = []
    with tempfile.TemporaryDirectory(dir=db.parent) as tmp:
        tmp_path = Path(tmp)
        base_s, base_bytes, base_rows = _parquet_baseline(spec, tmp_path)
        with duckdb.connect() as con:
            base_money = con.execute("SELECT sum(cost_usd) FROM read_parquet($p)",
                                     {"p": str(tmp_path / "cost_events.parquet")}).fetchone()[0]
        target = tmp_path / "demo.duckdb"
        t0 = time.perf_counter()
        generate(target, spec, progress=False, direct=True)
        direct_s = time.perf_counter() - t0
        rows, money = _db_rows(target)
        if rows != base_rows or money != base_money:
            raise AssertionError(f"database {rows}, {money} != parquet {base_rows}, {base_money}")
        size = target.stat().st_size
        n = sum(rows.values())
        out.append({"benchmark": "demo generate (--direct)", "users": users,
                    "figure": f"{direct_s:.1f} s ({n / direct_s:,.0f} rows/s)",
                    "baseline": f"{base_s:.1f} s parquet", "ratio": f"{direct_s / base_s:.2f}"})
        out.append({"benchmark": "demo database size", "users": users,
                    "figure": f"{size / 1e6:,.1f} MB ({rows['cost_events']:,} cost lines)",
                    "baseline": f"{base_bytes / 1e6:,.1f} MB parquet",
                    "ratio": f"{size / base_bytes:.2f}"})
        if users <= PIPELINE_MAX_USERS:
            piped = tmp_path / "piped.duckdb"
            t0 = time.perf_counter()
            generate(piped, spec, progress=False)
            pipe_s = time.perf_counter() - t0
            if _db_rows(piped) != (rows, money):
                raise AssertionError("the loading path wrote other rows than the fast path")
            out.append({"benchmark": "demo generate (loading path)", "users": users,
                        "figure": f"{pipe_s:.1f} s ({n / pipe_s:,.0f} rows/s)",
                        "baseline": f"{direct_s:.1f} s --direct",
                        "ratio": f"{pipe_s / direct_s:.2f}"})
    return out
