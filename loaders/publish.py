"""Publish a new version of the database without ever showing a reader half a load.

DuckDB allows one writing process, and the app keeps a read-only connection open.
So a load never writes the live file: it copies it to a temporary file beside it,
writes there, checkpoints, and atomically renames the copy over the live file.
Readers holding the old file keep reading the old version (POSIX keeps the old inode
alive); the app notices the new inode and re-opens. A load that fails or is killed
leaves only a stray temporary file, which the next load removes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb

from core.files import exclusive_lock

SCHEMA_SQL = Path(__file__).with_name("schema.sql")
TMP_MARK = ".loading-"
LOAD_MEMORY_LIMIT = os.environ.get("PROFIT_LOAD_MEMORY", "6GB")
# What one reader (the app, a command) lets DuckDB hold before it spills beside the file:
# the replay's sorted read of a 1,000,000-user month took 12 GB unbounded. Most of what a
# reader holds is cached blocks of the file, which the OS caches too: at 1,000,000 users
# 1 GB left every page as quick as 3 GB did, and the app 1.2 GB smaller before What-if.
READ_MEMORY_LIMIT = os.environ.get("PROFIT_READ_MEMORY", "1GB")
SPILL_DIR = ".duckdb-spill"
NO_AUTO_CHECKPOINT = "1000GB"  # larger than any load's log: a load checkpoints when it says


def apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the contract's tables where they are missing."""
    con.execute(SCHEMA_SQL.read_text())


def _remove_stale(path: Path) -> None:
    """Remove temporary files of loads that died (they hold no published data)."""
    for stale in path.parent.glob(f"{path.name}{TMP_MARK}*"):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()


@contextlib.contextmanager
def writer_lock(path: Path) -> Iterator[None]:
    """Serialise loads of one database: a second load waits for the first."""
    with exclusive_lock(path):
        yield


def _flush_in_background(copy: Path) -> threading.Thread:
    """Write the fresh copy's pages to disk while the load stages and normalises.

    The copy leaves the whole file dirty in the page cache, and DuckDB's first sync of it
    (while the load inserts) would wait for all of it: a day's insert into the 1,000,000-user
    month took 2.5-2.8 s on one core instead of 1.4 s on two. Flushed by a thread as soon
    as it is copied, the disk's work overlaps the CPU's. Publishing syncs the file again.
    """
    def flush() -> None:
        with contextlib.suppress(OSError):  # (a failed load may remove the copy first)
            fd = os.open(copy, os.O_RDONLY)
            try:
                os.fdatasync(fd)
            finally:
                os.close(fd)

    thread = threading.Thread(target=flush, name="flush-copy", daemon=True)
    thread.start()
    return thread


@contextlib.contextmanager
def new_version(path: Path, *, fresh: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a writable connection to a copy of `path`; publish it only on success.

    With `fresh`, the copy starts empty (the demo generator replaces everything).
    """
    path = Path(path)
    with writer_lock(path):
        _remove_stale(path)
        tmp = path.with_name(f"{path.name}{TMP_MARK}{os.getpid()}")
        flushing = None
        if path.exists() and not fresh:
            shutil.copyfile(path, tmp)
            flushing = _flush_in_background(tmp)
        con = duckdb.connect(str(tmp))
        try:
            con.execute("SET TimeZone = 'UTC'")
            # Large loads stage more than fits in memory: let DuckDB spill beside the file
            # rather than take the machine (the app and other loads share it).
            con.execute(f"SET memory_limit = '{LOAD_MEMORY_LIMIT}'")
            con.execute("SET temp_directory = ?", [str(path.parent / SPILL_DIR)])
            con.execute("SET preserve_insertion_order = false")
            # The copy is thrown away unless the load succeeds, so the checkpoints DuckDB
            # would make as its log grows only cost time: two below, none automatic (a
            # day's load into a 1,000,000-user month: 27.1 s → 19.1 s in process).
            con.execute(f"SET checkpoint_threshold = '{NO_AUTO_CHECKPOINT}'")
            apply_schema(con)
            yield con
            from loaders import rollups  # (a reader's import of this module needs none of it)

            # The loaded lines written out (compressed) before the rollups scan them: the
            # demo's month of 1,000,000 users 261 s → 242 s, against no checkpoint at all 248 s
            con.execute("CHECKPOINT")
            rollups.refresh(con)  # the KPI layer's rollups agree with what is published
            con.execute("CHECKPOINT")
            con.close()
            if flushing is not None:
                flushing.join()
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, path)
            dir_fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except BaseException:
            with contextlib.suppress(Exception):
                con.close()
            for leftover in (tmp, Path(f"{tmp}.wal")):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
            raise


def data_version(path: Path) -> tuple[int, int] | None:
    """What changes when a load publishes: the file's inode and modification time."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns)


def connect_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the file as published now, in UTC.

    DuckDB reuses an open database by path within a process, so after a load has
    replaced the file a plain `connect(path)` could hand back the old version. A
    fresh in-memory instance that ATTACHes the file always opens what is there now.
    """
    path = Path(path)
    if not path.exists():
        msg = f"no database at {path}: run `make run` or `python -m loaders demo`"
        raise FileNotFoundError(msg)
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = '{READ_MEMORY_LIMIT}'")
    con.execute("SET temp_directory = ?", [str(path.parent / SPILL_DIR)])
    con.execute("ATTACH ? AS profit (READ_ONLY)", [str(path)])
    # Cursors start in the in-memory catalog (USE does not carry to them): a view per
    # table makes every query's plain table names read the attached file.
    tables = con.execute("SELECT table_name FROM duckdb_tables() "
                         "WHERE database_name = 'profit' AND schema_name = 'main'").fetchall()
    for (name,) in tables:
        quoted = '"' + name.replace('"', '""') + '"'
        con.execute(f"CREATE VIEW {quoted} AS SELECT * FROM profit.main.{quoted}")
    return con
