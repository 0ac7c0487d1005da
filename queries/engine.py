"""The second engine: the same `.sql` files, transpiled by SQLGlot, run on Spark over the lake.

The SQL in `queries/` stays the one definition (written in DuckDB's dialect, in the subset
SQLGlot transpiles cleanly: `tests/test_engine_sql.py` holds every file to it). Here:

- `spark_sql(name)`: the file transpiled once (`read="duckdb", write="spark"`); an
  unsupported construct is an error, never a silent guess. `$start` becomes `:start`, a
  Spark named parameter: values are bound by `spark.sql(text, args=...)`, never
  formatted into the text.
- `SparkEngine`: a SparkSession whose temporary views are the lake's current snapshot
  (the manifest's files; tables the lake lacks are empty views of the contract's shape).
  `queries.run(engine, name, ...)` runs a query on it exactly as on a DuckDB connection,
  and the result leaves through DuckDB's own Arrow-to-pandas conversion, so both engines
  hand the callers the same dtypes.
- `spark_session(master)`: `local[*]` by default; a cluster's master URL (`spark://`,
  `yarn`, `k8s://`) or a Spark Connect URL (`sc://host:15002`) works the same way. On
  Spark Connect the client ships the project's packages to its session (the replay's
  fold runs on the server's Python workers), so the server needs only requirements.txt.

The session runs in UTC: the lake's instants are UTC, and `CAST(... AS DATE)` of a local
time made by `from_utc_timestamp` must not move it again.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import sys
import tempfile
import weakref
import zipfile
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:  # SQLGlot, pandas, pyarrow and the lake load when they are used: a DuckDB
    import pandas as pd  # command (`queries kpis` builds this module's arguments) starts
    import pyarrow as pa  # without them

from queries import sql_text

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MASTER = "local[*]"
# What the replay's fold imports on a worker (tests/test_spark_connect.py checks the list).
SHIPPED_PACKAGES = ("core", "enforcement", "loaders", "queries")
JAVA_HELP = ("Spark needs a Java runtime (17 or newer) and none was found: install "
             "Debian's openjdk-17-jre-headless (`bash .ci/system-deps` does, as root) or "
             "set JAVA_HOME")


@lru_cache(maxsize=128)
def spark_sql(name: str) -> str:
    """`queries/<name>.sql` in Spark SQL; ValueError if SQLGlot cannot transpile it cleanly."""
    import sqlglot
    from sqlglot.errors import ErrorLevel

    try:
        (out,) = sqlglot.transpile(sql_text(name), read="duckdb", write="spark",
                                   unsupported_level=ErrorLevel.RAISE)
    except sqlglot.errors.SqlglotError as exc:
        raise ValueError(f"queries/{name}.sql does not transpile to Spark: {exc}") from None
    return out


def java_home() -> str:
    """Where Java is (JAVA_HOME or `java` on the PATH); RuntimeError saying how to get it."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return home
    java = shutil.which("java")
    if not java:
        raise RuntimeError(JAVA_HELP)
    return str(Path(os.path.realpath(java)).parent.parent)


