"""Whether a SQLite database in WAL mode has committed anything since a moment: no system call.

SQLite keeps the WAL-index header at the start of the database's ``-shm`` file: two copies of
48 bytes that every committing connection, in any process, rewrites (the second copy first,
then the first). The header holds the WAL's last frame, salts and checksums, so it changes
with every commit, and with every WAL restart (sqlite.org/walformat.html, "The WAL-Index
Header"). ``CommitMark(path)()`` reads it from a read-only shared mapping of that file: equal
marks read at two moments mean no transaction committed in between (SQLite also rewrites the
header without a commit now and then, e.g. when another process rebuilds the index: a change
that is not one costs a read, never the other way round). A mark that cannot be read whole
(the copies differ mid-write, or the index is not set up) is None: "cannot tell".

The mark keeps a connection of its own open, so SQLite never truncates or deletes the
``-shm`` file under the mapping (it does so only when no connection has the database open).
A replaced database file needs a new mark: the store makes one for each of its eras.
"""

from __future__ import annotations

import mmap
import os
import sqlite3
from contextlib import suppress
from urllib.parse import quote

HEADER_BYTES = 48  # one copy of the WAL-index header
_IS_INIT = 12  # offset of its isInit byte (1 once the index is set up)


class CommitMark:
    """``mark()``: the database's WAL-index header now (bytes), or None when it cannot be
    read whole. Raises ``OSError`` or ``sqlite3.Error`` when the database cannot be opened
    or is not in WAL mode."""

    def __init__(self, path: str, timeout_s: float) -> None:
        uri = f"file:{quote(os.path.abspath(path))}?mode=rw"  # never creates a file
        self._anchor = sqlite3.connect(uri, uri=True, timeout=timeout_s, isolation_level=None,
                                       check_same_thread=False)
        try:
            mode = self._anchor.execute("PRAGMA journal_mode").fetchone()[0]
            if mode != "wal":
                raise sqlite3.OperationalError(f"journal mode is {mode}, not wal")
            self._anchor.execute("PRAGMA schema_version").fetchone()  # maps the index
            fd = os.open(f"{path}-shm", os.O_RDONLY)
            try:
                if os.fstat(fd).st_size < 2 * HEADER_BYTES:
                    raise OSError(f"{path}-shm is not a WAL index yet")
                self._map = mmap.mmap(fd, 2 * HEADER_BYTES, access=mmap.ACCESS_READ)
            finally:
                os.close(fd)
        except BaseException:
            self._anchor.close()
            raise

    def __call__(self) -> bytes | None:
        try:
            both = self._map[:2 * HEADER_BYTES]
        except ValueError:  # closed
            return None
        first = both[:HEADER_BYTES]
        if first != both[HEADER_BYTES:] or first[_IS_INIT] != 1:
            return None
        return first

    def close(self) -> None:
        self._map.close()
        with suppress(sqlite3.Error):
            self._anchor.close()
