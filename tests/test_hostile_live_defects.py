"""The two live defects of the hostile-input review: full phones reaching a non-admin, and
instants no real event has (infinity, year 12000) loading and then breaking pages."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from core import secrecy
from core.privacy import mask_text
from loaders.files import load_files

ROOT = Path(__file__).resolve().parent.parent
HEADER = "event_id,user_id,ts,action,cost_usd,counted\n"
# Every spelling the review found reaching the Data page, and a few more.
PHONES = ("+15557654321", "15557654321", "whatsapp:15557654322", "+1 (555) 765-4323",
          "tel:+1.555.765.4324", "+44 20 7946 0958")
FULL_NUMBER = re.compile(r"\d[\d ().\-]{5,}\d")  # 7+ digits in a row, however separated


def _digits_runs(text: str) -> list[str]:
    """Phone-like runs of 7+ digits (dates and times removed first)."""
    text = re.sub(r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?", "", text)
    return [m for m in FULL_NUMBER.findall(text) if sum(c.isdigit() for c in m) >= 7]


@pytest.mark.parametrize(("text", "shown"), [
    ("user is not a phone number: +1555765 ext. 5", "user is not a phone number: …5765 ext. 5"),
    ("duplicate key within this load: +15557654321", "duplicate key within this load: …4321"),
    ('{"user_id": "15557654321", "ts": "2026-03-01 09:00:00"}',
     '{"user_id": "…4321", "ts": "2026-03-01 09:00:00"}'),
    ("whatsapp:15557654322", "…4322"),
    ("tel:+1 (555) 765-4321", "…4321"),
    ("+1.555.765.4321 from 127.0.0.1:5432", "…4321 from 127.0.0.1:5432"),
    ("cost 0.08 at 2026-03-01T09:00:00.123456Z", "cost 0.08 at 2026-03-01T09:00:00.123456Z"),
    ("555 12", "555 12"),  # five digits: not a phone, kept
])
def test_mask_text_masks_every_spelling_of_a_phone(text: str, shown: str) -> None:
    assert mask_text(text) == shown


def test_redact_masks_phones_as_well_as_secrets() -> None:
    assert secrecy.redact("failed for 15557654321 with pw hunter22", ["hunter22"]) == \
        "failed for …4321 with pw ***"


def test_data_page_shows_no_full_phone_in_reasons_or_raw_records(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [f"b{i},{phone} ext. 5,2026-03-01T09:00:00,meal_plan,0.08,true"
             for i, phone in enumerate(PHONES)]
    lines += [f"d,{PHONES[0]},2026-03-01T09:00:00,meal_plan,0.08,true",
              f"d,{PHONES[0]},2026-03-01T09:00:01,meal_plan,0.08,true",  # duplicate key
              f"n,{PHONES[1]},2026-03-01T09:00:00,meal_plan,-1,true"]  # phone without +
    csv = tmp_path / "costs.csv"
    csv.write_text(HEADER + "\n".join(lines) + "\n")
    db = tmp_path / "p.duckdb"
    result = load_files(db, {"cost_events": [str(csv)]})
    assert result.rows_rejected == len(PHONES) + 2
    monkeypatch.setenv("PROFIT_DB", str(db))
    monkeypatch.setenv("PROFIT_SECRETS", str(tmp_path / "none.toml"))
    at = AppTest.from_file(str(ROOT / "pages" / "data.py"), default_timeout=30).run()
    assert not at.exception
    shown = "\n".join(df.value.to_csv() for df in at.dataframe)
    shown += "\n".join(str(e.value) for e in [*at.markdown, *at.caption])
    assert "…4321" in shown  # the refused rows are there, masked
    assert _digits_runs(shown) == []


TS_CASES = [
    ("infinity", "timestamp out of range"),
    ("-infinity", "timestamp out of range"),
    ("12000-01-01T00:00:00", "timestamp out of range"),
    ("1999-12-31T23:59:59.999999", "timestamp out of range"),
    ("2100-01-01T00:00:00", "timestamp out of range"),
    ("2099-12-31T23:59:59.999999+00:00", None),
    ("2000-01-01T00:00:00", None),
    ("2000-01-01T00:30:00+01:00", "timestamp out of range"),  # 1999-12-31 23:30 UTC
]


def test_only_instants_from_2000_to_before_2100_load(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROFIT_SECRETS", str(tmp_path / "none.toml"))
    csv = tmp_path / "costs.csv"
    csv.write_text(HEADER + "".join(f"e{i},+15551230001,{ts},meal_plan,0.08,true\n"
                                    for i, (ts, _) in enumerate(TS_CASES)))
    db = tmp_path / "p.duckdb"
    result = load_files(db, {"cost_events": [str(csv)]})
    refused = [i for i, (_, reason) in enumerate(TS_CASES) if reason]
    assert result.rows_rejected == len(refused)
    con = duckdb.connect(str(db), read_only=True)
    loaded = {r[0] for r in con.execute("SELECT event_id FROM cost_events").fetchall()}
    reasons = con.execute("SELECT reason FROM rejected_rows ORDER BY reason").fetchall()
    con.close()
    assert loaded == {f"e{i}" for i, (_, r) in enumerate(TS_CASES) if r is None}
    assert all(r[0].startswith("timestamp out of range: ") for r in reasons)
    assert "(accepted: 2000-01-01 to before 2100-01-01)" in reasons[0][0]


def test_instant_range_comes_from_the_settings(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[loading]\nearliest = "2026-01-01"\nlatest = "2027-01-01"\n')
    monkeypatch.setenv("PROFIT_SECRETS", str(secrets))
    csv = tmp_path / "costs.csv"
    csv.write_text(HEADER + "a,+15551230001,2025-12-31T23:59:59,meal_plan,0.08,true\n"
                            "b,+15551230001,2026-01-01T00:00:00,meal_plan,0.08,true\n")
    result = load_files(tmp_path / "p.duckdb", {"cost_events": [str(csv)]})
    assert (result.rows_written, result.rows_rejected) == (1, 1)


def test_pages_work_after_a_load_offered_hostile_instants(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setenv("PROFIT_SECRETS", str(tmp_path / "none.toml"))
    csv = tmp_path / "costs.csv"
    csv.write_text(HEADER + "a,+15551230001,2026-03-01T09:00:00,meal_plan,0.08,true\n"
                            "b,+15551230001,infinity,meal_plan,0.08,true\n"
                            "c,+15551230001,12000-01-01,meal_plan,0.08,true\n")
    db = tmp_path / "p.duckdb"
    load_files(db, {"cost_events": [str(csv)]})
    monkeypatch.setenv("PROFIT_DB", str(db))
    for page in ("daily", "weekly", "monthly"):
        at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=60)
        at.query_params["day" if page == "daily" else page] = (
            {"daily": "2026-03-01", "weekly": "2026-W09", "monthly": "2026-03"}[page])
        at.run()
        assert not at.exception, page
