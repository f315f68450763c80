"""The store on AWS: one DynamoDB item per user, written with a version condition.

One plain botocore client per process, made on first use (no boto3 resource, no ASK adapter:
a cold start pays for neither). The item, as template.yaml's table keys it:
``{id, version, gen, attributes, expires_at}``; ``attributes`` is the record document, numbers
as ints (DynamoDB rejects floats). ``expires_at`` (epoch seconds, refreshed on each write) is the
table's TTL attribute, so the records of people who stopped using the skill expire by themselves.

Timeouts fit Alexa's 8-second deadline: at most two attempts of a short connect and read each
(one retry absorbs a brief throttle); anything longer becomes a spoken apology.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from skill.storage.record import (
    PROBE_SECONDS,
    Deadline,
    StoreConfigError,
    Stored,
    StoreError,
    StoreTimeout,
)

TTL_ATTRIBUTE = "expires_at"  # template.yaml: TimeToLiveSpecification.AttributeName
KEEP_FOR_SECONDS = 365 * 24 * 3600  # a record no one saved for a year is deleted by DynamoDB
PARTITION_KEY = "id"  # template.yaml: KeySchema
ATTRIBUTES = "attributes"  # the record document (the ASK adapter's name: old items read as-is)
HEALTH_KEY = "knee-routine:health"  # the item GET /health writes and reads back

# At most two attempts of at most 1.7 s each (connect 0.7 s + read 1 s): a read and a write
# stay within the turn's store time, and the turn within Alexa's 8 s.
CLIENT_CONFIG = {
    "connect_timeout": 0.7,
    "read_timeout": 1.0,
    "retries": {"mode": "standard", "total_max_attempts": 2},
}

_client: Any = None
_client_lock = threading.Lock()


def client() -> Any:
    """The process's DynamoDB client (botocore), made on first use."""
    global _client
    with _client_lock:
        if _client is None:
            from botocore.config import Config
            from botocore.exceptions import NoRegionError

            try:
                _client = _session().create_client("dynamodb", config=Config(**CLIENT_CONFIG))
            except NoRegionError:
                raise StoreConfigError("no AWS region: set AWS_REGION (Lambda sets it)") from None
        return _client


def _session() -> Any:
    """The process's botocore session (it reads the environment: region, credentials,
    endpoint), made once: the store's start-up check and the client share it."""
    global _botocore_session
    if _botocore_session is None:
        try:
            from botocore.session import get_session
        except ImportError as e:  # pragma: no cover - Lambda provides botocore
            raise StoreConfigError(
                "the DynamoDB store needs botocore: pip install 'knee-routine[dynamodb]'") from e
        _botocore_session = get_session()
    return _botocore_session


_botocore_session: Any = None


def reset_client() -> None:
    """Forget the process's client (tests that change the endpoint between runtimes)."""
    global _client, _botocore_session
    with _client_lock:
        _client = _botocore_session = None


