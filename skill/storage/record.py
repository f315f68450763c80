"""What every store offers: one versioned record per user, written only if unchanged since read.

A record is ``Stored(version, gen, data)``: ``version`` counts writes (0: nothing stored),
``gen`` names the record's incarnation (a new one after a delete, so a session that read the
old one cannot bring it back), ``data`` is the JSON document (``{"profile": {...}}``).

``write`` is conditional (optimistic concurrency): it succeeds only if the stored record is
still the one ``expected`` describes, and returns False otherwise; the caller re-reads and
re-applies its change. Every call takes a ``Deadline``: a store that cannot answer in time
raises ``StoreTimeout`` instead of holding the turn past Alexa's 8 seconds.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

EMPTY: Mapping[str, Any] = MappingProxyType({})

TURN_STORE_SECONDS = 4.5  # all store calls of one turn; the rest of Alexa's 8 s is for us
PROBE_SECONDS = 0.5  # GET /health answers within 1 s, with room for the HTTP around it


class StoreError(Exception):
    """The store could not read or write a record (the turn apologises)."""


class StoreTimeout(StoreError):
    """The store did not answer within the turn's deadline."""


class StoreConfigError(RuntimeError):
    """A store cannot be set up from this configuration (e.g. no AWS region)."""


class Deadline:
    """A point in time (monotonic) by which store calls must be done."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left; ``StoreTimeout`` when there are none."""
        left = self.at - time.monotonic()
        if left <= 0:
            raise StoreTimeout("the store's time for this turn is used up")
        return left


class Stored(NamedTuple):
    """A user's record as read: nothing stored is ``Stored()`` (version 0, no gen)."""

    version: int = 0
    gen: str | None = None
    data: Mapping[str, Any] = EMPTY  # the JSON document (never changed once read)

    @property
    def exists(self) -> bool:
        return self.version > 0 or bool(self.data)


class Store(Protocol):
    """The interface of ``skill.storage.sqlite.SQLiteStore`` and ``...dynamodb.DynamoDbStore``."""

    def read(self, user_id: str, deadline: Deadline) -> Stored: ...

    def write(self, user_id: str, expected: Stored, gen: str, data: Mapping[str, Any],
              deadline: Deadline) -> bool:
        """Store ``data`` as version ``expected.version + 1`` of incarnation ``gen`` if the
        record is still ``expected``'s version and gen; False if someone wrote in between."""
        ...

    def delete(self, user_id: str, deadline: Deadline) -> None: ...

    def probe(self, seconds: float = PROBE_SECONDS) -> None:
        """Write and read a health row within ``seconds``; ``StoreError`` if that fails."""
        ...


def new_gen() -> str:
    """A name for a new incarnation of a user's record: 64 random bits, as 16 hex digits."""
    return os.urandom(8).hex()
