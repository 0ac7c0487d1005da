"""`python -m runtime simulate`: feed an events file through the code the Lambda runs.

Each line of EVENTS.jsonl is one event, in file order; the clock is the event's `ts`.
One JSON line is printed per request (the keys of `python -m enforcement decide` plus
`request_id`). A bad line is reported on stderr with its line number and the others go
on (exit code 1 at the end); a store that cannot be used stops the run (exit code 1).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from enforcement.policy import PolicyError
from runtime import policy_source, store
from runtime.inputs import InputError
from runtime.service import ProfitRuntime
from runtime.settings import Settings
from runtime.store import StoreUnavailable

FIELDS = {
    "request": ("request_id", "user", "ts", "action", "est_cost"),
    "complete": ("request_id", "ts", "actual_cost"),
    "payment": ("payment_id", "user", "ts", "stream", "amount"),
    "click": ("click_id", "user", "ts"),
}
MONEY = {"request": "est_cost", "complete": "actual_cost", "payment": "amount"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", required=True, help="the What-if panel's TOML file")
    parser.add_argument("--events", required=True, help="EVENTS.jsonl, one event a line")
    parser.add_argument("--endpoint-url", help="e.g. a moto server or DynamoDB Local")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION, else us-east-1 "
                                         "with --endpoint-url)")
    parser.add_argument("--env", help="table name suffix (default: PROFIT_ENV, else dev)")
    parser.add_argument("--table-prefix", help="table name prefix (default ai-nutritionist)")
    parser.add_argument("--create-tables", action="store_true",
                        help="create the four tables (keys, MonthIndex, TTL) where missing")


def _event(line: str) -> dict[str, Any]:
    """One line as an event, or InputError with what is wrong with it."""
    try:
        event = json.loads(line)
    except ValueError as exc:
        raise InputError(f"not JSON: {exc}") from None
    if not isinstance(event, dict):
        raise InputError("not a JSON object")
    kind = event.get("type")
    if kind not in FIELDS:
        raise InputError(f"unknown type: {kind!r} (one of {', '.join(FIELDS)})")
    missing = [f for f in FIELDS[kind] if event.get(f) in (None, "")]
    if missing:
        raise InputError(f"{kind}: missing {', '.join(missing)}")
    money = MONEY.get(kind)
    if money and not isinstance(event[money], str):
        kind_of = "a float" if isinstance(event[money], float) else type(event[money]).__name__
        raise InputError(f"{kind}: {money} is {kind_of} ({event[money]!r}); money is a "
                         "decimal string such as \"0.30\"")
    return event


class Simulation:
    """The runtime and what a file's earlier lines told it (which user a request is)."""

    def __init__(self, runtime: ProfitRuntime) -> None:
        self.runtime = runtime
        self.users: dict[str, str] = {}

    def apply(self, event: dict[str, Any]) -> dict[str, Any] | None:
        kind, rt = event["type"], self.runtime
        if kind == "request":
            out = rt.decide_request(event["user"], event["request_id"], event["action"],
                                    event["est_cost"], event["ts"])
            self.users[event["request_id"]] = event["user"]
            return out.as_json()
        if kind == "complete":
            user = event.get("user") or self.users.get(event["request_id"])
            if user is None:
                raise InputError(f"complete: request {event['request_id']!r} is not in this "
                                 "file (add \"user\" to the line)")
            rt.complete_request(user, event["request_id"], event["actual_cost"], event["ts"])
        elif kind == "payment":
            rt.record_payment(event["user"], event["payment_id"], event["amount"],
                              event["stream"], event.get("tokens"), event["ts"],
                              partner=event.get("partner"))
        else:
            rt.record_affiliate_event(event["user"], event["click_id"], event.get("partner"),
                                      "click", event["ts"])
        return None

    def run(self, lines: Iterable[str], out: TextIO, err: TextIO) -> int:
        """Every line in order; returns how many were bad."""
        bad = 0
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = self.apply(_event(line))
            except InputError as exc:
                bad += 1
                print(f"line {number}: {exc}", file=err)
                continue
            if row is not None:
                print(json.dumps(row), file=out, flush=False)
        out.flush()
        return bad


def build_runtime(args: argparse.Namespace) -> ProfitRuntime:
    loaded = policy_source.load(args.policy)
    region = args.region or ("us-east-1" if args.endpoint_url else None)
    settings = Settings.from_env(env=args.env, prefix=args.table_prefix, region=region,
                                 endpoint_url=args.endpoint_url, policy_location=args.policy)
    return ProfitRuntime(settings, policy=loaded)


def main(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    if not Path(args.events).is_file():
        print(f"simulate: error: --events: no such file: {args.events}", file=err)
        return 2
    try:
        runtime = build_runtime(args)
    except (OSError, PolicyError) as exc:
        print(f"simulate: error: --policy: {exc}", file=err)
        return 2
    try:
        if args.create_tables:
            store.create_tables(runtime.client, runtime.tables)
        with open(args.events, encoding="utf-8") as fh:
            bad = Simulation(runtime).run(_lines(fh), out, err)
    except StoreUnavailable as exc:
        print(f"simulate: error: {exc}", file=err)
        return 1
    return 1 if bad else 0


def _lines(fh: TextIO) -> Iterator[str]:
    yield from fh
