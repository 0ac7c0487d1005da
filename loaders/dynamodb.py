"""`python -m loaders dynamodb`: the chatbot's own DynamoDB tables (costs, revenue, tokens,
and the runtime's affiliate table where it exists).

The first load scans each table in parallel segments (the client's paginators, one
thread per segment). Later loads are incremental: they query the `MonthIndex` GSI for
each month from the previous load's start (its watermark), minus a lookback for late
writes and clock skew, through the current month, so they read everything a full scan
would have added and the upsert makes them equal. `--full` forces a scan.

An item without `month`, or with a month other than its timestamp's, is not in the
months an incremental load queries. So every scan counts such items per table, and a
table is scanned again (not queried) while its last scan found any, and at least every
`--reconcile-days` (default 7) whatever it found: a periodic full read that catches
what a query could not see. Each table's plan line says which it did and why. Numbers
are deserialised to exact Decimals, never float. All the tables go in
one load: a failure anywhere leaves the database as it was, and the error names the
table.
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from loaders import _aws, dynamo_items
from loaders.pipeline import Chunk, LoadError, LoadResult, last_watermark, load
from loaders.progress import TableProgress, terminal_tables
from loaders.registry import Setting, Source

COMMAND = "dynamodb"
HELP = "load the chatbot's DynamoDB tables (costs, revenue, tokens; affiliate where it exists)"
# Logical table (the name's middle part) -> contract table.
TABLES = {"costs": "cost_events", "revenue": "revenue_events", "tokens": "token_balances",
          "affiliate": "affiliate_events"}
# Tables a deployment may lack: the original service never had the runtime's affiliate table.
OPTIONAL_TABLES = {"affiliate"}
MONTH_INDEX = "MonthIndex"
CHUNK_ITEMS = 20_000
DEFAULT_SEGMENTS = 4
DEFAULT_LOOKBACK_DAYS = 3
DEFAULT_RECONCILE_DAYS = 7

Progress = Callable[[str, int, int | None], None]


@dataclass
class TablePlan:
    """How one table is read in this load, for the progress bar and the summary."""

    logical: str
    name: str
    suffixed: bool
    has_month_index: bool
    item_count: int | None
    mode: str = "scan"
    months: list[str] = field(default_factory=list)
    items: int = 0
    pages: int = 0
    why: str = "first load"          # why this mode: shown in the plan line
    misfiled: int = 0                # scanned items a month query would not find
    full_as_of: str | None = None    # the last full scan of this table (this one, if a scan)

    def describe(self) -> str:
        how = (f"query {MONTH_INDEX} for {len(self.months)} month(s) "
               f"{self.months[0]}..{self.months[-1]}" if self.mode == "query"
               else "full scan")
        found = "the -env name" if self.suffixed else "the bare name; no -env table"
        line = f"{self.logical}: {self.name} ({found}); {how} ({self.why}): {self.items:,} items"
        if self.mode == "scan" and self.has_month_index:
            line += (f"; {self.misfiled:,} without their timestamp's month (month queries "
                     "cannot see them)" if self.misfiled else "; all in MonthIndex")
        elif self.mode == "query":
            line += (f"; not seen: items written since the full scan of {self.full_as_of} "
                     "without their timestamp's month, until the next full scan")
        return line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, help="DuckDB file (default: the PROFIT_DB setting)")
    parser.add_argument("--env", required=True, choices=("dev", "staging", "prod"))
    parser.add_argument("--region", help="AWS region (default: [aws] region, then the boto3 chain)")
    parser.add_argument("--endpoint-url", help="e.g. a local DynamoDB or moto server")
    parser.add_argument("--table-prefix", default="ai-nutritionist")
    parser.add_argument("--full", action="store_true", help="scan everything, not incremental")
    parser.add_argument("--segments", type=int, default=DEFAULT_SEGMENTS,
                        help=f"parallel scan segments (default {DEFAULT_SEGMENTS})")
    parser.add_argument("--lookback-days", type=int, default=DEFAULT_LOOKBACK_DAYS,
                        help="incremental loads re-read from this many days before the previous "
                             f"load started (default {DEFAULT_LOOKBACK_DAYS})")
    parser.add_argument("--reconcile-days", type=int, default=DEFAULT_RECONCILE_DAYS,
                        help="scan each table fully when its last full scan is older than "
                             f"this (default {DEFAULT_RECONCILE_DAYS})")
    parser.add_argument("--max-attempts", type=int, default=_aws.DEFAULT_MAX_ATTEMPTS,
                        help="attempts per request before giving up (adaptive retries)")
    parser.add_argument("--source", help="source name recorded with the rows")


def default_source(prefix: str, env: str) -> str:
    return f"dynamodb:{prefix}:{env}"


def _month(ts: datetime) -> str:
    return f"{ts.year:04d}-{ts.month:02d}"


def month_range(first: str, last: str) -> list[str]:
    """Every `YYYY-MM` from first to last, inclusive."""
    y, m = map(int, first.split("-"))
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def months_since(as_of: str, lookback_days: int, now: datetime) -> list[str]:
    """Months to query: from the previous load's start, less the lookback, to next month.

    Next month is included so an item written by a clock slightly ahead is not missed.
    """
    start = _parse_ts(as_of) - timedelta(days=lookback_days)
    end = now + timedelta(days=32)
    return month_range(_month(start), _month(end))


def _parse_ts(text: str) -> datetime:
    ts = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo else ts


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        text = f"{err.get('Code', 'error')}: {err.get('Message', '')}".rstrip(": ")
    else:
        text = f"{type(exc).__name__}: {exc}"
    return _aws.scrub(text)


def resolve_tables(client: Any, prefix: str, env: str) -> list[TablePlan]:
    """Find each table under its `-{env}` name, else its bare name; refuse if neither."""
    plans, missing = [], []
    for logical in TABLES:
        candidates = [f"{prefix}-user-{logical}-{env}", f"{prefix}-user-{logical}"]
        for i, name in enumerate(candidates):
            try:
                desc = client.describe_table(TableName=name)["Table"]
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                    continue
                raise LoadError(f"{logical} table {name}: {_error_text(exc)}") from exc
            except BotoCoreError as exc:
                raise LoadError(f"{logical} table {name}: {_error_text(exc)}") from exc
            indexes = {g["IndexName"] for g in desc.get("GlobalSecondaryIndexes", [])}
            plans.append(TablePlan(logical, name, suffixed=i == 0,
                                   has_month_index=MONTH_INDEX in indexes,
                                   item_count=desc.get("ItemCount")))
            break
        else:
            if logical not in OPTIONAL_TABLES:
                missing.append(f"{logical} (tried {' and '.join(candidates)})")
    if missing:
        where = client.meta.region_name + (f" at {client.meta.endpoint_url}"
                                           if client.meta.endpoint_url else "")
        raise LoadError(f"DynamoDB table not found in {where}: {'; '.join(missing)}; "
                        "nothing was loaded")
    return plans


def plan_load(plans: list[TablePlan], watermark: str | None, *, full: bool,
              lookback_days: int, now: datetime,
              reconcile_days: int = DEFAULT_RECONCILE_DAYS) -> None:
    """Choose scan or month queries per table from the previous load's watermark.

    A table is queried only when the previous load read it under the same name, its
    last full scan found every item under its timestamp's month, and that scan is
    less than `reconcile_days` old; otherwise it is scanned, and the plan says why.
    """
    previous: dict[str, Any] = {}
    if watermark:
        try:
            previous = json.loads(watermark)
            as_of = str(previous["as_of"])
            _parse_ts(as_of)
        except (ValueError, KeyError, TypeError, AttributeError):
            previous = {}
    tables = previous.get("tables", {})
    scans = previous.get("full_scans", {}) if isinstance(previous.get("full_scans"), dict) \
        else {}
    for plan in plans:
        last = scans.get(plan.logical) if isinstance(scans.get(plan.logical), dict) else None
        plan.full_as_of = str(last["as_of"]) if last and "as_of" in last else None
        if full:
            plan.why = "--full"
        elif not previous:
            plan.why = "first load" if not watermark else "unreadable watermark"
        elif not plan.has_month_index:
            plan.why = f"no {MONTH_INDEX}"
        elif tables.get(plan.logical) != plan.name:
            plan.why = "table renamed since the last load"  # e.g. the -env table appeared
        elif last is None or plan.full_as_of is None:
            plan.why = "no full scan recorded"
        elif int(last.get("misfiled", 0) or 0):
            plan.why = (f"its last scan found {int(last['misfiled']):,} items without "
                        "their timestamp's month")
        elif _stale(plan.full_as_of, now, reconcile_days):
            plan.why = f"reconciliation: last full scan {plan.full_as_of}"
        else:
            plan.mode = "query"
            plan.why = "incremental"
            plan.months = months_since(previous["as_of"], lookback_days, now)


def _stale(as_of: str, now: datetime, days: int) -> bool:
    try:
        return now - _parse_ts(as_of) >= timedelta(days=days)
    except ValueError:
        return True


def watermark_of(plans: list[TablePlan], now: datetime, watermark: str | None = None) -> str:
    """What the next load starts from: this load's start, the tables it read, and each
    table's last full scan with the items that scan found outside their month."""
    scans: dict[str, Any] = {}
    if watermark:
        try:
            old = json.loads(watermark).get("full_scans", {})
            scans = dict(old) if isinstance(old, dict) else {}
        except (ValueError, AttributeError):
            scans = {}
    for plan in plans:
        if plan.mode == "scan":
            scans[plan.logical] = {"as_of": now.isoformat(), "misfiled": plan.misfiled}
    return json.dumps({"as_of": now.isoformat(), "tables": {p.logical: p.name for p in plans},
                       "full_scans": scans}, sort_keys=True)


