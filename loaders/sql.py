"""`python -m loaders sql`: contract-shaped tables from any database SQLAlchemy reaches.

Without a mapping, the tables named as the contract's (cost_events, revenue_events,
token_balances, affiliate_events) are read, each with the contract columns it has. A
TOML mapping names other tables and columns, or gives a SQL expression for a column:

    [cost_events]
    table = "usage_lines"          # optionally schema = "billing"
    watermark = "created_at"       # default: the column mapped to ts (as_of for balances)
    [cost_events.columns]
    event_id = "line_id"
    ts = "created_at"
    cost_usd = { sql = "amount_micros / 1000000.0" }

Every value is cast to text by the database itself, so money never passes through a
float here. Rows stream in chunks (a server-side cursor on PostgreSQL). Each load
fixes the newest watermark value per table before reading, reads up to it, and
records it; the next reads from there (`>=`, so a row sharing the last timestamp is
not missed; the upsert makes the re-read a no-op). Rows that arrive later with an
older timestamp are not seen by an incremental load: `--full` reads everything.
The statements are built with SQLAlchemy Core from the mapping (names and the mapping's
own expressions), with every value bound, so there is no .sql file for them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from loaders.pipeline import STAGE_COLUMNS, Chunk, LoadError, LoadResult, last_watermark, load

COMMAND = "sql"
HELP = "load contract-shaped tables (or mapped ones) from a SQL database via SQLAlchemy"
DEFAULT_CHUNK_ROWS = 10_000
TIME_COLUMN = {"cost_events": "ts", "revenue_events": "ts", "token_balances": "as_of",
               "affiliate_events": "ts"}

Progress = Callable[[str, int, int | None], None]


@dataclass
class TableMap:
    """Where one contract table's rows come from."""

    target: str
    table: str
    schema: str | None
    columns: dict[str, str | dict[str, str]]
    watermark: str | None = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, help="DuckDB file (default: the PROFIT_DB setting)")
    parser.add_argument("--url", required=True,
                        help="SQLAlchemy URL, e.g. postgresql+psycopg2://user:pw@host/db")
    parser.add_argument("--mapping", type=Path, help="TOML file naming tables and columns")
    parser.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS,
                        help=f"rows fetched per chunk (default {DEFAULT_CHUNK_ROWS:,})")
    parser.add_argument("--full", action="store_true", help="read everything, ignore watermark")
    parser.add_argument("--source", help="source name recorded with the rows")


def mask_url(text: str) -> str:
    """A URL with its password replaced by ***, even one SQLAlchemy cannot parse."""
    try:
        return sa.make_url(text).render_as_string(hide_password=True)
    except (sa_exc.ArgumentError, ValueError, TypeError):
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", text)


def parse_url(url: str | sa.URL) -> sa.URL:
    """The URL, or a ValueError that says what is wrong without showing the password."""
    if isinstance(url, sa.URL):
        return url
    try:
        parsed = sa.make_url(url)
    except (sa_exc.ArgumentError, ValueError) as exc:
        # Not echoed: a URL that does not parse may still hold a password.
        raise ValueError("not a database URL (expected dialect+driver://user:password@host:"
                         f"port/database; {type(exc).__name__}: the URL itself is not shown, "
                         "as it may hold a password)") from exc
    return parsed


def default_source(url: sa.URL) -> str:
    # URL.set(password=None) keeps the password; the tuple's _replace drops it.
    return "sql:" + url._replace(password=None).render_as_string(hide_password=True)


def _scrub(text: str, url: sa.URL) -> str:
    if url.password:
        text = text.replace(str(url.password), "***")
    return text


def engine_for(url: sa.URL) -> sa.Engine:
    try:
        return sa.create_engine(url, pool_pre_ping=False)
    except sa_exc.NoSuchModuleError as exc:
        raise ValueError(f"unknown database type {url.drivername!r} in "
                         f"{url.render_as_string(hide_password=True)}: no SQLAlchemy dialect "
                         "or driver of that name is installed") from exc
    except (ImportError, sa_exc.ArgumentError) as exc:
        raise ValueError(f"cannot use {url.render_as_string(hide_password=True)}: "
                         f"{_scrub(str(exc), url)}") from exc


