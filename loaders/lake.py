"""The lake: the contract's tables as Hive-partitioned Parquet, for DuckDB and Spark alike.

Layout, under a local directory or an `s3://bucket/prefix` URL:

    <table>/month=YYYY-MM/part-<export>.parquet   one table, one UTC calendar month of
                                                  `ts` (`as_of` for token balances)
    _manifest.json                                 the snapshot: every file of every table,
                                                   each month's fingerprint, each table's
                                                   Arrow schema

Money is DECIMAL(18,6) and instants are Parquet timestamps adjusted to UTC (what Spark,
Trino and Athena read as instants). Readers take the file list from the manifest rather
than listing directories, so a reader never sees an export's new and old files of one
month at once: the manifest is the one thing an export replaces last, in one write.

`connect_lake` gives the app a DuckDB connection whose views read the lake: the queries
run on it unchanged (instants come back as naive UTC `TIMESTAMP`, as in the database).

An S3 lake (`s3://bucket/prefix`; `s3a://` names the same lake, for Spark's hadoop-aws)
is written and read through Arrow's S3 filesystem: credentials from the usual AWS chain
or the secrets' `[aws]` table, the endpoint from `AWS_ENDPOINT_URL_S3`,
`AWS_ENDPOINT_URL` or `[aws] endpoint_url` (MinIO, moto). DuckDB reads it through the
same filesystem, registered as its `s3://` (fsspec's wrapper of Arrow's): no httpfs
extension to download.
"""

from __future__ import annotations

import base64
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.fs as pafs

from loaders.publish import apply_schema

# Each contract table and the instant its month partition is taken from.
TABLES: dict[str, str] = {"cost_events": "ts", "revenue_events": "ts",
                          "token_balances": "as_of", "affiliate_events": "ts"}
MANIFEST = "_manifest.json"
FORMAT_VERSION = 1


S3_SCHEMES = ("s3://", "s3a://")


def is_remote(lake: str) -> bool:
    return "://" in str(lake) and not str(lake).startswith("file://")


def is_s3(lake: str | Path) -> bool:
    return str(lake).startswith(S3_SCHEMES)


@lru_cache(maxsize=16)
def _bucket_region(bucket: str) -> str:
    return pafs.resolve_s3_region(bucket)  # one request per bucket and process


def s3_filesystem(lake: str | Path) -> pafs.S3FileSystem:
    """Arrow's S3 filesystem with the endpoint, region and keys the AWS loaders use (on AWS
    itself without a configured region: the bucket's own, as Arrow resolves it)."""
    from loaders._aws import aws_settings  # boto3: only where a lake is on S3

    cfg = aws_settings()
    options: dict[str, Any] = {}
    endpoint = (os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
                or cfg.get("endpoint_url"))
    if endpoint:
        scheme, _, host = str(endpoint).rpartition("://")
        options |= {"endpoint_override": host.rstrip("/"), "scheme": scheme or "https"}
    region = (cfg.get("region") or os.environ.get("AWS_REGION")
              or os.environ.get("AWS_DEFAULT_REGION"))
    if not region and not endpoint:
        region = _bucket_region(str(lake).split("://", 1)[1].split("/", 1)[0])
    if region:
        options["region"] = region
    if cfg.get("aws_access_key_id") and cfg.get("aws_secret_access_key"):
        options |= {"access_key": cfg["aws_access_key_id"],
                    "secret_key": cfg["aws_secret_access_key"],
                    "session_token": cfg.get("aws_session_token")}
    return pafs.S3FileSystem(**options)


def filesystem(lake: str | Path) -> tuple[pafs.FileSystem, str]:
    """The Arrow filesystem and root path of a lake (a directory, file://, s3:// URL)."""
    text = str(lake)
    if is_s3(text):
        return s3_filesystem(text), text.split("://", 1)[1].rstrip("/")
    if "://" in text:
        fs, root = pafs.FileSystem.from_uri(text)
        return fs, root.rstrip("/")
    return pafs.LocalFileSystem(), str(Path(text).resolve())


def url(lake: str | Path, relative: str) -> str:
    """A file of the lake as readers name it: a local path, or the URL under the lake's."""
    text = str(lake)
    if "://" in text:
        return f"{text.rstrip('/')}/{relative}"
    return str(Path(text).resolve() / relative)


