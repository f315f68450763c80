"""The store on AWS: the ASK DynamoDB persistence adapter, fitted to this skill.

Imported only when a table is configured (``skill.hosting.settings``): boto3 and the
adapter cost about
200 ms to import, and the web service and the SQLite store never need them.

What this adds to ``ask_sdk_dynamodb.adapter.DynamoDbAdapter``:
- numbers come back as ``int`` (DynamoDB returns ``Decimal``, which the codec rightly rejects),
  and floats are stored as ``Decimal`` (DynamoDB rejects Python floats);
- every save writes ``expires_at`` (epoch seconds, refreshed on each save), the table's TTL
  attribute, so the records of people who stopped using the skill expire by themselves;
- retries and timeouts that fit Alexa's 8-second deadline: one retry absorbs a brief throttle,
  anything longer becomes a spoken apology instead of a silent time-out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.exceptions import PersistenceException

TTL_ATTRIBUTE = "expires_at"  # template.yaml: TimeToLiveSpecification.AttributeName
KEEP_FOR_SECONDS = 365 * 24 * 3600  # a record no one saved for a year is deleted by DynamoDB
PARTITION_KEY = "id"  # template.yaml: KeySchema (the adapter's default)
ATTRIBUTES = "attributes"  # the adapter's default

# At most two attempts of at most 2 s each (connect 1 s + read 1 s), within Alexa's 8 s.
CLIENT_CONFIG = {
    "connect_timeout": 1,
    "read_timeout": 1,
    "retries": {"mode": "standard", "total_max_attempts": 2},
}


class StoreConfigError(RuntimeError):
    """The DynamoDB store cannot be set up from this environment (e.g. no AWS region)."""


class DynamoDbStore(AbstractPersistenceAdapter):
    """One item per Alexa user: ``{id, attributes, expires_at}`` in ``table_name``."""

    def __init__(self, table_name: str, *, clock: Callable[[], float] = time.time) -> None:
        try:
            import boto3
            from botocore.config import Config
            from botocore.exceptions import NoRegionError
        except ImportError as e:  # pragma: no cover - Lambda provides boto3
            raise StoreConfigError(
                "the DynamoDB store needs boto3: pip install 'knee-routine[dynamodb]'") from e
        try:
            # The adapter builds boto3.resource("dynamodb") as a default argument, at import.
            from ask_sdk_dynamodb.adapter import DynamoDbAdapter

            resource = boto3.resource("dynamodb", config=Config(**CLIENT_CONFIG))
        except NoRegionError:
            raise StoreConfigError("no AWS region: set AWS_REGION (Lambda sets it)") from None
        self.table_name = table_name
        self.clock = clock
        self.table = resource.Table(table_name)
        self.adapter = DynamoDbAdapter(table_name, partition_key_name=PARTITION_KEY,
                                       attribute_name=ATTRIBUTES, dynamodb_resource=resource)

    def get_attributes(self, request_envelope: Any) -> dict[str, Any]:
        attributes = from_dynamo(self.adapter.get_attributes(request_envelope))
        return attributes if isinstance(attributes, dict) else {}

    def save_attributes(self, request_envelope: Any, attributes: dict[str, Any]) -> None:
        # Not the adapter's put_item: the item also carries the TTL attribute.
        user_id = self.adapter.partition_keygen(request_envelope)
        item = {
            PARTITION_KEY: user_id,
            ATTRIBUTES: to_dynamo(attributes),
            TTL_ATTRIBUTE: int(self.clock()) + KEEP_FOR_SECONDS,
        }
        try:
            self.table.put_item(Item=item)
        except Exception as e:  # botocore raises ClientError and several transport errors
            raise PersistenceException(
                f"could not save attributes to DynamoDB table {self.table_name}: "
                f"{type(e).__name__}: {e}") from e

    def delete_attributes(self, request_envelope: Any) -> None:
        self.adapter.delete_attributes(request_envelope)


def to_dynamo(value: Any) -> Any:
    """``value`` with floats as ``Decimal`` (boto3 refuses to send a float)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_dynamo(v) for v in value]
    return value


def from_dynamo(value: Any) -> Any:
    """``value`` with DynamoDB's ``Decimal`` numbers back as ``int`` (or ``float``)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_dynamo(v) for v in value]
    return value