def _misfiled(item: dict[str, Any]) -> bool:
    """An item a month query cannot find: no `month`, or not its timestamp's month."""
    month = (item.get("month") or {}).get("S") if isinstance(item.get("month"), dict) else None
    ts = (item.get("timestamp") or {}).get("S") if isinstance(item.get("timestamp"), dict) \
        else None
    return not (isinstance(month, str) and isinstance(ts, str) and len(month) == 7
                and ts.startswith(month))


def _requests(plan: TablePlan, segments: int, page_size: int | None) -> tuple[str, list[dict]]:
    paging = {"PageSize": page_size} if page_size else {}
    if plan.mode == "query":
        return "query", [{
            "TableName": plan.name, "IndexName": MONTH_INDEX,
            "KeyConditionExpression": "#month = :month",
            "ExpressionAttributeNames": {"#month": "month"},
            "ExpressionAttributeValues": {":month": {"S": month}},
            "PaginationConfig": paging} for month in plan.months]
    return "scan", [{"TableName": plan.name, "Segment": i, "TotalSegments": segments,
                     "PaginationConfig": paging} for i in range(segments)]


def _pages(client: Any, plan: TablePlan, op: str, requests: list[dict]) -> Iterator[list[dict]]:
    """Pages of items from parallel paginators (one thread per segment or month)."""
    out: queue.Queue = queue.Queue(maxsize=4 * len(requests))
    stop = threading.Event()

    def put(entry: tuple[str, Any]) -> None:
        while not stop.is_set():
            try:
                out.put(entry, timeout=0.2)
                return
            except queue.Full:
                continue

    def work(kwargs: dict) -> None:
        try:
            for page in client.get_paginator(op).paginate(**kwargs):
                if stop.is_set():
                    return
                put(("page", page.get("Items", [])))
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, which raises
            put(("error", exc))
        finally:
            put(("done", None))

    pool = ThreadPoolExecutor(max_workers=len(requests), thread_name_prefix=f"ddb-{plan.logical}")
    try:
        for kwargs in requests:
            pool.submit(work, kwargs)
        done = 0
        while done < len(requests):
            kind, value = out.get()
            if kind == "done":
                done += 1
            elif kind == "error":
                raise LoadError(f"{plan.logical} table {plan.name}: {_error_text(value)}"
                                ) from value
            else:
                plan.pages += 1
                yield value
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)


