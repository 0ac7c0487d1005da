"""The policy in force: the What-if panel's TOML file, read from a path or an `s3://` URL.

Its id, recorded with every decision, is `enforcement.policy.policy_id`: the name and
the first 12 hex of the sha256 of its canonical content. The name says which policy,
the hash which version of it, so the dashboard can tell two edits of one policy apart
and find the file that was in force.
"""

from __future__ import annotations

import logging
import threading
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from enforcement.policy import Policy, PolicyError
from enforcement.policy import policy_id as policy_id_of
from runtime.store import StoreUnavailable

log = logging.getLogger("runtime")

class PolicyUnavailable(StoreUnavailable):
    """No policy could be read yet (S3 unreachable, a file that does not validate): the
    runtime cannot decide, so callers answer as for a store that is down (the fail mode)."""


@dataclass(frozen=True)
class LoadedPolicy:
    policy: Policy
    policy_id: str
    location: str


def parse_policy(content: bytes, location: str) -> LoadedPolicy:
    """Validate a policy file's bytes (enforcement.policy's own rules) and name it."""
    try:
        doc = tomllib.loads(content.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError([("(file)", f"not valid TOML: {exc}")], location) from None
    policy = Policy.from_dict(doc, source=location)
    return LoadedPolicy(policy, policy_id_of(policy), location)


def read_bytes(location: str, s3_client: Any = None) -> bytes:
    """The file's bytes from a local path or `s3://bucket/key`."""
    if location.startswith("s3://"):
        bucket, _, key = location[len("s3://"):].partition("/")
        if not bucket or not key:
            raise ValueError(f"not an s3://bucket/key URL: {location}")
        if s3_client is None:
            import boto3

            s3_client = boto3.client("s3")
        return s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    return Path(location).read_bytes()


def load(location: str, s3_client: Any = None) -> LoadedPolicy:
    return parse_policy(read_bytes(location, s3_client), location)


class PolicySource:
    """The policy a warm Lambda keeps, read again every `refresh_s` seconds.

    When a re-read fails (S3 unreachable, a bad edit), the policy already in force stays,
    so a broken upload never stops the chatbot; the first read must succeed.
    """

    def __init__(self, location: str, refresh_s: float = 300.0, s3_client: Any = None,
                 loaded: LoadedPolicy | None = None) -> None:
        self.location, self.refresh_s, self._s3 = location, refresh_s, s3_client
        self._loaded = loaded
        self._at = time.monotonic() if loaded else 0.0
        self._lock = threading.Lock()

    @classmethod
    def fixed(cls, loaded: LoadedPolicy) -> PolicySource:
        return cls(loaded.location, float("inf"), loaded=loaded)

    def get(self) -> LoadedPolicy:
        with self._lock:
            if self._loaded is None or time.monotonic() - self._at > self.refresh_s:
                try:
                    self._loaded = load(self.location, self._s3)
                except Exception as exc:
                    reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                    if self._loaded is None:
                        raise PolicyUnavailable(f"policy {self.location} unreadable ({reason})"
                                                ) from None
                    log.error("policy %s not re-read (%s); %s stays in force",
                              self.location, reason, self._loaded.policy_id)
                self._at = time.monotonic()
            return self._loaded
