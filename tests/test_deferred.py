"""core.deferred: a module named at import time is imported only at its first use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _modules_after(code: str) -> set[str]:
    code += "\nimport sys\nprint(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return set(out.split())


def test_a_file_load_command_imports_no_sql_aws_or_pandas_library() -> None:
    loaded = _modules_after("import loaders.__main__ as m\nm.build_parser()")
    assert "loaders.sql" in loaded and "loaders.dynamodb" in loaded  # every source was read
    assert not {"sqlalchemy", "boto3", "pandas"} & loaded


def test_the_first_use_imports_it_and_gives_the_modules_own_attributes() -> None:
    loaded = _modules_after("import loaders.sql as s\nu = s.parse_url('sqlite:///x.db')\n"
                            "assert type(u).__module__.startswith('sqlalchemy'), type(u)\n"
                            "assert s.sa_exc.ArgumentError.__module__ == 'sqlalchemy.exc'")
    assert "sqlalchemy" in loaded
