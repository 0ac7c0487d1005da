"""Benchmark: the Users page's search (queries.users.search) against the plainest query.

Issue 13's goal: users search answers within 0.5 s at 1,000,000 users. Each search is a
new digit string (the app caches a string it has answered), timed once, on one connection
as the app holds one: the last 4 digits of a real user first (the connection's first
search reads the phone columns from the file), then the last 7, 2 digits (the most
matches) and digits no phone ends with. Baseline: the phones of the three tables the
search reads that end with the digits, one query, on a fresh connection of its own; the
search's phones are checked to be among them, as many as it shows.
`python -m tests.bench.bench_search --db PATH --users N` runs it alone.
"""

from __future__ import annotations

import argparse
import pathlib
import time

from loaders.publish import connect_read_only
from queries import users as U

GOAL_S = 0.5
FLOOR_SQL = " UNION ".join(f"SELECT user_id FROM {t} WHERE ends_with(user_id, $d)"
                         for t in ("cost_events", "revenue_events", "token_balances"))


def _digit_strings(db: pathlib.Path) -> list[str]:
    con = connect_read_only(db)  # not the searching one, which must find the phones unread
    try:
        (phone,) = con.execute("SELECT max(user_id) FROM cost_events").fetchone()
    finally:
        con.close()
    digits = U.digits_only(phone)
    return [digits[-4:], digits[-7:], "12", "99999999999999"]


def _timed_search(con: object, digits: str) -> tuple[float, object]:
    t0 = time.perf_counter()
    found = U.search(con, digits=digits, tz="UTC")
    return time.perf_counter() - t0, found


def run(users: int, db: pathlib.Path) -> list[dict]:
    rows = []
    app = connect_read_only(db)  # as the app's one connection: the first search finds it new
    try:
        for n, digits in enumerate(_digit_strings(db)):
            floor_con = connect_read_only(db)
            try:
                t0 = time.perf_counter()
                plain = {u for (u,) in floor_con.execute(FLOOR_SQL, {"d": digits}).fetchall()}
                floor = time.perf_counter() - t0
            finally:
                floor_con.close()
            ours, found = _timed_search(app, digits)
            if not set(found["user_id"]) <= plain or \
                    len(found) != min(len(plain), U.MAX_RESULTS):
                raise AssertionError(f"search {digits!r}: {len(found)} found, {len(plain)} plain")
            met = "met" if ours <= GOAL_S else "NOT met"
            phones = f"{len(plain):,} phone{'' if len(plain) == 1 else 's'}"
            when = "the connection's first search" if n == 0 else "a new search"
            rows.append({"benchmark": f"users search, last digits {digits!r} ({phones}), {when} "
                                      f"(goal {GOAL_S} s: {met})", "users": users,
                         "figure": f"{ours:.3f} s ({len(found):,} shown)",
                         "baseline": f"{floor:.3f} s matching phones, one query, fresh connection",
                         "ratio": f"{ours / floor:.1f}x floor" if floor else "-"})
    finally:
        app.close()
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=pathlib.Path, required=True)
    parser.add_argument("--users", type=int, default=0)
    a = parser.parse_args()
    for row in run(a.users, a.db):
        print(row)
