"""Publishing: a reader never sees half a load; a killed load leaves the data intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

from loaders.files import load_files
from loaders.publish import TMP_MARK, connect_read_only, data_version

ROOT = Path(__file__).resolve().parent.parent
HEADER = "event_id,user_id,ts,action,event_type,cost_usd,counted,category\n"


def big_csv(path: Path, prefix: str, n: int, cost: str = "0.01") -> Path:
    with path.open("w") as fh:
        fh.write(HEADER)
        for i in range(n):
            fh.write(f"{prefix}{i},+1555{i % 9973:07d},2026-03-01T09:00:00,simple_message,"
                     f"simple_message,{cost},true,ai\n")
    return path


def total(db: Path) -> tuple[int, Decimal]:
    con = connect_read_only(db)
    try:
        return con.execute("SELECT count(*), sum(cost_usd) FROM cost_events").fetchone()
    finally:
        con.close()


def test_a_reader_during_a_load_sees_the_old_or_the_new_data_never_half(tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    load_files(db, {"cost_events": [str(big_csv(tmp_path / "a.csv", "a", 1000))]})
    old = total(db)
    b = big_csv(tmp_path / "b.csv", "b", 200_000)
    seen: set[tuple[int, Decimal]] = set()
    stop = threading.Event()

    def read_loop() -> None:
        while not stop.is_set():
            seen.add(total(db))

    reader = threading.Thread(target=read_loop)
    reader.start()
    proc = subprocess.run([sys.executable, "-m", "loaders", "files", "--db", str(db),
                           "--costs", str(b)], cwd=ROOT, capture_output=True, text=True)
    time.sleep(0.2)
    stop.set()
    reader.join()
    assert proc.returncode == 0, proc.stderr
    new = total(db)
    assert old == (1000, Decimal("10.000000"))
    assert new == (201_000, Decimal("2010.000000"))
    assert seen <= {old, new}
    assert old in seen


def test_an_open_reader_keeps_its_version_and_a_new_one_sees_the_load(tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    load_files(db, {"cost_events": [str(big_csv(tmp_path / "a.csv", "a", 10))]})
    version = data_version(db)
    held = connect_read_only(db)
    load_files(db, {"cost_events": [str(big_csv(tmp_path / "b.csv", "b", 5))]})
    assert held.execute("SELECT count(*) FROM cost_events").fetchone() == (10,)
    held.close()
    assert data_version(db) != version
    assert total(db)[0] == 15


def test_a_load_killed_part_way_leaves_the_previous_data(tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    load_files(db, {"cost_events": [str(big_csv(tmp_path / "a.csv", "a", 1000))]})
    before = total(db)
    b = big_csv(tmp_path / "b.csv", "b", 400_000)
    proc = subprocess.Popen([sys.executable, "-m", "loaders", "files", "--db", str(db),
                             "--costs", str(b)], cwd=ROOT, start_new_session=True)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(f"p.duckdb{TMP_MARK}*")):
        assert time.monotonic() < deadline, "the load never started writing"
        assert proc.poll() is None, "the load finished before it could be killed"
        time.sleep(0.01)
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert total(db) == before
    # the next load cleans up the dead load's file and works
    load_files(db, {"cost_events": [str(big_csv(tmp_path / "c.csv", "c", 3))]})
    assert total(db)[0] == 1003
    assert not list(tmp_path.glob(f"p.duckdb{TMP_MARK}*"))


def test_the_live_file_is_never_opened_for_writing_by_a_load(tmp_path: Path) -> None:
    # A reader holding the live file read-only does not block a load (DuckDB would
    # refuse a writer on a file another process holds).
    db = tmp_path / "p.duckdb"
    load_files(db, {"cost_events": [str(big_csv(tmp_path / "a.csv", "a", 3))]})
    code = ("import duckdb,sys,time; c=duckdb.connect(sys.argv[1], read_only=True); "
            "print('open', flush=True); time.sleep(30)")
    holder = subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        load_files(db, {"cost_events": [str(big_csv(tmp_path / "b.csv", "b", 2))]})
        assert total(db)[0] == 5
    finally:
        holder.kill()
        holder.wait()


def test_a_load_checkpoints_only_when_it_says_and_leaves_no_log_behind(tmp_path: Path) -> None:
    """The copy a load writes is discarded unless it succeeds, so DuckDB makes no automatic
    checkpoint mid-load (the load makes its own two); what it wrote is all in the published
    file."""
    from loaders.publish import new_version

    db = tmp_path / "p.duckdb"
    load_files(db, {"cost_events": [str(big_csv(tmp_path / "a.csv", "a", 20_000))]})
    with new_version(db) as con:
        (setting,) = con.execute("SELECT current_setting('checkpoint_threshold')").fetchone()
        assert setting.endswith("GiB") and float(setting.split()[0]) > 100
        con.execute("DELETE FROM cost_events WHERE event_id LIKE 'a1%'")
    assert not Path(f"{db}.wal").exists()
    assert not list(tmp_path.glob(f"p.duckdb{TMP_MARK}*"))
    load_files(db, {"cost_events": [str(big_csv(tmp_path / "b.csv", "b", 30_000, cost="0.02"))]})
    assert not Path(f"{db}.wal").exists()
    assert total(db) == (20_000 - 11_111 + 30_000, Decimal("0.01") * 8_889 + Decimal("600.00"))


def test_a_reader_holds_duckdb_to_one_gigabyte_unless_told(tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    load_files(db, {"cost_events": [str(big_csv(tmp_path / "a.csv", "a", 3))]})
    script = ("import sys; from loaders.publish import connect_read_only as c; "
              "print(c(sys.argv[1]).execute(\"SELECT current_setting('memory_limit')\")"
              ".fetchone()[0])")

    def limit(env: dict[str, str]) -> str:
        base = {k: v for k, v in os.environ.items() if k != "PROFIT_READ_MEMORY"}
        out = subprocess.run([sys.executable, "-c", script, str(db)], cwd=ROOT, check=True,
                             capture_output=True, text=True, env=base | env)
        return out.stdout.strip()

    assert limit({}) == "953.6 MiB"  # 1 GB, as DuckDB shows it
    assert limit({"PROFIT_READ_MEMORY": "2GB"}) == "1.8 GiB"
