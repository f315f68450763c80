"""One store contract, run against SQLite (a real file) and DynamoDB (moto's server on loopback).

What the turns rely on: nothing stored reads as version 0; a write succeeds only on the version
it read (so two devices never undo each other); a delete leaves nothing a stale writer can
update; numbers come back as ints; the health probe writes and reads.
"""

from __future__ import annotations

import pytest

from skill.storage.record import Deadline, Stored, new_gen

RECORD = {"v": 2, "profile": {"equipment": "towel", "disclaimer_heard": True, "days_done": 12,
                              "streak": 3, "last_day": "2026-11-24", "resume_at": [4, 0],
                              "pace": -1, "weaker_side": None}}


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request, tmp_path):
    if request.param == "sqlite":
        from skill.storage.sqlite import SQLiteStore

        s = SQLiteStore(tmp_path / "contract.sqlite3")
        yield s
        s.close()
    else:
        moto_url, table = request.getfixturevalue("moto_url"), request.getfixturevalue("table")
        request.getfixturevalue("aws")(moto_url)
        from skill.storage.dynamodb import DynamoDbStore

        yield DynamoDbStore(table)


def soon() -> Deadline:
    return Deadline(5.0)


def test_nothing_stored_reads_as_version_zero(store):
    assert store.read("nobody", soon()) == Stored()
    assert not store.read("nobody", soon()).exists


def test_a_record_comes_back_as_written_with_ints(store):
    gen = new_gen()
    assert store.write("u1", Stored(), gen, RECORD, soon())
    got = store.read("u1", soon())
    assert (got.version, got.gen, got.data) == (1, gen, RECORD)
    assert type(got.data["profile"]["days_done"]) is int
    assert all(type(n) is int for n in got.data["profile"]["resume_at"])


def test_a_write_on_a_stale_version_is_refused_and_changes_nothing(store):
    gen = new_gen()
    assert store.write("u2", Stored(), gen, RECORD, soon())
    first = store.read("u2", soon())
    newer = {"v": 2, "profile": {**RECORD["profile"], "pace": 1}}
    assert store.write("u2", first, gen, newer, soon())  # device A
    stale = {"v": 2, "profile": {**RECORD["profile"], "pace": -2}}
    assert not store.write("u2", first, gen, stale, soon())  # device B, on what it read
    assert not store.write("u2", Stored(), new_gen(), stale, soon())  # nor as a new record
    now = store.read("u2", soon())
    assert (now.version, now.data["profile"]["pace"]) == (2, 1)


def test_after_a_delete_a_stale_writer_cannot_bring_the_record_back(store):
    gen = new_gen()
    assert store.write("u3", Stored(), gen, RECORD, soon())
    seen = store.read("u3", soon())
    store.delete("u3", soon())
    assert store.read("u3", soon()) == Stored()
    assert not store.write("u3", seen, gen, RECORD, soon())
    assert store.read("u3", soon()) == Stored()
    # A new record after the delete is a new incarnation, from version 1.
    fresh = new_gen()
    assert store.write("u3", Stored(), fresh, {"v": 2, "profile": {}}, soon())
    assert store.read("u3", soon()) == Stored(1, fresh, {"v": 2, "profile": {}})


def test_users_are_kept_apart(store):
    store.write("ann", Stored(), new_gen(), RECORD, soon())
    store.write("ken", Stored(), new_gen(), {"v": 2, "profile": {"pace": 1}}, soon())
    store.delete("ken", soon())
    assert store.read("ann", soon()).data == RECORD
    assert not store.read("ken", soon()).exists


def test_the_health_probe_writes_and_reads(store):
    store.probe()
    store.probe()
