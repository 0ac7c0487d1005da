"""`python -m loaders files`: contract files (CSV, Parquet, JSON Lines) and DynamoDB-JSON exports.

The format comes from the extension (`.csv`, `.parquet`, `.jsonl`/`.json`/`.ndjson`,
each optionally `.gz`). With `--format dynamodb-json` (or when auto-detected) the lines
are `{"Item": {...}}` records of the chatbot's original tables, mapped as the contract
says. Every file is checked to exist before anything is written.

Files are read as bytes, line by line (a CSV file's blocks of simple lines by Arrow, which
reads them alike: loaders/csv_simple.py): a line that is not UTF-8, not JSON, not an
object, or not as wide as the CSV header is refused with its line number and the rest
loads; a refused row's raw record is its line as it came. Only what no line survives
(a corrupt gzip or Parquet file, a header that cannot be read) fails the whole load.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import itertools
import json
import zlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.parquet as pq

from loaders import csv_simple, dynamo_items
from loaders.pipeline import Chunk, LoadError, LoadResult, load, native_parquet_columns
from loaders.progress import TableProgress, terminal_progress
from loaders.registry import Setting, Source

COMMAND = "files"
HELP = "load contract files (CSV, Parquet, JSON Lines) or DynamoDB-JSON exports"
CHUNK_ROWS = 50_000
BOM = csv_simple.BOM
MAX_EVIDENCE = 10_000  # characters of a refused line kept as its raw record
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


def _binary_stream(name: str, gz: bool) -> IO[bytes]:
    raw = open_binary(name)
    return gzip.GzipFile(fileobj=raw) if gz else raw  # type: ignore[return-value]


def _lines(name: str, gz: bool) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) of each physical line, the first one's BOM dropped.

    Lines are read as bytes and decoded one by one, so one byte that is not UTF-8
    costs its own line only.
    """
    with _binary_stream(name, gz) as fh:
        for n, line in enumerate(fh, 1):
            yield n, line.removeprefix(BOM) if n == 1 else line


def _decode(n: int, raw: bytes) -> tuple[str, str | None]:
    """A line as text, and the reason it is refused when it is not UTF-8."""
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        text = raw.decode("utf-8", "backslashreplace")
        return text, (f"not UTF-8 text: line {n}, byte 0x{raw[exc.start]:02x} "
                      f"at column {exc.start + 1}")


def _evidence(raw: str) -> str:
    """A refused line as it came, without its line ending (bounded: it is evidence)."""
    return raw.rstrip("\r\n")[:MAX_EVIDENCE]


class _Feed:
    """Physical lines for `csv.reader`, remembering which ones each record took."""

    def __init__(self, lines: Iterator[tuple[int, bytes]]) -> None:
        self.lines = lines
        self.taken: list[tuple[int, bytes]] = []

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        n, raw = next(self.lines)
        self.taken.append((n, raw))
        return raw.decode("utf-8", "surrogateescape")

    def take(self) -> list[tuple[int, bytes]]:
        taken, self.taken = self.taken, []
        return taken


def _csv_records(lines: Iterator[tuple[int, bytes]], width: list[int]
                 ) -> Iterator[tuple[int, str, list[str] | None, str | None]]:
    """(first line, raw text, fields or None, reason) per CSV record, the header first.

    `width` holds the header's field count once the caller has read it. A record that
    spans lines (a quoted newline) and then has another width is read again line by
    line, so one stray quote costs its own line, not the rest of the file.
    """
    feed = _Feed(lines)
    while True:
        reader = csv.reader(feed)
        try:
            for fields in reader:
                taken = feed.take()
                if len(taken) > 1 and width and _broken(fields, taken, width[0]):
                    for n, raw in taken:
                        yield from _one_line(n, raw)
                    continue
                yield from _checked(taken, fields)
            return
        except csv.Error as exc:  # e.g. a field past csv's size limit: that record only
            for n, raw in feed.take():
                text, bad = _decode(n, raw)
                yield n, text, None, bad or f"not a CSV record: line {n}: {exc}"