def spark_session(master: str = DEFAULT_MASTER, *, shuffle_partitions: int | None = None,
                  app_name: str = "profit-dashboard", conf: dict[str, str] | None = None
                  ) -> Any:
    """A SparkSession on `master` (local[N], a cluster URL, or Spark Connect `sc://`).

    Local sessions run their Python workers with this interpreter and the project on their
    path (the replay's fold runs there); a cluster needs the project and requirements.txt
    on its workers, or the code shipped with `spark-submit --py-files`.
    """
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    if master.startswith("sc://"):
        builder = builder.remote(master)
    else:
        os.environ.setdefault("JAVA_HOME", java_home())
        if master.startswith("local"):
            paths = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(":"))]
            os.environ["PYTHONPATH"] = ":".join(dict.fromkeys(paths))
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the same packages
        builder = builder.master(master)
        if master.startswith("local"):  # one machine: the driver listens on loopback only
            builder = (builder.config("spark.driver.bindAddress", "127.0.0.1")
                       .config("spark.driver.host", "127.0.0.1"))
        builder = (builder.config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false"))
    builder = builder.config("spark.sql.session.timeZone", "UTC")
    if not shuffle_partitions and master.startswith("local"):
        # Spark's default of 200 shuffle partitions is for clusters; on one machine each
        # is a task to schedule (and, in the replay, a Python worker's batch): one per core.
        shuffle_partitions = _local_cores(master)
    if shuffle_partitions:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    if not master.startswith("sc://"):
        spark.sparkContext.setLogLevel("ERROR")
    return spark


def is_connect(spark: Any) -> bool:
    """Whether `spark` is a Spark Connect client session (no SparkContext, no JVM here)."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


# What a Spark Connect engine's own session copies from the one it was made from: Connect's
# `newSession()` starts from the server's defaults (PySpark 4.3), not the builder's options.
CONNECT_SESSION_CONF = ("spark.sql.session.timeZone", "spark.sql.shuffle.partitions",
                        "spark.sql.adaptive.enabled")


def project_zip() -> bytes:
    """The packages a worker imports (SHIPPED_PACKAGES' .py files) as one zip, made
    deterministically: the same code gives the same bytes, hence the same artifact name."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for package in SHIPPED_PACKAGES:
            for path in sorted((ROOT / package).rglob("*.py")):
                if "__pycache__" not in path.parts:
                    info = zipfile.ZipInfo(str(path.relative_to(ROOT)), (1980, 1, 1, 0, 0, 0))
                    zf.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def ship_project(spark: Any) -> None:
    """Add the project's code to a Spark Connect session's Python path (its UDF workers).

    A Connect server runs the client's functions in its own Python, which has the
    packages of requirements.txt but not this project: `addArtifacts(pyfile=True)`
    uploads the zip once per session. An artifact of the same name is never replaced,
    so the name carries the zip's digest.
    """
    data = project_zip()
    name = f"profit-dashboard-{hashlib.sha256(data).hexdigest()[:12]}.zip"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        spark.addArtifacts(str(path), pyfile=True)


def _local_cores(master: str) -> int:
    """N of local[N] (local[*] and local: this machine's cores)."""
    inside = master.partition("[")[2].partition("]")[0].split(",")[0]
    return int(inside) if inside.isdigit() else (os.cpu_count() or 2)


def _spark_value(value: Any) -> Any:
    """A bound value as Spark takes it: a naive datetime is a UTC instant (never local)."""
    if hasattr(value, "to_pydatetime"):  # a pandas Timestamp
        value = value.to_pydatetime()
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if isinstance(value, tuple):
        return list(value)
    return value


def _naive_utc(table: pa.Table) -> pa.Table:
    import pyarrow as pa
    import pyarrow.compute as pc

    """Spark's instants (tz UTC) as DuckDB returns TIMESTAMP: naive UTC wall-clock."""
    cols = []
    for col in table.columns:
        if pa.types.is_timestamp(col.type) and col.type.tz is not None:
            col = pc.cast(col, pa.timestamp(col.type.unit))
        cols.append(col)
    return pa.Table.from_arrays(cols, names=table.column_names)


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """An Arrow result as a DataFrame, converted exactly as DuckDB's `.df()` converts."""
    rel = duckdb.from_arrow(_naive_utc(table))
    return rel.df()


class SparkEngine:
    """The lake's tables as temporary views of a SparkSession; runs the queries' SQL."""

    def __init__(self, spark: Any, lake: str | Path) -> None:
        # A session of its own (same SparkContext, same JVM): its views are its lake's, so
        # two engines on two lakes never see each other's tables.
        try:
            self.spark = spark.newSession()
        except Exception:  # noqa: BLE001 - a Connect server before 4.3: one session
            self.spark = spark
        if is_connect(spark):
            if self.spark is not spark:
                for key in CONNECT_SESSION_CONF:
                    self.spark.conf.set(key, spark.conf.get(key))
                # Released by close(), else at exit: a Connect session left to the
                # interpreter's teardown hangs it (its gRPC channel waits on dead threads).
                self._release = weakref.finalize(self, self.spark.stop)
            self.spark.conf.set("spark.sql.session.timeZone", "UTC")
            ship_project(self.spark)
        self.lake = str(lake)
        self.refresh()

    def refresh(self) -> None:
        """Point the views at the lake's current manifest (after an export)."""
        from pyspark.sql.pandas.types import from_arrow_schema

        from loaders import lake as L

        manifest = L.read_manifest(self.lake, required=True)
        schemas = L.contract_schemas()
        for table, schema in schemas.items():
            paths = L.files(manifest, table) if table in L.TABLES else []
            if paths:
                df = (self.spark.read.option("basePath", L.url(self.lake, table))
                      .parquet(*(L.url(self.lake, p) for p in paths)).drop("month"))
            else:
                df = self.spark.createDataFrame([], from_arrow_schema(schema))
            df.createOrReplaceTempView(table)

    def frame(self, name: str, **params: Any) -> Any:
        """A named query as a Spark DataFrame (lazy), parameters bound by name."""
        text = spark_sql(name)
        used = {k: _spark_value(v) for k, v in params.items()
                if re.search(rf":{re.escape(k)}\b", text)}
        return self.spark.sql(text, args=used)

    def run_query(self, name: str, params: dict[str, Any]) -> pd.DataFrame:
        """What `queries.run` returns for a DuckDB connection, computed by Spark."""
        if name in CATALOG_QUERIES:
            return CATALOG_QUERIES[name](self)
        return to_pandas(self.frame(name, **params).toArrow())

    def columns(self, table: str) -> list[str]:
        return list(self.spark.table(table).columns)

    def close(self) -> None:
        """Release the engine's own Spark Connect session; nothing else to close per engine
        (a local session is shared: stop it with spark.stop())."""
        release = getattr(self, "_release", None)
        if release is not None:
            release()


def _runtime_columns(engine: SparkEngine) -> pd.DataFrame:
    """queries/runtime_columns.sql asks the catalog (`FROM (DESCRIBE cost_events)`), which
    Spark SQL cannot put in a subquery: the engine answers it from the view's columns."""
    have = {"requested_cost_usd", "request_id"} & set(engine.columns("cost_events"))
    import pyarrow as pa

    return to_pandas(pa.table({"n": pa.array([len(have)], pa.int64())}))


# Queries about the schema rather than the data, answered by the engine itself (each
# equal to DuckDB's answer: tests/test_engine_sql.py runs them on both).
CATALOG_QUERIES = {"runtime_columns": _runtime_columns}


def connect(lake: str | Path, engine: str = "duckdb", master: str = DEFAULT_MASTER
            ) -> duckdb.DuckDBPyConnection | SparkEngine:
    """A connection to the lake for `queries.run`: DuckDB's views, or Spark's."""
    if engine == "duckdb":
        from loaders import lake as L

        return L.connect_lake(lake)
    if engine == "spark":
        return SparkEngine(spark_session(master), lake)
    raise ValueError(f"unknown engine {engine!r}: use duckdb or spark")


def add_engine_arguments(parser: Any, *, choices: tuple[str, ...] = ("duckdb", "spark")
                         ) -> None:
    """`--engine`, `--lake`, `--spark-master` for a command (defaults: the [engine] settings)."""
    parser.add_argument("--engine", choices=choices,
                        help="where the queries run (default: [engine] name, else duckdb)")
    parser.add_argument("--lake", help="a lake written by `python -m loaders export` "
                        "(directory or s3:// URL); DuckDB reads it too")
    parser.add_argument("--spark-master", help="local[N], spark://host:7077, yarn, or a "
                        "Spark Connect sc://host:15002 (default: [engine] spark_master, "
                        "else local[*])")


def source_of(args: Any, default_engine: str = "duckdb") -> tuple[str, str | None, str]:
    """(engine, lake, master) from a command's flags, then the settings.

    `--db` given without `--lake` means the database, whatever the settings say.
    """
    from core import settings

    configured = settings.engine()
    engine = args.engine or (configured.name if configured.name != "duckdb" else
                             default_engine)
    lake = args.lake or (None if getattr(args, "db", None) else configured.lake)
    master = args.spark_master or configured.spark_master
    if engine == "spark" and not lake:
        raise ValueError("--engine spark needs --lake (a directory or s3:// URL)")
    return engine, lake, master
