"""Stored and session values are checked for meaning: a value that fails is dropped (logged
once, never stored again) and the turn goes on. Through the Lambda entry point, on SQLite."""

from __future__ import annotations

import json
import logging
import sqlite3

import pytest

from skill.alexa import codec
from skill.core.machine import State
from tests.support.envelopes import Session, intent
from tests.support.skill_servers import lambda_skill

USER = "amzn1.ask.account.checked"


@pytest.fixture
def skill(tmp_path, monkeypatch):
    db = tmp_path / "values.sqlite3"
    with lambda_skill(db, monkeypatch) as send:
        send(intent("AMAZON.HelpIntent", user="someone-else"))  # creates the file and schema
        yield send, db


def put_record(db, profile: dict) -> None:
    """A record as an older version of the skill, or a damaged file, would have left it."""
    doc = json.dumps({"v": 1, "profile": profile})
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT OR REPLACE INTO user_attributes (user_id, attributes) VALUES (?, ?)",
                     (USER, doc))


def stored(db) -> dict:
    with sqlite3.connect(db) as conn:
        (doc,) = conn.execute("SELECT attributes FROM user_attributes WHERE user_id = ?",
                              (USER,)).fetchone()
    return json.loads(doc)["profile"]


def finish(send) -> Session:
    return Session(send, user="checked").finish_routine()


def dropped_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "dropped as meaningless" in r.getMessage()]


def test_a_last_day_that_is_not_a_date_does_not_block_the_routine(skill, caplog):
    send, db = skill
    put_record(db, {"disclaimer_heard": True, "days_done": 4, "streak": 2,
                    "last_day": "yesterday-ish"})
    with caplog.at_level(logging.WARNING):
        s = finish(send)
    assert "Sorry" not in s.text and "that's the whole routine" in s.text
    profile = stored(db)
    assert profile["last_day"] == "2026-11-25" and profile["days_done"] == 5
    assert len(dropped_lines(caplog)) == 1, "logged once, then stored repaired"


@pytest.mark.parametrize(("bad", "field"), [
    ({"days_done": 999_999, "streak": 0}, "days_done"),
    ({"days_done": 3, "streak": 40}, "streak"),
    ({"days_done": 3, "streak": 1, "last_day": "2031-01-01"}, "last_day"),
    ({"days_done": 3, "resume_at": [99, 5]}, "resume_at"),
    ({"days_done": 3, "resume_at": [1, 77]}, "resume_at"),
])
def test_meaningless_values_are_dropped_and_never_stored_again(skill, caplog, bad, field):
    send, db = skill
    put_record(db, {"disclaimer_heard": True, **bad})
    with caplog.at_level(logging.WARNING):
        s = Session(send, user="checked")
        s.launch()
        s.say("SlowerIntent")  # a change: the record is written back, repaired
        s.say("AMAZON.HelpIntent")
    assert "Sorry" not in s.text and s.open
    profile = stored(db)
    assert profile[field] != bad[field]
    assert profile["streak"] <= profile["days_done"] <= codec.MAX_DAYS
    assert profile["pace"] == -1
    assert [field in line for line in dropped_lines(caplog)] == [True]


def test_a_resume_place_outside_the_routine_is_not_offered(skill):
    send, db = skill
    put_record(db, {"disclaimer_heard": True, "days_done": 2, "resume_at": [42, 0]})
    s = Session(send, user="checked")
    s.launch()
    assert "Last time you stopped" not in s.text and "Welcome back" in s.text


def test_an_old_records_pain_flag_is_dropped_and_never_written(skill):
    send, db = skill
    put_record(db, {"disclaimer_heard": True, "days_done": 2, "streak": 1,
                    "last_day": "2026-11-20", "pain_last": True})
    s = Session(send, user="checked")
    s.launch()
    assert "knee hurt" not in s.text.lower() and s.open
    s.say("SlowerIntent")
    assert "pain_last" not in stored(db)


def test_a_session_day_in_the_future_is_not_trusted(skill):
    send, _ = skill
    forged = codec.state_to_dict(State(today="2031-05-05"), profile=False)
    reply = send(intent("AMAZON.NextIntent", user="checked", new=False,
                        attributes={"state": forged}))
    state = reply["sessionAttributes"]["state"]
    assert state["today"] == "2026-11-25"