def table_chunks(client: Any, plans: list[TablePlan], *, segments: int,
                 page_size: int | None = None, progress: Progress | None = None
                 ) -> Iterator[Chunk]:
    """Chunks of mapped rows for every table, in turn."""
    for plan in plans:
        target = TABLES[plan.logical]
        op, requests = _requests(plan, max(1, segments), page_size)
        total = plan.item_count if plan.mode == "scan" else None
        if progress:
            progress(plan.logical, 0, total)
        batch: list[dict] = []
        for items in _pages(client, plan, op, requests):
            batch.extend(items)
            plan.items += len(items)
            if plan.mode == "scan" and plan.has_month_index:
                plan.misfiled += sum(map(_misfiled, items))
            if len(batch) >= CHUNK_ITEMS:
                yield dynamo_items.items_to_chunk(batch, expect=target)
                batch = []
            if progress:
                progress(plan.logical, plan.items, total)
        if batch:
            yield dynamo_items.items_to_chunk(batch, expect=target)


def load_dynamodb(db: Path, *, env: str, region: str | None = None,
                  endpoint_url: str | None = None, prefix: str = "ai-nutritionist",
                  full: bool = False, segments: int = DEFAULT_SEGMENTS,
                  lookback_days: int = DEFAULT_LOOKBACK_DAYS,
                  reconcile_days: int = DEFAULT_RECONCILE_DAYS,
                  max_attempts: int = _aws.DEFAULT_MAX_ATTEMPTS, page_size: int | None = None,
                  source: str | None = None, client: Any = None,
                  progress: Progress | None = None, now: datetime | None = None
                  ) -> tuple[LoadResult, list[TablePlan]]:
    """Load every table found in one load; returns the load's result and what was read."""
    source = source or default_source(prefix, env)
    if client is None:
        client = _aws.client("dynamodb", region=region, endpoint_url=endpoint_url,
                             max_attempts=max_attempts, pool=max(10, segments * 2))
    plans = resolve_tables(client, prefix, env)
    now = now or datetime.now(UTC).replace(tzinfo=None)
    previous = last_watermark(db, source)
    plan_load(plans, previous, full=full, lookback_days=lookback_days, now=now,
              reconcile_days=reconcile_days)
    chunks = table_chunks(client, plans, segments=segments, page_size=page_size,
                          progress=progress)
    # The watermark is computed lazily: the misfiled counts are known once all is read.
    result = load(db, source, chunks, watermark=lambda: watermark_of(plans, now, previous))
    result.notes = [plan.describe() for plan in plans]
    return result, plans


