"""Data flows one way: nothing below the app imports the app. Checked on the source (every
import statement, wherever it stands in a module), not on what one import happens to load."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BELOW_THE_APP = ("core", "loaders", "queries", "enforcement", "alerts", "runtime", "report")
APP_ONLY = {"dashboard", "pages", "streamlit"}
# What each package may import of ours (style.md's layering): the pure rules nothing else.
OURS = {"core", "loaders", "queries", "enforcement", "alerts", "runtime", "report",
        "dashboard", "pages", "tests"}
MAY_IMPORT = {"enforcement": {"enforcement"}, "core": {"core"}}


def imported_roots(path: Path, *, module_level_only: bool = False) -> set[str]:
    """The top-level package of every module `path` imports (at module level only, or
    anywhere, inside functions too)."""
    tree = ast.parse(path.read_text(), str(path))
    roots: set[str] = set()
    for node in tree.body if module_level_only else ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py")) if (ROOT / package).is_dir() else []


@pytest.mark.parametrize("package", BELOW_THE_APP)
def test_nothing_below_the_app_imports_the_app_or_streamlit(package: str) -> None:
    bad = {str(p.relative_to(ROOT)): sorted(imported_roots(p) & APP_ONLY)
           for p in modules(package) if imported_roots(p) & APP_ONLY}
    assert bad == {}


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_the_innermost_packages_import_only_themselves(package: str) -> None:
    # A command is the shell around the core: `__main__.py`, and a command's main() that
    # imports a reader inside the function, may reach the database.
    allowed = MAY_IMPORT[package]

    def outside(p: Path) -> set[str]:
        return (imported_roots(p, module_level_only=True) & OURS) - allowed

    bad = {str(p.relative_to(ROOT)): sorted(outside(p))
           for p in modules(package) if p.name != "__main__.py" and outside(p)}
    assert bad == {}


def test_the_check_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from dashboard import ui\n    import streamlit as st\n")
    assert imported_roots(f) >= {"dashboard", "streamlit"}
