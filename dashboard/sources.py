"""The Data page's sources panel: what is configured, when it last loaded, reload one.

Sources are `[sources.NAME]` tables in `.streamlit/secrets.toml`:

    [sources.chatbot]
    type = "dynamodb"          # env, region, table_prefix, endpoint_url, segments
    env = "prod"
    region = "eu-west-1"

    [sources.finance]
    type = "sql"               # url, mapping (path), chunk_rows
    url = "postgresql+psycopg2://reader:pw@db.internal/finance"

    [sources.exports]
    type = "files"             # costs/revenue/tokens/affiliate (lists), s3_prefix (list)
    s3_prefix = ["s3://exports/chatbot/"]

Each is recorded in the load log under the same name its command line would use (or
`source = "..."` in its table), so loads from either place show here. Passwords and
keys are never shown: URLs are masked and credential-like keys left out.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from core import secrecy, settings
from dashboard import data

TYPES = ("dynamodb", "sql", "files")
FILE_FLAGS = {"costs": "cost_events", "revenue": "revenue_events", "tokens": "token_balances",
              "affiliate": "affiliate_events"}
_HIDDEN = ("password", "secret", "session_token", "access_key", "api_key", "credential")

Progress = Callable[[float | None, str], None]


def configured_sources(secrets: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """The `[sources.NAME]` tables; one with an unknown type is kept, to be shown as such."""
    secrets = settings.secrets() if secrets is None else secrets
    raw = secrets.get("sources", {}) or {}
    return {str(name): dict(cfg) for name, cfg in raw.items() if isinstance(cfg, dict)}


def _files_of(cfg: dict[str, Any]) -> dict[str, list[str]]:
    out = {}
    for flag, table in FILE_FLAGS.items():
        value = cfg.get(flag) or []
        out[table] = [value] if isinstance(value, str) else list(value)
    return {t: v for t, v in out.items() if v}


def _prefixes(cfg: dict[str, Any]) -> list[str]:
    value = cfg.get("s3_prefix") or []
    return [value] if isinstance(value, str) else list(value)


def _path(value: str) -> Path:
    p = Path(value)
    return p if p.is_absolute() else settings.ROOT / p


def source_name(cfg: dict[str, Any]) -> str:
    """The name a load of this source records (the command line's default, or `source`)."""
    if cfg.get("source"):
        return str(cfg["source"])
    kind = cfg.get("type")
    if kind == "dynamodb":
        from loaders.dynamodb import default_source

        return default_source(cfg.get("table_prefix", "ai-nutritionist"), cfg.get("env", "prod"))
    if kind == "sql":
        from loaders.sql import default_source, parse_url

        return default_source(parse_url(str(cfg.get("url", ""))))
    if kind == "files":
        # As `python -m loaders files` names it (see loaders/files.py load_files).
        files, prefixes = _files_of(cfg), _prefixes(cfg)
        names = [n for group in files.values() for n in group]
        if prefixes or any(n.startswith("s3://") for n in names):
            return "files:" + ",".join(sorted({*prefixes, *names}))
        return "files:" + ",".join(sorted(Path(n).name for n in names))
    raise ValueError(f"unknown source type {kind!r} (use {', '.join(TYPES)})")


def public_params(cfg: dict[str, Any]) -> str:
    """The source's settings as shown on the page: no password, key or token."""
    from loaders.sql import mask_url

    shown = []
    for key, value in cfg.items():
        if key == "type" or any(word in key.lower() for word in _HIDDEN):
            continue
        if key == "url":
            value = mask_url(str(value))
        shown.append(f"{key}={value}")
    return ", ".join(shown)


def reload(cfg: dict[str, Any], db: Path, progress: Progress | None = None) -> Any:
    """Load one configured source through its loader; returns the load's result."""
    kind = cfg.get("type")
    source = source_name(cfg)
    step = {"tables": 0}

    def by_table(total_tables: int) -> Callable[[str, int, int | None], None]:
        seen: list[str] = []

        def report(table: str, done: int, total: int | None) -> None:
            if table not in seen:
                seen.append(table)
            if progress is None:
                return
            index = len(seen) - 1
            part = min(done / total, 1.0) if total else 0.0
            progress(min((index + part) / total_tables, 1.0),
                     f"{table}: {done:,} rows" + (f" of {total:,}" if total else ""))

        return report

    if kind == "dynamodb":
        from loaders.dynamodb import load_dynamodb

        result, _ = load_dynamodb(
            db, env=cfg.get("env", "prod"), region=cfg.get("region"),
            endpoint_url=cfg.get("endpoint_url"),
            prefix=cfg.get("table_prefix", "ai-nutritionist"),
            segments=int(cfg.get("segments", 4)), source=source, progress=by_table(3))
        return result
    if kind == "sql":
        from loaders.sql import DEFAULT_CHUNK_ROWS, load_sql

        mapping = _path(cfg["mapping"]) if cfg.get("mapping") else None
        return load_sql(db, str(cfg.get("url", "")), mapping=mapping,
                        chunk_rows=int(cfg.get("chunk_rows", DEFAULT_CHUNK_ROWS)),
                        source=source, progress=by_table(4))
    if kind == "files":
        from loaders.files import load_files

        files = {t: [n if n.startswith("s3://") else str(_path(n)) for n in names]
                 for t, names in _files_of(cfg).items()}

        def advance(n: int) -> None:
            step["tables"] += n
            if progress:
                progress(None, f"{step['tables']:,} rows read")

        return load_files(db, files, s3_prefixes=_prefixes(cfg), source=source,
                          progress=advance)
    raise ValueError(f"unknown source type {kind!r} (use {', '.join(TYPES)})")


def status_table(sources: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per configured source: type, settings, last load and rows held."""
    names = {}
    for name, cfg in sources.items():
        try:
            names[name] = source_name(cfg)
        except ValueError as exc:
            names[name] = f"(invalid: {exc})"
    status = pd.DataFrame()
    if data.current_version() is not None:
        status = data.query("source_status", sources=sorted(set(names.values())))
    by_source = {r["source"]: r for r in status.to_dict("records")}
    hidden = secrecy.secret_values(settings.secrets())  # an error may quote a URL or a key
    rows = []
    for name, cfg in sources.items():
        s = by_source.get(names[name], {})
        rows.append({
            "name": name, "type": cfg.get("type"), "settings": public_params(cfg),
            "recorded as": names[name], "last load (UTC)": s.get("last_load"),
            "status": s.get("status", "never loaded"), "rows read": s.get("rows_read"),
            "rows written": s.get("rows_written"), "rows held": s.get("rows_held", 0),
            "error": secrecy.redact(s["error"], hidden) if s.get("error") else None})
    return pd.DataFrame(rows)


def render_sources() -> None:
    """The sources section of the Data page."""
    st.subheader("Sources")
    sources = configured_sources()
    if not sources:
        st.info("No source configured. Add `[sources.NAME]` tables to "
                "`.streamlit/secrets.toml` with `type = \"dynamodb\"`, `\"sql\"` or "
                "`\"files\"` and their settings.")
        return
    table_slot = st.empty()  # filled last, so a reload just made shows in it
    name = st.selectbox("Source to reload", list(sources), key="sources_reload_name")
    if st.button("Reload", key="sources_reload", type="primary"):
        bar = st.progress(0.0, text=f"Loading {name}…")

        def progress(fraction: float | None, text: str) -> None:
            bar.progress(fraction if fraction is not None else 0.5, text=f"{name}: {text}")

        try:
            result = reload(sources[name], settings.db_path(), progress)
        except Exception as exc:  # noqa: BLE001 - every failure is shown, data unchanged
            bar.empty()
            hidden = secrecy.secret_values(settings.secrets())
            st.error(f"Reload of {name} failed; the data is as it was. "
                     f"{secrecy.redact(str(exc), hidden)}")
        else:
            # DuckDB shares one open instance per file path within a process, so the
            # cached connection to the old version must go before the new one is seen.
            data._connection.clear()
            bar.progress(1.0, text=f"{name}: done")
            st.success(result.summary())
    table_slot.dataframe(status_table(sources), hide_index=True, width="stretch")