def main(args: argparse.Namespace) -> int:
    from core import settings

    db = args.db or settings.db_path()
    with terminal_tables(unit="items") as progress:
        result, plans = load_dynamodb(
            db, env=args.env, region=args.region, endpoint_url=args.endpoint_url,
            prefix=args.table_prefix, full=args.full, segments=args.segments,
            lookback_days=args.lookback_days, reconcile_days=args.reconcile_days,
            max_attempts=args.max_attempts, source=args.source, progress=progress)
    for plan in plans:
        print(plan.describe())
    print(result.summary(), file=sys.stdout)
    return 0


def _run(opts: dict[str, Any], db: Path, progress: TableProgress | None) -> LoadResult:
    result, _ = load_dynamodb(
        db, env=opts["env"], region=opts.get("region"), endpoint_url=opts.get("endpoint_url"),
        prefix=opts["table_prefix"], segments=opts["segments"],
        reconcile_days=opts["reconcile_days"], source=opts.get("source") or _name(opts),
        progress=progress)
    return result


def _name(opts: dict[str, Any]) -> str:
    return default_source(opts["table_prefix"], opts["env"])


EXAMPLE = (  # for `--help`: pasteable as it stands
    "  .venv/bin/python -m loaders dynamodb --db data/profit.duckdb --env prod --region eu-west-1")
LOADER = Source(
    example=EXAMPLE,
    command=COMMAND, help=HELP, add_arguments=add_arguments, main=main, run=_run, name=_name,
    tables=len(TABLES),
    settings=(Setting("env", "dev, staging or prod", "prod"),
              Setting("region", "AWS region (default: [aws] region, then the boto3 chain)"),
              Setting("table_prefix", "the tables' name prefix", "ai-nutritionist"),
              Setting("endpoint_url", "a local DynamoDB or moto server"),
              Setting("segments", "parallel scan segments", DEFAULT_SEGMENTS, "int"),
              Setting("reconcile_days", "full scan when the last is older than this",
                      DEFAULT_RECONCILE_DAYS, "int")))
