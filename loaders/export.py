"""`python -m loaders export --db PATH --lake DIR_OR_S3_URL`: the database as a Parquet lake.

Each contract table is written as `table/month=YYYY-MM/part-*.parquet` (loaders/lake.py
describes the layout), for Spark or for DuckDB reading the lake without the database.

Incremental: a month is rewritten only when its fingerprint differs from the one the
lake's manifest recorded at the last export. The fingerprint is the month's row count,
its newest `load_id` and the sum of a hash of every column of every row. Count and
load_id alone would miss a row a later load changed in place without a new load_id
(pairing recomputes `counted` on old rows); the hash costs one scan, which is far less
than rewriting. A month that no longer has rows is removed. New files get new names,
the manifest is replaced last, and only then are the replaced files deleted, so a
reader of the manifest never mixes two exports.

Each export is recorded in the database's load log (source `export:<lake>`), through
the same publish path as every load: rows read, rows written (in rewritten months),
and as watermark the digest of the manifest it wrote.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from core import settings
from loaders import lake as L
from loaders import rollups
from loaders.pipeline import next_load_id
from loaders.publish import connect_read_only, new_version
from loaders.registry import Source

COMMAND = "export"
EXPORT_BATCH_ROWS = 1_000_000   # rows per Arrow batch and Parquet row group
HELP = "write the contract's tables as a month-partitioned Parquet lake (incremental)"


@dataclass
class ExportResult:
    """What an export did: months rewritten, kept and removed, and rows."""

    lake: str
    load_id: int = 0
    rows_read: int = 0
    rows_written: int = 0
    written: list[tuple[str, str]] = field(default_factory=list)   # (table, month)
    kept: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (f"exported to {self.lake}: {len(self.written)} month(s) rewritten "
                f"({self.rows_written} rows), {len(self.kept)} unchanged, "
                f"{len(self.removed)} removed; load {self.load_id}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, help="DuckDB file (default: the settings' database)")
    parser.add_argument("--lake", required=True,
                        help="a directory or s3://bucket/prefix to write the lake under")


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
        "ORDER BY column_index", [table]).fetchall()]


def fingerprints(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, dict[str, Any]]:
    """Per UTC month of the table: rows, newest load_id and a hash of every row's columns."""
    cols = ", ".join(f'"{c}"' for c in _columns(con, table))
    time_col = L.TABLES[table]
    rows = con.execute(
        f"SELECT strftime({time_col}, '%Y-%m') AS month, count(*) AS n, "
        f"max(load_id) AS max_load_id, CAST(sum(hash({cols})) AS VARCHAR) AS checksum "
        f"FROM {table} GROUP BY ALL ORDER BY month").fetchall()
    return {m: {"rows": int(n), "max_load_id": None if lid is None else int(lid),
                "checksum": chk} for m, n, lid, chk in rows}


def _month_range(month: str) -> tuple[datetime, datetime]:
    y, m = (int(x) for x in month.split("-"))
    start = date(y, m, 1)
    end = date(y + (m == 12), m % 12 + 1, 1)
    return datetime(start.year, start.month, 1), datetime(end.year, end.month, 1)


def _write_month(con: duckdb.DuckDBPyConnection, lake: str, table: str, month: str,
                 tag: str) -> str:
    """Write one month of a table as one Parquet file; its path relative to the lake."""
    lo, hi = _month_range(month)
    time_col = L.TABLES[table]
    rows = con.sql(f"SELECT * FROM {table} WHERE {time_col} >= $lo AND {time_col} < $hi "
                   f"ORDER BY user_id, {time_col}", params={"lo": lo, "hi": hi})
    relative = f"{table}/month={month}/part-{tag}.parquet"
    fs, root = L.filesystem(lake)
    fs.create_dir(f"{root}/{table}/month={month}", recursive=True)
    # Streamed batch by batch: a 1,000,000-user month (90 M cost lines) does not fit in
    # memory as one Arrow table.
    reader = rows.to_arrow_reader(EXPORT_BATCH_ROWS)
    schema = L.lake_arrow(reader.schema.empty_table()).schema
    with pq.ParquetWriter(f"{root}/{relative}", schema, filesystem=fs,
                          compression="zstd") as writer:
        for batch in reader:
            writer.write_table(L.lake_arrow(pa.Table.from_batches([batch])))
    return relative


