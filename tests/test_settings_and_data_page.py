"""Settings lookup order, and the Data page showing what the loading path recorded."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import settings
from loaders.files import load_files

ROOT = Path(__file__).resolve().parent.parent


def test_db_path_prefers_env_then_secrets_then_default(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[database]\npath = "/srv/from-secrets.duckdb"\n'
                       '[reporting]\ntimezone = "Europe/Paris"\n')
    monkeypatch.setenv("PROFIT_SECRETS", str(secrets))
    monkeypatch.delenv("PROFIT_DB", raising=False)
    monkeypatch.delenv("PROFIT_TIMEZONE", raising=False)
    assert settings.db_path() == Path("/srv/from-secrets.duckdb")
    assert settings.timezone() == "Europe/Paris"
    monkeypatch.setenv("PROFIT_DB", "/srv/env.duckdb")
    monkeypatch.setenv("PROFIT_TIMEZONE", "America/New_York")
    assert settings.db_path() == Path("/srv/env.duckdb")
    assert settings.timezone() == "America/New_York"
    monkeypatch.setenv("PROFIT_SECRETS", str(tmp_path / "absent.toml"))
    monkeypatch.delenv("PROFIT_DB")
    monkeypatch.delenv("PROFIT_TIMEZONE")
    assert settings.db_path() == ROOT / "data" / "profit.duckdb"
    assert settings.timezone() == "UTC"


def test_unknown_timezone_is_refused_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROFIT_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValueError, match="unknown timezone 'Mars/Olympus'"):
        settings.timezone()


def test_data_page_shows_rows_loads_and_refused_rows(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    csv = tmp_path / "costs.csv"
    csv.write_text("event_id,user_id,ts,action,cost_usd,counted\n"
                   "e1,+15551230001,2026-03-01T09:00:00,meal_plan,0.08,true\n"
                   "e2,+15551230002,2026-03-02T09:00:00,meal_plan,0.05,true\n"
                   "e3,+15551230003,2026-03-02T09:00:00,meal_plan,-1,true\n")
    db = tmp_path / "p.duckdb"
    load_files(db, {"cost_events": [str(csv)]})
    monkeypatch.setenv("PROFIT_DB", str(db))
    monkeypatch.setenv("PROFIT_SECRETS", str(tmp_path / "none.toml"))
    at = AppTest.from_file(str(ROOT / "pages" / "data.py"), default_timeout=30).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["cost_events (rows)"] == "2"
    assert metrics["revenue_events (rows)"] == "0"
    log = at.dataframe[0].value
    assert (log["rows_read"].iloc[0], log["rows_written"].iloc[0],
            log["rows_rejected"].iloc[0]) == (3, 2, 1)
    rejected = at.dataframe[1].value
    assert rejected["reason"].tolist() == ["negative cost: -1"]
    assert "+15551230003" not in rejected["raw_record"].iloc[0]  # masked
    assert "…0003" in rejected["raw_record"].iloc[0]


def test_the_app_sees_a_new_load_without_a_restart(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    first = tmp_path / "a.csv"
    first.write_text("event_id,user_id,ts,action,cost_usd,counted\n"
                     "e1,+15551230001,2026-03-01T09:00:00,meal_plan,0.08,true\n")
    second = tmp_path / "b.csv"
    second.write_text("event_id,user_id,ts,action,cost_usd,counted\n"
                      "e2,+15551230002,2026-03-01T10:00:00,meal_plan,0.08,true\n"
                      "e3,+15551230002,2026-03-01T11:00:00,meal_plan,0.08,true\n")
    db = tmp_path / "p.duckdb"
    load_files(db, {"cost_events": [str(first)]})
    monkeypatch.setenv("PROFIT_DB", str(db))
    monkeypatch.setenv("PROFIT_SECRETS", str(tmp_path / "none.toml"))
    at = AppTest.from_file(str(ROOT / "pages" / "data.py"), default_timeout=30).run()
    assert {m.label: m.value for m in at.metric}["cost_events (rows)"] == "1"
    load_files(db, {"cost_events": [str(second)]})  # publishes a new file
    at.run()
    assert {m.label: m.value for m in at.metric}["cost_events (rows)"] == "3"
