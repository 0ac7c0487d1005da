"""A policy: every number the rules use, loaded from TOML, validated, saved, diffed.

Money is held as integer micro-dollars so that rules compare exactly; it leaves as a
Decimal (`to_flat`) or a decimal string (the TOML file). The flat form (dotted keys) is
what the what-if panel edits: `policy.with_changes({"thresholds.cutoff": "2.50"})`
re-validates the whole policy, so a UI can never hold a policy the loader would refuse.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from enforcement.levels import LEVELS, Level
from enforcement.money import fmt_usd, to_micro, usd

MAX_FACTOR_BP = 10_000
# Bounds that keep every number inside int64 through the replay (numba folds in int64):
# money per key at most $1,000,000,000 (10**15 micro-dollars), counts at most 10**9,
# bonus at most 1,000 %, the unlock window at most 1,000,000 hours (114 years).
MAX_MONEY_MICRO = 10 ** 15
MAX_COUNT = 10 ** 9
MAX_BONUS_PCT = 1_000
MAX_UNLOCK_HOURS = 1_000_000
MAX_TEXT = 200          # characters of a name, a timezone or an action name
MAX_ACTIONS = 1_000     # entries of system.actions and of tokens.cost
MAX_DEPTH = 3           # tokens.cost.<action> is the deepest key a policy has

# The fixed keys, in file order, with their kind. tokens.cost.<action> keys are open.
_MONEY = "money"
_COUNT = "count"
_FACTOR = "factor"
_KEYS: dict[str, str] = {
    "name": "name",
    "timezone": "timezone",
    "profit.target": _MONEY,
    "thresholds.free_tier": _MONEY,
    "thresholds.warning": _MONEY,
    "thresholds.restriction": _MONEY,
    "thresholds.cutoff": _MONEY,
    "thresholds.restore_payment": _MONEY,
    "levels.normal": _MONEY,
    "levels.reduced_quality": _MONEY,
    "levels.basic_only": _MONEY,
    **{f"cost_factor_bp.{level.value}": _FACTOR for level in LEVELS},
    "tokens.price": _MONEY,
    "tokens.free_monthly": _COUNT,
    "tokens.bonus_pct": _COUNT,
    "tokens.bonus_min": _MONEY,
    "tokens.cost.default": _COUNT,
    "affiliate.unlock_hours": _COUNT,
    "system.actions": "actions",
}
_TABLES = {"profit", "thresholds", "levels", "cost_factor_bp", "tokens", "tokens.cost",
           "affiliate", "system"}
_TOKEN_COST = "tokens.cost."


class PolicyError(ValueError):
    """A policy the rules cannot use. `errors` lists (dotted key, message), every one found."""

    def __init__(self, errors: list[tuple[str, str]], source: str = "policy") -> None:
        self.errors = errors
        self.source = source
        super().__init__(f"{source}: " + "; ".join(f"{key}: {msg}" for key, msg in errors))


@dataclass(frozen=True)
class Policy:
    """One validated policy. Money fields are integer micro-dollars; hashable for caches."""

    name: str
    timezone: str
    target: int
    free_tier: int
    warning: int
    restriction: int
    cutoff: int
    restore_payment: int
    band_normal: int
    band_reduced_quality: int
    band_basic_only: int
    factor_bp: tuple[int, int, int, int, int]  # indexed by Level.rank
    token_price: int
    free_monthly: int
    bonus_pct: int
    bonus_min: int
    token_cost: tuple[tuple[str, int], ...]  # sorted (action, tokens), `default` excluded
    token_cost_default: int
    unlock_hours: int
    system_actions: tuple[str, ...]

    # -- rules' lookups ---------------------------------------------------------------
    def factor(self, level: Level) -> int:
        """The level's cost factor in basis points."""
        return self.factor_bp[level.rank]

    def tokens_for(self, action: str) -> int:
        """Tokens an action costs; any action not listed costs `tokens.cost.default`."""
        return self._token_map.get(action, self.token_cost_default)

    @cached_property
    def _token_map(self) -> dict[str, int]:
        # Not a field: equality, hashing and the saved file ignore it.
        return dict(self.token_cost)

    # -- the flat (dotted-key) form -----------------------------------------------------
    def to_flat(self) -> dict[str, Any]:
        """Dotted key -> value (money as Decimal, counts as int), in file order."""
        flat: dict[str, Any] = {
            "name": self.name,
            "timezone": self.timezone,
            "profit.target": usd(self.target),
            "thresholds.free_tier": usd(self.free_tier),
            "thresholds.warning": usd(self.warning),
            "thresholds.restriction": usd(self.restriction),
            "thresholds.cutoff": usd(self.cutoff),
            "thresholds.restore_payment": usd(self.restore_payment),
            "levels.normal": usd(self.band_normal),
            "levels.reduced_quality": usd(self.band_reduced_quality),
            "levels.basic_only": usd(self.band_basic_only),
        }
        for level in LEVELS:
            flat[f"cost_factor_bp.{level.value}"] = self.factor(level)
        flat.update({
            "tokens.price": usd(self.token_price),
            "tokens.free_monthly": self.free_monthly,
            "tokens.bonus_pct": self.bonus_pct,
            "tokens.bonus_min": usd(self.bonus_min),
        })
        for action, tokens in self.token_cost:
            flat[_TOKEN_COST + action] = tokens
        flat["tokens.cost.default"] = self.token_cost_default
        flat["affiliate.unlock_hours"] = self.unlock_hours
        flat["system.actions"] = list(self.system_actions)
        return flat

    @classmethod
    def from_flat(cls, flat: dict[str, Any], source: str = "policy") -> Policy:
        """Build and validate a policy from dotted keys (the UI's and diff's form)."""
        return _build(dict(flat), source)

    def with_changes(self, changes: dict[str, Any]) -> Policy:
        """A copy with dotted keys changed (None drops a tokens.cost.<action>), re-validated."""
        flat = self.to_flat()
        for key, value in changes.items():
            if value is None and key.startswith(_TOKEN_COST) and key != "tokens.cost.default":
                flat.pop(key, None)
            else:
                flat[key] = value
        return Policy.from_flat(flat, source=self.name)

    # -- the TOML form --------------------------------------------------------------------
    def to_toml_dict(self) -> dict[str, Any]:
        """The nested TOML document (money as decimal strings, as the spec writes it)."""
        doc: dict[str, Any] = {}
        for key, value in self.to_flat().items():
            parts = key.split(".")
            node = doc
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = fmt_usd(to_micro(value)) if isinstance(value, Decimal) else value
        return doc

    @classmethod
    def from_dict(cls, doc: dict[str, Any], source: str = "policy") -> Policy:
        """Validate a parsed TOML document."""
        flat: dict[str, Any] = {}
        _flatten(doc, "", flat)
        return _build(flat, source)


