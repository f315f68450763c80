"""The embedded store: one row per user in a SQLite file (WAL mode), versioned writes.

Reads take a connection from a small pool, one per read in flight, so they never wait for each
other (in WAL mode readers do not block); writes take one lock and the writer's own connection,
so SQLite never sees two of our writers at once (no busy waits between our own threads) and the
writer's page cache is not invalidated by another connection's writes. Faults are survived
without a restart:
- any SQLite error closes the connection, and every pooled one is replaced (a garbled page
  restored, a lock released or disk space freed needs nothing more);
- before each write, and before a read at most every ``FILE_CHECK_SECONDS``, the file's
  identity (device, inode) is compared with the one opened: a deleted or replaced database is
  noticed, logged, and a new one opened at the configured path (nothing is written to a file
  that is gone; a read may be that long behind the file's deletion, never behind a commit);
  a file changed by someone else (its size or time) gets new connections, so nothing is served
  from a page cache the file no longer matches (e.g. a page restored). The store's own changes
  to the file (the checkpointer's, a delete's) are recorded as its own, not taken for others';
- every call waits at most until its ``Deadline`` (the write lock, then SQLite's
  ``busy_timeout``).
Deleting a user overwrites the freed space (``secure_delete``) and checkpoints the WAL, so no
copy of the record stays in the file or its WAL.

A record read is kept and served again, without asking SQLite, while nothing has been
committed to the database since it was read, by any connection of any process
(``commit_mark.CommitMark``), and the file is the one it was read from: a turn still sees
every other device's and process's last write, and most turns (a routine's steps write
nothing) make no SQLite call, each of which hands the interpreter lock to another thread.
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
import weakref
from collections.abc import Callable, Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

from skill.storage.commit_mark import commit_mark
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
_SELECT = "SELECT attributes, version, gen FROM user_attributes WHERE user_id = ?"
_UPDATE = ("UPDATE user_attributes SET attributes = ?, version = ?, gen = ?, "
           "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
           "WHERE user_id = ? AND version = ? AND gen IS ?")
_INSERT = ("INSERT INTO user_attributes (user_id, attributes, version, gen) VALUES (?, ?, ?, ?) "
           "ON CONFLICT(user_id) DO UPDATE SET attributes = excluded.attributes, "
           "version = excluded.version, gen = excluded.gen, "
           "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
           "WHERE version = 0 AND gen IS NULL")
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_decode = json.JSONDecoder().decode

FileStamp = tuple[tuple[int, int] | None, tuple[int, int] | None]  # identity, (mtime_ns, size)
MAX_IDLE = 16  # pooled connections kept; waitress runs 8 worker threads
FILE_CHECK_SECONDS = 0.1  # reads look at the file's identity at most this often
MAX_RECENT = 4096  # records kept for reading again (a few hundred bytes each)


class _Conn:
    """A pooled connection, the file's era it was opened in, and its ``busy_timeout``."""

    __slots__ = ("db", "era", "busy_ms")

    def __init__(self, db: sqlite3.Connection, era: int, busy_ms: int) -> None:
        self.db, self.era, self.busy_ms = db, era, busy_ms


class _Recent(NamedTuple):
    """Records read in ``era`` while the database's commit mark was ``mark``."""

    era: int
    mark: bytes | None
    records: dict[str, Stored]


def _no_mark() -> None:
    """The mark of an era whose commit mark cannot be read: every read asks SQLite."""
    return None