def _delete(lake: str, relatives: list[str]) -> None:
    fs, root = L.filesystem(lake)
    for rel in relatives:
        path = f"{root}/{rel}"
        if fs.get_file_info(path).type != pafs.FileType.NotFound:
            fs.delete_file(path)
        parent = path.rsplit("/", 1)[0]
        if (isinstance(fs, pafs.LocalFileSystem) and Path(parent).is_dir()
                and not any(Path(parent).iterdir())):
            Path(parent).rmdir()


def export(db: Path, lake: str) -> ExportResult:
    """Export `db` to `lake`, rewriting only the months that changed; record it."""
    lake = str(lake)
    started = datetime.now(UTC).replace(tzinfo=None)
    result = ExportResult(lake=lake)
    try:
        previous = L.read_manifest(lake)
        manifest: dict[str, Any] = {"version": L.FORMAT_VERSION, "tables": {}}
        tag = f"{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        replaced: list[str] = []
        schemas = L.contract_schemas()
        con = connect_read_only(db)
        try:
            for table in L.TABLES:
                old = previous.get("tables", {}).get(table, {}).get("months", {})
                months: dict[str, Any] = {}
                for month, fp in fingerprints(con, table).items():
                    result.rows_read += fp["rows"]
                    before = old.get(month)
                    if before and {k: before.get(k) for k in fp} == fp:
                        months[month] = before
                        result.kept.append((table, month))
                        continue
                    months[month] = {**fp, "files": [_write_month(con, lake, table, month,
                                                                  tag)]}
                    replaced += before["files"] if before else []
                    result.written.append((table, month))
                    result.rows_written += fp["rows"]
                for month in sorted(set(old) - set(months)):
                    replaced += old[month]["files"]
                    result.removed.append((table, month))
                manifest["tables"][table] = {"time_column": L.TABLES[table],
                                             "schema": L.schema_text(schemas[table]),
                                             "months": months}
        finally:
            con.close()
        manifest["exported_at"] = started.isoformat() + "Z"
        L.write_manifest(lake, manifest)
        _delete(lake, replaced)
        digest = hashlib.sha256(json.dumps(manifest["tables"], sort_keys=True).encode())
        _record(db, result, started, "ok", None, digest.hexdigest()[:16])
    except BaseException as exc:
        _record(db, result, started, "failed", f"{type(exc).__name__}: {exc}", None)
        raise
    return result


def _record(db: Path, result: ExportResult, started: datetime, status: str,
            error: str | None, watermark: str | None) -> None:
    """One load-log row for the export, published like any load."""
    with new_version(db) as con:
        rollups.expect_writes(con)  # (a line of the load log alone)
        result.load_id = next_load_id(con)
        con.execute("INSERT INTO load_log VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
                    [result.load_id, f"export:{result.lake}", started,
                     datetime.now(UTC).replace(tzinfo=None), result.rows_read,
                     result.rows_written if status == "ok" else 0, status, error, watermark])


def main(args: argparse.Namespace) -> int:
    db = Path(args.db or settings.db_path())
    if not db.is_file():
        raise FileNotFoundError(f"no database at {db}")
    print(export(db, args.lake).summary())
    return 0


# A command of `python -m loaders` like the sources, but a sink: the Data page has nothing
# to configure for it (no settings, no run).
EXAMPLE = (  # for `--help`: pasteable as it stands
    "  .venv/bin/python -m loaders export --db data/profit.duckdb --lake data/lake")
LOADER = Source(command=COMMAND, help=HELP, add_arguments=add_arguments, main=main,
                example=EXAMPLE)
