"""The demo business: deterministic, shaped like the seed's figures, and internally consistent.

Most tests read the shared `demo_db` fixture (400 users, 3 months to 2026-03, seed 7) and
compare it with the generator's own user table, so a bug in segments, pairing, revenue or
balances changes a number asserted here.
"""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from loaders.demo import (
    SEGMENT_TOKENS,
    SEGMENTS,
    DemoSpec,
    cohort_sizes,
    generate,
    month_starts,
    user_table,
)

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_SPEC = DemoSpec(users=400, months=month_starts("2026-03", 3), seed=7)
TOKEN_COST_SQL = """CASE action WHEN 'simple_message' THEN 1 WHEN 'meal_plan' THEN 5
    WHEN 'grocery_list' THEN 2 WHEN 'nutrition_analysis' THEN 3 WHEN 'recipe_search' THEN 2
    WHEN 'dietary_advice' THEN 4 ELSE 1 END"""


def _con(db: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(db), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    return con


def _fingerprint(db: Path) -> tuple:
    con = _con(db)
    try:
        return con.execute("""
            SELECT (SELECT (count(*), sum(cost_usd), sum(hash(event_id, ts, user_id)))
                    FROM cost_events),
                   (SELECT (count(*), sum(amount_usd), sum(hash(event_id, ts, partner)))
                    FROM revenue_events),
                   (SELECT (count(*), sum(balance)) FROM token_balances),
                   (SELECT (count(*), sum(hash(event_id, kind))) FROM affiliate_events)
        """).fetchone()
    finally:
        con.close()


def _user_frame(spec: DemoSpec) -> list[tuple[str, str, int, int, int]]:
    """(phone, segment, first month, join day, last month) per user, from the generator."""
    u = user_table(spec)
    return [(f"+1555{p:07d}", SEGMENTS[s], int(f), int(j), int(la)) for p, s, f, j, la in
            zip(u["phone"], u["segment"], u["first"], u["join_day"], u["last"], strict=True)]


def test_same_seed_gives_identical_data_and_another_seed_does_not(tmp_path: Path) -> None:
    spec = DemoSpec(users=300, months=month_starts("2026-02", 2), seed=11)
    a, b, c = tmp_path / "a.duckdb", tmp_path / "b.duckdb", tmp_path / "c.duckdb"
    generate(a, spec, progress=False)
    generate(b, spec, progress=False)
    generate(c, DemoSpec(users=300, months=spec.months, seed=12), progress=False)
    assert _fingerprint(a) == _fingerprint(b)
    assert _fingerprint(a) != _fingerprint(c)


def test_fast_path_writes_the_same_tables_as_the_loading_path(tmp_path: Path) -> None:
    spec = DemoSpec(users=250, months=month_starts("2026-03", 2), seed=3)
    slow, fast = tmp_path / "slow.duckdb", tmp_path / "fast.duckdb"
    generate(slow, spec, progress=False)
    generate(fast, spec, progress=False, direct=True)
    con = _con(slow)
    con.execute(f"ATTACH '{fast}' AS f (READ_ONLY)")
    for table in ("cost_events", "revenue_events", "token_balances", "affiliate_events"):
        for x, y in ((table, f"f.{table}"), (f"f.{table}", table)):
            diff = con.execute(f"SELECT count(*) FROM (SELECT * EXCLUDE (load_id) FROM {x} "
                               f"EXCEPT ALL SELECT * EXCLUDE (load_id) FROM {y})").fetchone()[0]
            assert diff == 0, (table, x)
    assert con.execute("SELECT count(*) FROM f.load_log WHERE status = 'ok'").fetchone() == (1,)


def test_cli_writes_every_table_and_logs_the_load(demo_db: Path) -> None:
    con = _con(demo_db)
    counts = con.execute("""SELECT (SELECT count(*) FROM cost_events),
        (SELECT count(*) FROM revenue_events), (SELECT count(*) FROM token_balances),
        (SELECT count(*) FROM affiliate_events), (SELECT count(*) FROM rejected_rows)""").fetchone()
    assert all(n > 0 for n in counts[:4]) and counts[4] == 0
    log = con.execute("SELECT source, status, rows_rejected, rows_written FROM load_log").fetchall()
    assert log == [("demo", "ok", 0, sum(counts[:4]))]
    span = con.execute("SELECT min(ts), max(ts) FROM cost_events").fetchone()
    assert str(span[0]) >= "2026-01-01" and str(span[1]) < "2026-04-01"


def test_cli_refuses_a_bad_month_with_a_clear_error(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "loaders", "demo", "--db",
                          str(tmp_path / "x.duckdb"), "--end", "2026-13", "--users", "10"],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 1 and "--end must be YYYY-MM" in run.stderr
    assert not (tmp_path / "x.duckdb").exists()


def test_default_end_is_last_month() -> None:
    from datetime import date
    assert month_starts(None, 3, today=date(2026, 1, 15)) == (
        date(2025, 10, 1), date(2025, 11, 1), date(2025, 12, 1))


def test_phones_are_unique_e164_numbers(demo_db: Path) -> None:
    con = _con(demo_db)
    users, bad = con.execute(r"""SELECT count(DISTINCT user_id),
        count(*) FILTER (WHERE NOT regexp_full_match(user_id, '\+1555[0-9]{7}'))
        FROM cost_events""").fetchone()
    assert bad == 0
    assert users == len({p for p, *_ in _user_frame(FIXTURE_SPEC)}) == 400


def test_users_arrive_each_month_and_about_85_percent_stay() -> None:
    spec = DemoSpec(users=60_000, months=month_starts("2026-03", 3), seed=7)
    u = user_table(spec)
    active = [int(((u["first"] <= m) & (u["last"] >= m)).sum()) for m in range(3)]
    stayed = int(((u["first"] == 0) & (u["last"] >= 1)).sum()) / int((u["first"] == 0).sum())
    assert 0.83 < stayed < 0.87
    assert active[0] < active[1] < active[2]                 # growth
    assert cohort_sizes(60_000, 3)[1] > 0 and cohort_sizes(60_000, 3)[2] > 0


def test_tokens_used_in_a_whole_month_fall_in_the_user_segment_range(demo_db: Path) -> None:
    con = _con(demo_db)
    used = dict(((u, m), t) for u, m, t in con.execute(f"""
        SELECT user_id, month(ts) - 1, sum({TOKEN_COST_SQL})::INTEGER FROM cost_events
        WHERE event_type LIKE '%\\_completed' ESCAPE '\\' GROUP BY ALL""").fetchall())
    ranges = dict(zip(SEGMENTS, SEGMENT_TOKENS, strict=True))
    checked = {s: 0 for s in SEGMENTS}
    for phone, seg, first, join_day, last in _user_frame(FIXTURE_SPEC):
        for m in range(first, last + 1):
            if m == first and join_day > 0:
                continue                                   # arrived mid-month: pro rata
            lo, hi = ranges[seg]
            assert lo <= used[(phone, m)] <= hi, (phone, seg, m, used[(phone, m)])
            checked[seg] += 1
    assert min(checked.values()) > 30


def test_estimates_do_not_count_and_each_is_paired_with_its_actual(demo_db: Path) -> None:
    con = _con(demo_db)
    est, unpaired, actuals, counted_est, errors = con.execute(r"""
        WITH e AS (SELECT * FROM cost_events WHERE NOT counted),
             a AS (SELECT * FROM cost_events WHERE event_type LIKE '%\_completed' ESCAPE '\')
        SELECT (SELECT count(*) FROM e),
               (SELECT count(*) FROM e WHERE NOT EXISTS (
                    SELECT 1 FROM a WHERE a.user_id = e.user_id AND a.action = e.action
                      AND a.ts BETWEEN e.ts AND e.ts + INTERVAL 2 MINUTE)),
               (SELECT count(*) FROM a WHERE counted),
               (SELECT count(*) FROM cost_events WHERE counted AND event_type = action
                  AND action <> 'error_handling'),
               (SELECT count(*) FROM cost_events WHERE action = 'error_handling')
    """).fetchone()
    assert est > 10_000 and unpaired == 0 and actuals == est
    # a failed request has no actual: its estimate counts, next to an error_handling line
    assert counted_est == errors > 0
    assert con.execute("SELECT DISTINCT cost_usd FROM cost_events "
                       "WHERE action = 'error_handling'").fetchall() == [(Decimal("0.001"),)]
    # one user's requests never overlap, so the contract's pairing rule finds the same pairs
    overlap = con.execute("""SELECT count(*) FROM (SELECT ts - lag(ts) OVER (
        PARTITION BY user_id ORDER BY ts) AS gap FROM cost_events
        WHERE event_type = action AND action <> 'error_handling') WHERE gap < INTERVAL 2 MINUTE
        """).fetchone()[0]
    assert overlap == 0


def test_costs_follow_the_unit_prices(demo_db: Path) -> None:
    con = _con(demo_db)
    avg = dict(con.execute(r"""SELECT action, avg(cost_usd) FROM cost_events
        WHERE event_type LIKE '%\_completed' ESCAPE '\' GROUP BY 1""").fetchall())
    assert Decimal("0.005") < avg["simple_message"] < Decimal("0.015")   # about a cent
    assert Decimal("0.03") < avg["meal_plan"] < Decimal("0.10")          # several cents
    assert avg["simple_message"] < min(v for k, v in avg.items() if k != "simple_message")
    order = [a for a, in con.execute(r"""SELECT action FROM cost_events
        WHERE event_type LIKE '%\_completed' ESCAPE '\' GROUP BY 1 ORDER BY count(*) DESC""")
        .fetchall()]
    assert order == ["simple_message", "meal_plan", "grocery_list", "nutrition_analysis",
                     "recipe_search", "dietary_advice"]
    cats = {c for c, in con.execute("SELECT DISTINCT category FROM cost_events").fetchall()}
    assert {"ai", "messaging", "external_api"} <= cats
    assert cats <= {"ai", "messaging", "database", "lambda", "api_gateway", "external_api",
                    "other"}


def test_activity_has_a_daily_rhythm(demo_db: Path) -> None:
    con = _con(demo_db)
    night, evening = con.execute("""SELECT count(*) FILTER (WHERE hour(ts) BETWEEN 2 AND 4),
        count(*) FILTER (WHERE hour(ts) BETWEEN 18 AND 20) FROM cost_events""").fetchone()
    assert evening > 5 * night


def test_every_revenue_stream_and_some_refunds_are_present(demo_db: Path) -> None:
    con = _con(demo_db)
    streams = dict(con.execute("SELECT stream, count(*) FROM revenue_events GROUP BY 1")
                   .fetchall())
    assert set(streams) == {"tokens", "premium", "affiliate", "data"}
    refunds = con.execute("SELECT count(*) FROM revenue_events WHERE amount_usd < 0").fetchone()
    assert refunds[0] > 0
    packs = set(con.execute("SELECT DISTINCT amount_usd, tokens FROM revenue_events "
                            "WHERE stream = 'tokens'").fetchall())
    assert (Decimal("5"), 120) in packs and len(packs) >= 3
    # bonus only from $5: 20 tokens per dollar, +20%
    assert all(t == int(a * 20 * (Decimal("1.2") if a >= 5 else 1)) for a, t in packs)
    plans = set(con.execute("SELECT DISTINCT partner, amount_usd FROM revenue_events "
                            "WHERE stream = 'premium' AND amount_usd > 0").fetchall())
    assert plans <= {("premium", 5), ("family", 15), ("enterprise", 50)} and len(plans) >= 2
    data = con.execute("SELECT min(amount_usd), max(amount_usd) FROM revenue_events "
                       "WHERE stream = 'data'").fetchone()
    assert Decimal("0.5") <= data[0] and data[1] <= 3


def test_conversions_match_affiliate_commissions(demo_db: Path) -> None:
    con = _con(demo_db)
    kinds = dict(con.execute("SELECT kind, count(*) FROM affiliate_events GROUP BY 1").fetchall())
    assert kinds["shown"] > kinds["click"] > kinds["conversion"] > 0
    unmatched = con.execute("""
        SELECT count(*) FROM revenue_events r WHERE stream = 'affiliate' AND amount_usd > 0
          AND NOT EXISTS (SELECT 1 FROM affiliate_events a WHERE a.kind = 'conversion'
                          AND a.user_id = r.user_id AND a.ts = r.ts AND a.partner = r.partner)
    """).fetchone()[0]
    commissions = con.execute("SELECT count(*) FROM revenue_events WHERE stream = 'affiliate' "
                              "AND amount_usd > 0").fetchone()[0]
    assert unmatched == 0 and commissions == kinds["conversion"]
    # commission within the partner's range: meal kits 20-25% of $60-150
    lo, hi = con.execute("SELECT min(amount_usd), max(amount_usd) FROM revenue_events "
                         "WHERE partner = 'HelloFresh' AND amount_usd > 0").fetchone()
    assert Decimal("12") <= lo and hi <= Decimal("37.5")


def test_a_realistic_share_of_users_is_below_the_3_dollar_target(demo_db: Path) -> None:
    con = _con(demo_db)
    shares = con.execute("""
        WITH c AS (SELECT user_id, date_trunc('month', ts) m,
                          sum(cost_usd) FILTER (WHERE counted) cost FROM cost_events GROUP BY ALL),
             r AS (SELECT user_id, date_trunc('month', ts) m, sum(amount_usd) rev
                   FROM revenue_events GROUP BY ALL)
        SELECT m, avg((coalesce(rev, 0) - cost < 3)::INTEGER) FROM c
        LEFT JOIN r USING (user_id, m) GROUP BY m ORDER BY m""").fetchall()
    assert len(shares) == 3
    assert all(0.10 <= s <= 0.35 for _, s in shares), shares


def test_balances_agree_with_free_tokens_purchases_and_spends(demo_db: Path) -> None:
    """Last balance = free tokens left this month + all tokens bought - paid tokens spent."""
    con = _con(demo_db)
    rows = con.execute(f"""
        WITH prem AS (SELECT DISTINCT user_id, date_trunc('month', ts) m FROM revenue_events
                      WHERE stream = 'premium' AND amount_usd > 0),
             spent AS (SELECT c.user_id, date_trunc('month', c.ts) m,
                              sum(CASE WHEN p.user_id IS NULL THEN {TOKEN_COST_SQL} ELSE 0 END)
                                  AS spent
                       FROM cost_events c LEFT JOIN prem p
                         ON p.user_id = c.user_id AND p.m = date_trunc('month', c.ts)
                       WHERE c.event_type LIKE '%\\_completed' ESCAPE '\\' GROUP BY ALL),
             per_user AS (SELECT user_id, sum(greatest(spent - 100, 0)) AS paid_spent,
                                 arg_max(greatest(100 - spent, 0), m) AS free_left
                          FROM spent GROUP BY 1),
             bought AS (SELECT user_id, sum(tokens) AS bought FROM revenue_events
                        WHERE stream = 'tokens' GROUP BY 1),
             last AS (SELECT user_id, arg_max(balance, as_of) AS balance, count(*) AS n
                      FROM token_balances GROUP BY 1)
        SELECT l.user_id, l.balance, p.free_left + coalesce(b.bought, 0) - p.paid_spent, l.n
        FROM last l JOIN per_user p USING (user_id) LEFT JOIN bought b USING (user_id)
    """).fetchall()
    assert len(rows) == 400
    assert [r for r in rows if r[1] != r[2]] == []
    assert min(r[1] for r in rows) >= 0
    assert any(r[3] == 3 for r in rows)


def test_every_active_user_month_has_a_balance_snapshot_after_its_requests(demo_db: Path
                                                                          ) -> None:
    con = _con(demo_db)
    missing, early = con.execute("""
        WITH um AS (SELECT user_id, date_trunc('month', ts) m, max(ts) last_ts
                    FROM cost_events GROUP BY ALL)
        SELECT count(*) FILTER (WHERE b.user_id IS NULL),
               count(*) FILTER (WHERE b.as_of < um.last_ts)
        FROM um LEFT JOIN token_balances b
          ON b.user_id = um.user_id AND date_trunc('month', b.as_of) = um.m""").fetchone()
    assert missing == 0 and early == 0


@pytest.mark.parametrize("users", [0, 10_000_001])
def test_user_count_out_of_range_is_refused(users: int) -> None:
    with pytest.raises(ValueError, match="--users"):
        user_table(DemoSpec(users=users, months=month_starts("2026-03", 1), seed=1))