def _flatten(node: dict[str, Any], prefix: str, out: dict[str, Any], depth: int = 1) -> None:
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            if depth >= MAX_DEPTH:
                out[dotted] = _TooDeep()  # reported with its key below; not walked further
            elif dotted not in _TABLES and not dotted.startswith(_TOKEN_COST):
                out[dotted] = value  # reported as an unknown key below
            else:
                _flatten(value, dotted + ".", out, depth + 1)
        else:
            out[dotted] = value


class _TooDeep:
    """A table nested deeper than any policy key goes."""


def _build(flat: dict[str, Any], source: str) -> Policy:
    errors: list[tuple[str, str]] = []
    values: dict[str, Any] = {}
    token_cost: dict[str, int] = {}

    if len(flat) > len(_KEYS) + MAX_ACTIONS:
        raise PolicyError([("(file)", f"{len(flat):,} keys; a policy has at most "
                            f"{len(_KEYS) + MAX_ACTIONS:,}")], source)
    for key, value in flat.items():
        key = str(key)
        if len(key) > MAX_TEXT:
            errors.append((key[:MAX_TEXT] + "…", "key name too long"))
            continue
        if isinstance(value, _TooDeep):
            errors.append((key, f"nested too deeply (a policy key has at most {MAX_DEPTH} "
                                "parts, as tokens.cost.<action>)"))
            continue
        if key in _TABLES:
            errors.append((key, "must be a table"))
            continue
        kind = _KEYS.get(key)
        if kind is None and key.startswith(_TOKEN_COST):
            action = key[len(_TOKEN_COST):]
            if "." in action or not action:
                errors.append((key, "an action name may not contain '.'"))
                continue
            kind = _COUNT
        if kind is None:
            errors.append((key, "unknown key"))
            continue
        try:
            parsed = _parse(kind, value)
            _bound(key, kind, parsed)
        except (ValueError, ArithmeticError, RecursionError) as exc:
            errors.append((key, str(exc)))
            continue
        if key.startswith(_TOKEN_COST) and key != "tokens.cost.default":
            token_cost[key[len(_TOKEN_COST):]] = parsed
        else:
            values[key] = parsed

    for key in _KEYS:
        if key not in values and key not in flat:
            errors.append((key, "missing key"))

    def ordered(keys: list[str], relation: str) -> None:
        # Only judge the order when every key in it parsed.
        if not all(k in values for k in keys):
            return
        for low, high in zip(keys, keys[1:], strict=False):
            a, b = values[low], values[high]
            bad = a > b if relation == "<=" else a < b
            if bad:
                errors.append((high, f"must be {'>=' if relation == '<=' else '<='} {low} "
                                     f"({fmt_usd(a)}), got {fmt_usd(b)}"))

    ordered(["thresholds.free_tier", "thresholds.warning", "thresholds.restriction",
             "thresholds.cutoff"], "<=")
    ordered(["levels.normal", "levels.reduced_quality", "levels.basic_only"], ">=")
    if values.get("tokens.price") == 0:
        errors.append(("tokens.price", "must be more than 0 (tokens are bought at this price)"))

    if errors:
        raise PolicyError(errors, source)
    return Policy(
        name=values["name"],
        timezone=values["timezone"],
        target=values["profit.target"],
        free_tier=values["thresholds.free_tier"],
        warning=values["thresholds.warning"],
        restriction=values["thresholds.restriction"],
        cutoff=values["thresholds.cutoff"],
        restore_payment=values["thresholds.restore_payment"],
        band_normal=values["levels.normal"],
        band_reduced_quality=values["levels.reduced_quality"],
        band_basic_only=values["levels.basic_only"],
        factor_bp=tuple(values[f"cost_factor_bp.{lv.value}"] for lv in LEVELS),  # type: ignore[arg-type]
        token_price=values["tokens.price"],
        free_monthly=values["tokens.free_monthly"],
        bonus_pct=values["tokens.bonus_pct"],
        bonus_min=values["tokens.bonus_min"],
        token_cost=tuple(sorted(token_cost.items())),
        token_cost_default=values["tokens.cost.default"],
        unlock_hours=values["affiliate.unlock_hours"],
        system_actions=values["system.actions"],
    )


