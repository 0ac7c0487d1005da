"""Benchmark: rows/s of the DynamoDB, PostgreSQL and Parquet loads, against plain reads.

The bench database's contract rows (its users' month) are written into each source
first (untimed): DynamoDB tables on moto's server, PostgreSQL tables on a throwaway
server, Parquet files. Then each loader's full load into a new DuckDB file is timed,
against a plain paginated boto3 scan, a plain `pandas.read_sql` and a plain
`pandas.read_parquet` of the same data. Each check compares the loaded rows and cost
sums with what the plain read saw. moto is slow (one Python process answering every
request), so the DynamoDB figures use a sample of users (DDB_USERS), and PostgreSQL
and Parquet a larger one (SAMPLE_USERS); each figure names its sample.
`python -m tests.bench.bench_sources --db PATH --users N` runs it alone.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pathlib
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import duckdb
import pandas as pd
import sqlalchemy as sa
from boto3.dynamodb.types import TypeDeserializer

from loaders import files
from loaders.dynamodb import load_dynamodb
from loaders.sql import load_sql
from tests.sources_fixtures import (
    AWS_ENV,
    CONTRACT_DDL,
    create_original_tables,
    ddb_client,
    moto_server,
    postgres_server,
    put_items,
    reset_moto,
)

# moto's server scans at a few hundred items/s (measured: 3,000 items in ~25 s), so the
# DynamoDB figures use the first DDB_USERS users (~90 items each) of the bench month.
DDB_USERS = 20
# The loading path runs at ~20-30k rows/s on this 2-core machine (~100 rows per user a
# month), so PostgreSQL and Parquet take the first SAMPLE_USERS users' month (~1M rows)
# to keep the 100,000-user run within a few minutes.
SAMPLE_USERS = 10_000
CHUNK_ROWS = 50_000
CONTRACT_COLUMNS = {
    "cost_events": "event_id, user_id, ts, action, event_type, cost_usd, counted, category, "
                   "details",
    "revenue_events": "event_id, user_id, ts, stream, amount_usd, tokens, partner, details",
    "token_balances": "user_id, as_of, balance",
    "affiliate_events": "event_id, user_id, ts, partner, kind",
}
REVENUE_TYPES = {"tokens": "token_purchase", "premium": "subscription",
                 "affiliate": "affiliate_commission", "data": "data_monetization"}


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f} rows/s"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x"


def _users_filter(con: duckdb.DuckDBPyConnection, limit: int) -> None:
    """A temp table of the first `limit` users (by id), so samples are repeatable."""
    con.execute("CREATE OR REPLACE TEMP TABLE _users AS SELECT DISTINCT user_id "
                "FROM token_balances ORDER BY user_id LIMIT $n", {"n": limit})


def _loaded(db: pathlib.Path) -> tuple[int, Decimal, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        n, s = con.execute("SELECT count(*), sum(cost_usd) FROM cost_events").fetchone()
        total = con.execute(
            "SELECT (SELECT count(*) FROM cost_events) + (SELECT count(*) FROM revenue_events)"
            " + (SELECT count(*) FROM token_balances) + (SELECT count(*) FROM affiliate_events)"
        ).fetchone()[0]
        return n, s, total
    finally:
        con.close()


# --------------------------------------------------------------------------- Parquet


def bench_parquet(users: int, db: pathlib.Path, work: pathlib.Path) -> dict:
    limit = min(users, SAMPLE_USERS)
    con = duckdb.connect(str(db), read_only=True)
    _users_filter(con, limit)
    paths = {}
    for table, cols in CONTRACT_COLUMNS.items():
        paths[table] = work / f"{table}.parquet"
        con.execute(f"COPY (SELECT {cols} FROM {table} WHERE user_id IN (SELECT user_id "
                    f"FROM _users)) TO '{paths[table]}' (FORMAT parquet)")
    con.close()
    t0 = time.perf_counter()
    frames = {t: pd.read_parquet(p) for t, p in paths.items()}
    base_s = time.perf_counter() - t0
    base_rows = sum(len(f) for f in frames.values())
    base_cost = Decimal(sum(frames["cost_events"]["cost_usd"], Decimal(0)))
    del frames
    target = work / "parquet.duckdb"
    t0 = time.perf_counter()
    result = files.load_files(target, {t: [str(p)] for t, p in paths.items()})
    load_s = time.perf_counter() - t0
    n, cost, total = _loaded(target)
    assert result.rows_read == base_rows and total == base_rows, (result.rows_read, base_rows)
    assert cost == base_cost, (cost, base_cost)
    sample = "" if limit == users else f", {limit:,}-user sample"
    return {"benchmark": f"Parquet load ({base_rows:,} rows{sample})", "users": users,
            "figure": _rate(result.rows_read, load_s),
            "baseline": f"{_rate(base_rows, base_s)} pandas.read_parquet",
            "ratio": _ratio(base_s, load_s)}


# --------------------------------------------------------------------------- PostgreSQL


def bench_postgres(users: int, db: pathlib.Path, work: pathlib.Path) -> dict:
    limit = min(users, SAMPLE_USERS)
    con = duckdb.connect(str(db), read_only=True)
    _users_filter(con, limit)
    csvs = {}
    for table, cols in CONTRACT_COLUMNS.items():
        csvs[table] = work / f"{table}.csv"
        con.execute(f"COPY (SELECT {cols} FROM {table} WHERE user_id IN (SELECT user_id "
                    f"FROM _users)) TO '{csvs[table]}' (HEADER, DELIMITER ',')")
    con.close()
    with postgres_server() as pg:
        url = pg["url"]
        engine = sa.create_engine(url)
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            for table, path in csvs.items():
                cur.execute(f"CREATE TABLE {table} ({CONTRACT_DDL[table].format(json='JSON')})"
                            .replace(" PRIMARY KEY", ""))
                with path.open() as fh:
                    cur.copy_expert(f"COPY {table} ({CONTRACT_COLUMNS[table]}) FROM STDIN "
                                    "WITH (FORMAT csv, HEADER true)", fh)
            raw.commit()
        finally:
            raw.close()
        t0 = time.perf_counter()
        frames = {t: pd.read_sql(sa.text(f"SELECT * FROM {t}"), engine, coerce_float=False)
                  for t in csvs}
        base_s = time.perf_counter() - t0
        base_rows = sum(len(f) for f in frames.values())
        base_cost = sum(frames["cost_events"]["cost_usd"], Decimal(0))
        del frames
        engine.dispose()
        target = work / "postgres.duckdb"
        t0 = time.perf_counter()
        result = load_sql(target, url, chunk_rows=CHUNK_ROWS)
        load_s = time.perf_counter() - t0
    n, cost, total = _loaded(target)
    assert result.rows_read == base_rows == total, (result.rows_read, base_rows, total)
    assert cost == base_cost, (cost, base_cost)
    sample = "" if limit == users else f", {limit:,}-user sample"
    return {"benchmark": f"PostgreSQL load ({base_rows:,} rows{sample})", "users": users,
            "figure": _rate(result.rows_read, load_s),
            "baseline": f"{_rate(base_rows, base_s)} pandas.read_sql",
            "ratio": _ratio(base_s, load_s)}


# --------------------------------------------------------------------------- DynamoDB


def _items(db: pathlib.Path, limit: int) -> dict[str, list[dict[str, Any]]]:
    """The sample's contract rows as the chatbot's DynamoDB items."""
    con = duckdb.connect(str(db), read_only=True)
    _users_filter(con, limit)
    costs = con.execute("""
        SELECT user_id, strftime(ts, '%Y-%m-%dT%H:%M:%S.%f') AS ts, event_type,
               cost_usd::VARCHAR, details::VARCHAR, strftime(ts, '%Y-%m')
        FROM cost_events WHERE user_id IN (SELECT user_id FROM _users)""").fetchall()
    revenue = con.execute("""
        SELECT user_id, strftime(ts, '%Y-%m-%dT%H:%M:%S.%f'), stream, amount_usd::VARCHAR,
               tokens, strftime(ts, '%Y-%m')
        FROM revenue_events WHERE user_id IN (SELECT user_id FROM _users)""").fetchall()
    tokens = con.execute("""
        SELECT user_id, arg_max(balance, as_of), strftime(max(as_of), '%Y-%m-%dT%H:%M:%S.%f')
        FROM token_balances WHERE user_id IN (SELECT user_id FROM _users)
        GROUP BY user_id""").fetchall()
    con.close()

    def naive(ts: str) -> str:  # the service leaves microseconds out when zero
        return ts.removesuffix(".000000")

    return {
        "costs": [{"user_phone": u, "timestamp": naive(ts), "event_type": et or "other",
                   "actual_cost": Decimal(c), "cost_details": {"source": "bench"},
                   "month": m, "ttl": 1780000000} for u, ts, et, c, _, m in costs],
        "revenue": [{"user_phone": u, "timestamp": naive(ts),
                     "revenue_type": REVENUE_TYPES.get(s, "other"),
                     "revenue_amount": Decimal(a),
                     "details": {"tokens_purchased": t} if t is not None else {},
                     "month": m, "ttl": 1800000000} for u, ts, s, a, t, m in revenue],
        "tokens": [{"user_phone": u, "token_balance": b, "last_updated": naive(ts),
                    "month": ts[:7]} for u, b, ts in tokens],
    }


def _plain_scan(client: Any, tables: dict[str, str]) -> tuple[int, Decimal, float]:
    """The baseline: one paginated scan per table, items deserialised, nothing else."""
    deserializer = TypeDeserializer()
    t0 = time.perf_counter()
    rows, cost = 0, Decimal(0)
    for logical, name in tables.items():
        for page in client.get_paginator("scan").paginate(TableName=name):
            for item in page["Items"]:
                plain = {k: deserializer.deserialize(v) for k, v in item.items()}
                rows += 1
                if logical == "costs":
                    cost += plain["actual_cost"]
    return rows, cost, time.perf_counter() - t0


def bench_dynamodb(users: int, db: pathlib.Path, work: pathlib.Path) -> dict:
    limit = min(users, DDB_USERS)
    items = _items(db, limit)
    with moto_server() as url, _aws_env():
        reset_moto(url)  # moto keeps its tables per process: a second size starts clean
        client = ddb_client(url)
        tables = create_original_tables(client, "bench")
        with ThreadPoolExecutor(4) as pool:
            jobs = []
            for logical, rows in items.items():
                step = max(25, len(rows) // 16 // 25 * 25)
                jobs += [pool.submit(put_items, client, tables[logical], rows[i:i + step])
                         for i in range(0, len(rows), step)]
            for job in jobs:
                job.result()
        base_rows, base_cost, base_s = _plain_scan(client, tables)
        target = work / "dynamodb.duckdb"
        t0 = time.perf_counter()
        result, _ = load_dynamodb(target, env="bench", endpoint_url=url, segments=4)
        load_s = time.perf_counter() - t0
    n, cost, total = _loaded(target)
    assert result.rows_read == base_rows, (result.rows_read, base_rows)
    assert cost == base_cost and total + result.rows_rejected == base_rows, (cost, base_cost)
    sample = "" if limit == users else f", {limit:,}-user sample"
    return {"benchmark": f"DynamoDB load, moto ({base_rows:,} items{sample})", "users": users,
            "figure": _rate(result.rows_read, load_s),
            "baseline": f"{_rate(base_rows, base_s)} plain paginated scan",
            "ratio": _ratio(base_s, load_s)}


@contextlib.contextmanager
def _aws_env():
    saved = {k: os.environ.get(k) for k in (*AWS_ENV, "AWS_ENDPOINT_URL")}
    os.environ.update(AWS_ENV)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


_measured: list[dict] | None = None


def run(users: int, db: pathlib.Path) -> list[dict]:
    """Measured at the first size at or above SAMPLE_USERS users only: every larger size
    loads the same-sized sample, so its rows are that run's (they say so)."""
    global _measured
    if _measured is not None and users >= SAMPLE_USERS:
        return [{**row, "users": users, "figure": f"{row['figure']} (as at {row['users']:,})"}
                for row in _measured]
    rows = _measure(users, db)
    if users >= SAMPLE_USERS:
        _measured = rows
    return rows


def _measure(users: int, db: pathlib.Path) -> list[dict]:
    rows = []
    for bench in (bench_parquet, bench_postgres, bench_dynamodb):
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="bench-sources-") as tmp:
            work = pathlib.Path(tmp)
            os.chmod(work, 0o755)
            rows.append(bench(users, db, work))
        print(f"{bench.__name__} ({users:,} users): {time.perf_counter() - t0:.0f} s in all",
              file=sys.stderr)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=pathlib.Path, required=True)
    parser.add_argument("--users", type=int, required=True)
    args = parser.parse_args()
    for row in run(args.users, args.db):
        print(row)