class DynamoDbStore:
    """Records in the table ``table_name``."""

    def __init__(self, table_name: str, *, clock: Callable[[], float] = time.time) -> None:
        if not _session().get_config_variable("region"):  # say so at start-up
            raise StoreConfigError("no AWS region: set AWS_REGION (Lambda sets it)")
        self.table_name = table_name
        self.clock = clock

    def read(self, user_id: str, deadline: Deadline) -> Stored:
        item = self._call(deadline, "get_item", TableName=self.table_name, ConsistentRead=True,
                          Key={PARTITION_KEY: {"S": user_id}}).get("Item")
        if item is None:
            return Stored()
        data = from_attribute(item.get(ATTRIBUTES, {"M": {}}))
        version = from_attribute(item.get("version", {"N": "0"}))
        gen = from_attribute(item["gen"]) if "gen" in item else None
        return Stored(version if isinstance(version, int) else 0,
                      gen if isinstance(gen, str) else None,
                      data if isinstance(data, dict) else {})

    def write(self, user_id: str, expected: Stored, gen: str, data: Mapping[str, Any],
              deadline: Deadline) -> bool:
        item = {
            PARTITION_KEY: {"S": user_id},
            "version": {"N": str(expected.version + 1)},
            "gen": {"S": gen},
            ATTRIBUTES: to_attribute(dict(data)),
            TTL_ATTRIBUTE: {"N": str(int(self.clock()) + KEEP_FOR_SECONDS)},
        }
        if expected.version == 0 and expected.gen is None:  # nothing, or an unversioned item
            condition = "attribute_not_exists(#v) AND attribute_not_exists(gen)"
            values = None
        else:
            condition = "#v = :v AND gen = :g"
            values = {":v": {"N": str(expected.version)}, ":g": {"S": expected.gen or ""}}
        try:
            self._call(deadline, "put_item", TableName=self.table_name, Item=item,
                       ConditionExpression=condition, ExpressionAttributeNames={"#v": "version"},
                       **({"ExpressionAttributeValues": values} if values else {}))
        except _ConditionFailed:
            return False
        return True

    def delete(self, user_id: str, deadline: Deadline) -> None:
        self._call(deadline, "delete_item", TableName=self.table_name,
                   Key={PARTITION_KEY: {"S": user_id}})

    def probe(self, seconds: float = PROBE_SECONDS) -> None:
        client()  # made once per process (loading botocore's model): not the table's health
        deadline = Deadline(seconds)
        now = str(time.time_ns())
        self._call(deadline, "put_item", TableName=self.table_name,
                   Item={PARTITION_KEY: {"S": HEALTH_KEY}, "checked_at": {"N": now},
                         TTL_ATTRIBUTE: {"N": str(int(self.clock()) + 3600)}})
        item = self._call(deadline, "get_item", TableName=self.table_name, ConsistentRead=True,
                          Key={PARTITION_KEY: {"S": HEALTH_KEY}}).get("Item", {})
        if item.get("checked_at", {}).get("N") != now:
            raise StoreError("the health item did not read back")

    def _call(self, deadline: Deadline, operation: str, **params: Any) -> dict[str, Any]:
        deadline.remaining()  # StoreTimeout once the turn's store time is used up
        try:
            return getattr(client(), operation)(**params)
        except StoreConfigError:
            raise
        except Exception as e:  # botocore raises ClientError and several transport errors
            code = getattr(e, "response", {}).get("Error", {}).get("Code")
            if code == "ConditionalCheckFailedException":
                raise _ConditionFailed from None
            kind = StoreTimeout if "Timeout" in type(e).__name__ else StoreError
            raise kind(f"DynamoDB {operation} on {self.table_name}: "
                       f"{type(e).__name__}: {e}") from e


class _ConditionFailed(Exception):
    """Someone wrote the record since it was read."""


# -- DynamoDB's attribute values, for the JSON this store keeps ---------------------------------


def to_attribute(value: Any) -> dict[str, Any]:
    """A JSON value (ints, no floats) as a DynamoDB attribute value."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, float):
        raise TypeError("DynamoDB rejects floats: the record keeps ints")
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, Mapping):
        return {"M": {str(k): to_attribute(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [to_attribute(v) for v in value]}
    raise TypeError(f"cannot store a {type(value).__name__}")


def from_attribute(attribute: Mapping[str, Any]) -> Any:
    """A DynamoDB attribute value as JSON; numbers as int (or float where not whole)."""
    ((kind, value),) = attribute.items()
    if kind == "NULL":
        return None
    if kind == "N":
        number = float(value) if any(c in value for c in ".eE") else int(value)
        return int(number) if isinstance(number, float) and number.is_integer() else number
    if kind == "M":
        return {k: from_attribute(v) for k, v in value.items()}
    if kind == "L":
        return [from_attribute(v) for v in value]
    return value  # S, BOOL (and B, SS, NS, BS, which this store never writes)

