"""Whether a SQLite database in WAL mode has committed anything since a moment: no system call.

SQLite keeps the WAL-index header at the start of the database's ``-shm`` file: two copies of
48 bytes that every committing connection, in any process, rewrites (the second copy first,
then the first). The header holds the WAL's last frame, salts and checksums, so it changes
with every commit, and with every WAL restart (sqlite.org/walformat.html, "The WAL-Index
Header"). ``commit_mark(path)()`` reads it from a read-only shared mapping of that file: equal
marks read at two moments mean no transaction committed in between (a header rewritten with
no commit, as by a checkpoint that restarts the WAL, costs a read, never the other way round).
A mark that cannot be read whole (the copies differ mid-write, or the index is not set up) is
None: "cannot tell".

Each ``-shm`` file is opened once per process and never closed: closing any descriptor of a
file drops every POSIX lock the process holds on it, SQLite's own included
(sqlite.org/howtocorrupt.html, 2.2), and without its lock on the ``-shm`` another process
would take the index for unused and rebuild it under SQLite's feet. That is one descriptor
and one page of mapping per ``-shm`` file the process has read (a new one only when the
database file is replaced), for the life of the process.
"""

from __future__ import annotations

import mmap
import os
import threading

HEADER_BYTES = 48  # one copy of the WAL-index header
_IS_INIT = 12  # offset of its isInit byte (1 once the index is set up)


class CommitMark:
    """``mark()``: the database's WAL-index header now (bytes), or None when it cannot be
    read whole."""

    __slots__ = ("_map",)

    def __init__(self, mapping: mmap.mmap) -> None:
        self._map = mapping

    def __call__(self) -> bytes | None:
        both = self._map[:2 * HEADER_BYTES]
        first = both[:HEADER_BYTES]
        if first != both[HEADER_BYTES:] or first[_IS_INIT] != 1:
            return None
        return first


def commit_mark(db_path: str) -> CommitMark:
    """The commit mark of the WAL-mode database at ``db_path``, through the ``-shm`` file there
    now (mapped on first use, then kept). Call it while a SQLite connection of this process has
    the database open. ``OSError`` when there is no WAL index to read."""
    shm = f"{db_path}-shm"
    found = os.stat(shm)
    with _lock:
        mark = _marks.get((found.st_dev, found.st_ino))
        if mark is not None:
            return mark
        if found.st_size < 2 * HEADER_BYTES:
            raise OSError(f"{shm} is not a WAL index yet")
        fd = os.open(shm, os.O_RDONLY)
        _kept.append(fd)  # never closed: see the module's docstring
        opened = os.fstat(fd)  # the file may have been replaced since the stat
        identity = (opened.st_dev, opened.st_ino)
        mark = _marks.get(identity)
        if mark is None:
            if opened.st_size < 2 * HEADER_BYTES:
                raise OSError(f"{shm} is not a WAL index yet")
            mark = _marks[identity] = CommitMark(
                mmap.mmap(fd, 2 * HEADER_BYTES, access=mmap.ACCESS_READ))
        return mark


_marks: dict[tuple[int, int], CommitMark] = {}  # by the -shm file's (device, inode)
_kept: list[int] = []  # the descriptors opened, each kept open
_lock = threading.Lock()
