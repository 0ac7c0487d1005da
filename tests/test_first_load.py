"""A table's first load streams its rows in (`pipeline._first_load`), and ends exactly as
the general path would: the same rows, the same refusals, the same pairs.

The general path materialises every normalised row, compares them with the table and
upserts; the first load finds the refused rows, then normalises the others again as it
inserts them. Each case loads one file into an empty database (the first load) and into
one where every table already holds an unrelated row (the general path), and compares
this load's rows, refusals and counts.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from loaders import pipeline
from loaders.files import load_files

COSTS = (
    "event_id,user_id,ts,action,event_type,cost_usd,counted,category,details\n"
    # an estimate and its actual, paired by the loader (no counted)
    "e1, +15551230001 ,2026-03-01T09:00:00,meal_plan,meal_plan,0.080001,, AI ,\n"
    "e2,whatsapp:+15551230001,2026-03-01T09:01:00,,meal_plan_completed,0.07,,ai,"
    "\"{\"\"tokens\"\": 3}\"\n"
    "e3,+15551230002,2026-03-02 10:00:00+02:00,simple_message,x,0.010000,true,"
    "Messaging\u00a0,\n"
    "\u00a0e4,+15551230002,2026-03-02T11:00:00,simple_message,x,0.02,false,odd,\n"
    # refused: no user, bad money, not JSON, a timestamp out of range
    "e5,,2026-03-02T11:00:00,simple_message,x,0.02,true,ai,\n"
    "e6,+15551230003,2026-03-02T11:00:00,simple_message,x,1e3,true,ai,\n"
    "e7,+15551230003,2026-03-02T11:00:00,simple_message,x,0.02,true,ai,{oops\n"
    "e8,+15551230003,9999-03-02T11:00:00,simple_message,x,0.02,true,ai,\n")
REVENUE = ("event_id,user_id,ts,stream,amount_usd,tokens,partner,details\n"
           "r1,+15551230001,2026-03-01T12:00:00, Tokens ,5.00, 100 ,,\n"
           "r2,+15551230001,2026-03-01T12:00:00,tokens,5.00,1.5,,\n")
TOKENS = ("user_id,as_of,balance\n"
          "+15551230001,2026-03-01T00:00:00,100\n"
          "+15551230002,2026-03-01T00:00:00, 7 \n")
OTHER = {  # one unrelated row per table, so that a load takes the general path
    "cost_events": "event_id,user_id,ts,action,event_type,cost_usd,counted,category\n"
                   "z1,+15559990000,2026-01-05T00:00:00,simple_message,x,0.01,true,ai\n",
    "revenue_events": "event_id,user_id,ts,stream,amount_usd\n"
                      "zr,+15559990000,2026-01-05T00:00:00,tokens,1.00\n",
    "token_balances": "user_id,as_of,balance\n+15559990000,2026-01-05T00:00:00,1\n",
}


def _files(folder: Path, texts: dict[str, str]) -> dict[str, list[str]]:
    folder.mkdir()
    out = {}
    for table, text in texts.items():
        path = folder / f"{table}.csv"
        path.write_text(text, encoding="utf-8")
        out[table] = [str(path)]
    return out


def _this_load(db: Path, load_id: int) -> dict[str, list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as con:
        got = {t: con.execute(f"SELECT * EXCLUDE (source, load_id) FROM {t} "  # noqa: S608
                              f"WHERE load_id = ? ORDER BY ALL", [load_id]).fetchall()
               for t in ("cost_events", "revenue_events", "token_balances")}
        got["rejected"] = con.execute("SELECT table_name, raw_record, reason FROM rejected_rows "
                                      "WHERE load_id = ? ORDER BY ALL", [load_id]).fetchall()
        return got


@pytest.fixture
def first_loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tables whose load took the first-load path and wrote rows."""
    taken: list[str] = []
    original = pipeline._first_load

    def spy(con, table, load_id, source):
        done = original(con, table, load_id, source)
        if done is not None and done[0]:
            taken.append(table)
        return done

    monkeypatch.setattr(pipeline, "_first_load", spy)
    return taken


