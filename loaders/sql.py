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
not missed; the upsert makes the re-read a no-op).

An incremental read must see what a full read would. So:
- the watermark is a column the database orders as time or number (a timestamp or
  date on a server with real ones, or an integer); a text column (SQLite keeps every
  timestamp as text) would compare `9:00` after `10:00`, so such a table is read
  whole each load, and its plan line says why;
- rows whose watermark is NULL or outside the accepted instants (`infinity`, year
  12000) are read by every load (and refused again, kept once), and never become the
  watermark, so they cannot hide the rows after them;
- rows that arrive later with an older timestamp are what an incremental read cannot
  see: every table is read whole at least every `--reconcile-days` (default 7).
`--full` reads everything now.
The statements are built with SQLAlchemy Core from the mapping (names and the mapping's
own expressions), with every value bound, so there is no .sql file for them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from core import secrecy, settings
from core.deferred import deferred
from loaders.pipeline import STAGE_COLUMNS, Chunk, LoadError, LoadResult, last_watermark, load
from loaders.progress import TableProgress, terminal_tables
from loaders.registry import Setting, Source

sa = deferred("sqlalchemy")  # (imported when a SQL source is read: not by every loader command)
sa_exc = deferred("sqlalchemy.exc")

COMMAND = "sql"
HELP = "load contract-shaped tables (or mapped ones) from a SQL database via SQLAlchemy"
DEFAULT_CHUNK_ROWS = 10_000
DEFAULT_RECONCILE_DAYS = 7
FULL_AS_OF = "_full_as_of"  # the watermark's key for the last whole read
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
    why_whole: str | None = None  # why this table has no usable watermark


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, help="DuckDB file (default: the PROFIT_DB setting)")
    parser.add_argument("--url", required=True,
                        help="SQLAlchemy URL, e.g. postgresql://user:pw@host/db (psycopg 3) "
                        "or postgresql+psycopg2://... (psycopg2)")
    parser.add_argument("--mapping", type=Path, help="TOML file naming tables and columns")
    parser.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS,
                        help=f"rows fetched per chunk (default {DEFAULT_CHUNK_ROWS:,})")
    parser.add_argument("--full", action="store_true", help="read everything, ignore watermark")
    parser.add_argument("--reconcile-days", type=int, default=DEFAULT_RECONCILE_DAYS,
                        help="read everything when the last whole read is older than this "
                             f"(default {DEFAULT_RECONCILE_DAYS})")
    parser.add_argument("--source", help="source name recorded with the rows")


def mask_url(text: str) -> str:
    """A URL with its password replaced by ***, even one SQLAlchemy cannot parse."""
    return secrecy.safe_url(text)


def parse_url(url: str | sa.URL) -> sa.URL:
    """The URL, or a ValueError that says what is wrong without showing the password."""
    if isinstance(url, sa.URL):
        return url
    try:
        parsed = sa.make_url(secrecy.normalise_url(url))
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
            if m.watermark is None:
                m.why_whole = f"{TIME_COLUMN[m.target]} is an expression, not a column"
        elif m.watermark not in names:
            raise ValueError(f"{m.target}: watermark column {m.watermark!r} is not in "
                             f"table {m.table}")
        if m.watermark is not None:
            m.why_whole = _unorderable(conn.dialect.name, table.c[m.watermark])
            if m.why_whole:
                m.watermark = None
        out.append((m, table))
    return out


def _unorderable(dialect: str, column: sa.Column) -> str | None:
    """Why a column cannot be a watermark (None when it can)."""
    kind = column.type
    if isinstance(kind, sa.Integer):
        return None
    if isinstance(kind, sa.DateTime | sa.Date) and dialect != "sqlite":
        return None
    stored = "text in SQLite" if dialect == "sqlite" else str(kind)
    return (f"{column.name} is {stored}, which the database compares as text, not time; "
            "read whole each load")


def _is_temporal(column: sa.Column) -> bool:
    return isinstance(column.type, sa.DateTime | sa.Date)


def _mark_text(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime | date) else str(value)


def _mark_value(column: sa.Column, text: str) -> Any:
    """A stored watermark back as the column's own type (ValueError if it is not)."""
    if isinstance(column.type, sa.Integer):
        return int(text)
    if isinstance(column.type, sa.DateTime):
        return datetime.fromisoformat(text)
    return date.fromisoformat(text[:10])


def _instant_bounds(column: sa.Column) -> tuple[Any, Any]:
    """The accepted instants ([loading] earliest/latest) in the column's own type."""
    earliest, latest = settings.instant_range()
    if isinstance(column.type, sa.DateTime):
        if column.type.timezone:
            return earliest.replace(tzinfo=UTC), latest.replace(tzinfo=UTC)
        return earliest, latest
    return earliest.date(), latest.date()


def _select(m: TableMap, table: sa.Table, since: Any, until: Any) -> sa.Select:
    exprs = []
    for col, spec in m.columns.items():
        expr = (sa.literal_column(f"({spec['sql']})") if isinstance(spec, dict)
                else table.c[spec])
        exprs.append(sa.cast(expr, sa.String).label(col))
    stmt = sa.select(*exprs).select_from(table)
    if m.watermark and since is not None:
        mark = table.c[m.watermark]
        window = mark >= sa.bindparam("since", since, type_=mark.type)
        if until is not None:
            window = sa.and_(window, mark <= sa.bindparam("until", until, type_=mark.type))
        # NULL and out-of-range marks are read every time (and refused every time).
        unseen = [mark.is_(None)]
        if _is_temporal(mark):
            low, high = _instant_bounds(mark)
            unseen += [mark < sa.bindparam("earliest", low, type_=mark.type),
                       mark >= sa.bindparam("latest", high, type_=mark.type)]
        stmt = stmt.where(sa.or_(window, *unseen))
    return stmt


