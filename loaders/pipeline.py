"""The one loading path every source goes through.

A source turns its records into chunks of contract-named columns (values as the
source gave them). This module stages them, normalises and validates them in SQL
(`loaders/sql/normalise_*.sql`), sends each bad row to `rejected_rows` with its
reason, upserts the good ones by key (a reload changes nothing), re-pairs
estimates with their actuals, records the load, and publishes atomically.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from core import settings
from core.privacy import mask_text
from loaders import rollups
from loaders.publish import connect_read_only, new_version

if TYPE_CHECKING:  # a source that hands over frames has loaded pandas; a file load needs none
    import pandas as pd

SQL_DIR = Path(__file__).with_name("sql")

# Nullable cost columns only the chatbot's runtime records (runtime.md); a source
# without them stages nulls.
RUNTIME_COST_COLUMNS = ("requested_cost_usd", "decision_served", "decision_level",
                        "decision_reason", "policy_id", "request_id")
# Staged columns per contract table (the source's values, as VARCHAR), and the key
# a reload upserts by.
STAGE_COLUMNS: dict[str, tuple[str, ...]] = {
    "cost_events": ("event_id", "user_id", "ts", "action", "event_type", "cost_usd", "counted",
                    "category", "details", *RUNTIME_COST_COLUMNS),
    "revenue_events": ("event_id", "user_id", "ts", "stream", "amount_usd", "tokens", "partner",
                       "details"),
    "token_balances": ("user_id", "as_of", "balance"),
    "affiliate_events": ("event_id", "user_id", "ts", "partner", "kind"),
}
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "cost_events": ("event_id", "user_id", "ts", "cost_usd"),
    "revenue_events": ("event_id", "user_id", "ts", "stream", "amount_usd"),
    "token_balances": ("user_id", "as_of", "balance"),
    "affiliate_events": ("event_id", "user_id", "ts", "kind"),
}
# The tables the rollups roll up (loaders/rollups.py): a load names the UTC days it writes.
ROLLED_UP = ("cost_events", "revenue_events")
# Columns written to each target table (besides source and load_id), and its key.
TARGET_COLUMNS: dict[str, tuple[str, ...]] = {
    "cost_events": ("event_id", "user_id", "ts", "action", "event_type", "cost_usd", "counted",
                    "category", "details", "pairing", *RUNTIME_COST_COLUMNS),
    "revenue_events": ("event_id", "user_id", "ts", "stream", "amount_usd", "tokens", "partner",
                       "details"),
    "token_balances": ("user_id", "as_of", "balance"),
    "affiliate_events": ("event_id", "user_id", "ts", "partner", "kind"),
}
KEYS: dict[str, tuple[str, ...]] = {
    "cost_events": ("event_id",),
    "revenue_events": ("event_id",),
    "token_balances": ("user_id", "as_of"),
    "affiliate_events": ("event_id",),
}
TABLES = tuple(STAGE_COLUMNS)

Frame: TypeAlias = "pd.DataFrame | pa.Table | list[dict]"


@dataclass
class Chunk:
    """One piece of a source: frames per contract table, and rows the source refused.

    `rejects` holds (table, raw record, reason) for records the source itself could
    not map (an unknown table shape, a line that is not JSON). `rows_read` counts the
    source records behind this chunk, for the progress bar and the load log.
    """

    frames: dict[str, Frame] = field(default_factory=dict)
    rejects: list[tuple[str, str, str]] = field(default_factory=list)
    rows_read: int | None = None
    # (table, local Parquet file) pairs DuckDB stages itself: no Arrow batches in Python.
    # Only files `native_parquet_columns` accepts (the text it stages is the Arrow path's).
    parquet: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class LoadResult:
    """What a load did, as recorded in `load_log`."""

    load_id: int
    source: str
    rows_read: int = 0
    rows_written: int = 0
    rows_rejected: int = 0
    seconds: float = 0.0
    status: str = "ok"
    error: str | None = None
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    # What the source read and how (a scan, a month query, a whole read) and what an
    # incremental read could not see, one line per table: shown with the summary.
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """The one line a command prints (a source named after a phone shows it masked)."""
        return (f"{mask_text(self.source)}: {self.rows_read:,} read, "
                f"{self.rows_written:,} written, {self.rows_rejected:,} rejected "
                f"in {self.seconds:.1f} s")


class LoadError(RuntimeError):
    """A load that could not finish; the database was left as it was."""


def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text()


def _as_arrow(frame: Frame, table: str) -> tuple[pa.Table, list[str]]:
    """The frame as an Arrow table of VARCHAR contract columns, and its missing ones."""
    if isinstance(frame, list):
        # Only the staged columns become text (a record's other keys are dropped below): a
        # column is there when any record has it
        names = [n for n in (*STAGE_COLUMNS[table], "_raw") if any(n in rec for rec in frame)]
        frame = pa.table({n: _text_column([rec.get(n) for rec in frame])
                          for n in names}) if frame else pa.table({})
    pd = sys.modules.get("pandas")  # (no DataFrame exists where pandas is not loaded)
    if pd is not None and isinstance(frame, pd.DataFrame):
        frame = pa.table({
            str(n): (pa.array([_text(v) for v in frame[n].tolist()], pa.string())
                     if frame[n].dtype == object else pa.array(frame[n]))
            for n in frame.columns})
    missing = [c for c in REQUIRED_COLUMNS[table] if c not in frame.column_names]
    cols = []
    for name in (*STAGE_COLUMNS[table], "_raw"):
        if name in frame.column_names:
            col = frame.column(name)
            cols.append(col if pa.types.is_string(col.type) else _to_string(col))
        else:
            cols.append(pa.nulls(frame.num_rows, pa.string()))
    names = [*STAGE_COLUMNS[table], "_raw"]
    return pa.table(cols, names=names), missing


_NONE = type(None)
_PLAIN_TEXT = frozenset({str, _NONE})
_NUMBERS = frozenset({Decimal, int, _NONE})  # str() is their text; bool is not among them
_FLAGS = frozenset({bool, _NONE})


def _text_column(values: list[object]) -> pa.Array:
    """A column of source values as `_text` writes each: at once where they are all text,
    all numbers or all flags (JSON Lines' columns), value by value otherwise."""
    kinds = set(map(type, values))
    if kinds <= _PLAIN_TEXT:
        try:
            return pa.array(values, pa.string())
        except (pa.ArrowException, UnicodeEncodeError):
            pass  # a lone surrogate: `_text` keeps it as its escape
    elif kinds <= _NUMBERS:
        return pa.array([None if v is None else str(v) for v in values], pa.string())
    elif kinds <= _FLAGS:
        return pa.array([None if v is None else ("true" if v else "false") for v in values],
                        pa.string())
    return pa.array([_text(v) for v in values], pa.string())


def _text(value: object) -> str | None:
    """A source value as the text the normalising SQL parses (exact for Decimal)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str):
        return value if value.isascii() else _utf8(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _utf8(text: str) -> str:
    """Text Arrow can hold: a lone surrogate (a JSON `\\ud800` escape) kept as its escape."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("ascii")
    return text


def _to_string(col: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_null(col.type):
        return col.cast(pa.string())
    try:
        text = col.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.chunked_array(
            [pa.array([_text(v) for v in chunk.to_pylist()], pa.string())
             for chunk in col.chunks],
            pa.string())
    return _plain_decimals(text) if pa.types.is_decimal(col.type) else text


def _plain_decimals(text: pa.ChunkedArray) -> pa.ChunkedArray:
    """Arrow writes a decimal under 1e-6 with an exponent (`1E-8`); DuckDB's cast and
    Python's Decimal write it plain (`0.00000001`), and the rules judge the plain text (so a
    typed file gives the same reason whichever reader staged it)."""
    if not pc.any(pc.match_substring(text, "E")).as_py():
        return text
    return pa.chunked_array(
        [pa.array([v if v is None or "E" not in v else format(Decimal(v), "f")
                   for v in chunk.to_pylist()], pa.string()) for chunk in text.chunks],
        pa.string())


# Arrow types whose text DuckDB's cast writes exactly as Arrow's cast does (see
# `_to_string`); a timestamp is written with all six places, as Arrow writes one.
_NATIVE_CAST = {"string": "{c}::VARCHAR", "large_string": "{c}::VARCHAR", "bool": "{c}::VARCHAR",
                "extension<arrow.json>": "{c}::VARCHAR",
                "null": "NULL::VARCHAR", "timestamp[us]": "strftime({c}, '%Y-%m-%d %H:%M:%S.%f')",
                **{f"{s}int{b}": "{c}::VARCHAR" for s in ("", "u") for b in (8, 16, 32, 64)}}


def native_parquet_columns(schema: pa.Schema, table: str) -> list[str] | None:
    """The SELECT list that stages a Parquet file of `schema` in DuckDB, or None.

    None sends the file through Arrow batches instead (`_as_arrow`): a type whose text
    the two casts write differently, a required column missing (each row is refused),
    or names DuckDB would bind differently (it matches names ignoring case).
    """
    names = schema.names
    if len({n.lower() for n in names}) < len(names):
        return None
    wanted = (*STAGE_COLUMNS[table], "_raw")
    if any(n.lower() in wanted and n not in wanted for n in names):
        return None
    if any(c not in names for c in REQUIRED_COLUMNS[table]):
        return None
    select = []
    for name in wanted:
        if name not in names:
            select.append(f"NULL::VARCHAR AS {name}")
            continue
        kind = schema.field(name).type
        cast = "{c}::VARCHAR" if pa.types.is_decimal(kind) else _NATIVE_CAST.get(str(kind))
        if cast is None:
            return None
        select.append(f"{cast.format(c=_quoted(name))} AS {name}")
    return select


# Values a typed Parquet file already holds as the normalising SQL would make them, so it
# need not parse their text (a day's 2.9 M cost lines normalised 2.0 → 1.67 s). Each is NULL
# where the file's type or the value is not certain to give the same: an instant only
# within the accepted range and years of four digits (the text path's fast form), money
# only of a decimal type with at most 12 digits before the point and 6 after. The view
# still stages the text: a reason, and the record a refused row keeps, come from it.
TYPED_COLUMNS: dict[str, dict[str, tuple[str, str]]] = {  # twin: (the file's column, type)
    "cost_events": {"_ts_typed": ("ts", "TIMESTAMP"),
                    "_cost_typed": ("cost_usd", "DECIMAL(18, 6)")},
}


def _typed_value(column: str, kind: pa.DataType | None) -> str | None:
    """SQL for a column's own value where a file of type `kind` holds it exactly as the
    rules would parse its text (an instant, money), else None."""
    c = _quoted(column)
    if kind is not None and str(kind) == "timestamp[us]":
        return (f"CASE WHEN year({c}) BETWEEN 1000 AND 9999 "
                f"AND {c} >= getvariable('instant_earliest') "
                f"AND {c} < getvariable('instant_latest') THEN {c} END")
    if (kind is not None and pa.types.is_decimal(kind) and kind.scale <= 6
            and kind.precision - kind.scale <= 12):
        return f"CAST({c} AS DECIMAL(18, 6))"
    return None


def _typed_select(schema: pa.Schema | None, table: str) -> list[str]:
    """The typed twins (TYPED_COLUMNS) of a natively staged Parquet file's columns; all
    NULL for rows staged as text (`schema` None: the SQL parses the text)."""
    out = []
    for name, (column, sql_type) in TYPED_COLUMNS.get(table, {}).items():
        kind = schema.field(column).type if schema and column in schema.names else None
        out.append(f"{_typed_value(column, kind) or f'NULL::{sql_type}'} AS {name}")
    return out


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _native_select(path: str, table: str) -> list[str]:
    """The SELECT list that stages a Parquet file DuckDB reads as given (files.py chose it)."""
    import pyarrow.parquet as pq  # (only a Parquet load needs it)

    select = native_parquet_columns(pq.read_schema(path), table)
    if select is None:
        raise LoadError(f"{path}: not a file DuckDB can stage as given")
    return select


def _stage_parquet(con: duckdb.DuckDBPyConnection, table: str, path: str) -> int:
    """Stage one Parquet file in DuckDB's own reader, in the file's row order."""
    select = _native_select(path, table)
    # (counts fetched whole: a result left open makes DuckDB refuse the next `register`)
    ((before,),) = con.execute(f"SELECT count(*) FROM _stage_{table}").fetchall()  # noqa: S608
    # Row order is the file's, so "the first row wins" means the same on both paths.
    con.execute("SET preserve_insertion_order = true")
    try:
        con.execute(f"INSERT INTO _stage_{table} SELECT {', '.join(select)} "  # noqa: S608
                    "FROM read_parquet(?)", [path])
    except duckdb.Error as exc:
        raise LoadError(f"{path}: cannot be read ({exc})") from exc
    finally:
        con.execute("SET preserve_insertion_order = false")
    ((after,),) = con.execute(f"SELECT count(*) FROM _stage_{table}").fetchall()  # noqa: S608
    return after - before


class Staging:
    """One load's staged rows per table, read by the normalising SQL as `_staged_<table>`
    (the staged text and `_seq`, the row's place in the load).

    A table whose only input is one Parquet file DuckDB reads as given is not copied into
    its staging table: its view reads the file in place, in the file's order (a day's
    2.9 M cost lines, staged and normalised: 4.3 s → 2.7 s). Any other input of that table
    copies the file first, so the rows keep the order they came in.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.lone: dict[str, tuple[str, list[str]]] = {}  # table -> (file, its SELECT list)
        self.copied: set[str] = set()

    def stage(self, chunk: Chunk, load_id: int, source: str) -> int:
        """Append a chunk to the staging tables; returns the source records it held."""
        read = sum(self._parquet(table, path) for table, path in chunk.parquet)
        for table, frame in chunk.frames.items():
            if table not in STAGE_COLUMNS:
                raise LoadError(f"unknown contract table {table!r}")
            self._copy_lone(table)
            arrow, missing = _as_arrow(frame, table)
            read += arrow.num_rows
            if missing:
                reason = f"unknown column set: missing {', '.join(missing)}"
                for raw in arrow.to_pylist():
                    kept = raw.pop("_raw", None)  # the record as it came, where the source has it
                    chunk.rejects.append((table, kept or json.dumps(raw, default=str), reason))
                continue
            self.con.register("_chunk", arrow)
            self.con.execute(f"INSERT INTO _stage_{table} SELECT * FROM _chunk")  # noqa: S608
            self.con.unregister("_chunk")
        if chunk.rejects:
            self.con.executemany(
                "INSERT INTO rejected_rows VALUES (?, ?, ?, ?, ?)",
                [(load_id, source, t, raw, reason) for t, raw, reason in chunk.rejects])
        return chunk.rows_read if chunk.rows_read is not None else read + len(chunk.rejects)

    def _parquet(self, table: str, path: str) -> int:
        if table in self.copied or table in self.lone:
            self._copy_lone(table)
            return _stage_parquet(self.con, table, path)
        import pyarrow.parquet as pq

        file = pq.ParquetFile(path)
        if "file_row_number" in file.schema_arrow.names:  # (the name the view adds)
            self.copied.add(table)
            return _stage_parquet(self.con, table, path)
        self.lone[table] = (path, [*_native_select(path, table),
                                   *_typed_select(file.schema_arrow, table)])
        return file.metadata.num_rows

    def _copy_lone(self, table: str) -> None:
        """Another input of `table` follows: its lone file, if any, is copied first."""
        if table in self.lone:
            _stage_parquet(self.con, table, self.lone.pop(table)[0])
        self.copied.add(table)

    def views(self) -> None:
        """`_staged_<table>` for every table, once every chunk is staged."""
        for table in STAGE_COLUMNS:
            if table in self.lone:
                path, select = self.lone[table]
                literal = "'" + path.replace("'", "''") + "'"
                rows = (f"SELECT file_row_number AS _seq, {', '.join(select)} "
                        f"FROM read_parquet({literal}, file_row_number = true)")
            else:
                rows = f"SELECT {', '.join(['rowid AS _seq', '*', *_typed_select(None, table)])} " \
                       f"FROM _stage_{table}"
            try:
                self.con.execute(f"CREATE OR REPLACE TEMP VIEW _staged_{table} AS {rows}")
            except duckdb.Error as exc:
                raise LoadError(f"{self.lone[table][0]}: cannot be read ({exc})") from exc


def _create_stages(con: duckdb.DuckDBPyConnection) -> None:
    earliest, latest = settings.instant_range()
    con.execute("SET VARIABLE instant_earliest = ?::TIMESTAMP", [earliest])
    con.execute("SET VARIABLE instant_latest = ?::TIMESTAMP", [latest])
    con.execute(_sql("macros"))
    rollups.expect_writes(con)
    for table, cols in STAGE_COLUMNS.items():
        col_sql = ", ".join(f"{c} VARCHAR" for c in (*cols, "_raw"))
        con.execute(f"CREATE OR REPLACE TEMP TABLE _stage_{table} ({col_sql})")


def _drop_stages(con: duckdb.DuckDBPyConnection) -> None:
    """Free the staged text before the rollups and the checkpoint need the memory."""
    for table in STAGE_COLUMNS:
        con.execute(f"DROP VIEW IF EXISTS _staged_{table}")
    for name in (*(f"_stage_{t}" for t in STAGE_COLUMNS), "_norm", "_refused", "_changed",
                 "_touched_users"):
        con.execute(f"DROP TABLE IF EXISTS {name}")


def _publish_table(con: duckdb.DuckDBPyConnection, table: str, load_id: int,
                   source: str) -> tuple[int, dict[str, int]]:
    """Normalise the staged rows of one table, reject the bad, upsert the changed."""
    empty = con.execute(f"SELECT count(*) = 0 FROM (FROM {table} LIMIT 1)").fetchone()[0]
    if empty and (first := _first_load(con, table, load_id, source)) is not None:
        return first
    con.execute(f"CREATE OR REPLACE TEMP TABLE _norm AS {_sql(f'normalise_{table}')}")
    key = KEYS[table]
    key_sql = ", ".join(key)
    # A key seen twice in one load: the first row wins, the others are refused.
    dups = con.execute(f"SELECT count(*) FROM (SELECT {key_sql} FROM _norm WHERE _reason IS NULL "
                       f"GROUP BY ALL HAVING count(*) > 1)").fetchone()[0]
    if dups:
        stage_cols = ", ".join(STAGE_COLUMNS[table])
        con.execute(f"""
            UPDATE _norm SET _reason = 'duplicate key within this load: '
                                       || {" || ' ' || ".join(key)}::VARCHAR,
                             _raw_record = d._raw
            FROM (SELECT s._seq, coalesce(s._raw, to_json(struct_pack({stage_cols}))::VARCHAR)
                         AS _raw
                  FROM _staged_{table} s
                  JOIN (SELECT _seq FROM (
                          SELECT _seq, row_number() OVER (PARTITION BY {key_sql} ORDER BY _seq)
                                 AS rn FROM _norm WHERE _reason IS NULL) WHERE rn > 1) x
                    ON s._seq = x._seq) d
            WHERE _norm._seq = d._seq""")
    reasons = _record_refused(con, "_norm WHERE _reason IS NOT NULL", table, load_id, source)
    cols = TARGET_COLUMNS[table]
    params = {"source": source, "load_id": load_id}
    if empty:
        written = con.execute(_insert_sql(table, "_norm WHERE _reason IS NULL"),
                              params).fetchone()[0]
        _note_first_load(con, table)
    else:
        compare = [c for c in cols if c not in key]
        # A paired estimate's `counted` is derived after the upsert, so it is not compared.
        differs = " OR ".join(
            "(NOT n.pairing AND t.counted IS DISTINCT FROM n.counted)" if c == "counted"
            else f"t.{c} IS DISTINCT FROM n.{c}" for c in compare)
        on = " AND ".join(f"t.{k} = n.{k}" for k in key)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _changed AS
            SELECT n.*, t.{key[0]} IS NOT NULL AS _replaces FROM _norm n
            LEFT JOIN {table} t ON {on}
            WHERE n._reason IS NULL AND (t.{key[0]} IS NULL OR {differs})""")
        written, replaced = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE _replaces) FROM _changed").fetchone()
        if replaced:
            # (a day of new lines replaces none: no second join over every line)
            con.execute(f"DELETE FROM {table} t USING _changed n WHERE n._replaces AND {on}")
        if written:
            con.execute(_insert_sql(table, "_changed"), params)
        if written and table in ROLLED_UP:
            # (a day a replaced line left has a line fewer, unless one arrived: the rollups
            # find it by its count)
            rollups.note_written_days(con, "SELECT DISTINCT CAST(ts AS DATE) FROM _changed")
        if table == "cost_events":
            _pair_touched(con, "SELECT DISTINCT user_id FROM _norm WHERE _reason IS NULL "
                               "AND pairing")
    return written, reasons


