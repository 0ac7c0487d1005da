"""The Data page's sources panel: configured sources, last load, reload with a bar."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import sources
from loaders import files
from tests.sources_fixtures import contract_rows, fill_sql, write_csv


def _script() -> None:
    from dashboard.sources import render_sources

    render_sources()


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    rows = contract_rows(30)
    csv_files = write_csv(rows, tmp_path / "csv")
    sqlite = tmp_path / "finance.sqlite"
    fill_sql(f"sqlite:///{sqlite}", contract_rows(12, month="2026-04", tag="s"))
    db = tmp_path / "app.duckdb"
    files.load_files(db, csv_files)  # the files source has loaded once, from the command line
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f"""
[sources.exports]
type = "files"
costs = ["{csv_files['cost_events'][0]}"]
revenue = ["{csv_files['revenue_events'][0]}"]
tokens = ["{csv_files['token_balances'][0]}"]
affiliate = ["{csv_files['affiliate_events'][0]}"]

[sources.finance]
type = "sql"
url = "sqlite:///{sqlite}"
password = "Do-not-show-1"

[sources.pg]
type = "sql"
url = "postgresql://reader:Do-not-show-2@127.0.0.1:1/x"
""")
    monkeypatch.setenv("PROFIT_SECRETS", str(secrets))
    monkeypatch.setenv("PROFIT_DB", str(db))
    return {"db": db, "secrets": secrets}


def _status(at: AppTest) -> dict[str, dict]:
    frame = at.dataframe[0].value
    return {r["name"]: r for r in frame.to_dict("records")}


def test_panel_lists_sources_with_last_load_and_hides_passwords(configured: dict):
    at = AppTest.from_function(_script, default_timeout=60).run()
    assert not at.exception
    status = _status(at)
    assert list(status) == ["exports", "finance", "pg"]
    # The CSV load made by the command line is found under the same source name.
    assert status["exports"]["status"] == "ok"
    assert status["exports"]["rows held"] == 30 * 6
    assert status["finance"]["status"] == "never loaded"
    shown = at.dataframe[0].value.to_string()
    assert "Do-not-show-1" not in shown and "Do-not-show-2" not in shown
    assert "reader:***@127.0.0.1" in shown


def test_reload_button_loads_the_source_and_the_table_shows_it(configured: dict):
    at = AppTest.from_function(_script, default_timeout=60).run()
    at.selectbox(key="sources_reload_name").select("finance").run()
    at.button(key="sources_reload").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [
        "sql:sqlite:///" + str(configured["db"].parent / "finance.sqlite")
        + ": 72 read, 72 written, 0 rejected in " + at.success[0].value.split(" in ")[-1]]
    status = _status(at)
    assert status["finance"]["status"] == "ok" and status["finance"]["rows held"] == 72
    # How each table was read, and why: SQLite keeps timestamps as text, so whole reads.
    notes = [c.value for c in at.caption if c.value.startswith("cost_events:")]
    assert notes == ["cost_events: cost_events: every row (ts is text in SQLite, which the "
                     "database compares as text, not time; read whole each load)"]


def test_reload_that_fails_says_so_and_keeps_the_data(configured: dict):
    at = AppTest.from_function(_script, default_timeout=60).run()
    at.selectbox(key="sources_reload_name").select("pg").run()
    at.button(key="sources_reload").click().run()
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "Reload of pg failed; the data is as it was" in errors[0]
    assert "Do-not-show-2" not in errors[0]
    assert _status(at)["exports"]["rows held"] == 30 * 6


def test_source_name_matches_the_command_lines_default():
    assert sources.source_name({"type": "dynamodb", "env": "dev"}) == (
        "dynamodb:ai-nutritionist:dev")
    assert sources.source_name({"type": "sql", "url": "postgresql://u:pw@h:5/db"}) == (
        "sql:postgresql://u@h:5/db")
    assert sources.source_name({"type": "files", "costs": ["/x/a.csv"]}) == "files:a.csv"
