"""The source registry (issue 11.5): a new source is one new module, nothing else changes;
every `python -m loaders` line of the README keeps parsing as typed."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import loaders
from dashboard import sources as panel
from loaders import registry
from loaders.__main__ import build_parser

ROOT = Path(__file__).resolve().parent.parent

NEW_SOURCE = '''
"""A made-up source: rows from a Python list, as a newcomer would add one."""
import argparse
from pathlib import Path

from loaders.pipeline import Chunk, load
from loaders.registry import Setting, Source


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--users", type=int, default=2)


def _rows(users: int) -> list[dict]:
    return [{"event_id": f"n{i}", "user_id": f"+1555999000{i}", "ts": "2026-03-01T09:00:00",
             "action": "meal_plan", "cost_usd": "0.05", "counted": "true"}
            for i in range(users)]


def main(args: argparse.Namespace) -> int:
    print(load(args.db, "listed", [Chunk(frames={"cost_events": _rows(args.users)})]).summary())
    return 0


def _run(opts, db, progress):
    if progress:
        progress("cost_events", opts["users"], opts["users"])
    return load(db, opts["source"], [Chunk(frames={"cost_events": _rows(opts["users"])})])


LOADER = Source(command="listed", help="rows from a list", add_arguments=add_arguments,
                main=main, run=_run, name=lambda opts: f"listed:{opts['users']}", tables=1,
                settings=(Setting("users", "how many", 2, "int"),))
'''


@pytest.fixture
def new_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """`loaders/listed.py` as if a newcomer had added it (in a folder of the package path)."""
    folder = tmp_path / "more_loaders"
    folder.mkdir()
    (folder / "listed.py").write_text(NEW_SOURCE)
    monkeypatch.setattr(loaders, "__path__", [*loaders.__path__, str(folder)])
    registry.sources.cache_clear()
    yield "listed"
    sys.modules.pop("loaders.listed", None)
    registry.sources.cache_clear()


def test_the_registry_holds_every_source_module() -> None:
    # `export` (the Parquet lake) and `rollups` are commands too, and no Data-page source.
    assert sorted(registry.sources()) == ["demo", "dynamodb", "export", "files", "rollups",
                                          "sql"]
    assert sorted(registry.configurable()) == ["dynamodb", "files", "sql"]
    # The file flags are written once, in the files loader; the panel has no copy.
    assert not hasattr(panel, "FILE_FLAGS")
    assert [s.key for s in registry.sources()["files"].settings][:4] == [
        "costs", "revenue", "tokens", "affiliate"]


def test_a_new_module_is_a_new_command_and_a_new_data_page_source(
        new_source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "p.duckdb"
    args = build_parser().parse_args([new_source, "--db", str(db), "--users", "3"])
    assert args._main(args) == 0
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[sources.mine]\ntype = "listed"\nusers = "4"\n')
    monkeypatch.setenv("PROFIT_SECRETS", str(secrets))
    monkeypatch.setenv("PROFIT_DB", str(db))
    cfg = panel.configured_sources()["mine"]
    assert panel.source_name(cfg) == "listed:4"
    seen: list[tuple[float | None, str]] = []
    result = panel.reload(cfg, db, lambda f, t: seen.append((f, t)))
    assert (result.source, result.rows_written) == ("listed:4", 1)  # n3 is new; n0-n2 equal
    assert seen == [(1.0, "cost_events: 4 rows of 4")]

    def page() -> None:
        from dashboard.sources import render_sources

        render_sources()

    at = AppTest.from_function(page, default_timeout=60).run()
    assert not at.exception
    status = at.dataframe[0].value.to_dict("records")
    assert [(r["name"], r["type"], r["recorded as"], r["status"]) for r in status] == [
        ("mine", "listed", "listed:4", "ok")]


def test_an_unknown_type_names_the_registrys_types() -> None:
    with pytest.raises(ValueError, match=r"unknown source type 'ftp' \(use dynamodb, files, sql\)"):
        panel.source_name({"type": "ftp"})


def _readme_loader_lines() -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    lines = re.findall(r"^python -m loaders (.+)$", text, flags=re.MULTILINE)
    out = []
    for line in lines:
        line = line.split("  #")[0].replace("...", "")
        argv = shlex.split(line.replace("[", "").replace("]", ""))
        out.append([PLACEHOLDERS.get(a, a) for a in argv])
    return out


PLACEHOLDERS = {"S": "7", "R": "eu-west-1"}  # the README's metavariables, as a user fills them


def test_every_readme_loaders_command_line_parses_as_typed() -> None:
    lines = _readme_loader_lines()
    assert len(lines) >= 6
    commands = set()
    for argv in lines:
        args = build_parser().parse_args(argv)
        commands.add(argv[0])
        assert callable(args._main)
    assert commands == {"demo", "files", "dynamodb", "sql", "export", "rollups"}
