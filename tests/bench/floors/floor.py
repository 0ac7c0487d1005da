"""A floor: the minimal DuckDB program that gives the same answer, run as its own process.

`python tests/bench/floors/floor.py kpis DB START END MTD_START JSON_THRESHOLDS` prints the
headline figures of kpis.sql as JSON; `... replay DB START END` reads the replay's rows
unsorted into Arrow and prints their count; `... load DB TABLE=FILE ...` creates each table
with `CREATE TABLE AS SELECT * FROM read_parquet` (`read_csv`, `read_json` by the file's
extension) and checkpoints; `... append DB TABLE=FILE ...` inserts each file into the
existing table by column name and checkpoints. It imports DuckDB and nothing of ours, so
its time is Python's start, DuckDB's import and the query.
"""

import json
import sys
from datetime import datetime
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
# CSV's quoting is given: the sniffer's sample (20,480 lines) can miss the first quoted comma.
READERS = {".parquet": "read_parquet('{}')", ".csv": "read_csv('{}', quote='\"', escape='\"')",
           ".jsonl": "read_json('{}')"}


def main(argv: list[str]) -> None:
    what, db = argv[0], argv[1]
    if what in ("load", "append"):
        con = duckdb.connect(db)
        for spec in argv[2:]:
            table, path = spec.split("=", 1)
            rows = READERS[Path(path).suffix].format(path)
            if what == "load":
                con.execute(f"CREATE TABLE {table} AS SELECT * FROM {rows}")
            else:
                con.execute(f"INSERT INTO {table} BY NAME SELECT *, 'floor' AS source FROM {rows}")
        con.execute("CHECKPOINT")
        print(sum(con.execute(f"SELECT count(*) FROM {s.split('=')[0]}").fetchone()[0]
                  for s in argv[2:]))
        return
    con = duckdb.connect(db, read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    start, end = datetime.fromisoformat(argv[2]), datetime.fromisoformat(argv[3])
    if what == "kpis":
        params = {"start": start, "end": end, "mtd_start": datetime.fromisoformat(argv[4]),
                  **json.loads(argv[5])}
        cur = con.execute((HERE / "kpis.sql").read_text(), params)
        names = [d[0] for d in cur.description]
        print(json.dumps(dict(zip(names, cur.fetchone(), strict=True))))
    else:
        table = con.sql((HERE / "replay_read.sql").read_text(),
                        params={"start": start, "end": end}).to_arrow_table()
        print(table.num_rows)


if __name__ == "__main__":
    main(sys.argv[1:])
