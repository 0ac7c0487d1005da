"""The source registry: each loader module declares itself once, everyone loops over it.

A source module sets `LOADER = Source(...)`: its command (`python -m loaders <command>`),
its command-line arguments and `main`, and, if the Data page can configure it, the
settings a `[sources.NAME]` table holds, how to run a load from them and the name that
load is recorded under. `python -m loaders` builds its sub-commands from `sources()`,
and the Data page's sources panel (dashboard/sources.py) reads, shows and reloads
`[sources.NAME]` tables through `configurable()`; so a new source is one new module.
This is the shape of Datasette's hookspecs: the app names no source.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from loaders.progress import TableProgress

Run = Callable[[dict[str, Any], Path, TableProgress | None], Any]


@dataclass(frozen=True)
class Setting:
    """One key of a `[sources.NAME]` table: its meaning, default and kind.

    `kind` is `text`, `int`, `list` (a string or a list of strings), `path` (relative
    to the project) or `files` (a list of paths or s3:// URLs).
    """

    key: str
    help: str
    default: Any = None
    kind: str = "text"
    required: bool = False


@dataclass(frozen=True)
class Source:
    """How one source is configured and run, from the command line and the Data page."""

    command: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    main: Callable[[argparse.Namespace], int]
    settings: tuple[Setting, ...] = ()
    run: Run | None = None                           # a load from options (see `options`)
    name: Callable[[dict[str, Any]], str] | None = None  # the name a load is recorded as
    tables: int | None = None                        # tables read in turn, for the bar
    example: str = ""                                # command lines for `--help`

    @property
    def configurable(self) -> bool:
        return self.run is not None

    def options(self, cfg: dict[str, Any]) -> dict[str, Any]:
        """A `[sources.NAME]` table as typed options: defaults filled, kinds applied.

        Keys the source does not declare are kept as given (a `password` beside a URL).
        """
        out = dict(cfg)
        for s in self.settings:
            value = cfg.get(s.key, s.default)
            if value is None or value == "":
                if s.required:
                    raise ValueError(f"{self.command} source: `{s.key}` is required "
                                     f"({s.help})")
                out[s.key] = s.default
                continue
            out[s.key] = _convert(s, value, self.command)
        return out

    def source_name(self, cfg: dict[str, Any]) -> str:
        """The name a load of this source records: `source = "..."`, else its default."""
        if cfg.get("source"):
            return str(cfg["source"])
        if self.name is None:
            raise ValueError(f"{self.command} cannot be configured as a source")
        return self.name(self.options(cfg))


def _convert(s: Setting, value: Any, command: str) -> Any:
    from core import settings

    if s.kind == "int":
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ValueError(f"{command} source: `{s.key}` must be a whole number, "
                             f"got {value!r}") from None
    if s.kind in ("list", "files"):
        items = [value] if isinstance(value, str) else list(value)
        if s.kind == "files":
            items = [n if str(n).startswith("s3://") else str(_resolve(settings.ROOT, n))
                     for n in items]
        return [str(n) for n in items]
    if s.kind == "path":
        return _resolve(settings.ROOT, value)
    return value


def _resolve(root: Path, value: Any) -> Path:
    p = Path(str(value))
    return p if p.is_absolute() else root / p


@cache
def sources() -> dict[str, Source]:
    """Every source module's declaration, by command, found by scanning the package."""
    import loaders

    found: dict[str, Source] = {}
    for info in sorted(pkgutil.iter_modules(loaders.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name in ("__main__", "registry"):
            continue
        module = importlib.import_module(f"loaders.{info.name}")
        source = getattr(module, "LOADER", None)
        if isinstance(source, Source):
            found[source.command] = source
    return found


def configurable() -> dict[str, Source]:
    """The sources a `[sources.NAME]` table can name as its `type`."""
    return {k: v for k, v in sources().items() if v.configurable}


def source_for(cfg: dict[str, Any]) -> Source:
    """The declaration a `[sources.NAME]` table's `type` names, or a ValueError."""
    kind = cfg.get("type")
    found = configurable().get(str(kind))
    if found is None:
        raise ValueError(f"unknown source type {kind!r} (use {', '.join(configurable())})")
    return found