def _broken(fields: list[str], taken: list[tuple[int, bytes]], width: int) -> bool:
    """A record over several lines that is really a stray quote swallowing records: its
    width is wrong, or a line it swallowed is a whole record of the header's width."""
    if len(fields) != width:
        return True
    for _, raw in taken[1:]:
        try:
            alone = next(csv.reader([raw.decode("utf-8", "surrogateescape")]), [])
        except csv.Error:
            continue
        if len(alone) == width:
            return True
    return False


def _one_line(n: int, raw: bytes) -> Iterator[tuple[int, str, list[str] | None, str | None]]:
    try:
        fields = next(csv.reader([raw.decode("utf-8", "surrogateescape")]), [])
    except csv.Error as exc:
        text, bad = _decode(n, raw)
        yield n, text, None, bad or f"not a CSV record: line {n}: {exc}"
        return
    yield from _checked([(n, raw)], fields)


def _checked(taken: list[tuple[int, bytes]], fields: list[str]
             ) -> Iterator[tuple[int, str, list[str] | None, str | None]]:
    n = taken[0][0] if taken else 0
    decoded = [_decode(m, raw) for m, raw in taken]
    text = "".join(t for t, _ in decoded)
    bad = next((reason for _, reason in decoded if reason), None)
    if not fields and not text.strip():
        return  # a blank line
    yield n, text, None if bad else fields, bad


def _csv_chunks(name: str, gz: bool, table: str) -> Iterator[Chunk]:
    """A CSV file's records in chunks: every value as text (money never passes a float).

    The file is read in blocks of whole lines: each block of simple lines by Arrow
    (loaders/csv_simple.py: a load of 0.9 M cost lines 12.5 s → 6.5 s), and from the first
    other block on, line by line.
    """
    header: list[str] | None = None
    first_line = 1
    with _binary_stream(name, gz) as fh:
        stream = csv_simple.blocks(fh)
        for block in stream:
            read = csv_simple.read_block(block, header, MAX_EVIDENCE)
            if read is None:
                lines = _block_lines(itertools.chain([block], stream), first_line)
                yield from _csv_line_chunks(name, table, lines, header)
                return
            header, frame = read
            if frame is not None:
                yield Chunk(frames={table: frame}, rows_read=frame.num_rows)
            first_line += block.count(b"\n")


def _block_lines(blocks: Iterator[bytes], first: int) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) of each physical line of blocks of whole lines."""
    n = first
    for block in blocks:
        *lines, last = block.split(b"\n")
        for line in lines:
            yield n, line + b"\n"
            n += 1
        if last:
            yield n, last
            n += 1


def _csv_line_chunks(name: str, table: str, lines: Iterator[tuple[int, bytes]],
                     header: list[str] | None) -> Iterator[Chunk]:
    """Records read line by line, each bad one refused with its line number; `header` is
    the file's where an earlier block held it (then it names no column twice)."""
    width: list[int] = [len(header)] if header else []
    duplicate: str | None = None
    columns: dict[str, list[str | None]] = (
        {h: [] for h in header} | {"_raw": []} if header else {})
    rejects: list[tuple[str, str, str]] = []
    count = 0
    for n, text, fields, reason in _csv_records(lines, width):
        if header is None:
            if reason:
                raise LoadError(f"{name}: the header (line {n}) cannot be read: {reason}")
            header = [f.strip() for f in fields or []]
            seen = [h for i, h in enumerate(header) if h in header[:i]]
            duplicate = seen[0] if seen else None
            columns = {h: [] for h in dict.fromkeys(header)}
            columns["_raw"] = []
            width.append(len(header))
            continue
        count += 1
        if reason is None and duplicate is not None:
            reason = f"duplicate column in the header: {duplicate} (line 1 of {Path(name).name})"
        elif reason is None and len(fields or []) != len(header):
            reason = (f"wrong number of fields: line {n} has {len(fields or [])}, "
                      f"the header has {len(header)}")
        if reason:
            rejects.append((table, _evidence(text), reason))
        else:
            for h, value in zip(header, fields or [], strict=True):
                columns[h].append(_clean(value) if value != "" else None)
            columns["_raw"].append(_evidence(text))
        if count >= CHUNK_ROWS:
            yield _csv_chunk(columns, rejects, table, count)
            columns = {h: [] for h in columns}
            rejects, count = [], 0
    if count:
        yield _csv_chunk(columns, rejects, table, count)


