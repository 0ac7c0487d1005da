"""S3 for the file loader: `s3://bucket/key` objects, and `s3://bucket/prefix` folders.

A prefix holds either contract files (a table's name, such as `cost_events` or
`costs`, as the file's stem or a folder on its path) or DynamoDB exports to S3
(`AWSDynamoDB/<id>/manifest-summary.json`, `manifest-files.json` and the gzipped
DynamoDB-JSON `data/*.json.gz` it lists), whose table is named in the summary's
`tableArn`. The endpoint comes from `AWS_ENDPOINT_URL` (or `[aws] endpoint_url`
in the secrets), so the same code reads AWS, MinIO or moto.
"""

from __future__ import annotations

import io
import json
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError

from loaders import _aws

TABLE_ALIASES = {
    "cost_events": "cost_events", "costs": "cost_events",
    "revenue_events": "revenue_events", "revenue": "revenue_events",
    "token_balances": "token_balances", "tokens": "token_balances",
    "affiliate_events": "affiliate_events", "affiliate": "affiliate_events",
}
# The chatbot's table names (with or without -env) to contract tables.
EXPORT_TABLES = {"user-costs": "cost_events", "user-revenue": "revenue_events",
                 "user-tokens": "token_balances"}
FILE_EXTENSIONS = (".csv", ".parquet", ".jsonl", ".ndjson", ".json")

_client: Any = None


def client() -> Any:
    """One S3 client per process (clients are thread-safe; building one is slow)."""
    global _client
    if _client is None:
        try:
            _client = _aws.client("s3")
        except ValueError:  # no region configured: S3 works from any, take the default
            _client = _aws.client("s3", region="us-east-1")
    return _client


def reset_client() -> None:
    """Forget the client (tests point the endpoint elsewhere)."""
    global _client
    _client = None


def split(url: str) -> tuple[str, str]:
    """(bucket, key) of an `s3://bucket/key` URL."""
    if not url.startswith("s3://"):
        raise ValueError(f"{url}: not an s3:// URL")
    bucket, _, key = url[5:].partition("/")
    if not bucket:
        raise ValueError(f"{url}: no bucket named")
    return bucket, key


def _error(url: str, exc: Exception) -> OSError:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "404", "NotFound"):
            return FileNotFoundError(f"{url}: no such object (nothing was loaded)")
        if code == "NoSuchBucket":
            return FileNotFoundError(f"{url}: no such bucket (nothing was loaded)")
        message = exc.response.get("Error", {}).get("Message", "")
        return OSError(_aws.scrub(f"{url}: {code}: {message}"))
    return OSError(_aws.scrub(f"{url}: {type(exc).__name__}: {exc}"))


class _Body(io.RawIOBase):
    """An S3 object's streaming body as a raw file, so it can be buffered and gunzipped."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._body.close()
        super().close()


def open_remote(url: str) -> IO[bytes]:
    """Open `s3://bucket/key` for streaming reads of its bytes."""
    bucket, key = split(url)
    try:
        body = client().get_object(Bucket=bucket, Key=key)["Body"]
    except (ClientError, BotoCoreError) as exc:
        raise _error(url, exc) from None
    return io.BufferedReader(_Body(body), buffer_size=1 << 20)


def list_keys(bucket: str, prefix: str) -> list[str]:
    try:
        pages = client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return [obj["Key"] for page in pages for obj in page.get("Contents", [])]
    except (ClientError, BotoCoreError) as exc:
        raise _error(f"s3://{bucket}/{prefix}", exc) from None


def _read_text(bucket: str, key: str) -> str:
    with open_remote(f"s3://{bucket}/{key}") as fh:
        return fh.read().decode("utf-8")


def is_prefix(name: str) -> bool:
    """An s3:// name that is a folder rather than one file."""
    lower = name.lower().removesuffix(".gz")
    return name.startswith("s3://") and (name.endswith("/") or not lower.endswith(
        FILE_EXTENSIONS))


def export_table(table_arn: str) -> str:
    """The contract table of an exported chatbot table, from its ARN."""
    name = table_arn.rsplit("/", 1)[-1]
    for part, table in EXPORT_TABLES.items():
        if part in name:
            return table
    raise ValueError(f"{table_arn}: not one of the chatbot's tables "
                     f"({', '.join(EXPORT_TABLES)})")


def _export_files(bucket: str, summary_key: str, keys: set[str]) -> tuple[str, list[str]]:
    summary = json.loads(_read_text(bucket, summary_key))
    fmt = summary.get("exportFormat", "DYNAMODB_JSON")
    if fmt != "DYNAMODB_JSON":
        raise ValueError(f"s3://{bucket}/{summary_key}: export format {fmt} is not supported "
                         "(export as DYNAMODB_JSON)")
    if summary.get("exportType", "FULL_EXPORT") != "FULL_EXPORT":
        raise ValueError(f"s3://{bucket}/{summary_key}: only full exports are supported")
    table = export_table(summary.get("tableArn", ""))
    folder = summary_key.rsplit("/", 1)[0]
    files_key = summary.get("manifestFilesS3Key") or f"{folder}/manifest-files.json"
    data = []
    for line in _read_text(bucket, files_key).splitlines():
        if line.strip():
            key = json.loads(line)["dataFileS3Key"]
            if key not in keys:
                raise FileNotFoundError(f"s3://{bucket}/{key}: listed in {files_key} but "
                                        "missing (nothing was loaded)")
            data.append(f"s3://{bucket}/{key}")
    return table, data


def _contract_table(relative: str) -> str | None:
    parts = relative.lower().split("/")
    stem = parts[-1].split(".", 1)[0]
    for part in (stem, *reversed(parts[:-1])):
        if part in TABLE_ALIASES:
            return TABLE_ALIASES[part]
    return None


def expand_prefix(url: str, table: str | None = None) -> dict[str, list[str]]:
    """The files under `s3://bucket/prefix`, by contract table.

    With `table`, every file under the prefix is that table's, whatever its name.
    """
    bucket, prefix = split(url)
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    keys = list_keys(bucket, prefix)
    found: dict[str, list[str]] = {}
    summaries = sorted(k for k in keys if k.endswith("manifest-summary.json"))
    if summaries:
        key_set = set(keys)
        for summary in summaries:
            table, data = _export_files(bucket, summary, key_set)
            found.setdefault(table, []).extend(data)
        return found
    for key in sorted(keys):
        if key.endswith("/") or not key.lower().removesuffix(".gz").endswith(FILE_EXTENSIONS):
            continue
        of = table or _contract_table(key[len(prefix):])
        if of:
            found.setdefault(of, []).append(f"s3://{bucket}/{key}")
    if not found:
        raise FileNotFoundError(f"{url}: no contract files (named for a table, such as "
                                "cost_events.parquet) and no DynamoDB export "
                                "(manifest-summary.json) under it")
    return found


def expand(files: dict[str, list[str]], prefixes: list[str] | tuple[str, ...] = ()
           ) -> dict[str, list[str]]:
    """Files by table with every s3:// prefix replaced by the files under it.

    A prefix given for one table (`--costs s3://b/export/`) feeds that table; a bare
    prefix (`--s3-prefix`) feeds the tables its files are named for.
    """
    out: dict[str, list[str]] = {}
    for table, names in files.items():
        for name in names:
            if is_prefix(name):
                for group in expand_prefix(name, table).values():
                    out.setdefault(table, []).extend(group)
            else:
                out.setdefault(table, []).append(name)
    for prefix in prefixes:
        for table, group in expand_prefix(prefix).items():
            out.setdefault(table, []).extend(group)
    return out
