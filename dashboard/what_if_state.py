"""The What-if page's state: the start policy, the edited fields, and the link that shares them.

Session state holds the fields (`wi_k:<dotted key>`), the accepted upload and the last
valid edit; the address bar holds the view (`start`, `from`, `to`, `baseline` and
`p.<dotted key>=<value>` per changed key), read back when a link is opened. Nothing here
draws: the widgets (`what_if.py`) keep their values under these keys and ask here what
the policy in use is. The pure parts (`share_params`, `link_values`, the policy's text)
take and return plain values, so they are testable without a running page.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import streamlit as st
import tomli_w

from core import settings
from dashboard import ui
from enforcement import whatif
from enforcement.policy import Policy, PolicyError, load_policy

PARAM_PREFIX = "p."
START_SEED, START_CURRENT, START_UPLOAD = "seed", "current", "upload"
START_IN_FORCE = "in_force"
START_LABELS = {START_SEED: "Seed default policy", START_CURRENT: "Current policy (setting)",
                START_IN_FORCE: "Policy in force (the runtime's latest decisions)",
                START_UPLOAD: "Uploaded policy file"}
BASE_START, BASE_RECORDED = "start", "recorded"
BASE_LABELS = {BASE_START: "Starting policy, replayed", BASE_RECORDED: "History as recorded"}
WIDGET = "wi_k:"  # session-state prefix of the policy fields
NUMBER_KINDS = ("count", "factor")  # edited in number inputs; the rest in text fields


# -- policies in and out --
def policy_toml(policy: Policy) -> str:
    """The policy as the TOML file a download holds (read back equal by `load_policy`)."""
    return tomli_w.dumps(policy.to_toml_dict())


def parse_policy_upload(uploaded: Any, max_bytes: int | None = None) -> Policy:
    """An uploaded (or pasted) policy: size-limited, TOML, validated; ValueError if not.

    `uploaded` is a file-like with `getvalue()` (st.file_uploader's) or the text itself.
    """
    from dashboard.uploads import MAX_POLICY_BYTES, parse_policy_text, read_policy_upload

    limit = max_bytes or MAX_POLICY_BYTES
    if isinstance(uploaded, str):
        if len(uploaded.encode("utf-8")) > limit:
            raise ValueError(f"the text is more than {limit:,} bytes; a policy is smaller")
        doc = parse_policy_text(uploaded)
        source = "pasted policy"
    else:
        doc = parse_policy_text(read_policy_upload(uploaded, limit))
        source = getattr(uploaded, "name", "uploaded policy")
    try:
        return Policy.from_dict(doc, source=source)
    except PolicyError as exc:
        raise ValueError(str(exc)) from None


# -- the start --
def _accept_start(policy: Policy) -> None:
    st.session_state["wi_uploaded"] = policy_toml(policy)
    st.session_state["wi_upload_error"] = None
    st.session_state["wi_start"] = START_UPLOAD


def on_upload() -> None:
    """Callback: a new file replaces the start only when it is a valid policy."""
    uploaded = st.session_state.get("wi_upload_file")
    if uploaded is None:
        return
    try:
        _accept_start(parse_policy_upload(uploaded))
    except ValueError as exc:
        st.session_state["wi_upload_error"] = f"{getattr(uploaded, 'name', 'file')}: {exc}"


def on_paste() -> None:
    """Callback: pasted text replaces the start only when it is a valid policy."""
    text = st.session_state.get("wi_paste", "")
    if not text.strip():
        return
    try:
        _accept_start(parse_policy_upload(text))
    except ValueError as exc:
        st.session_state["wi_upload_error"] = f"pasted text: {exc}"


def start_options() -> list[str]:
    """The starts on offer (an upload once one was accepted); on a session's first run the
    link's `start` is the choice (an upload cannot travel in a link)."""
    if "wi_start" not in st.session_state:
        wanted = st.query_params.get("start", START_SEED)
        st.session_state["wi_start"] = wanted if wanted in (START_SEED, START_CURRENT,
                                                            START_IN_FORCE) else START_SEED
    options = [START_SEED, START_CURRENT]
    if in_force_id() is not None:
        options.append(START_IN_FORCE)
    if st.session_state.get("wi_uploaded"):
        options.append(START_UPLOAD)
    if st.session_state["wi_start"] not in options:
        st.session_state["wi_start"] = START_SEED
    return options


def upload_error() -> str | None:
    """Why the last upload or paste was refused (the start did not change)."""
    return st.session_state.get("wi_upload_error")


def in_force_id() -> str | None:
    """The id of the policy behind the runtime's newest recorded decision, if any."""
    from dashboard import data
    from queries import policies

    return data.cached(policies.latest_policy_id)() if data.current_version() else None


def policy_files() -> list[Path]:
    """The policy files the dashboard knows: the setting's, and enforcement/policies/."""
    known = [settings.policy_path(), *sorted((settings.ROOT / "enforcement" / "policies")
                                            .glob("*.toml"))]
    return list(dict.fromkeys(known))


def start_policy(choice: str) -> tuple[Policy, str]:
    """The starting policy and its label: seed, current setting, the policy in force, or
    the accepted upload. ValueError when the policy in force is in none of the files."""
    if choice == START_IN_FORCE:
        from queries.policies import find_policy_file

        wanted = in_force_id()
        path = find_policy_file(wanted, policy_files()) if wanted else None
        if path is None:
            raise ValueError(f"The policy in force, {wanted}, is in none of the policy files "
                             "the dashboard knows: upload that file to start from it.")
        return load_policy(path), f"the policy in force, {wanted} ({path.name})"
    if choice == START_UPLOAD:
        return Policy.from_dict(tomllib.loads(st.session_state["wi_uploaded"]),
                                source="uploaded"), "uploaded file"
    path = settings.DEFAULT_POLICY if choice == START_SEED else settings.policy_path()
    return load_policy(path), f"{START_LABELS[choice].lower()} ({path.name})"


def start_choice() -> str:
    """The start in use (seed, current or upload)."""
    return st.session_state["wi_start"]


# -- the fields --
def widget_value(kind: str, value: Any) -> Any:
    """A flat policy value as its field holds it: an int in a number input, else text."""
    return int(value) if kind in NUMBER_KINDS else whatif.to_text(value)


def link_values(flat: Mapping[str, Any], params: Mapping[str, str]
                ) -> tuple[dict[str, Any], list[str]]:
    """The fields a shared link sets (`p.<key>=<text>`), and the keys it names that this
    policy does not have or that are not whole numbers where one is needed (ignored)."""
    values: dict[str, Any] = {}
    unknown: list[str] = []
    for pkey, text in params.items():
        if not pkey.startswith(PARAM_PREFIX):
            continue
        key = pkey[len(PARAM_PREFIX):]
        if key not in flat:
            unknown.append(key)
            continue
        kind = whatif.kind_of(key, flat[key])
        parsed = whatif.from_text(kind, text)
        if kind in NUMBER_KINDS and not isinstance(parsed, int):
            unknown.append(key)
            continue
        values[key] = widget_value(kind, parsed) if kind in NUMBER_KINDS else text
    return values, unknown


def sync_fields(start: Policy, start_sig: str) -> None:
    """Reset the fields when the start changes; on a session's first run, read a shared link."""
    flat = start.to_flat()
    first_run = "wi_start_sig" not in st.session_state
    if st.session_state.get("wi_start_sig") != start_sig:
        for key in [k for k in st.session_state if str(k).startswith(WIDGET)]:
            del st.session_state[key]
        st.session_state["wi_start_sig"] = start_sig
        st.session_state.pop("wi_last_valid", None)
    for key, value in flat.items():
        wkey = WIDGET + key
        if wkey not in st.session_state:
            st.session_state[wkey] = widget_value(whatif.kind_of(key, value), value)
    if first_run:
        values, unknown = link_values(flat, st.query_params.to_dict())
        for key, value in values.items():
            st.session_state[WIDGET + key] = value
        if unknown:
            st.session_state["wi_link_unknown"] = unknown


def link_unknown() -> list[str]:
    """Keys the opened link named that the start policy does not have."""
    return st.session_state.get("wi_link_unknown") or []


def current_values(start: Policy) -> dict[str, Any]:
    """The fields' values as flat policy values (before any widget is drawn this run)."""
    out = {}
    for key, value in start.to_flat().items():
        kind = whatif.kind_of(key, value)
        raw = st.session_state[WIDGET + key]
        out[key] = raw if kind in NUMBER_KINDS else whatif.from_text(kind, str(raw))
    return out


@dataclass(frozen=True)
class Edit:
    """The policy in use and what the fields hold.

    `policy` and `edits` are the last valid ones when the fields hold an edit the loader
    refuses (`valid` False, its messages in `errors` by key); `typed` is what the fields
    hold now, valid or not.
    """

    policy: Policy
    edits: dict[str, Any]
    typed: dict[str, Any]
    errors: dict[str, str]
    valid: bool


def resolve_edit(start: Policy, start_sig: str) -> Edit:
    """Read the fields (and, on a first run, the link) into the policy in use."""
    sync_fields(start, start_sig)
    edits = whatif.changed_keys(start, current_values(start))
    typed = dict(edits)
    candidate, errors = whatif.apply_edits(start, edits)
    valid = candidate is not None
    if valid:
        st.session_state["wi_last_valid"] = edits
    else:
        kept = st.session_state.get("wi_last_valid", {})
        candidate, _ = whatif.apply_edits(start, kept)
        if candidate is None:  # pragma: no cover - the last valid edits always apply
            candidate, kept = start, {}
        edits = kept
    return Edit(candidate, edits, typed, errors, valid)


# -- the link --
def period_from_link(months: list[str]) -> tuple[str, str]:
    """The replayed months the link asks for (`from`, `to`), else a month carried from
    another page (`month`), else the last month; kept inside the loaded months."""
    carried = st.query_params.get("month", months[-1])
    first = st.query_params.get("from", carried)
    last = st.query_params.get("to", carried)
    first = first if first in months else months[-1]
    last = last if last in months and last >= first else first
    return first, last


def baseline_from_link() -> None:
    """On a session's first run, the link's `baseline` is the choice."""
    if "wi_base" not in st.session_state:
        wanted = st.query_params.get("baseline", BASE_START)
        st.session_state["wi_base"] = wanted if wanted in BASE_LABELS else BASE_START


def share_params(edits: dict[str, Any], start_choice: str, months: tuple[str, str],
                 baseline: str) -> dict[str, str]:
    """The query parameters that reproduce this view (an upload cannot travel in a link)."""
    params = {"start": start_choice if start_choice != START_UPLOAD else START_SEED,
              "from": months[0], "to": months[1], "baseline": baseline}
    params.update({PARAM_PREFIX + k: whatif.to_text(v) for k, v in edits.items()})
    return params


def share_link(params: dict[str, str]) -> str:
    """The query string a person pastes after the page's address."""
    return "?" + urlencode(params)


def write_params(params: dict[str, str]) -> None:
    """Keep the address bar equal to the view, so copying it shares the edit."""
    for key in list(st.query_params):
        if key.startswith(PARAM_PREFIX) and key not in params:
            del st.query_params[key]
    for key, value in params.items():
        ui.set_query_param(key, value)