def read_mapping(path: Path) -> list[TableMap]:
    """The mapping file's tables; unknown contract tables or columns are refused."""
    try:
        raw = tomllib.loads(Path(path).read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from exc
    maps = []
    for target, spec in raw.items():
        if target not in STAGE_COLUMNS:
            raise ValueError(f"{path}: [{target}] is not a contract table "
                             f"(use {', '.join(STAGE_COLUMNS)})")
        if not isinstance(spec, dict) or not spec.get("table"):
            raise ValueError(f"{path}: [{target}] needs table = \"...\"")
        columns = dict(spec.get("columns", {}))
        for col, value in columns.items():
            if col not in STAGE_COLUMNS[target]:
                raise ValueError(f"{path}: [{target}.columns] {col} is not a column of "
                                 f"{target} ({', '.join(STAGE_COLUMNS[target])})")
            if not (isinstance(value, str) or (isinstance(value, dict) and "sql" in value)):
                raise ValueError(f"{path}: [{target}.columns] {col} must be a column name or "
                                 "{ sql = \"expression\" }")
        maps.append(TableMap(target, spec["table"], spec.get("schema"), columns,
                             spec.get("watermark")))
    if not maps:
        raise ValueError(f"{path}: maps no table")
    return maps


def _resolve(conn: sa.Connection, maps: list[TableMap] | None) -> list[tuple[TableMap, sa.Table]]:
    """Reflect each source table; without a mapping, find the contract-named ones."""
    inspector = sa.inspect(conn)
    if maps is None:
        maps = [TableMap(t, t, None, {}) for t in STAGE_COLUMNS if inspector.has_table(t)]
        if not maps:
            raise ValueError("no table named like the contract's (" + ", ".join(STAGE_COLUMNS)
                             + ") in this database: give a --mapping")
    out = []
    for m in maps:
        try:
            table = sa.Table(m.table, sa.MetaData(), schema=m.schema, autoload_with=conn)
        except sa_exc.NoSuchTableError as exc:
            raise ValueError(f"{m.target}: no table {m.table!r} in the database") from exc
        names = set(table.columns.keys())
        # Contract-named columns are taken as they are unless the mapping says otherwise.
        for col in STAGE_COLUMNS[m.target]:
            if col not in m.columns and col in names:
                m.columns[col] = col
        for col, spec in m.columns.items():
            if isinstance(spec, str) and spec not in names:
                raise ValueError(f"{m.target}.{col}: no column {spec!r} in table {m.table} "
                                 f"(it has {', '.join(sorted(names))})")
        if m.watermark is None:
            spec = m.columns.get(TIME_COLUMN[m.target])
            m.watermark = spec if isinstance(spec, str) else None
        elif m.watermark not in names:
            raise ValueError(f"{m.target}: watermark column {m.watermark!r} is not in "
                             f"table {m.table}")
        out.append((m, table))
    return out


def _select(m: TableMap, table: sa.Table, since: str | None, until: Any) -> sa.Select:
    exprs = []
    for col, spec in m.columns.items():
        expr = (sa.literal_column(f"({spec['sql']})") if isinstance(spec, dict)
                else table.c[spec])
        exprs.append(sa.cast(expr, sa.String).label(col))
    stmt = sa.select(*exprs).select_from(table)
    if m.watermark:
        mark = sa.column(m.watermark)  # untyped: the driver's own value, no conversion
        if since is not None:
            stmt = stmt.where(mark >= sa.bindparam("since", since, type_=sa.String))
        if until is not None:
            stmt = stmt.where(mark <= sa.bindparam("until", str(until), type_=sa.String))
    return stmt


@dataclass
class TablePlan:
    """One table's read in this load: its statement bounds and the watermark it leaves."""

    map: TableMap
    table: sa.Table
    since: str | None
    until: Any


def plan_tables(engine: sa.Engine, url: sa.URL, maps: list[TableMap] | None,
                previous: dict[str, str]) -> list[TablePlan]:
    """Reflect the tables and fix each one's upper watermark before any row is read.

    Rows that arrive while the load runs are past `until` and are read next time.
    """
    plans = []
    with _errors(url), engine.connect() as conn:
        for m, table in _resolve(conn, maps):
            until = None
            if m.watermark:
                until = conn.execute(sa.select(sa.func.max(sa.column(m.watermark)))
                                     .select_from(table)).scalar()
            plans.append(TablePlan(m, table, previous.get(m.target), until))
    return plans


def watermark_of(plans: list[TablePlan], previous: dict[str, str]) -> str:
    marks = dict(previous)
    for p in plans:
        if p.until is not None:
            marks[p.map.target] = str(p.until)
    return json.dumps(marks, sort_keys=True)


def sql_chunks(engine: sa.Engine, url: sa.URL, plans: list[TablePlan], *, chunk_rows: int,
               progress: Progress | None = None) -> Iterator[Chunk]:
    """Chunks of every planned table, streamed `chunk_rows` at a time."""
    with _errors(url), engine.connect() as conn:
        for p in plans:
            target = p.map.target
            stmt = _select(p.map, p.table, p.since, p.until)
            total = None
            if progress:
                total = conn.execute(sa.select(sa.func.count())
                                     .select_from(stmt.subquery())).scalar()
                progress(target, 0, total)
            stream = conn.execution_options(stream_results=True, yield_per=chunk_rows)
            result = stream.execute(stmt)
            names = list(result.keys())
            done = 0
            for rows in result.partitions():
                columns = list(zip(*rows, strict=True))
                frame = pa.table({n: pa.array(list(c), pa.string())
                                  for n, c in zip(names, columns, strict=True)})
                done += frame.num_rows
                yield Chunk(frames={target: frame}, rows_read=frame.num_rows)
                if progress:
                    progress(target, done, total)


@contextlib.contextmanager
def _errors(url: sa.URL) -> Iterator[None]:
    """Database errors as one clear line, with the URL's password hidden."""
    try:
        yield
    except sa_exc.OperationalError as exc:
        raise LoadError(f"cannot read {url.render_as_string(hide_password=True)}: "
                        f"{_scrub(_first_line(exc), url)}") from None
    except sa_exc.SQLAlchemyError as exc:
        raise LoadError(f"{url.render_as_string(hide_password=True)}: "
                        f"{_scrub(_first_line(exc), url)}") from None


def _first_line(exc: sa_exc.SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check_connection(engine: sa.Engine, url: sa.URL) -> None:
    """Connect once before loading, so a wrong password is a clear error, not a failed load."""
    try:
        with engine.connect():
            pass
    except sa_exc.SQLAlchemyError as exc:
        raise LoadError(f"cannot connect to {url.render_as_string(hide_password=True)}: "
                        f"{_scrub(_first_line(exc), url)}") from None


def load_sql(db: Path, url: str | sa.URL, *, mapping: Path | None = None,
             chunk_rows: int = DEFAULT_CHUNK_ROWS, full: bool = False,
             source: str | None = None, progress: Progress | None = None) -> LoadResult:
    """Load the source database's tables in one load (all or nothing)."""
    parsed = parse_url(url)
    maps = read_mapping(mapping) if mapping else None
    source = source or default_source(parsed)
    engine = engine_for(parsed)
    try:
        check_connection(engine, parsed)
        previous: dict[str, str] = {}
        mark = None if full else last_watermark(db, source)
        if mark:
            try:
                previous = dict(json.loads(mark))
            except (ValueError, TypeError):
                previous = {}
        plans = plan_tables(engine, parsed, maps, previous)
        chunks = sql_chunks(engine, parsed, plans, chunk_rows=chunk_rows, progress=progress)
        return load(db, source, chunks, watermark=watermark_of(plans, previous))
    finally:
        engine.dispose()


def main(args: argparse.Namespace) -> int:
    from core import settings
    from loaders.progress import terminal_progress

    db = args.db or settings.db_path()
    bars: dict[str, Any] = {}

    def progress(table: str, done: int, total: int | None) -> None:
        if table not in bars:
            for ctx, _, _ in bars.values():
                ctx.__exit__(None, None, None)
            bars.clear()
            ctx = terminal_progress(table, total=total)
            bars[table] = (ctx, ctx.__enter__(), [0])
        _, advance, seen = bars[table]
        advance(done - seen[0])
        seen[0] = done

    try:
        result = load_sql(db, args.url, mapping=args.mapping, chunk_rows=args.chunk_rows,
                          full=args.full, source=args.source, progress=progress)
    finally:
        for ctx, _, _ in bars.values():
            ctx.__exit__(None, None, None)
    print(result.summary())
    return 0
