"""Reads of the SQLite store see every commit, whoever made it, on a real file.

The store serves a record again without asking SQLite while nothing has been committed since
it was read (the WAL-index header, ``skill.storage.commit_mark``): a write by another process,
by another store on the same file, or a delete, is seen by the very next read.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import closing

import pytest

from skill.storage.commit_mark import commit_mark
from skill.storage.record import Deadline, Stored, new_gen
from skill.storage.sqlite import SQLiteStore

USER = "amzn1.ask.account.reader"


def soon() -> Deadline:
    return Deadline(5.0)


def in_another_process(db, sql: str, *params) -> None:
    """``sql`` run and committed by a separate Python process, as another server would."""
    script = ("import sqlite3, sys, json\n"
              "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
              "c.execute(sys.argv[2], json.loads(sys.argv[3]))\n"
              "c.close()\n")
    subprocess.run([sys.executable, "-c", script, str(db), sql, json.dumps(params)],
                   check=True, timeout=30)


def write(store: SQLiteStore, data: dict) -> Stored:
    stored = store.read(USER, soon())
    assert store.write(USER, stored, stored.gen or new_gen(), data, soon())
    return store.read(USER, soon())


@pytest.fixture
def db(tmp_path):
    return tmp_path / "reads.sqlite3"


def test_a_write_by_another_process_is_read_at_once(db):
    with closing(SQLiteStore(db)) as store:
        before = write(store, {"day": 1})
        for day in range(2, 6):
            assert store.read(USER, soon()).data == {"day": day - 1}  # read again: the same
            in_another_process(db, "UPDATE user_attributes SET attributes = ?, "
                                   "version = version + 1 WHERE user_id = ?",
                               json.dumps({"day": day}), USER)
            now = store.read(USER, soon())
            assert now.data == {"day": day}
            assert now.version == before.version + day - 1


def test_a_delete_by_another_process_is_read_at_once(db):
    with closing(SQLiteStore(db)) as store:
        write(store, {"day": 3})
        assert store.read(USER, soon()).exists
        in_another_process(db, "DELETE FROM user_attributes WHERE user_id = ?", USER)
        assert store.read(USER, soon()) == Stored()


def test_two_stores_on_one_file_read_each_others_writes(db):
    with closing(SQLiteStore(db)) as one, closing(SQLiteStore(db)) as two:
        for n in range(60):
            writer, reader = (one, two) if n % 3 else (two, one)
            stored = reader.read(USER, soon())
            assert stored.data == ({"n": n - 1} if n else {})
            assert writer.write(USER, writer.read(USER, soon()), stored.gen or new_gen(),
                                {"n": n}, soon())
        assert one.read(USER, soon()).data == two.read(USER, soon()).data == {"n": 59}


def test_a_conditional_write_refused_is_followed_by_a_fresh_read(db):
    with closing(SQLiteStore(db)) as one, closing(SQLiteStore(db)) as two:
        first = write(one, {"n": 1})
        write(two, {"n": 2})
        assert not one.write(USER, first, first.gen, {"n": 3}, soon()), "someone wrote since"
        again = one.read(USER, soon())
        assert again.data == {"n": 2}
        assert one.write(USER, again, again.gen, {"n": 3}, soon())
        assert two.read(USER, soon()).data == {"n": 3}


def test_the_commit_mark_stays_through_reads_and_moves_with_a_commit(db):
    with closing(SQLiteStore(db)) as store:
        write(store, {"n": 1})
        mark = commit_mark(str(db))
        at_first = mark()
        assert at_first is not None
        for _ in range(3):
            store.read(USER, soon())
        in_another_process(db, "SELECT * FROM user_attributes")  # it opens and closes the file
        assert mark() == at_first
        in_another_process(db, "UPDATE user_attributes SET version = 9 WHERE user_id = ?", USER)
        assert mark() not in (at_first, None)


def test_other_processes_opening_the_file_leave_every_commit_in_place(db):
    """The store's hold on the WAL index is never let go (a closed descriptor of the -shm
    would drop it): processes opening the file meanwhile take it as in use, not as theirs
    to rebuild, and no commit of either side is lost."""
    script = ("import sqlite3, sys\n"
              "for n in range(40):\n"
              "    c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)\n"
              "    c.execute('SELECT count(*) FROM user_attributes').fetchone()\n"
              "    c.execute('UPDATE user_attributes SET version = version + 1 "
              "WHERE user_id = ?', ('theirs',))\n"
              "    c.close()\n")
    with closing(SQLiteStore(db)) as store:
        assert store.write("theirs", Stored(), new_gen(), {"side": "theirs"}, soon())
        other = subprocess.Popen([sys.executable, "-c", script, str(db)])
        mine = 0
        while other.poll() is None or mine < 100:
            stored = store.read(USER, soon())
            assert stored.data == ({"n": mine} if mine else {})
            assert store.write(USER, stored, stored.gen or new_gen(), {"n": mine + 1}, soon())
            mine += 1
            store.read("theirs", soon())
        assert other.returncode == 0
        assert store.read(USER, soon()).data == {"n": mine}
        assert store.read("theirs", soon()).version == 41
    with closing(sqlite3.connect(db)) as conn:
        rows = dict(conn.execute("SELECT user_id, version FROM user_attributes"))
    assert rows == {USER: mine, "theirs": 41}


def test_a_database_without_a_wal_index_has_no_commit_mark(db):
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.commit()
    with pytest.raises(OSError):
        commit_mark(str(db))


def test_in_memory_every_read_is_the_stored_record():
    with closing(SQLiteStore(":memory:")) as store:
        for n in range(5):
            assert write(store, {"n": n}).data == {"n": n}