def _first_load(con: duckdb.DuckDBPyConnection, table: str, load_id: int,
                source: str) -> tuple[int, dict[str, int]] | None:
    """An empty table's load, straight from the staged rows: every good row is new.

    The normalised rows are never materialised: the good rows are inserted as they are
    normalised, and only when fewer were written than were staged are the refused rows
    normalised again for their reasons (a clean file is read once). A month's 88 M cost
    lines materialised outgrew the load's memory (and spilled): normalised, checked for
    repeated keys and copied in 131.6 s. None, and nothing written, when a key comes twice:
    the general path refuses all but the first.
    """
    norm = f"(\n{_sql(f'normalise_{table}')}\n)"
    con.begin()
    try:
        written = con.execute(_insert_sql(table, f"{norm} WHERE _reason IS NULL"),
                              {"source": source, "load_id": load_id}).fetchone()[0]
        if _has_repeated_key(con, table, KEYS[table]):  # (every row of it is this load's)
            con.rollback()
            return None
        con.commit()
    except BaseException:
        con.rollback()
        raise
    staged = con.execute(f"SELECT count(*) FROM _staged_{table}").fetchone()[0]  # noqa: S608
    con.execute("CREATE OR REPLACE TEMP TABLE _refused AS SELECT _seq, _reason, _raw_record "
                f"FROM {norm} WHERE _reason IS NOT NULL" + ("" if written < staged else
                                                             " LIMIT 0"))
    reasons = _record_refused(con, "_refused", table, load_id, source)
    _note_first_load(con, table)
    return written, reasons


