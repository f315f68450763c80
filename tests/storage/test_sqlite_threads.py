"""The SQLite store under the web server's worker threads, on a real file.

Many threads reading and writing at once keep every record right (a conditional write refused
is re-read and applied again, as the turns do); the store's own checkpoints are not taken for
someone else's change to the file, while a change from outside still is; and after the file
is deleted, the new one's WAL is still copied back into it.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import closing

import pytest

from skill.storage.record import Deadline, Stored, StoreError, new_gen
from skill.storage.sqlite import FILE_CHECK_SECONDS, SQLiteStore
from tests.support.helpers import delete_database

THREADS = 8
ROUNDS = 40


def soon() -> Deadline:
    return Deadline(5.0)


def add_one(store: SQLiteStore, user: str, key: str) -> int:
    """Read, add one to ``key``, write back if unchanged since; again if not. Tries taken."""
    tries = 0
    while True:
        tries += 1
        stored = store.read(user, soon())
        data = {**stored.data, key: stored.data.get(key, 0) + 1}
        if store.write(user, stored, stored.gen or new_gen(), data, soon()):
            return tries


def wait_for(condition, what: str, seconds: float = 20.0) -> None:
    """Polls ``condition`` (the checkpointer runs every half second); fails after ``seconds``."""
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.05)


@pytest.fixture
def store(tmp_path):
    s = SQLiteStore(tmp_path / "threads.sqlite3")
    yield s
    s.close()


def test_threads_writing_at_once_keep_every_record(store):
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def worker(n: int) -> None:
        try:
            start.wait()
            for _ in range(ROUNDS):
                add_one(store, f"own-{n}", "count")  # a record of this thread's own
                add_one(store, "shared", f"by-{n}")  # one record all threads write
                add_one(store, "shared", "total")
        except BaseException as e:  # noqa: BLE001 - reported below, with the thread's name
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    for n in range(THREADS):
        own = store.read(f"own-{n}", soon())
        assert own.data == {"count": ROUNDS} and own.version == ROUNDS
    shared = store.read("shared", soon())
    assert shared.data == {"total": THREADS * ROUNDS,
                           **{f"by-{n}": ROUNDS for n in range(THREADS)}}
    assert shared.version == 2 * THREADS * ROUNDS, "every write that succeeded was a new version"


def test_a_delete_among_busy_threads_leaves_the_others_records(store):
    for n in range(THREADS):
        add_one(store, f"keep-{n}", "count")
    add_one(store, "leaving", "count")
    done = threading.Event()

    def reader(n: int) -> None:
        while not done.is_set():
            assert store.read(f"keep-{n}", soon()).data == {"count": 1}

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    try:
        store.delete("leaving", soon())
    finally:
        done.set()
        for t in threads:
            t.join(30)
    assert store.read("leaving", soon()) == Stored()
    assert all(store.read(f"keep-{n}", soon()).data == {"count": 1} for n in range(THREADS))


def test_the_stores_own_checkpoints_are_not_taken_for_an_outside_change(tmp_path, caplog):
    db = tmp_path / "own.sqlite3"
    with (closing(SQLiteStore(db)) as store,
          caplog.at_level(logging.DEBUG, logger="skill.storage.sqlite")):
        for n in range(20):
            add_one(store, f"marker-{n:04d}", "count")
            wait_for(lambda n=n: f"marker-{n:04d}".encode() in db.read_bytes(),
                     "the checkpointer copies the WAL into the file")
            assert store.read(f"marker-{n:04d}", soon()).data == {"count": 1}
        assert not [r for r in caplog.records if "changed by someone else" in r.getMessage()]
        # A change from outside is still noticed: a page garbled, then put back. (No commit
        # moved the record, so reads may go on serving it until they next look at the file.)
        with db.open("r+b") as f:
            page = f.read(4096)
            f.seek(0)
            f.write(bytes(range(256)) * 16)
        time.sleep(FILE_CHECK_SECONDS)
        with pytest.raises(Exception, match="SQLite"):
            store.read("marker-0000", soon())
        with db.open("r+b") as f:
            f.write(page)
        assert store.read("marker-0000", soon()).data == {"count": 1}


def test_after_the_file_is_deleted_the_new_ones_wal_is_still_copied_back(tmp_path):
    db = tmp_path / "renewed.sqlite3"
    with closing(SQLiteStore(db)) as store:
        add_one(store, "before", "count")
        wait_for(lambda: b"before" in db.read_bytes(), "the first file checkpointed")
        delete_database(db)
        add_one(store, "after-the-delete", "count")
        wait_for(lambda: b"after-the-delete" in db.read_bytes(),
                 "the new file's WAL copied into it")
        assert store.read("after-the-delete", soon()).data == {"count": 1}
        assert store.read("before", soon()) == Stored()


def test_a_file_that_cannot_be_opened_is_a_store_error_until_it_can(tmp_path):
    db = tmp_path / "gone.sqlite3"
    with closing(SQLiteStore(db)) as store:
        add_one(store, "before", "count")
        delete_database(db)
        db.mkdir()  # a directory where the database was: SQLite cannot open it
        time.sleep(FILE_CHECK_SECONDS)  # when reads next look at the file
        with pytest.raises(StoreError):
            store.read("before", soon())
        db.rmdir()
        assert store.read("before", soon()) == Stored(), "a new, empty file"
        add_one(store, "after", "count")
        assert store.read("after", soon()).data == {"count": 1}