def _csv_chunk(columns: dict[str, list[str | None]], rejects: list[tuple[str, str, str]],
               table: str, count: int) -> Chunk:
    frame = pa.table({h: pa.array(v, pa.string()) for h, v in columns.items()})
    return Chunk(frames={table: frame}, rejects=list(rejects), rows_read=count)


def _clean(value: str) -> str:
    """Text Arrow can hold: a lone surrogate (from an escape) kept as its escape."""
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("ascii", "replace")
    return value


def _parquet_frames(name: str, gz: bool) -> Iterator[pa.Table]:
    with open_binary(name) as raw:
        data = gzip.GzipFile(fileobj=raw).read() if gz else raw.read()
    for batch in pq.ParquetFile(io.BytesIO(data)).iter_batches(batch_size=CHUNK_ROWS):
        yield pa.Table.from_batches([batch])


def _stages_natively(name: str, gz: bool, table: str) -> bool:
    """A local, uncompressed Parquet file of plain types: DuckDB reads it, not Arrow batches."""
    if gz or name.startswith("s3://"):
        return False
    try:
        schema = pq.read_schema(name)
    except (OSError, ValueError, pa.ArrowException):
        return False  # the Arrow path reports what is wrong with it
    return native_parquet_columns(schema, table) is not None


def _json_entries(name: str, gz: bool) -> Iterator[tuple[int, str, object]]:
    """(line number, raw text, a dict or the reason it is refused) for each non-blank line.

    A `.json` file holding one JSON array is read as that array's records (numbered
    from 1); anything else, JSON Lines included, line by line, so one bad line (an
    array, not JSON, not UTF-8) costs only itself.
    """
    lines = _lines(name, gz)
    if not name.lower().removesuffix(".gz").endswith(".jsonl") and not name.lower(
            ).removesuffix(".gz").endswith(".ndjson"):
        first = next(lines, None)
        if first is None:
            return
        if first[1].lstrip().startswith(b"["):
            rest = list(lines)
            body = first[1] + b"".join(raw for _, raw in rest)
            try:
                records = json.loads(body.decode("utf-8"), parse_float=Decimal,
                                     parse_constant=str)
            except (ValueError, RecursionError):
                records = None
            if isinstance(records, list):
                for i, rec in enumerate(records, 1):
                    text = json.dumps(rec, default=str)
                    yield i, text, rec if isinstance(rec, dict) else (
                        f"not a JSON object: record {i} of the array is {_json_kind(rec)}")
                return
            lines = iter([first, *rest])
        else:
            lines = itertools.chain([first], lines)
    for n, raw in lines:
        text, bad = _decode(n, raw)
        if not text.strip():
            continue
        yield n, text, bad or _parse(n, text)


# One decoder for every line: `json.loads` with these options builds one per call.
_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=str)


def _parse(n: int, line: str) -> object:
    try:
        if line.startswith("\ufeff"):  # what json.loads says of it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", line, 0)
        rec = _DECODER.decode(line)
    except RecursionError:
        return f"not JSON: line {n} is nested too deeply"
    except ValueError as exc:
        return f"not JSON: line {n}: {exc}"
    return rec if isinstance(rec, dict) else f"not a JSON object: line {n} is {_json_kind(rec)}"


def _json_kind(value: object) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")


def _is_dynamodb(record: object) -> bool:
    """An export line (`{"Item": ...}`) or an original item, rather than a contract row.

    Judged per record, so one contract row without `event_id` is refused for that, not
    taken for an item that turns the rest of its file into unknown items.
    """
    if not isinstance(record, dict):
        return False
    if "Item" in record:
        return True
    if "event_id" in record or "user_id" in record:
        return False
    try:
        return dynamo_items.table_of(dynamo_items.plain_item(record)) is not None
    except ValueError:
        return False


