"""The loading path's fast paths (`loaders/sql/macros.sql`) decide exactly as the full rules.

A value written the way an export writes it takes one regular expression instead of the
full rules; these tests draw values near every edge of those expressions (spaces, signs,
13 digits, 7 places, trailing zeros, hour 24, 30 February, offsets, channel prefixes) and
hold each fast macro equal to its `*_full` rule on DuckDB itself.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loaders.pipeline import _create_stages

PAIRS = {
    "phone": ("phone(x)", "phone_full(x)"),
    "phone_reason": ("phone_reason(x)", "phone_reason_full(x)"),
    "money": ("money(x)", "money_full(x)"),
    "money_reason cost": ("money_reason(x, 'cost', false)",
                          "money_reason_full(x, 'cost', false)"),
    "money_reason amount": ("money_reason(x, 'amount', true)",
                            "money_reason_full(x, 'amount', true)"),
    "instant": ("instant(x)", "instant_full(x)"),
    "tidy": ("tidy(x)", "trim(x)"),
}

phones = st.one_of(
    st.from_regex(r"\+[0-9]{1,16}", fullmatch=True),
    st.from_regex(r"(whatsapp:|tel:|WhatsApp:| )?\+?[0-9 ().-]{0,14}", fullmatch=True),
    st.text(alphabet="+0123456789 -().:aw\u0660", max_size=12),
)
money = st.one_of(
    st.from_regex(r"-?[0-9]{1,14}(\.[0-9]{0,9})?", fullmatch=True),
    st.from_regex(r" ?[+-]?0*[0-9]{0,3}\.?[0-9]{0,8}(e[0-9])? ?", fullmatch=True),
    st.text(alphabet="0123456789.-+e_ ", max_size=10),
)
instants = st.one_of(
    st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,8})?"
                  r"(Z|[+-][0-9]{2}:?[0-9]{2})?", fullmatch=True),
    st.from_regex(r"(19|20|99)[0-9]{2}-(0[0-9]|1[0-3])-(0[0-9]|[1-3][0-9])[ T]"
                  r"(1[0-9]|2[0-5]):[0-6][0-9]:[0-6][0-9](\.[0-9]{1,6})? ?", fullmatch=True),
    st.text(alphabet="0123456789-: T.Z+", max_size=28),
)
# tidy's fast path is for printable ASCII: spaces, tabs and the Unicode space separators
# (which trim removes) at either end or inside, and other non-ASCII letters
texts = st.text(alphabet=" a_Z9\t\n\u00a0\u1680\u2000\u200a\u202f\u205f\u3000\u00e9\u0301~!",
                max_size=8)


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    _create_stages(c)
    yield c
    c.close()


def _differences(con: duckdb.DuckDBPyConnection, values: list[str | None]) -> list[tuple]:
    con.register("_values", pa.table({"x": pa.array(values, pa.string())}))
    try:
        checks = " OR ".join(f"({fast}) IS DISTINCT FROM ({full})"
                             for fast, full in PAIRS.values())
        cols = ", ".join(f"{fast}, {full}" for fast, full in PAIRS.values())
        return con.execute(f"SELECT x, {cols} FROM _values WHERE {checks}").fetchall()
    finally:
        con.unregister("_values")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(phones, money, instants, texts, st.none()), min_size=1,
                max_size=60))
def test_every_fast_path_decides_as_the_full_rule(con, values) -> None:
    assert _differences(con, values) == []


def test_the_edges_written_out(con) -> None:
    edges = ["+15551234567", " +15551234567", "+1 555", "whatsapp:+15551234567", "+", "",
             "0.010000", "999999999999.999999", "9999999999999", "0000000000000.5",
             "1.1234567", "1.1234560000", "-0", "-0.5", "+5", ".5", "5.", "1e3",
             "2026-03-01 09:19:40.800534", "2026-03-01T09:19:40", "2026-02-30 00:00:00",
             "2026-03-01 24:00:00", "2026-03-01 23:59:60", "2026-03-01 09:19:40.1234567",
             "2026-03-01 09:19:40+02:00", "2026-03-01 09:19:40Z", "0000-01-01 00:00:00",
             " 2026-03-01 09:19:40", "a ", " a", "\u00a0a", "a\u00a0", "a\u3000", "\u3000",
             "\ta\t", "~", "!", " ", "  ", "caf\u00e9", "e\u0301", None]
    assert _differences(con, edges) == []
    # And the fast paths are taken where they should be: values, not only agreement.
    assert con.execute("SELECT tidy(' a '), tidy('a\u00a0'), tidy('a\t'), tidy('ab')"
                       ).fetchone() == ("a", "a", "a\t", "ab")
    got = con.execute("SELECT phone('+15551234567'), money('0.010000'), "
                      "instant('2026-03-01 09:19:40.800534'), money_reason('1.1234567', "
                      "'cost', false)").fetchone()
    assert [str(v) for v in got] == ["+15551234567", "0.010000", "2026-03-01 09:19:40.800534",
                                     "cost has more than 6 decimal places: 1.1234567"]
