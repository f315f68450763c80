"""The embedded store: an ASK persistence adapter over SQLite (one row per user, WAL mode).

Safe for concurrent requests: each thread has its own connection, writers wait for the lock
(``busy_timeout``), and each save is one atomic upsert.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.exceptions import PersistenceException

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS user_attributes (
    user_id    TEXT PRIMARY KEY,
    attributes TEXT NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)
"""


def user_id_of(request_envelope: Any) -> str | None:
    """The Alexa user id of a request (context first, then session), or None."""
    for holder in (_get(request_envelope, "context", "system"), _get(request_envelope, "session")):
        user_id = _get(holder, "user", "user_id")
        if isinstance(user_id, str) and user_id:
            return user_id
    return None


def _get(obj: Any, *names: str) -> Any:
    for name in names:
        obj = getattr(obj, name, None)
    return obj


class SQLiteAdapter(AbstractPersistenceAdapter):
    """Stores each user's attributes as one JSON document, keyed by Alexa user id."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._connect()  # fail at start-up, not on the first request

    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
            self._local.conn = conn
        return conn

    def get_attributes(self, request_envelope: Any) -> dict[str, Any]:
        user_id = user_id_of(request_envelope)
        if user_id is None:
            return {}
        return self.load(user_id)

    def save_attributes(self, request_envelope: Any, attributes: dict[str, Any]) -> None:
        user_id = user_id_of(request_envelope)
        if user_id is not None:
            self.save(user_id, attributes)

    def delete_attributes(self, request_envelope: Any) -> None:
        user_id = user_id_of(request_envelope)
        if user_id is not None:
            self.delete(user_id)

    # -- by user id -----------------------------------------------------------------------------

    def load(self, user_id: str) -> dict[str, Any]:
        try:
            row = self._connect().execute(
                "SELECT attributes FROM user_attributes WHERE user_id = ?", (user_id,)
            ).fetchone()
        except sqlite3.Error as e:
            raise PersistenceException(f"could not read attributes: {e}") from e
        if row is None:
            return {}
        try:
            data = json.loads(row[0])
        except ValueError:
            log.warning("stored attributes are not JSON; treating as empty")
            return {}
        return data if isinstance(data, dict) else {}

    def save(self, user_id: str, attributes: dict[str, Any]) -> None:
        doc = json.dumps(attributes, ensure_ascii=False, separators=(",", ":"))
        try:
            self._connect().execute(
                "INSERT INTO user_attributes (user_id, attributes) VALUES (?, ?) "
                "ON CONFLICT(user_id) DO UPDATE SET attributes = excluded.attributes, "
                "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
                (user_id, doc),
            )
        except sqlite3.Error as e:
            raise PersistenceException(f"could not save attributes: {e}") from e

    def delete(self, user_id: str) -> None:
        try:
            self._connect().execute("DELETE FROM user_attributes WHERE user_id = ?", (user_id,))
        except sqlite3.Error as e:
            raise PersistenceException(f"could not delete attributes: {e}") from e