def file_chunks(name: str, table: str, fmt: str) -> Iterator[Chunk]:
    """The chunks of one file for the loading path."""
    kind, gz = _kind(name)
    if kind == "csv":
        yield from _csv_chunks(name, gz, table)
        return
    if kind == "parquet":
        if _stages_natively(name, gz, table):
            rows = pq.ParquetFile(name).metadata.num_rows
            yield Chunk(parquet=[(table, name)], rows_read=rows)
            return
        for batch in _parquet_frames(name, gz):
            yield Chunk(frames={table: batch}, rows_read=batch.num_rows)
        return
    batch: list[tuple[int, str, object]] = []
    for entry in _json_entries(name, gz):
        batch.append(entry)
        if len(batch) >= CHUNK_ROWS:
            yield _json_chunk(batch, table, fmt)
            batch = []
    if batch:
        yield _json_chunk(batch, table, fmt)


def _json_chunk(batch: list[tuple[int, str, object]], table: str, fmt: str) -> Chunk:
    good = [(n, _evidence(text), rec) for n, text, rec in batch if isinstance(rec, dict)]
    bad = [(table, _evidence(text), str(rec)) for n, text, rec in batch
           if not isinstance(rec, dict)]
    if fmt == "auto":
        item = [_is_dynamodb(g[2]) for g in good]  # judged once per record
        items = [g for g, is_item in zip(good, item, strict=True) if is_item]
        rows = [g for g, is_item in zip(good, item, strict=True) if not is_item]
    else:
        items, rows = (good, []) if fmt == "dynamodb-json" else ([], good)
    chunk = dynamo_items.items_to_chunk([rec for _, _, rec in items], expect=table,
                                        lines=[n for n, _, _ in items],
                                        raws=[text for _, text, _ in items])
    if rows:
        # The raw record is the line as it came, whatever the row's fate.
        for _, text, rec in rows:  # each record a dict of its own, decoded from its line
            rec["_raw"] = text
        chunk.frames.setdefault(table, []).extend(  # type: ignore[union-attr]
            rec for _, _, rec in rows)
    chunk.rejects.extend(bad)
    chunk.rows_read = (chunk.rows_read or 0) + len(rows) + len(bad)
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
        source = source or "files:" + ",".join(given)  # as source_name() spells it
    names = [n for group in files.values() for n in group]
    if not names:
        raise ValueError("no file given: use --costs, --revenue, --tokens, --affiliate "
                         "or --s3-prefix")
    _check_exists(names)
    source = source or source_name(files)

    def chunks() -> Iterator[Chunk]:
        for table, group in files.items():
            for name in group:
                try:
                    yield from file_chunks(name, table, fmt)
                except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
                    raise LoadError(f"{name}: truncated or corrupt gzip ({exc})") from exc
                except (OSError, ValueError) as exc:
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


def source_name(files: dict[str, list[str]], prefixes: list[str] | tuple[str, ...] = ()
                ) -> str:
    """The name a load of these files is recorded under (`files:<names>`)."""
    names = [n for group in files.values() for n in group]
    if prefixes or any(n.startswith("s3://") for n in names):
        return "files:" + ",".join(sorted({*prefixes, *names}))
    return "files:" + ",".join(sorted(Path(n).name for n in names))


def _files_of(opts: dict) -> dict[str, list[str]]:
    return {table: opts[flag] for flag, table in FLAGS.items() if opts.get(flag)}


def _run(opts: dict, db: Path, progress: TableProgress | None) -> LoadResult:
    done = [0]

    def advance(n: int) -> None:
        done[0] += n
        if progress:
            progress("files", done[0], None)

    return load_files(db, _files_of(opts), fmt=opts["format"], s3_prefixes=opts["s3_prefix"],
                      source=opts.get("source") or _name(opts), progress=advance)


def _name(opts: dict) -> str:
    return source_name(_files_of(opts), opts.get("s3_prefix") or ())


EXAMPLE = (  # for `--help`: pasteable as it stands
    "  .venv/bin/python -m loaders files --db data/profit.duckdb --costs costs.csv \\\n"
    "      --revenue revenue.parquet --tokens tokens.jsonl.gz")
LOADER = Source(
    example=EXAMPLE,
    command=COMMAND, help=HELP, add_arguments=add_arguments, main=main, run=_run, name=_name,
    settings=(*(Setting(flag, f"file(s) for {table}", [], "files") for flag, table in
                FLAGS.items()),
              Setting("s3_prefix", "s3://bucket/prefix folder(s) of files or DynamoDB "
                      "exports", [], "list"),
              Setting("format", "auto, contract or dynamodb-json", "auto")))