def _has_repeated_key(con: duckdb.DuckDBPyConnection, rows: str, key: tuple[str, ...]) -> bool:
    """Whether a key comes twice among `rows`: by the keys' 64-bit hashes (a month's 88 M
    event ids grouped as text: 19.5 s), and only where two hashes agree, by the keys."""
    key_sql = ", ".join(key)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _twice AS SELECT hash({key_sql}) AS h "
                f"FROM {rows} GROUP BY h HAVING count(*) > 1")
    try:
        if not con.execute("SELECT count(*) FROM _twice").fetchone()[0]:
            return False
        return bool(con.execute(
            f"SELECT count(*) FROM (SELECT {key_sql} FROM {rows} "
            f"WHERE hash({key_sql}) IN (SELECT h FROM _twice) "
            "GROUP BY ALL HAVING count(*) > 1)").fetchone()[0])
    finally:
        con.execute("DROP TABLE _twice")


def _record_refused(con: duckdb.DuckDBPyConnection, refused: str, table: str, load_id: int,
                    source: str) -> dict[str, int]:
    """Send the refused rows (`_seq`, `_reason`, `_raw_record`) to rejected_rows in the
    load's order; their counts by reason."""
    con.execute(
        "INSERT INTO rejected_rows SELECT $load_id, $source, $table, _raw_record, _reason "
        f"FROM {refused} ORDER BY _seq",
        {"load_id": load_id, "source": source, "table": table})
    return dict(con.execute(
        f"SELECT split_part(_reason, ':', 1), count(*) FROM {refused} GROUP BY 1").fetchall())


