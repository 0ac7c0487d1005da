"""The replay on Spark, without a copy of the rules.

Each user's months are independent of every other user's, so the three event kinds (read by
the same `replay_*.sql` files as on DuckDB, transpiled) are unioned, hash-partitioned by
user, and each partition runs the compiled fold of `enforcement.fast_replay` on its users,
on the workers (`mapInArrow`). What the runtime recorded (the What-if's "history as
recorded") is not read: the fold does not use it. Only the per-user-month table comes
back; the summaries are computed by `enforcement.replay.finish`, as for the other engines,
so they equal DuckDB's to the micro-dollar (tests/test_spark_engine.py holds it to that).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pyarrow as pa

from enforcement.policy import Policy
from enforcement.replay import TABLE_COLUMNS, History, ReplayResult, finish, parse_month
from queries.engine import SparkEngine
from queries.history import _requests_query, month_bounds

KINDS = ("request", "revenue", "click")
# Each partition's events are folded in one Python worker's memory (as a DataFrame): past
# ~2 M events a partition, 1,000,000 users' month on local[2] was OOM-killed at 12 GB.
EVENTS_PER_PARTITION = 2_000_000
_INPUT = ("kind", "event_id", "user_id", "ts_us", "name", "micro", "tokens")
_MONEY_AND_COUNTS = TABLE_COLUMNS[2:-1]
RESULT_SCHEMA = pa.schema([("user_id", pa.string()), ("month", pa.string()),
                           *((c, pa.int64()) for c in _MONEY_AND_COUNTS),
                           ("level", pa.string())])


def _history(events: pd.DataFrame) -> History:
    """One partition's events (all three kinds in one frame) as the fold's History."""
    by = {k: events[events["kind"] == k] for k in KINDS}
    req = by["request"].rename(columns={"name": "action", "micro": "cost_micro"})
    rev = by["revenue"].rename(columns={"name": "stream", "micro": "amount_micro"})
    rev = rev.assign(tokens=rev["tokens"].astype("Int64"))
    clk = by["click"]
    return History.from_frames(
        req[["event_id", "user_id", "ts_us", "action", "cost_micro"]],
        rev[["event_id", "user_id", "ts_us", "stream", "amount_micro", "tokens"]],
        clk[["event_id", "user_id", "ts_us"]])


def fold_partition(policy: Policy, start: str, end: str
                   ) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The function each partition runs: its batches into one History, the compiled fold."""

    def fold(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from enforcement.fast_replay import replay_fast  # on the worker

        parts = [pa.Table.from_batches([b]).cast(INPUT_SCHEMA) for b in batches]
        if not parts or not sum(p.num_rows for p in parts):
            return
        table = pa.concat_tables(parts)
        result = replay_fast(_history(table.to_pandas()), policy, start, end)
        out = pa.Table.from_pandas(result.table, schema=RESULT_SCHEMA, preserve_index=False)
        yield from out.to_batches()

    return fold


INPUT_SCHEMA = pa.schema([("kind", pa.string()), ("event_id", pa.string()),
                          ("user_id", pa.string()), ("ts_us", pa.int64()),
                          ("name", pa.string()), ("micro", pa.int64()),
                          ("tokens", pa.int32())])


def events_frame(engine: SparkEngine, start: str, end: str, tz: str) -> Any:
    """The replay's three reads (the same SQL files) as one Spark DataFrame of events."""
    from pyspark.sql import functions as F

    lo, hi = month_bounds(start, end, tz)
    req = engine.frame(_requests_query(engine), start=lo, end=hi)  # as read_history does
    rev = engine.frame("replay_revenue", start=lo, end=hi)
    clk = engine.frame("replay_clicks", start=lo, end=hi)
    none_int = F.lit(None).cast("int")
    parts = [
        req.select(F.lit("request").alias("kind"), "event_id", "user_id", "ts_us",
                   F.col("action").alias("name"), F.col("cost_micro").alias("micro"),
                   none_int.alias("tokens")),
        rev.select(F.lit("revenue").alias("kind"), "event_id", "user_id", "ts_us",
                   F.col("stream").alias("name"), F.col("amount_micro").alias("micro"),
                   F.col("tokens").cast("int").alias("tokens")),
        clk.select(F.lit("click").alias("kind"), "event_id", "user_id", "ts_us",
                   F.lit(None).cast("string").alias("name"),
                   F.lit(None).cast("bigint").alias("micro"), none_int.alias("tokens")),
    ]
    return parts[0].unionByName(parts[1]).unionByName(parts[2])


def replay_spark(engine: SparkEngine, policy: Policy, start: str, end: str,
                 partitions: int | None = None) -> ReplayResult:
    """`replay_fast`'s result for months start..end, the fold run per user partition."""
    from pyspark.sql.types import StructType

    span = (parse_month(start), parse_month(end))
    events = events_frame(engine, start, end, policy.timezone)
    # One partition per task slot (each runs the fold once over its users), more where the
    # months hold more events than a worker should hold at once.
    n = partitions or max(int(engine.spark.conf.get("spark.sql.shuffle.partitions")),
                          -(-_events_estimate(engine, start, end) // EVENTS_PER_PARTITION))
    schema = StructType.fromDDL(", ".join(
        f"{f.name} {'string' if pa.types.is_string(f.type) else 'bigint'}"
        for f in RESULT_SCHEMA))
    rows = (events.repartition(n, "user_id")
            .mapInArrow(fold_partition(policy, start, end), schema).toArrow())
    table = rows.to_pandas().sort_values(["user_id", "month"], kind="stable")
    columns = {c: table[c].to_numpy() for c in TABLE_COLUMNS}
    return finish(policy, columns, span)


def _events_estimate(engine: SparkEngine, start: str, end: str) -> int:
    """The lake's rows of the three event tables in the UTC months start-1..end+1 (the
    manifest's counts: no scan), an upper bound of the replay's events, for sizing."""
    from loaders.lake import read_manifest

    lo, hi = parse_month(start) - 1, parse_month(end) + 1
    tables = read_manifest(engine.lake).get("tables", {})
    return sum(fp["rows"] for table in ("cost_events", "revenue_events", "affiliate_events")
               for month, fp in tables.get(table, {}).get("months", {}).items()
               if lo <= parse_month(month) <= hi)