@dataclass
class TablePlan:
    """One table's read in this load: its statement bounds and the watermark it leaves."""

    map: TableMap
    table: sa.Table
    since: Any
    until: Any
    why: str = "incremental"

    def describe(self) -> str:
        how = (f"rows from {m} on" if (m := self.since) is not None else "every row")
        return f"{self.map.target}: {self.map.table}: {how} ({self.why})"


def plan_tables(engine: sa.Engine, url: sa.URL, maps: list[TableMap] | None,
                previous: dict[str, str], *, whole: str | None = None) -> list[TablePlan]:
    """Reflect the tables and fix each one's upper watermark before any row is read.

    Rows that arrive while the load runs are past `until` and are read next time. The
    upper watermark is the newest value within the accepted instants, so `infinity`
    never becomes one. `whole` says why this load reads every table whole, if it does.
    """
    plans = []
    with _errors(url), engine.connect() as conn:
        for m, table in _resolve(conn, maps):
            until, since, why = None, None, m.why_whole or whole or "no previous load"
            if m.watermark:
                mark = table.c[m.watermark]
                query = sa.select(sa.func.max(mark)).select_from(table)
                if _is_temporal(mark):
                    low, high = _instant_bounds(mark)
                    query = query.where(mark >= low, mark < high)
                until = conn.execute(query).scalar()
                if whole is None and m.target in previous:
                    try:
                        since = _mark_value(mark, previous[m.target])
                        why = "incremental"
                    except ValueError:
                        why = "unreadable watermark"
            plans.append(TablePlan(m, table, since, until, why))
    return plans


def watermark_of(plans: list[TablePlan], previous: dict[str, str], now: datetime) -> str:
    marks = {k: v for k, v in previous.items() if k != FULL_AS_OF}
    for p in plans:
        if p.until is not None:
            marks[p.map.target] = _mark_text(p.until)
    whole = all(p.since is None for p in plans)
    marks[FULL_AS_OF] = now.isoformat() if whole else previous.get(FULL_AS_OF, "")
    return json.dumps(marks, sort_keys=True)


def _whole_reason(previous: dict[str, str], full: bool, now: datetime,
                  reconcile_days: int) -> str | None:
    """Why this load reads every table whole (None: incrementally)."""
    if full:
        return "--full"
    if not previous:
        return "no previous load"
    try:
        last = datetime.fromisoformat(previous.get(FULL_AS_OF) or "")
    except ValueError:
        return "no whole read recorded"
    if now - last >= timedelta(days=reconcile_days):
        return f"reconciliation: last whole read {last.isoformat(timespec='seconds')}"
    return None


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
             reconcile_days: int = DEFAULT_RECONCILE_DAYS, source: str | None = None,
             progress: Progress | None = None, now: datetime | None = None,
             plans_out: list[TablePlan] | None = None) -> LoadResult:
    """Load the source database's tables in one load (all or nothing).

    `plans_out`, when given, receives each table's plan (what was read and why).
    """
    parsed = parse_url(url)
    maps = read_mapping(mapping) if mapping else None
    source = source or default_source(parsed)
    engine = engine_for(parsed)
    try:
        check_connection(engine, parsed)
        previous: dict[str, str] = {}
        mark = last_watermark(db, source)
        if mark:
            try:
                previous = {str(k): str(v) for k, v in dict(json.loads(mark)).items()}
            except (ValueError, TypeError):
                previous = {}
        now = now or datetime.now(UTC).replace(tzinfo=None)
        whole = _whole_reason(previous, full, now, reconcile_days)
        plans = plan_tables(engine, parsed, maps, previous, whole=whole)
        if plans_out is not None:
            plans_out.extend(plans)
        chunks = sql_chunks(engine, parsed, plans, chunk_rows=chunk_rows, progress=progress)
        result = load(db, source, chunks, watermark=watermark_of(plans, previous, now))
        result.notes = [plan.describe() for plan in plans]
        return result
    finally:
        engine.dispose()


def main(args: argparse.Namespace) -> int:
    db = args.db or settings.db_path()
    plans: list[TablePlan] = []
    with terminal_tables() as progress:
        result = load_sql(db, args.url, mapping=args.mapping, chunk_rows=args.chunk_rows,
                          full=args.full, reconcile_days=args.reconcile_days,
                          source=args.source, progress=progress, plans_out=plans)
    for plan in plans:
        print(plan.describe())
    print(result.summary())
    return 0


def _run(opts: dict[str, Any], db: Path, progress: TableProgress | None) -> LoadResult:
    return load_sql(db, opts["url"], mapping=opts.get("mapping"), chunk_rows=opts["chunk_rows"],
                    reconcile_days=opts["reconcile_days"],
                    source=opts.get("source") or _name(opts), progress=progress)


def _name(opts: dict[str, Any]) -> str:
    return default_source(parse_url(str(opts["url"])))


EXAMPLE = (  # for `--help`: pasteable as it stands
    "  .venv/bin/python -m loaders sql --db data/profit.duckdb \\\n"
    "      --url postgresql://analyst@127.0.0.1:5432/finance")
LOADER = Source(
    example=EXAMPLE,
    command=COMMAND, help=HELP, add_arguments=add_arguments, main=main, run=_run, name=_name,
    tables=len(STAGE_COLUMNS),
    settings=(Setting("url", "SQLAlchemy URL (postgresql://user:pw@host/db)", required=True),
              Setting("mapping", "TOML file naming tables and columns", kind="path"),
              Setting("chunk_rows", "rows fetched per chunk", DEFAULT_CHUNK_ROWS, "int"),
              Setting("reconcile_days", "a whole read when the last is older than this",
                      DEFAULT_RECONCILE_DAYS, "int")))
