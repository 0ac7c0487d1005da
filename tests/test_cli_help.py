"""Commands for newcomers: each --help has a description and an example, and the flags the
app has settings for default to them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "enforcement" / "policies" / "seed-default.toml"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=300)


@pytest.mark.parametrize("command", [
    ("enforcement", "replay"), ("enforcement", "decide"), ("enforcement", "diff"),
    ("queries", "kpis"), ("loaders", "demo"), ("loaders", "files"), ("loaders", "dynamodb"),
    ("loaders", "sql"), ("loaders", "export"), ("dashboard.report", "weekly"),
    ("report", "weekly"), ("alerts", "check"), ("runtime", "simulate"),
    ("dashboard.auth", "hash-password"), ("core.audit", "find-ref")])
def test_help_has_a_description_and_an_example(command: tuple[str, ...]) -> None:
    out = run(*command, "--help")
    assert out.returncode == 0
    assert "example" in out.stdout and ".venv/bin/python -m " in out.stdout
    assert out.stdout.count("\n\n") >= 2  # usage, description, options, example


def test_replay_and_kpis_default_to_the_settings_and_the_latest_month(demo_db: Path,
                                                                      tmp_path: Path) -> None:
    env = {"PROFIT_DB": str(demo_db), "PROFIT_POLICY": str(POLICY),
           "PROFIT_SECRETS": str(tmp_path / "none.toml"), "PROFIT_TIMEZONE": "UTC"}
    bare = run("enforcement", "replay", env=env)
    full = run("enforcement", "replay", "--db", str(demo_db), "--policy", str(POLICY),
               "--start", "2026-03", "--end", "2026-03", env=env)
    assert bare.returncode == 0, bare.stderr
    assert json.loads(bare.stdout) == json.loads(full.stdout)
    assert list(json.loads(bare.stdout)["months"]) == ["2026-03"]  # the demo's last month
    kpis = run("queries", "kpis", env=env)
    assert kpis.returncode == 0, kpis.stderr
    assert json.loads(kpis.stdout)["period"] == "2026-03"
    day = json.loads(run("queries", "kpis", "--grain", "day", env=env).stdout)
    assert day["period"] == "2026-03-31"