class SQLiteStore:
    """Each user's record as one JSON document, keyed by Alexa user id."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.memory = self.path == ":memory:"  # one database per connection: one connection
        self._idle: list[_Conn] = []  # readers; list.pop and .append are atomic: no lock
        self._writer: _Conn | None = None  # used under the write lock only
        self._open: set[_Conn] = set()  # every connection, pooled or in use (to close them)
        self._write_lock = threading.Lock()  # one writer at a time (and every call in memory)
        self._state_lock = threading.Lock()  # the file's stamp and era: changed rarely
        self._era = 0  # a connection opened in an earlier era is closed, not used
        self._known: FileStamp = (None, None)  # the file as our connections last saw it
        self._rewriting = 0  # our own rewrites of the file in flight (checkpoints)
        self._next_file_check = 0.0  # monotonic time of a read's next look at the file
        self._checkpointer = _Checkpointer(self.path, weakref.ref(self))
        self._mark: tuple[int, Callable[[], bytes | None]] = (-1, _no_mark)  # era, its mark
        self._recent = _Recent(-1, None, {})
        if not faulthandler.is_enabled():  # a fatal signal (SIGBUS on a broken -shm) says why
            faulthandler.enable(file=sys.stderr)
        # Fail at start-up, not later (in memory: the one connection, the writer's).
        self._give(self._take(Deadline(10.0), self.memory), self.memory)

    # -- the record interface (skill.storage.record.Store) ---------------------------------------

    def read(self, user_id: str, deadline: Deadline) -> Stored:
        exclusive = self.memory
        conn = self._take(deadline, exclusive)
        era = conn.era
        mark = self._commit_mark(era)()  # before the read: what it reads is at least as new
        recent = self._recent
        if mark is not None and recent.mark == mark and recent.era == era:
            stored = recent.records.get(user_id)
            if stored is not None:  # nothing committed since it was read
                self._give(conn, exclusive)
                return stored
        elif mark is not None:
            recent = self._recent = _Recent(era, mark, {})
        try:
            row = conn.db.execute(_SELECT, (user_id,)).fetchone()
        except sqlite3.Error as e:
            raise self._failed(conn, e, exclusive) from e
        self._give(conn, exclusive)
        stored = Stored()
        if row is not None:
            try:
                data = _decode(row[0])
            except ValueError:
                log.warning("a stored record is not JSON: read as empty (it is kept)")
                data = {}
            stored = Stored(row[1], row[2], data if type(data) is dict else {})
        if mark is not None and recent.mark == mark and len(recent.records) < MAX_RECENT:
            recent.records[user_id] = stored
        return stored

    def write(self, user_id: str, expected: Stored, gen: str, data: Mapping[str, Any],
              deadline: Deadline) -> bool:
        doc = _encode(data)
        version = expected.version + 1
        if expected.version == 0 and expected.gen is None:
            statement, values = _INSERT, (user_id, doc, version, gen)
        else:
            statement, values = _UPDATE, (doc, version, gen, user_id, expected.version,
                                          expected.gen)
        conn = self._take(deadline, True)
        try:  # to the WAL only: the file itself is as it was (the checkpointer copies it)
            written = conn.db.execute(statement, values).rowcount == 1
        except sqlite3.Error as e:
            raise self._failed(conn, e, True) from e
        self._give(conn, True)
        return written

    def delete(self, user_id: str, deadline: Deadline) -> None:
        conn = self._take(deadline, True)
        try:
            conn.db.execute("DELETE FROM user_attributes WHERE user_id = ?", (user_id,))
            if not self.memory:  # the old pages in the WAL go too
                before = self._rewrite_begins()
                try:
                    busy, _, _ = conn.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                finally:
                    self._rewrite_ends(before)
                if busy:
                    log.warning("WAL checkpoint after a delete was blocked by a reader: "
                                "the next checkpoint completes it")
        except sqlite3.Error as e:
            raise self._failed(conn, e, True) from e
        self._give(conn, True)

    def probe(self, seconds: float = PROBE_SECONDS) -> None:
        """Write and read back a health row (``StoreError`` if either fails in time)."""
        now = time.time()
        conn = self._take(Deadline(seconds), True)
        try:
            conn.db.execute("INSERT OR REPLACE INTO health (id, checked_at) VALUES (1, ?)",
                            (now,))
            row = conn.db.execute("SELECT checked_at FROM health WHERE id = 1").fetchone()
        except sqlite3.Error as e:
            raise self._failed(conn, e, True) from e
        self._give(conn, True)
        if row is None or row[0] != now:
            raise StoreError("the health row did not read back")

    def close(self) -> None:
        self._checkpointer.stop()
        with self._state_lock:
            self._era += 1
            for conn in list(self._open):
                self._close(conn)

    def _commit_mark(self, era: int) -> Callable[[], bytes | None]:
        """The commit mark of the file this era's connections have open (found on first use;
        in memory, or when it cannot be read, one that always says "cannot tell")."""
        made, mark = self._mark
        if made == era:
            return mark
        with self._state_lock:
            made, mark = self._mark
            if made == era:
                return mark
            if era != self._era:  # the caller's connection is of an era that has ended
                return _no_mark
            try:
                mark = _no_mark if self.memory else commit_mark(self.path)
            except OSError as e:
                log.info("records are read from SQLite every time: no commit mark (%s)", e)
                mark = _no_mark
            self._mark = (era, mark)
            return mark

    # -- the connections -----------------------------------------------------------------------

    def _take(self, deadline: Deadline, exclusive: bool) -> _Conn:
        """A connection checked against the file, with SQLite waiting for its locks at most
        until ``deadline``; ``exclusive``: after taking the write lock (released by ``_give``
        or ``_failed``)."""
        lock = self._write_lock
        if exclusive and not lock.acquire(False) and not lock.acquire(
                timeout=deadline.remaining()):
            raise StoreTimeout("the database was busy for the whole of the turn's time")
        try:
            if not self.memory and (exclusive or self._file_check_due()) and \
                    self._file_stamp() != self._known:
                self._changed()
            era = self._era
            if exclusive:  # the writer's own connection: its page cache stays warm
                conn = self._writer
                if conn is None or conn.era != era:
                    if conn is not None:
                        self._close(conn)
                    conn = self._writer = self._connect(deadline)
            else:
                conn = self._pooled(era, deadline)
            wait_ms = max(1, int(deadline.remaining() * 1000))
            if abs(wait_ms - conn.busy_ms) > 250:  # about the same (±¼ s): keep it
                try:
                    conn.db.execute(f"PRAGMA busy_timeout = {wait_ms}")
                except sqlite3.Error as e:
                    raise self._failed(conn, e, False) from e
                conn.busy_ms = wait_ms
            return conn
        except BaseException:
            if exclusive:
                lock.release()
            raise

    def _file_check_due(self) -> bool:
        """Whether a read looks at the file (``os.stat`` hands the interpreter lock on)."""
        now = time.monotonic()
        if now < self._next_file_check:
            return False
        self._next_file_check = now + FILE_CHECK_SECONDS
        return True

    def _pooled(self, era: int, deadline: Deadline) -> _Conn:
        idle = self._idle
        while True:
            try:
                conn = idle.pop()
            except IndexError:
                return self._connect(deadline)
            if conn.era == era:
                return conn
            self._close(conn)

    def _give(self, conn: _Conn, exclusive: bool) -> None:
        if exclusive:  # the writer keeps its connection (``_take`` checks its era)
            self._write_lock.release()
        elif conn.era == self._era and len(self._idle) < MAX_IDLE:
            self._idle.append(conn)
        else:
            self._close(conn)

    def _failed(self, conn: _Conn, e: sqlite3.Error, exclusive: bool) -> StoreError:
        """The error to raise for ``e``; the connection closed and every pooled one retired,
        so the next call starts afresh."""
        with self._state_lock:
            self._era += 1
            self._close(conn)
        if exclusive:
            self._writer = None
            self._write_lock.release()
        return _store_error(e)

    def _changed(self) -> None:
        """The file is not as our connections left it: new connections from here on. While
        the store rewrites it itself (a checkpoint), only another file is a change. Looked
        at again here: what the caller saw may be a checkpoint that has ended since."""
        with self._state_lock:
            stamp = self._file_stamp()
            identity, _ = self._known
            if stamp == self._known or (self._rewriting and stamp[0] == identity):
                return  # another thread saw it first, or it is our own checkpoint
            if identity is not None and stamp[0] != identity:
                log.error("the database file %s was deleted or replaced: opening a new one "
                          "there (what was in the old file is not in the new one)", self.path)
            elif identity is not None:
                log.debug("the database file %s was changed by someone else: new connections",
                          self.path)
            self._era += 1
            self._known = stamp

    def _rewrite_begins(self) -> FileStamp:
        """A checkpoint of ours is about to copy the WAL into the file: the file as it was."""
        with self._state_lock:
            self._rewriting += 1
            return self._file_stamp()

    def _rewrite_ends(self, before: FileStamp) -> None:
        """The checkpoint is done: its change is ours, not someone else's (when the file was
        as our connections knew it before; if not, the next call notices)."""
        with self._state_lock:
            if self._known == before:
                self._known = self._file_stamp()
            self._rewriting -= 1

    def _connect(self, deadline: Deadline) -> _Conn:
        if not self.memory:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        era, before = self._era, self._file_stamp()
        db = None
        try:
            db = sqlite3.connect(self.path, timeout=deadline.remaining(), isolation_level=None,
                                 check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            if not self.memory:  # the checkpointer thread copies the WAL back, not a turn
                db.execute("PRAGMA wal_autocheckpoint=0")
                self._checkpointer.start()
            db.execute("PRAGMA secure_delete=ON")
            for statement in _SCHEMA:
                db.execute(statement)
            columns = {row[1] for row in db.execute("PRAGMA table_info(user_attributes)")}
            for column, statement in _MIGRATIONS.items():
                if column not in columns:
                    db.execute(statement)
        except sqlite3.Error as e:
            if db is not None:
                db.close()
            raise _store_error(e) from e
        conn = _Conn(db, era, int(deadline.remaining() * 1000))  # connect(timeout=) set it
        with self._state_lock:
            self._open.add(conn)
            if not self.memory and self._era == era and self._known == before:
                self._known = self._file_stamp()  # created, or its schema written: by us
        return conn

    def _close(self, conn: _Conn) -> None:
        self._open.discard(conn)
        with suppress(sqlite3.Error):
            conn.db.close()

    def _file_stamp(self) -> FileStamp:
        """The file's identity (device, inode) and its (mtime_ns, size); None if missing."""
        if self.memory:
            return None, None
        try:
            st = os.stat(self.path)
        except OSError:
            return None, None
        return (st.st_dev, st.st_ino), (st.st_mtime_ns, st.st_size)


