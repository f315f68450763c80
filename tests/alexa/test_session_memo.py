"""What the skill keeps between a session's turns in one process (``skill.alexa.memo``) never
changes what it answers: a conversation it has seen is still checked against the day and the
stored record, and one changed after it was seen is decoded, and refused, afresh."""

from __future__ import annotations

import copy
import logging

from skill.alexa.memo import Memo
from tests.support.envelopes import Session, intent, speech_text


def test_a_session_sending_the_same_turn_again_gets_the_same_answer(send):
    session = Session(send)
    session.launch()
    session.say("AMAZON.YesIntent")
    before = copy.deepcopy(session.attributes)
    first = send(intent("AMAZON.NextIntent", new=False, session_id=session.session_id,
                        attributes=copy.deepcopy(before)))
    again = send(intent("AMAZON.NextIntent", new=False, session_id=session.session_id,
                        attributes=copy.deepcopy(before)))
    assert speech_text(again) == speech_text(first)
    assert again["sessionAttributes"]["state"] == first["sessionAttributes"]["state"]


def test_a_conversation_changed_after_the_skill_saw_it_is_refused(send, caplog):
    session = Session(send)
    session.launch()
    session.say("AMAZON.YesIntent")  # the first step's intro; this state is now kept
    session.attributes["state"]["pos"] = [42, 0]  # the same session, sent back altered
    with caplog.at_level(logging.WARNING):
        session.say("AMAZON.NextIntent")
    assert "session attributes rejected" in caplog.text
    assert session.open


def test_a_kept_conversation_is_still_checked_against_the_request_day(send, caplog):
    session = Session(send)
    session.launch()
    session.say("AMAZON.YesIntent")
    kept = copy.deepcopy(session.attributes)
    send(intent("AMAZON.RepeatIntent", new=False, session_id=session.session_id,
                attributes=copy.deepcopy(kept)))  # seen twice: surely kept
    with caplog.at_level(logging.WARNING):
        reply = send(intent("AMAZON.NextIntent", new=False, session_id=session.session_id,
                            attributes=kept, timestamp="2020-01-01T09:00:00Z"))
    assert "session attributes rejected" in caplog.text  # its day is after the request's
    assert reply["response"]["shouldEndSession"] is False


def test_the_memo_keeps_at_most_its_size_and_drops_the_oldest_first():
    memo = Memo(2)
    for key in ("a", "b", "c"):
        memo.put(key, key.upper())
    assert len(memo) == 2
    assert memo.get("a") is None and memo.get("b") == "B" and memo.get("c") == "C"
    memo.put("b", "B2")  # a key already kept takes no room
    assert len(memo) == 2 and memo.get("b") == "B2"