def _parse(kind: str, value: Any) -> Any:
    if kind == _MONEY:
        micro = to_micro(value)
        if micro < 0:
            raise ValueError(f"must not be negative, got {fmt_usd(micro)}")
        return micro
    if kind in (_COUNT, _FACTOR):
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, Decimal | str) and _is_integral(value):
                value = int(Decimal(str(value)))
            else:
                raise ValueError(f"must be a whole number, got {_short(repr(value))}")
        if value < 0:
            raise ValueError(f"must not be negative, got {value}")
        if kind == _FACTOR and value > MAX_FACTOR_BP:
            raise ValueError(f"must be between 0 and {MAX_FACTOR_BP} basis points, got {value}")
        return value
    if kind == "name":
        if not isinstance(value, str) or not value.strip():
            raise ValueError("must be a non-empty string")
        return value
    if kind == "timezone":
        if not isinstance(value, str):
            raise ValueError(f"must be an IANA timezone name, got {value!r}")
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r} (use an IANA name such as "
                             "Europe/Paris)") from None
        return value
    if kind == "actions":
        if not isinstance(value, list | tuple) or not all(isinstance(a, str) for a in value):
            raise ValueError("must be a list of action names")
        return tuple(value)
    raise AssertionError(kind)  # pragma: no cover - every kind is handled above


