"""`python -m loaders files`: contract files (CSV, Parquet, JSON Lines) and DynamoDB-JSON exports.

The format comes from the extension (`.csv`, `.parquet`, `.jsonl`/`.json`/`.ndjson`,
each optionally `.gz`). With `--format dynamodb-json` (or when auto-detected) the lines
are `{"Item": {...}}` records of the chatbot's original tables, mapped as the contract
says. Every file is checked to exist before anything is written.
"""

from __future__ import annotations

import argparse
import gzip
import io
import itertools
import json
import zlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from loaders import dynamo_items
from loaders.pipeline import Chunk, LoadError, LoadResult, load
from loaders.progress import terminal_progress

COMMAND = "files"
HELP = "load contract files (CSV, Parquet, JSON Lines) or DynamoDB-JSON exports"
CHUNK_ROWS = 50_000
FLAGS = {"costs": "cost_events", "revenue": "revenue_events", "tokens": "token_balances",
         "affiliate": "affiliate_events"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, help="DuckDB file (default: the PROFIT_DB setting)")
    for flag, table in FLAGS.items():
        parser.add_argument(f"--{flag}", type=str, action="append", default=[],
                            metavar="FILE", help=f"file(s) for {table}")
    parser.add_argument("--s3-prefix", action="append", default=[], metavar="S3_URL",
                        help="s3://bucket/prefix holding contract files named for their "
                        "table, or DynamoDB exports to S3 (manifest-summary.json)")
    parser.add_argument("--format", choices=("auto", "contract", "dynamodb-json"),
                        default="auto", help="record shape (default: detect from the file)")
    parser.add_argument("--source", help="source name recorded with the rows "
                        "(default: files:<names>)")


def _kind(name: str) -> tuple[str, bool]:
    """(format, gzipped) from a file name."""
    lower = name.lower()
    gz = lower.endswith(".gz")
    if gz:
        lower = lower[:-3]
    for ext, kind in ((".csv", "csv"), (".parquet", "parquet"), (".jsonl", "json"),
                      (".ndjson", "json"), (".json", "json")):
        if lower.endswith(ext):
            return kind, gz
    raise ValueError(f"{name}: unknown file type (use .csv, .parquet, .jsonl or .json, "
                     "optionally .gz)")


def open_binary(name: str) -> IO[bytes]:
    """Open a local path (or, through `open_remote`, an s3:// URL) for reading bytes."""
    if name.startswith("s3://"):
        from loaders.s3 import open_remote  # only S3 sources need boto3 here

        return open_remote(name)
    return open(name, "rb")


def _text_stream(name: str, gz: bool) -> IO[str]:
    raw = open_binary(name)
    return io.TextIOWrapper(gzip.GzipFile(fileobj=raw) if gz else raw, encoding="utf-8")


def _csv_frames(name: str, gz: bool) -> Iterator[pd.DataFrame]:
    # Every value as text: money must never pass through float.
    with _text_stream(name, gz) as fh:
        try:
            yield from pd.read_csv(fh, dtype=str, keep_default_na=False, na_values=[""],
                                   chunksize=CHUNK_ROWS)
        except pd.errors.EmptyDataError:
            return


def _parquet_frames(name: str, gz: bool) -> Iterator[pa.Table]:
    with open_binary(name) as raw:
        data = gzip.GzipFile(fileobj=raw).read() if gz else raw.read()
    for batch in pq.ParquetFile(io.BytesIO(data)).iter_batches(batch_size=CHUNK_ROWS):
        yield pa.Table.from_batches([batch])


def _json_lines(name: str, gz: bool) -> Iterator[tuple[int, str, object]]:
    """(line number, text, parsed or an Exception) for each non-blank line."""
    with _text_stream(name, gz) as fh:
        head = fh.read(1)
        if head == "[":  # a whole JSON array rather than lines
            records = json.loads(head + fh.read(), parse_float=Decimal)
            for i, rec in enumerate(records, 1):
                yield i, json.dumps(rec, default=str), rec
            return
        for i, line in enumerate(itertools.chain([head + fh.readline()], fh), 1):
            if line.strip():
                yield i, line, _parse(line)


def _parse(line: str) -> object:
    try:
        return json.loads(line, parse_float=Decimal)
    except ValueError as exc:
        return exc