def _insert_sql(table: str, rows: str) -> str:
    col_list = ", ".join(TARGET_COLUMNS[table])
    return (f"INSERT INTO {table} ({col_list}, source, load_id) "  # noqa: S608
            f"SELECT {col_list}, $source, $load_id FROM {rows}")


def _note_first_load(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """After the load into an empty table (its lines are all this load's): the days it
    wrote, for the rollups, and the estimates to pair."""
    if table in ROLLED_UP:
        rollups.note_written_days(con, f"SELECT DISTINCT CAST(ts AS DATE) FROM {table}")
    if table == "cost_events":
        _pair_touched(con, "SELECT DISTINCT user_id FROM cost_events WHERE pairing")


def _pair_touched(con: duckdb.DuckDBPyConnection, users_sql: str) -> None:
    """Pair the estimates of the users `users_sql` names again, and note the days of the
    lines it re-paired for the rollups."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _touched_users AS {users_sql}")
    if con.execute("SELECT count(*) FROM _touched_users").fetchone()[0]:
        repaired = con.execute(_sql("pair_estimates")).fetchnumpy()["day"]
        con.register("_repaired_days", pa.table({"day": pc.unique(pa.array(repaired))}))
        rollups.note_written_days(con, "SELECT day FROM _repaired_days")
        con.unregister("_repaired_days")


def next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM load_log").fetchone()[0]


def load(db: Path, source: str, chunks: Iterable[Chunk], *,
         progress: Callable[[int], None] | None = None, fresh: bool = False,
         watermark: str | Callable[[], str] | None = None) -> LoadResult:
    """Load every chunk into a new version of `db` and publish it, or change nothing.

    `progress` is called with the number of source records staged after each chunk.
    `fresh` starts from an empty database (the demo generator). `watermark` is stored
    in the load log for a source's next incremental load; a callable is called once
    every chunk is read (a source that learns its watermark while reading).
    """
    db = Path(db)
    started = datetime.now(UTC).replace(tzinfo=None)
    t0 = time.perf_counter()
    result = LoadResult(load_id=0, source=source)
    try:
        with new_version(db, fresh=fresh) as con:
            result.load_id = next_load_id(con)
            _create_stages(con)
            staging = Staging(con)
            for chunk in chunks:
                n = staging.stage(chunk, result.load_id, source)
                result.rows_read += n
                if progress:
                    progress(n)
            staging.views()
            pre_rejected = con.execute("SELECT count(*) FROM rejected_rows WHERE load_id = ?",
                                       [result.load_id]).fetchone()[0]
            if pre_rejected:
                result.rejected_by_reason = dict(con.execute(
                    "SELECT split_part(reason, ':', 1), count(*) FROM rejected_rows "
                    "WHERE load_id = ? GROUP BY 1", [result.load_id]).fetchall())
            for table in TABLES:
                written, reasons = _publish_table(con, table, result.load_id, source)
                result.rows_written += written
                for reason, count in reasons.items():
                    result.rejected_by_reason[reason] = (
                        result.rejected_by_reason.get(reason, 0) + count)
            result.rows_rejected = sum(result.rejected_by_reason.values())
            _dedupe_rejects(con, result.load_id)
            _drop_stages(con)
            result.seconds = time.perf_counter() - t0
            if callable(watermark):
                watermark = watermark()
            con.execute(
                "INSERT INTO load_log VALUES (?, ?, ?, ?, ?, ?, ?, 'ok', NULL, ?)",
                [result.load_id, source, started, datetime.now(UTC).replace(tzinfo=None),
                 result.rows_read, result.rows_written, result.rows_rejected, watermark])
    except Exception as exc:
        result.status, result.error = "failed", f"{type(exc).__name__}: {exc}"
        result.seconds = time.perf_counter() - t0
        _record_failure(db, result, started)
        raise LoadError(f"load of {source} failed, database unchanged: {result.error}") from exc
    return result


def _dedupe_rejects(con: duckdb.DuckDBPyConnection, load_id: int) -> None:
    """A reload refuses the same rows again: keep one entry each, from the newest load."""
    con.execute("""
        DELETE FROM rejected_rows r
        WHERE r.load_id < $load_id AND EXISTS (
            SELECT 1 FROM rejected_rows n
            WHERE n.load_id = $load_id AND n.source = r.source
              AND n.table_name = r.table_name AND n.raw_record = r.raw_record
              AND n.reason = r.reason)""", {"load_id": load_id})


def _record_failure(db: Path, result: LoadResult, started: datetime) -> None:
    """Log a failed load in its own small publish, so the data itself stays as it was."""
    try:
        with new_version(db) as con:
            rollups.expect_writes(con)  # (a line of the load log alone)
            result.load_id = next_load_id(con)
            con.execute(
                "INSERT INTO load_log VALUES (?, ?, ?, ?, ?, 0, 0, 'failed', ?, NULL)",
                [result.load_id, result.source, started,
                 datetime.now(UTC).replace(tzinfo=None), result.rows_read, result.error])
    except Exception:  # noqa: BLE001 - the original error is the one to report
        pass


def last_watermark(db: Path, source: str) -> str | None:
    """The watermark of the newest successful load of `source`, for incremental loads."""
    db = Path(db)
    if not db.exists():
        return None
    con = connect_read_only(db)
    try:
        tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
        if "load_log" not in tables:
            return None
        row = con.execute(
            "SELECT watermark FROM load_log WHERE source = ? AND status = 'ok' "
            "AND watermark IS NOT NULL ORDER BY load_id DESC LIMIT 1", [source]).fetchone()
        return row[0] if row else None
    finally:
        con.close()
