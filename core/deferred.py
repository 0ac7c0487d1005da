"""A module imported where it is first used, not where it is named.

Every loader command imports every source module (the registry reads each one's
declaration), so a module-level `import sqlalchemy` made a Parquet load pay 0.1 s for a
library only the SQL source calls. `deferred("sqlalchemy")` stands in for the module and
imports it at the first attribute asked of it; annotations stay strings
(`from __future__ import annotations`), so they never ask.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class Deferred:
    """Stands for the module `name`; the first attribute read imports it."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):  # (copy, pickle and inspect probe these)
            raise AttributeError(attribute)
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)


def deferred(name: str) -> Any:
    """The module `name`, imported at its first use (typed Any: it is the module then)."""
    return Deferred(name)