def _bound(key: str, kind: str, value: Any) -> None:
    """Refuse a parsed value too large for the rules' int64 arithmetic or absurd as text."""
    if kind == _MONEY and value > MAX_MONEY_MICRO:
        raise ValueError(f"must be at most {fmt_usd(MAX_MONEY_MICRO)} USD, "
                         f"got {_short(fmt_usd(value))}")
    if kind == _COUNT:
        limit = {"tokens.bonus_pct": MAX_BONUS_PCT,
                 "affiliate.unlock_hours": MAX_UNLOCK_HOURS}.get(key, MAX_COUNT)
        if value > limit:
            raise ValueError(f"must be at most {limit:,}, got {_short(value)}")
    if kind in ("name", "timezone") and len(value) > MAX_TEXT:
        raise ValueError(f"must be at most {MAX_TEXT} characters")
    if kind == "actions" and (len(value) > MAX_ACTIONS
                              or any(len(a) > MAX_TEXT for a in value)):
        raise ValueError(f"at most {MAX_ACTIONS} names of at most {MAX_TEXT} characters")


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:20] + "…" + text[-10:]


def _is_integral(value: Decimal | str) -> bool:
    """A UI may hand a count as "5" or Decimal(5); 5.5 or "x" stays refused."""
    try:
        d = Decimal(str(value).strip())
        return d.is_finite() and d.adjusted() < 19 and d == d.to_integral_value()
    except ArithmeticError:
        return False


def parse_toml(text: str, source: str = "policy") -> dict[str, Any]:
    """A policy file's TOML as a dict, or a PolicyError: never a RecursionError (arrays
    nested thousands deep) or ValueError (an integer of 5,000 digits) from the parser."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError([("(file)", f"not valid TOML: {exc}")], source) from None
    except RecursionError:
        raise PolicyError([("(file)", "nested too deeply to be a policy")], source) from None
    except ValueError as exc:  # e.g. Python's limit on the digits of an integer
        raise PolicyError([("(file)", f"not a policy: {_short(exc)}")], source) from None


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file; errors name the file and each wrong key."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyError([("(file)", "not UTF-8 text")], str(path)) from None
    return Policy.from_dict(parse_toml(text, str(path)), source=str(path))


def save_policy(policy: Policy, path: str | Path) -> None:
    """Write a policy file that `load_policy` reads back equal."""
    import tomli_w  # only writers need it; the chatbot runtime only reads policies

    Path(path).write_text(tomli_w.dumps(policy.to_toml_dict()), encoding="utf-8")


def policy_id(policy: Policy) -> str:
    """`<name>@<12 hex>`: the name and a short sha256 of the policy's canonical content.

    Canonical (every key and value as validated, sorted), not the file's bytes, so two
    files that differ only in comments or layout share an id, and the dashboard can
    compute the id of any policy it holds to say which one was in force.
    """
    canonical = json.dumps(policy.to_toml_dict(), sort_keys=True, separators=(",", ":"))
    return f"{policy.name}@{hashlib.sha256(canonical.encode()).hexdigest()[:12]}"


def diff(a: Policy, b: Policy) -> list[tuple[str, Any, Any]]:
    """The keys whose values differ, as (dotted key, old, new); None where a key is absent."""
    fa, fb = a.to_flat(), b.to_flat()
    keys = list(fa) + [k for k in fb if k not in fa]
    return [(k, fa.get(k), fb.get(k)) for k in keys if fa.get(k) != fb.get(k)]