def _store_error(e: sqlite3.Error) -> StoreError:
    """The store's error for a SQLite one: a lock that was not released in time is a timeout."""
    if "locked" in str(e) or "busy" in str(e):
        return StoreTimeout(f"the database stayed locked: {e}")
    return StoreError(f"SQLite: {type(e).__name__}: {e}")


class _Checkpointer:
    """Copies the WAL back into the database file every ``CHECKPOINT_SECONDS`` (a passive
    checkpoint, on a connection of its own), so that no turn pays for it while holding the
    write lock: SQLite's automatic checkpoint ran inside a write, with an fsync, and every
    other writer waited for it. Writers go on appending to the WAL meanwhile. It tells the
    store (held weakly: a store dropped unclosed stops it) which file changes are its own."""

    def __init__(self, path: str, store: weakref.ref[SQLiteStore]) -> None:
        self.path = path
        self._uri = f"file:{quote(os.path.abspath(path))}?mode=rw"  # never creates a file
        self.store = store
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
        identity = None  # of the file ``conn`` has open
        while not self._stopped.wait(CHECKPOINT_SECONDS):
            store = self.store()
            if store is None:
                break
            try:
                before = store._rewrite_begins()
                try:
                    if before[0] is None:
                        continue  # deleted: the store opens a new one on its next call
                    if conn is not None and before[0] != identity:  # replaced: follow it
                        with suppress(sqlite3.Error):
                            conn.close()
                        conn = None
                    if conn is None:
                        conn = sqlite3.connect(self._uri, uri=True, timeout=CHECKPOINT_SECONDS,
                                               isolation_level=None, check_same_thread=False)
                        identity = before[0]
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                finally:
                    store._rewrite_ends(before)
            except sqlite3.Error as e:
                log.info("WAL checkpoint: %s: %s (tried again later)", type(e).__name__, e)
                if conn is not None:
                    with suppress(sqlite3.Error):
                        conn.close()
                conn = None
            finally:
                del store
        if conn is not None:
            with suppress(sqlite3.Error):
                conn.close()


CHECKPOINT_SECONDS = 0.5

# The name the simulator and older code use.
SQLiteAdapter = SQLiteStore
