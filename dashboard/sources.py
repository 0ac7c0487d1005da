"""The Data page's sources panel: what is configured, when it last loaded, reload one.

Sources are `[sources.NAME]` tables in `.streamlit/secrets.toml`, whose `type` names a
source of the registry (loaders/registry.py: `dynamodb`, `sql`, `files`, and any
source module added later); the other keys are the settings that source declares:

    [sources.chatbot]
    type = "dynamodb"          # env, region, table_prefix, endpoint_url, segments
    env = "prod"
    region = "eu-west-1"

    [sources.finance]
    type = "sql"               # url, mapping (path), chunk_rows
    url = "postgresql://reader:pw@db.internal/finance"

    [sources.exports]
    type = "files"             # costs/revenue/tokens/affiliate (lists), s3_prefix (list)
    s3_prefix = ["s3://exports/chatbot/"]

Each is recorded in the load log under the same name its command line would use (or
`source = "..."` in its table), so loads from either place show here. Passwords and
keys are never shown: URLs are masked and credential-like keys left out. This module
names no source: it loops over the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from core import secrecy, settings
from core.privacy import mask_text
from dashboard import data
from loaders import registry
from loaders.progress import fraction_progress

_HIDDEN = ("password", "secret", "session_token", "access_key", "api_key", "credential")

Progress = Callable[[float | None, str], None]


def configured_sources(secrets: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """The `[sources.NAME]` tables; one with an unknown type is kept, to be shown as such."""
    secrets = settings.secrets() if secrets is None else secrets
    raw = secrets.get("sources", {}) or {}
    return {str(name): dict(cfg) for name, cfg in raw.items() if isinstance(cfg, dict)}


def source_name(cfg: dict[str, Any]) -> str:
    """The name a load of this source records (the command line's default, or `source`)."""
    return registry.source_for(cfg).source_name(cfg)


def public_params(cfg: dict[str, Any]) -> str:
    """The source's settings as shown on the page: no password, key or token."""
    shown = []
    for key, value in cfg.items():
        if key == "type" or any(word in key.lower() for word in _HIDDEN):
            continue
        if key == "url":
            value = secrecy.safe_url(str(value))
        shown.append(f"{key}={value}")
    return ", ".join(shown)


def reload(cfg: dict[str, Any], db: Path, progress: Progress | None = None) -> Any:
    """Load one configured source through its loader; returns the load's result."""
    source = registry.source_for(cfg)
    opts = source.options(cfg)
    opts["source"] = source.source_name(cfg)
    tables = fraction_progress(progress, source.tables) if progress else None
    return source.run(opts, db, tables)  # type: ignore[misc] - configurable() has a run


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
            "name": name, "type": cfg.get("type"), "settings": mask_text(public_params(cfg)),
            "recorded as": mask_text(names[name]), "last load (UTC)": s.get("last_load"),
            "status": s.get("status", "never loaded"), "rows read": s.get("rows_read"),
            "rows written": s.get("rows_written"), "rows held": s.get("rows_held", 0),
            "error": secrecy.redact(s["error"], hidden) if s.get("error") else None})
    return pd.DataFrame(rows)


def render_sources() -> None:
    """The sources section of the Data page."""
    st.subheader("Sources")
    sources = configured_sources()
    if not sources:
        kinds = registry.configurable()
        st.info("No source configured. Add `[sources.NAME]` tables to "
                "`.streamlit/secrets.toml` with `type` one of "
                + ", ".join(f"`\"{k}\"`" for k in kinds) + " and its settings: "
                + "; ".join(f"{k}: " + ", ".join(f"`{x.key}`" for x in v.settings)
                            for k, v in kinds.items()) + ".")
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
            st.success(mask_text(result.summary()))
            for note in result.notes:  # how each table was read, and what was not seen
                st.caption(mask_text(note))
    table_slot.dataframe(status_table(sources), hide_index=True, width="stretch")
