"""Storage faults on a real SQLite file, while the web service runs (over loopback HTTP).

A garbled page restored, a deleted file, a write lock held by another process: each is survived
without a restart, every turn answers within Alexa's 8 seconds, and ``GET /health`` says 503
while the store cannot be read or written.
"""

from __future__ import annotations

import sqlite3
import threading
import time

import requests

from tests.support.envelopes import Session
from tests.support.helpers import delete_database
from tests.support.skill_servers import http_skill

NEXT = "AMAZON.NextIntent"
APOLOGY = "Sorry, something went wrong on my side."


def health(url: str) -> tuple[int, float]:
    started = time.monotonic()
    status = requests.get(url.replace("/alexa", "/health"), timeout=5).status_code
    return status, time.monotonic() - started


def checkpoint(db) -> None:
    """What a long-running store does by itself: the WAL's pages written into the file."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def test_a_garbled_page_then_restored_needs_no_restart(tmp_path):
    db = tmp_path / "garble.sqlite3"
    with http_skill(db) as (url, send):
        s = Session(send, user="garble")
        s.launch()
        s.say("AMAZON.YesIntent")
        expected = Session(send, user="control")
        expected.launch()
        expected.say("AMAZON.YesIntent")
        expected.say(NEXT)
        checkpoint(db)
        with db.open("r+b") as f:
            page = f.read(4096)
            f.seek(0)
            f.write(bytes(range(256)) * 16)
        s.say(NEXT)
        assert s.text.startswith(APOLOGY) and s.open
        assert health(url)[0] == 503
        with db.open("r+b") as f:
            f.write(page)
        s.say(NEXT)  # the user says it again: the same set, nothing lost
        assert s.text == expected.text
        assert health(url)[0] == 200


def test_a_deleted_file_is_noticed_and_a_new_one_opened(tmp_path, caplog):
    db = tmp_path / "deleted.sqlite3"
    with http_skill(db) as (url, send):
        Session(send, user="before").launch()
        delete_database(db)
        assert not db.exists()
        later = Session(send, user="after")
        later.launch()
        assert "Welcome" in later.text
        assert db.exists(), "a new file at the configured path"
        with sqlite3.connect(db) as conn:
            users = {row[0] for row in conn.execute("SELECT user_id FROM user_attributes")}
        assert users == {"amzn1.ask.account.after"}, "written to the new file, not the lost one"
        assert health(url)[0] == 200
    assert any("deleted or replaced" in r.getMessage() and r.levelname == "ERROR"
               for r in caplog.records)


def test_a_held_write_lock_never_holds_a_turn_past_eight_seconds(tmp_path):
    db = tmp_path / "locked.sqlite3"
    with http_skill(db) as (url, send):
        users = [Session(send, user=f"u{n}") for n in range(16)]
        for s in users:
            s.launch()
        blocker = sqlite3.connect(db, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        blocker.execute("UPDATE user_attributes SET updated_at = updated_at")
        times: list[float] = []
        texts: list[str] = []

        def turn(s: Session) -> None:
            started = time.monotonic()
            s.say(NEXT)
            times.append(time.monotonic() - started)
            texts.append(s.text)

        threads = [threading.Thread(target=turn, args=(s,)) for s in users]
        try:
            for t in threads:
                t.start()
            status, took = health(url)
            for t in threads:
                t.join(30)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert len(times) == 16 and max(times) < 8.0, times
        assert all(text.startswith(APOLOGY) for text in texts)
        assert status == 503 and took < 1.0
        # The lock is released: the same words go through, nobody's place was lost.
        for s in users:
            s.say(NEXT)
            assert s.text.startswith("Good, the ball."), s.text
        assert health(url)[0] == 200


def test_deleting_leaves_no_copy_in_the_file_or_its_wal(tmp_path):
    db = tmp_path / "forget.sqlite3"
    with http_skill(db) as (_, send):
        marker = "amzn1.ask.account.forget-me-7f3a"
        s = Session(send, user="forget-me-7f3a")
        s.launch()
        for _ in range(3):
            s.say(NEXT)
        s.say("SlowerIntent")
        files = [p for p in tmp_path.iterdir() if p.name.startswith("forget.sqlite3")]
        assert any(marker.encode() in p.read_bytes() for p in files)
        s.say("DeleteDataIntent")
        s.say("AMAZON.YesIntent")
        assert "I've deleted everything" in s.text
        for p in tmp_path.iterdir():
            if p.name.startswith("forget.sqlite3"):
                assert marker.encode() not in p.read_bytes(), p.name
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT count(*) FROM user_attributes").fetchone() == (0,)