def _is_dynamodb(record: object) -> bool:
    """An export line (`{"Item": ...}`) or an original item; contract rows carry `event_id`."""
    if not isinstance(record, dict):
        return False
    if "Item" in record:
        return True
    return "event_id" not in record and (
        dynamo_items.table_of(dynamo_items.plain_item(record)) is not None)


def file_chunks(name: str, table: str, fmt: str) -> Iterator[Chunk]:
    """The chunks of one file for the loading path."""
    kind, gz = _kind(name)
    if kind == "csv":
        for frame in _csv_frames(name, gz):
            yield Chunk(frames={table: frame}, rows_read=len(frame))
        return
    if kind == "parquet":
        for batch in _parquet_frames(name, gz):
            yield Chunk(frames={table: batch}, rows_read=batch.num_rows)
        return
    batch: list[tuple[int, str, object]] = []
    for entry in _json_lines(name, gz):
        batch.append(entry)
        if len(batch) >= CHUNK_ROWS:
            yield _json_chunk(batch, table, fmt)
            batch = []
    if batch:
        yield _json_chunk(batch, table, fmt)


def _json_chunk(batch: list[tuple[int, str, object]], table: str, fmt: str) -> Chunk:
    good = [(n, text, rec) for n, text, rec in batch if isinstance(rec, dict)]
    bad = [(table, text.strip()[:10_000],
            f"line {n} is not a JSON object" + (f": {rec}" if isinstance(rec, Exception) else ""))
           for n, text, rec in batch if not isinstance(rec, dict)]
    dynamo = fmt == "dynamodb-json" or (fmt == "auto" and good and _is_dynamodb(good[0][2]))
    if dynamo:
        chunk = dynamo_items.items_to_chunk((rec for _, _, rec in good), expect=table)
    else:
        chunk = Chunk(frames={table: [rec for _, _, rec in good]}, rows_read=len(good))
    chunk.rejects.extend(bad)
    chunk.rows_read = (chunk.rows_read or 0) + len(bad)
    return chunk


def _check_exists(names: list[str]) -> None:
    for name in names:
        if not name.startswith("s3://") and not Path(name).is_file():
            raise FileNotFoundError(f"{name}: no such file (nothing was loaded)")
        _kind(name)


def load_files(db: Path, files: dict[str, list[str]], *, fmt: str = "auto",
               source: str | None = None, progress=None,  # noqa: ANN001
               s3_prefixes: list[str] | tuple[str, ...] = ()) -> LoadResult:
    """Load the given files (table -> names) in one load: all of it or nothing."""
    if s3_prefixes or any(n.startswith("s3://") for g in files.values() for n in g):
        from loaders.s3 import expand  # s3://bucket/prefix folders to their files

        given = sorted({*s3_prefixes, *(n for g in files.values() for n in g)})
        files = expand(files, s3_prefixes)
        source = source or "files:" + ",".join(given)
    names = [n for group in files.values() for n in group]
    if not names:
        raise ValueError("no file given: use --costs, --revenue, --tokens, --affiliate "
                         "or --s3-prefix")
    _check_exists(names)
    source = source or "files:" + ",".join(sorted(Path(n).name for n in names))

    def chunks() -> Iterator[Chunk]:
        for table, group in files.items():
            for name in group:
                try:
                    yield from file_chunks(name, table, fmt)
                except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
                    raise LoadError(f"{name}: truncated or corrupt gzip ({exc})") from exc
                except UnicodeDecodeError as exc:
                    raise LoadError(f"{name}: not UTF-8 text ({exc})") from exc
                except (pd.errors.ParserError, OSError, ValueError) as exc:
                    raise LoadError(f"{name}: cannot be read ({exc})") from exc

    return load(db, source, chunks(), progress=progress)


def main(args: argparse.Namespace) -> int:
    from core import settings

    db = args.db or settings.db_path()
    files = {FLAGS[flag]: getattr(args, flag) for flag in FLAGS if getattr(args, flag)}
    with terminal_progress("loading files") as advance:
        result = load_files(db, files, fmt=args.format, source=args.source, progress=advance,
                            s3_prefixes=args.s3_prefix)
    print(result.summary())
    return 0
