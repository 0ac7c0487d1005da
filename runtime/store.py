"""DynamoDB plumbing: the client, the four tables, typed items, and errors made plain.

The runtime talks to DynamoDB through the low-level client only, with botocore's
adaptive retries (backoff plus client-side rate limiting on throttling). Any failure of
the store itself (a missing table, refused credentials, an endpoint that does not
answer, retries exhausted) becomes one `StoreUnavailable` with a one-line reason; the
callers decide whether to fail open or closed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from runtime.settings import Settings

MONTH_INDEX = "MonthIndex"
# Tables keyed (user_phone, timestamp) with the MonthIndex GSI and a TTL on `ttl`.
EVENT_TABLES = ("costs", "revenue", "affiliate")
TTL_DAYS = {"costs": 90, "revenue": 365, "affiliate": 90}

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class StoreUnavailable(RuntimeError):
    """DynamoDB could not be used for this call; the message is one line, no secret in it."""


def make_client(settings: Settings) -> Any:
    """A DynamoDB client with adaptive retries and short timeouts (a Lambda has seconds)."""
    config = Config(retries={"mode": "adaptive", "max_attempts": settings.max_attempts},
                    connect_timeout=3, read_timeout=10, max_pool_connections=20)
    kwargs: dict[str, Any] = {"config": config}
    if settings.region:
        kwargs["region_name"] = settings.region
    if settings.endpoint_url:
        kwargs["endpoint_url"] = settings.endpoint_url
    return boto3.session.Session().client("dynamodb", **kwargs)


def typed(item: dict[str, Any]) -> dict[str, Any]:
    """A plain item (Decimal numbers, never float) as DynamoDB JSON; None values dropped."""
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def plain(item: dict[str, Any] | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def key(user: str, sort: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"user_phone": {"S": user}}
    if sort is not None:
        out["timestamp"] = {"S": sort}
    return out


CREDENTIAL_CODES = {"UnrecognizedClientException", "InvalidSignatureException",
                    "AccessDeniedException", "ExpiredTokenException",
                    "MissingAuthenticationTokenException", "InvalidClientTokenId"}


def describe_error(exc: BaseException, client: Any = None, table: str | None = None) -> str:
    """One line saying what went wrong and where, for the log and the caller."""
    where = ""
    if client is not None:
        where = f" in {client.meta.region_name}"
        if client.meta.endpoint_url and "amazonaws.com" not in client.meta.endpoint_url:
            where += f" at {client.meta.endpoint_url}"
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code, message = err.get("Code", "error"), err.get("Message", "")
        if code == "ResourceNotFoundException":
            return f"DynamoDB table {table or '(unknown)'} not found{where}: {message}".rstrip(": ")
        if code in CREDENTIAL_CODES:
            return f"DynamoDB refused the credentials{where} ({code}): {message}".rstrip(": ")
        return f"DynamoDB {code}{where}: {message}".rstrip(": ")
    return f"DynamoDB unreachable{where}: {type(exc).__name__}: {exc}"


def call(client: Any, operation: str, table: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """One client call; any store failure comes back as StoreUnavailable (one line)."""
    try:
        return getattr(client, operation)(**kwargs)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in ("TransactionCanceledException", "ConditionalCheckFailedException",
                    "IdempotentParameterMismatchException"):
            raise  # the caller's business: a lost race or a duplicate
        raise StoreUnavailable(describe_error(exc, client, table)) from None
    except BotoCoreError as exc:
        raise StoreUnavailable(describe_error(exc, client, table)) from None


def table_definition(logical: str, name: str) -> dict[str, Any]:
    """create_table arguments: the guide's keys and MonthIndex, on-demand billing."""
    if logical == "tokens":
        return {"TableName": name, "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": [{"AttributeName": "user_phone", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "user_phone", "AttributeType": "S"}]}
    return {
        "TableName": name, "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "user_phone", "KeyType": "HASH"},
                      {"AttributeName": "timestamp", "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": "user_phone", "AttributeType": "S"},
                                 {"AttributeName": "timestamp", "AttributeType": "S"},
                                 {"AttributeName": "month", "AttributeType": "S"}],
        "GlobalSecondaryIndexes": [{
            "IndexName": MONTH_INDEX,
            "KeySchema": [{"AttributeName": "month", "KeyType": "HASH"},
                          {"AttributeName": "user_phone", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}],
    }


def create_tables(client: Any, tables: dict[str, str]) -> list[str]:
    """Create the four tables where missing (keys, MonthIndex, TTL); returns those created."""
    created = []
    for logical, name in tables.items():
        try:
            client.describe_table(TableName=name)
            continue
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise StoreUnavailable(describe_error(exc, client, name)) from None
        call(client, "create_table", name, **table_definition(logical, name))
        client.get_waiter("table_exists").wait(TableName=name,
                                               WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        if logical in EVENT_TABLES:
            call(client, "update_time_to_live", name, TableName=name,
                 TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"})
        created.append(name)
    return created


def dec(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))
