"""The embedded store: one row per user in a SQLite file (WAL mode), versioned writes.

One connection per store, used by one thread at a time (a lock): SQLite has one writer anyway,
and a single connection does not contend with itself. Faults are survived without a restart:
- any SQLite error closes the connection, and the next call opens a new one (a garbled page
  restored, a lock released or disk space freed needs nothing more);
- before each call the file's identity (device, inode) is compared with the one opened: a
  deleted or replaced database is noticed, logged, and a new one opened at the configured path;
  a file changed by someone else since the last call (its size or time) gets a new connection,
  so nothing is served from a page cache the file no longer matches (e.g. a page restored);
- every call waits at most until its ``Deadline`` (the lock, then SQLite's ``busy_timeout``).
Deleting a user overwrites the freed space (``secure_delete``) and checkpoints the WAL, so no
copy of the record stays in the file or its WAL.
"""

from __future__ import annotations

import faulthandler
import json
import logging
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from skill.storage.record import (
    PROBE_SECONDS,
    Deadline,
    Stored,
    StoreError,
    StoreTimeout,
)

log = logging.getLogger(__name__)

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS user_attributes (
        user_id    TEXT PRIMARY KEY,
        attributes TEXT NOT NULL,
        updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        version    INTEGER NOT NULL DEFAULT 0,
        gen        TEXT
    )""",
    "CREATE TABLE IF NOT EXISTS health (id INTEGER PRIMARY KEY, checked_at REAL NOT NULL)",
)
# Files written before records were versioned lack the last two columns.
_MIGRATIONS = {
    "version": "ALTER TABLE user_attributes ADD COLUMN version INTEGER NOT NULL DEFAULT 0",
    "gen": "ALTER TABLE user_attributes ADD COLUMN gen TEXT",
}
_UPDATE = ("UPDATE user_attributes SET attributes = ?, version = ?, gen = ?, "
           "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
           "WHERE user_id = ? AND version = ? AND gen IS ?")
_INSERT = ("INSERT INTO user_attributes (user_id, attributes, version, gen) VALUES (?, ?, ?, ?) "
           "ON CONFLICT(user_id) DO UPDATE SET attributes = excluded.attributes, "
           "version = excluded.version, gen = excluded.gen, "
           "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
           "WHERE version = 0 AND gen IS NULL")


class SQLiteStore:
    """Each user's record as one JSON document, keyed by Alexa user id."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.memory = self.path == ":memory:"
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._identity: tuple[int, int] | None = None  # (device, inode) of the file opened
        self._stamp: tuple[int, int] | None = None  # (mtime_ns, size) after our last call
        self._busy_ms = 0  # the connection's busy_timeout: how long SQLite waits for a lock
        self._checkpointer = _Checkpointer(self.path)
        if not faulthandler.is_enabled():  # a fatal signal (SIGBUS on a broken -shm) says why
            faulthandler.enable(file=sys.stderr)
        with self._connection(Deadline(10.0)):  # fail at start-up, not on the first request
            pass

    # -- the record interface (skill.storage.record.Store) ---------------------------------------

    def read(self, user_id: str, deadline: Deadline) -> Stored:
        with self._connection(deadline, keeps_file=True) as conn:
            row = conn.execute("SELECT attributes, version, gen FROM user_attributes "
                               "WHERE user_id = ?", (user_id,)).fetchone()
        if row is None:
            return Stored()
        try:
            data = json.loads(row[0])
        except ValueError:
            log.warning("a stored record is not JSON: read as empty (it is kept)")
            data = {}
        return Stored(row[1], row[2], data if isinstance(data, dict) else {})

    def write(self, user_id: str, expected: Stored, gen: str, data: Mapping[str, Any],
              deadline: Deadline) -> bool:
        doc = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        version = expected.version + 1
        with self._connection(deadline, keeps_file=True) as conn:
            if expected.version == 0 and expected.gen is None:
                cursor = conn.execute(_INSERT, (user_id, doc, version, gen))
            else:
                cursor = conn.execute(_UPDATE, (doc, version, gen, user_id, expected.version,
                                                expected.gen))
        return cursor.rowcount == 1

    def delete(self, user_id: str, deadline: Deadline) -> None:
        with self._connection(deadline) as conn:
            conn.execute("DELETE FROM user_attributes WHERE user_id = ?", (user_id,))
            if not self.memory:  # the old pages in the WAL go too
                busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                if busy:
                    log.warning("WAL checkpoint after a delete was blocked by a reader: "
                                "the next checkpoint completes it")

    def probe(self, seconds: float = PROBE_SECONDS) -> None:
        """Write and read back a health row (``StoreError`` if either fails in time)."""
        now = time.time()
        with self._connection(Deadline(seconds)) as conn:
            conn.execute("INSERT OR REPLACE INTO health (id, checked_at) VALUES (1, ?)", (now,))
            row = conn.execute("SELECT checked_at FROM health WHERE id = 1").fetchone()
        if row is None or row[0] != now:
            raise StoreError("the health row did not read back")

    def close(self) -> None:
        self._checkpointer.stop()
        with self._lock:
            self._drop()

    # -- the connection ----------------------------------------------------------------------------

    @contextmanager
    def _connection(self, deadline: Deadline,
                    keeps_file: bool = False) -> Iterator[sqlite3.Connection]:
        """The open connection, to one thread at a time, with SQLite waiting for its locks at
        most until ``deadline``. An error closes it, so the next call starts afresh.
        ``keeps_file``: the call leaves the database file as it was (a read, or a write that
        goes to the WAL only: the checkpointer copies it back), so the file's stamp after it
        is the one checked before it, and is not taken again (each system call in the lock
        lets other threads run while this one holds it, and they queue behind it)."""
        if not self._lock.acquire(timeout=deadline.remaining()):
            raise StoreTimeout("the database was busy for the whole of the turn's time")
        try:
            conn = self._open(deadline)
            wait_ms = max(1, int(deadline.remaining() * 1000))
            if abs(wait_ms - self._busy_ms) > 250:  # about the same (±¼ s): keep it
                conn.execute(f"PRAGMA busy_timeout = {wait_ms}")
                self._busy_ms = wait_ms
            yield conn
            if not keeps_file or self.memory:
                self._stamp = self._file_stamp()[1]
        except sqlite3.Error as e:
            self._drop()
            if "locked" in str(e) or "busy" in str(e):
                raise StoreTimeout(f"the database stayed locked: {e}") from e
            raise StoreError(f"SQLite: {type(e).__name__}: {e}") from e
        finally:
            self._lock.release()

    def _open(self, deadline: Deadline) -> sqlite3.Connection:
        if self._conn is not None and not self.memory:
            identity, stamp = self._file_stamp()
            if identity != self._identity:
                log.error("the database file %s was deleted or replaced: opening a new one "
                          "there (what was in the old file is not in the new one)", self.path)
                self._drop()
            elif stamp != self._stamp:  # written by someone else: read it afresh
                self._drop()
        if self._conn is None:
            if not self.memory:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=deadline.remaining(),
                                   isolation_level=None, check_same_thread=False)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                if not self.memory:  # the checkpointer thread copies the WAL back, not a turn
                    conn.execute("PRAGMA wal_autocheckpoint=0")
                    self._checkpointer.start()
                conn.execute("PRAGMA secure_delete=ON")
                for statement in _SCHEMA:
                    conn.execute(statement)
                columns = {row[1] for row in conn.execute("PRAGMA table_info(user_attributes)")}
                for column, statement in _MIGRATIONS.items():
                    if column not in columns:
                        conn.execute(statement)
            except sqlite3.Error:
                conn.close()
                raise
            self._conn = conn
            self._busy_ms = int(deadline.remaining() * 1000)  # connect(timeout=) set it
            self._identity, self._stamp = self._file_stamp()
        return self._conn

    def _file_stamp(self) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
        """The file's identity (device, inode) and its (mtime_ns, size); None if missing."""
        if self.memory:
            return None, None
        try:
            st = os.stat(self.path)
        except OSError:
            return None, None
        return (st.st_dev, st.st_ino), (st.st_mtime_ns, st.st_size)

    def _drop(self) -> None:
        if self._conn is not None:
            with suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None


class _Checkpointer:
    """Copies the WAL back into the database file every ``CHECKPOINT_SECONDS`` (a passive
    checkpoint, on a connection of its own), so that no turn pays for it while holding the
    store's lock: SQLite's automatic checkpoint ran inside a write, with an fsync, and every
    other worker thread waited for it. Writers go on appending to the WAL meanwhile."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def start(self) -> None:
        with self._start_lock:
            if self._thread is None and not self._stopped.is_set():
                self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint",
                                                daemon=True)
                self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        while not self._stopped.wait(CHECKPOINT_SECONDS):
            try:
                if conn is None:
                    if not os.path.exists(self.path):
                        continue  # deleted: the store opens a new one on its next call
                    conn = sqlite3.connect(self.path, timeout=CHECKPOINT_SECONDS,
                                           isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error as e:
                log.info("WAL checkpoint: %s: %s (tried again later)", type(e).__name__, e)
                if conn is not None:
                    with suppress(sqlite3.Error):
                        conn.close()
                conn = None
        if conn is not None:
            with suppress(sqlite3.Error):
                conn.close()


CHECKPOINT_SECONDS = 0.5

# The name the simulator and older code use.
SQLiteAdapter = SQLiteStore
