"""Fixtures every area shares: hand-built databases on disk, and the demo business."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from loaders.pipeline import Chunk, load

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def make_db(tmp_path: Path) -> Callable[..., Path]:
    """Build a DuckDB file through the real loading path from rows written in the test.

    `make_db(costs=[{...}], revenue=[...], tokens=[...], affiliate=[...])`; rows use the
    contract's column names. Cost rows default to `counted=True`, `action` from
    `event_type`, and revenue rows to a generated `event_id`.
    """
    counter = {"n": 0}

    def build(costs: list[dict] | None = None, revenue: list[dict] | None = None,
              tokens: list[dict] | None = None, affiliate: list[dict] | None = None,
              name: str = "test.duckdb") -> Path:
        counter["n"] += 1
        path = tmp_path / name
        frames: dict[str, list[dict]] = {}
        if costs:
            frames["cost_events"] = [
                {"event_id": f"c{i}", "counted": True, "category": "ai", **row}
                for i, row in enumerate(costs)]
        if revenue:
            frames["revenue_events"] = [{"event_id": f"r{i}", **row}
                                        for i, row in enumerate(revenue)]
        if tokens:
            frames["token_balances"] = tokens
        if affiliate:
            frames["affiliate_events"] = [{"event_id": f"a{i}", **row}
                                          for i, row in enumerate(affiliate)]
        result = load(path, "test", [Chunk(frames=frames)])
        assert result.rows_rejected == 0, result.rejected_by_reason
        return path

    return build


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo business (400 users, 3 months to 2026-03), generated once per run."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    subprocess.run(
        [sys.executable, "-m", "loaders", "demo", "--db", str(path), "--users", "400",
         "--months", "3", "--end", "2026-03", "--seed", "7"],
        cwd=ROOT, check=True, capture_output=True, text=True)
    return path