def test_a_first_load_ends_as_the_general_path_does(tmp_path: Path, first_loads) -> None:
    texts = {"cost_events": COSTS, "revenue_events": REVENUE, "token_balances": TOKENS}
    files = _files(tmp_path / "in", texts)
    first_db, general_db = tmp_path / "first.duckdb", tmp_path / "general.duckdb"
    first = load_files(first_db, files)
    assert first_loads == ["cost_events", "revenue_events", "token_balances"]

    load_files(general_db, _files(tmp_path / "other", OTHER))
    first_loads.clear()
    general = load_files(general_db, files)
    assert first_loads == []  # (every table held a row: the general path)

    ours, theirs = _this_load(first_db, first.load_id), _this_load(general_db, general.load_id)
    assert ours == theirs
    assert (first.rows_read, first.rows_written, first.rows_rejected) == (
        general.rows_read, general.rows_written, general.rows_rejected) == (12, 7, 5)
    assert first.rejected_by_reason == general.rejected_by_reason
    # what the rows are, not only that the paths agree: trimmed ids, lower-case categories,
    # the estimate paired with its actual (it does not count), the odd category as other
    costs = {r[0]: r for r in ours["cost_events"]}
    assert sorted(costs) == ["e1", "e2", "e3", "e4"]
    assert [costs[e][1] for e in ("e1", "e2")] == ["+15551230001", "+15551230001"]
    assert [costs[e][7] for e in sorted(costs)] == ["ai", "ai", "messaging", "other"]
    assert [costs[e][6] for e in sorted(costs)] == [False, True, True, False]
    assert sorted(r[2].split(":")[0] for r in ours["rejected"]) == [
        "cost is not a plain decimal", "details is not JSON", "missing user",
        "timestamp out of range", "tokens is not a whole number"]


def test_a_key_twice_in_a_first_load_falls_back_and_the_first_row_wins(
        tmp_path: Path, first_loads) -> None:
    files = _files(tmp_path / "in", {
        "cost_events": "event_id,user_id,ts,action,event_type,cost_usd,counted,category\n"
                       "d1,+15551230001,2026-03-01T09:00:00,a,a,0.01,true,ai\n"
                       "d1,+15551230001,2026-03-01T09:00:00,a,a,0.99,true,ai\n"
                       "d2,+15551230001,2026-03-01T09:00:00,a,a,0.02,true,ai\n",
        "token_balances": "user_id,as_of,balance\n"
                          "+15551230001,2026-03-01T00:00:00,5\n"
                          "whatsapp:+15551230001,2026-03-01 00:00:00,6\n"})
    db = tmp_path / "p.duckdb"
    result = load_files(db, files)
    assert first_loads == []  # both tables fell back: nothing of the first try is kept
    got = _this_load(db, result.load_id)
    assert [(r[0], str(r[5])) for r in got["cost_events"]] == [("d1", "0.010000"),
                                                               ("d2", "0.020000")]
    assert [r[2] for r in got["token_balances"]] == [5]
    assert sorted(r[2] for r in got["rejected"]) == [
        "duplicate key within this load: +15551230001 2026-03-01 00:00:00",
        "duplicate key within this load: d1"]


def test_repeated_keys_are_found_by_hash_then_by_value(tmp_path: Path) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE k (a VARCHAR, b INTEGER)")
    con.execute("INSERT INTO k VALUES ('x', 1), ('x', 2), ('y', 1)")
    assert not pipeline._has_repeated_key(con, "k", ("a", "b"))
    assert pipeline._has_repeated_key(con, "k", ("a",))
    con.execute("INSERT INTO k VALUES ('y', 1)")
    assert pipeline._has_repeated_key(con, "k", ("a", "b"))
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = '_twice'"
                       ).fetchone() == (0,)  # (its scratch table dropped)