def read_manifest(lake: str | Path, *, required: bool = False) -> dict[str, Any]:
    """The lake's manifest, or an empty one where nothing was exported yet (a reader
    passes `required`: reading no lake is an error, not a business without data)."""
    fs, root = filesystem(lake)
    path = f"{root}/{MANIFEST}"
    if fs.get_file_info(path).type == pafs.FileType.NotFound:
        if required:
            raise FileNotFoundError(f"no lake at {lake} (no {MANIFEST}): write one with "
                                    "`python -m loaders export --db PATH --lake ...`")
        return {"version": FORMAT_VERSION, "tables": {}}
    with fs.open_input_stream(path) as fh:
        manifest = json.loads(fh.read().decode())
    if manifest.get("version") != FORMAT_VERSION:
        raise ValueError(f"{lake}: lake format {manifest.get('version')!r}, "
                         f"this version reads {FORMAT_VERSION}")
    return manifest


def write_manifest(lake: str | Path, manifest: dict[str, Any]) -> None:
    """Replace the manifest in one step (a rename locally; an S3 PUT is atomic)."""
    fs, root = filesystem(lake)
    data = json.dumps(manifest, indent=1, sort_keys=True).encode()
    target = f"{root}/{MANIFEST}"
    if isinstance(fs, pafs.LocalFileSystem):
        tmp = f"{target}.tmp"
        with fs.open_output_stream(tmp) as fh:
            fh.write(data)
        fs.move(tmp, target)
    else:
        with fs.open_output_stream(target) as fh:
            fh.write(data)


def files(manifest: dict[str, Any], table: str) -> list[str]:
    """The table's files (relative to the lake), month by month."""
    months = manifest.get("tables", {}).get(table, {}).get("months", {})
    return [f for m in sorted(months) for f in months[m]["files"]]


# -- schemas ---------------------------------------------------------------------------------

def lake_arrow(table: pa.Table) -> pa.Table:
    """A table as the lake stores it: instants adjusted to UTC, JSON as plain text."""
    fields = []
    for f in table.schema:
        if pa.types.is_timestamp(f.type):
            fields.append(pa.field(f.name, pa.timestamp("us", tz="UTC"), f.nullable))
        elif not (pa.types.is_decimal(f.type) or pa.types.is_integer(f.type)
                  or pa.types.is_boolean(f.type) or pa.types.is_floating(f.type)
                  or pa.types.is_date(f.type)):
            fields.append(pa.field(f.name, pa.string(), f.nullable))
        else:
            fields.append(f)
    return table.cast(pa.schema(fields))


def contract_schemas() -> dict[str, pa.Schema]:
    """Every table of loaders/schema.sql (load log included) as the lake would store it."""
    con = duckdb.connect(":memory:")
    try:
        apply_schema(con)
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() ORDER BY table_name").fetchall()]
        return {n: lake_arrow(con.sql(f'SELECT * FROM "{n}" LIMIT 0').to_arrow_table()).schema
                for n in names}
    finally:
        con.close()


def schema_text(schema: pa.Schema) -> str:
    return base64.b64encode(schema.serialize().to_pybytes()).decode()


def schema_of(text: str) -> pa.Schema:
    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(text)))


# -- DuckDB on the lake ----------------------------------------------------------------------

def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def connect_lake(lake: str | Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose tables are views over the lake's current snapshot.

    The queries run on it unchanged: the `month` partition column is dropped and
    instants are cast back to naive UTC `TIMESTAMP` (the session is in UTC). Tables the
    lake does not hold (the load log, refused rows) are empty, so every page still runs.
    An S3 lake is read through Arrow's S3 filesystem, registered in DuckDB as `s3://`
    (for every cursor of the connection: the filesystem belongs to the database).
    """
    manifest = read_manifest(lake, required=True)
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    if is_s3(lake):
        from fsspec.implementations.arrow import ArrowFSWrapper

        con.register_filesystem(ArrowFSWrapper(s3_filesystem(lake)))  # its protocol: "s3"
        lake = "s3://" + str(lake).split("://", 1)[1]
    apply_schema(con)  # empty tables of the contract's shape; lake tables replace them
    for table, time_col in TABLES.items():
        paths = files(manifest, table)
        if not paths:
            continue
        listed = ", ".join(_literal(url(lake, p)) for p in paths)
        con.execute(f"DROP TABLE {table}")
        con.execute(
            f"CREATE VIEW {table} AS SELECT * EXCLUDE (month) "
            f"REPLACE (CAST({time_col} AS TIMESTAMP) AS {time_col}) "
            f"FROM read_parquet([{listed}], hive_partitioning = true)")
    return con


def version(lake: str | Path) -> str | None:
    """What changes when an export publishes: the manifest's export instant (None: no lake)."""
    try:
        return str(read_manifest(lake, required=True).get("exported_at"))
    except FileNotFoundError:
        return None
