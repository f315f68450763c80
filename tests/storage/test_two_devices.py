"""Two Echo devices of one user, sessions interleaved, through the Lambda entry point.

On SQLite (a file) and on DynamoDB (moto's server): neither device undoes the other's finished
day, pace or delete; a deleted record stays deleted for a session that began before the delete,
and a new launch starts afresh.
"""

from __future__ import annotations

import json
import sqlite3
import threading

import pytest

import skill.lambda_function as lambda_function
from skill.alexa.record import Change, DayDone, RecordKeeper
from skill.content.loader import load_content
from skill.hosting import settings
from skill.storage.record import Deadline
from tests.support.envelopes import Session

NEXT = "AMAZON.NextIntent"


@pytest.fixture(params=["sqlite", "dynamodb"])
def household(request, tmp_path, monkeypatch):
    """(send, stored): the Lambda handler on one store, and the user's stored profile."""
    monkeypatch.setattr(lambda_function, "_runtime", None)
    monkeypatch.delenv(settings.SKILL_ID_ENV, raising=False)
    if request.param == "sqlite":
        db = tmp_path / "home.sqlite3"
        monkeypatch.setenv(settings.DATABASE_ENV, str(db))
        monkeypatch.delenv(settings.TABLE_ENV, raising=False)

        def stored(user: str) -> dict | None:
            with sqlite3.connect(db) as conn:
                row = conn.execute("SELECT attributes FROM user_attributes WHERE user_id = ?",
                                   (f"amzn1.ask.account.{user}",)).fetchone()
            return None if row is None else json.loads(row[0])["profile"]
    else:
        moto_url, table = request.getfixturevalue("moto_url"), request.getfixturevalue("table")
        dynamo_db = request.getfixturevalue("dynamo_db")
        request.getfixturevalue("aws")(moto_url)
        monkeypatch.delenv(settings.DATABASE_ENV, raising=False)
        monkeypatch.setenv(settings.TABLE_ENV, table)

        def stored(user: str) -> dict | None:
            item = dynamo_db.item(table, user)
            return None if item is None else item["attributes"]["profile"]

    yield (lambda envelope: lambda_function.handler(envelope, None)), stored
    monkeypatch.setattr(lambda_function, "_runtime", None)


def devices(send, user: str) -> tuple[Session, Session]:
    return Session(send, user=user), Session(send, user=user)


def test_a_finished_day_on_one_device_survives_the_other(household):
    send, stored = household
    a, b = devices(send, "pair")
    b.launch()
    b.say("AMAZON.YesIntent")  # B chose the ball and hears step 1
    a.finish_routine()
    assert (stored("pair")["days_done"], stored("pair")["streak"]) == (1, 1)
    b.say(NEXT)  # B goes on with its set: its place is saved, A's day is kept
    b.say(NEXT)
    profile = stored("pair")
    assert (profile["days_done"], profile["streak"]) == (1, 1)
    assert profile["last_day"] == "2026-11-25"
    assert profile["resume_at"] == [0, 1]
    b.finish_routine()  # the same day again: still one day done
    assert stored("pair")["days_done"] == 1


def test_a_pace_set_on_one_device_is_not_undone_by_the_other(household):
    send, stored = household
    a, b = devices(send, "pace")
    a.launch()
    b.launch()
    b.say("AMAZON.YesIntent")
    a.say("SlowerIntent")
    assert stored("pace")["pace"] == -1
    b.say(NEXT)
    assert stored("pace")["pace"] == -1
    assert '<prosody rate="90%">' in b.last["response"]["outputSpeech"]["ssml"]
    b.say("AMAZON.StopIntent")
    later = Session(send, user="pace")
    later.launch()
    assert '<prosody rate="90%">' in later.last["response"]["outputSpeech"]["ssml"]


def test_a_delete_on_one_device_is_not_undone_by_the_other(household):
    send, stored = household
    a, b = devices(send, "gone")
    Session(send, user="gone").finish_routine()
    a.launch()
    b.launch()
    b.say("AMAZON.YesIntent")
    a.say("DeleteDataIntent")
    a.say("AMAZON.YesIntent")
    assert stored("gone") is None
    for _ in range(3):  # B's session goes on, and never writes the record back
        b.say(NEXT)
        assert b.open and b.text
        assert stored("gone") is None
    b.say("AMAZON.StopIntent")
    assert stored("gone") is None
    fresh = Session(send, user="gone")  # a new launch after the delete: a new user
    fresh.launch()
    profile = stored("gone")
    assert profile["days_done"] == 0 and profile["disclaimer_heard"] is True
    assert "not a substitute for medical advice" in fresh.text


def test_a_write_in_between_is_reread_and_kept(household):
    """The conflict path: B read the record, A wrote, then B applies its change."""
    send, stored = household
    Session(send, user="race").finish_routine()  # day 1 on 2026-11-25
    runtime = lambda_function._runtime
    keeper = RecordKeeper(runtime.store, load_content().routine)
    user = "amzn1.ask.account.race"
    b_loaded = keeper.load(user, "2026-11-26", Deadline(5))
    a_loaded = keeper.load(user, "2026-11-26", Deadline(5))
    a_day = Change(day_done=DayDone("2026-11-26", 1, 2, "2026-11-25"))
    keeper.apply(user, a_day, a_loaded, a_loaded.stored.gen, "2026-11-26", Deadline(5))
    b_pace = Change(values=(("pace", 1),))
    keeper.apply(user, b_pace, b_loaded, b_loaded.stored.gen, "2026-11-26", Deadline(5))
    profile = stored("race")
    assert (profile["days_done"], profile["streak"], profile["pace"]) == (2, 2, 1)
    # B's own finished day on the same date, applied on A's: counted once.
    keeper.apply(user, a_day, b_loaded, b_loaded.stored.gen, "2026-11-26", Deadline(5))
    assert stored("race")["days_done"] == 2


def test_many_devices_at_once_lose_no_change(household):
    send, stored = household
    Session(send, user="crowd").launch()
    others = [Session(send, user="crowd") for _ in range(4)]
    for s in others:
        s.launch()
    errors = []

    def run(work) -> None:
        try:
            work()
        except Exception as e:  # reported below
            errors.append(e)

    def keep_going(s: Session) -> None:
        for _ in range(4):
            s.say(NEXT)

    finisher = Session(send, user="crowd")
    threads = [threading.Thread(target=run, args=(lambda s=s: keep_going(s),)) for s in others]
    threads.append(threading.Thread(target=run, args=(finisher.finish_routine,)))
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert all("Sorry" not in s.text for s in (*others, finisher))
    assert stored("crowd")["days_done"] == 1, "the finished day is kept whatever the others did"
