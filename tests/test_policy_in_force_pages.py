"""The dashboard shows which policy the runtime had in force when, and the What-if page can
start from it: on history the runtime wrote to DynamoDB (moto) and the loader read."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from enforcement.policy import load_policy, policy_id, save_policy
from loaders.dynamodb import load_dynamodb
from queries.policies import find_policy_file
from tests import runtime_fixtures as rf
from tests.runtime_fixtures import SEED_POLICY, make_runtime

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard" / "app.py")
U = "+15550001001"
serial_moto_url, serial_moto = rf.serial_moto_url, rf.serial_moto


@pytest.fixture
def runtime_db(serial_moto: str, tmp_path: Path) -> tuple[Path, str]:
    seed_rt = make_runtime(serial_moto)
    tight = load_policy(SEED_POLICY).with_changes({"name": "tight"})
    save_policy(tight, tmp_path / "tight.toml")
    tight_rt = make_runtime(serial_moto, tmp_path / "tight.toml",
                            prefix=seed_rt.settings.prefix, create=False)
    tight_rt.decide_request(U, "r1", "simple_message", "0.01", "2026-03-01T09:00:00Z")
    seed_rt.decide_request(U, "r2", "simple_message", "0.01", "2026-03-05T09:00:00Z")
    db = tmp_path / "rt.duckdb"
    load_dynamodb(db, env="dev", endpoint_url=serial_moto, prefix=seed_rt.settings.prefix)
    return db, policy_id(load_policy(SEED_POLICY))


def _app(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("PROFIT_DB", str(db))
    monkeypatch.setenv("PROFIT_SECRETS", str(tmp_path / "none.toml"))
    monkeypatch.setenv("PROFIT_POLICY", str(tmp_path / "tight.toml"))
    monkeypatch.setenv("PROFIT_AUDIT_LOG", str(tmp_path / "audit.log"))
    return AppTest.from_file(APP, default_timeout=120)


def test_data_page_lists_each_policy_with_when_it_was_in_force(runtime_db, tmp_path: Path,
                                                              monkeypatch) -> None:
    db, seed_id = runtime_db
    at = _app(db, tmp_path, monkeypatch)
    at.switch_page("../pages/data.py").run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "policy_id" in d.value.columns)
    assert table["policy_name"].tolist() == ["tight", "seed-default"]
    assert table["policy_id"].iloc[-1] == seed_id
    assert table["requests"].tolist() == [1, 1]


def test_what_if_starts_from_the_policy_in_force(runtime_db, tmp_path: Path,
                                                 monkeypatch) -> None:
    db, seed_id = runtime_db
    _app(db, tmp_path, monkeypatch)
    at = AppTest.from_file(str(ROOT / "pages" / "what_if.py"), default_timeout=120)
    at.query_params.update({"start": "in_force", "from": "2026-03", "to": "2026-03"})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    start = at.radio(key="wi_start")
    assert start.value == "in_force"  # the newest decision was the seed's, not the setting's
    assert any(seed_id in c.value for c in at.caption)


def test_a_policy_id_finds_its_file_among_the_known_ones(tmp_path: Path) -> None:
    tight = load_policy(SEED_POLICY).with_changes({"name": "tight"})
    save_policy(tight, tmp_path / "tight.toml")
    (tmp_path / "broken.toml").write_text("not = [toml")
    files = [tmp_path / "broken.toml", SEED_POLICY, tmp_path / "tight.toml"]
    assert find_policy_file(policy_id(tight), files) == tmp_path / "tight.toml"
    assert find_policy_file("tight@000000000000", files) is None
