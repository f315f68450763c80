"""The skill end to end, through both entry points, with Alexa-shaped envelopes and SQLite."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import threading

import pytest
import requests

from skill.content.loader import LOCALES
from tests.support.envelopes import Session, custom_slot, launch, number_slot, speech_text
from tests.support.helpers import prompt_text as say
from tests.support.skill_servers import http_skill, lambda_skill


def assert_alexa_response(response):
    body = response["response"]
    assert response["version"] == "1.0"
    assert isinstance(body["shouldEndSession"], bool)
    if body["shouldEndSession"] is False:
        assert body["reprompt"]["outputSpeech"]["ssml"].startswith("<speak>")
    else:
        assert "reprompt" not in body


def run_to_the_end(s: Session, limit: int = 30) -> list[dict]:
    s.launch()
    turns = [s.last]
    if s.last["sessionAttributes"]["state"]["phase"] == "equipment":
        turns.append(s.say("AMAZON.YesIntent"))  # yes, a ball
    for _ in range(limit):
        turns.append(s.say("AMAZON.NextIntent"))
        if not s.open:
            break
    return turns


@pytest.mark.parametrize("locale", LOCALES)
def test_a_full_routine_from_launch_to_the_end(send, content, locale):
    s = Session(send, locale=locale)
    turns = run_to_the_end(s)
    for turn in turns:
        assert_alexa_response(turn)
    assert not s.open, "the routine ends and the session closes"
    assert say(content, locale, "routine_done") in s.text
    titles = [t["response"]["card"]["title"] for t in turns if "card" in t["response"]]
    for i, step in enumerate(content.for_locale(locale).steps):
        assert any(step.title in title for title in titles), f"no card for step {i + 1}"
    welcome = speech_text(turns[0])
    assert say(content, locale, "disclaimer") in welcome


def test_both_entry_points_say_the_same(tmp_path, monkeypatch):
    transcripts = []
    with lambda_skill(tmp_path / "a.sqlite3", monkeypatch) as send:
        transcripts.append([speech_text(t) for t in run_to_the_end(Session(send, locale="ja-JP"))])
    with http_skill(tmp_path / "b.sqlite3") as (_, send):
        transcripts.append([speech_text(t) for t in run_to_the_end(Session(send, locale="ja-JP"))])
    assert transcripts[0] == transcripts[1]


def test_repeat_says_the_timed_set_again(send):
    s = Session(send)
    s.launch()
    s.say("AMAZON.YesIntent")
    first_set = s.say("AMAZON.NextIntent")
    again = s.say("AMAZON.RepeatIntent")
    assert speech_text(again) == speech_text(first_set)
    assert "Right leg." in speech_text(again)
    assert s.open


def test_pause_saves_ends_and_a_new_session_resumes_at_the_same_step(send, content):
    s = Session(send, user="pauser")
    s.launch()
    s.say("AMAZON.YesIntent")  # the equipment question: a ball
    for _ in range(3):  # step 1 intro, right side, left side, step 2 intro
        s.say("AMAZON.NextIntent")
    s.say("AMAZON.PauseIntent")
    assert say(content, "en-US", "paused", number=2) in s.text and not s.open
    assert "Alexa, open knee routine" in s.text

    later = Session(send, user="pauser")
    later.launch()
    assert later.text.endswith(say(content, "en-US", "resume_offer", number=2))
    later.say("AMAZON.YesIntent")
    assert say(content, "en-US", "resuming", number=2) in later.text
    assert "Step 2: Knee press-down." in later.text


def test_continue_after_a_set_plays_the_next_set_after_a_get_ready_lead(send, content):
    s = Session(send)
    s.launch()
    s.say("AMAZON.YesIntent")
    s.say("AMAZON.NextIntent")  # the right leg
    resumed = speech_text(s.say("AMAZON.ResumeIntent"))
    assert resumed.startswith(say(content, "en-US", "get_ready") + " Left leg.")


def test_pain_mid_set_stops_and_asks_then_sends_to_a_doctor(send, content, tmp_path):
    s = Session(send, user="hurts", locale="ja-JP")
    s.launch()
    s.say("AMAZON.YesIntent")
    s.say("AMAZON.NextIntent")
    s.say("PainIntent")
    assert s.text.startswith(say(content, "ja-JP", "pain_stop"))
    assert s.text.endswith(say(content, "ja-JP", "ask_pain_sharp")) and s.open
    s.say("AMAZON.NoIntent")
    assert say(content, "ja-JP", "ask_pain_swelling") in s.text
    s.say("AMAZON.YesIntent")
    assert s.text == say(content, "ja-JP", "pain_yes_swelling") and not s.open

    # Nothing about pain is kept: the stored record holds the place, not the pain answer,
    # and the next launch is the same as for anyone who stopped there.
    with sqlite3.connect(tmp_path / "store.sqlite3") as conn:
        (doc,) = conn.execute("SELECT attributes FROM user_attributes").fetchone()
    assert "pain" not in doc
    later = Session(send, user="hurts", locale="ja-JP")
    later.launch()  # nothing about the pain was kept: the safety line everyone hears
    assert say(content, "ja-JP", "safety_launch") in later.text


@pytest.mark.parametrize("locale", LOCALES)
def test_each_faq_mid_routine_then_back_to_the_step(send, content, locale):
    s = Session(send, locale=locale)
    s.launch()
    s.say("AMAZON.YesIntent")
    s.say("AMAZON.NextIntent")  # the right side of step 1 is done
    for topic in content.for_locale(locale).faq.values():
        s.say("FaqIntent", custom_slot("topic", topic.phrasings[0], topic.id))
        assert s.text.startswith(topic.answer), topic.id
        assert s.text.endswith(say(content, locale, "ask_next_side",
                                   side=content.for_locale(locale).sides["left"]))
        assert s.open
    s.say("AMAZON.NextIntent")
    assert content.for_locale(locale).side_titles["left"] in s.text


def test_a_faq_phrasing_without_entity_resolution_still_finds_its_answer(send, content):
    s = Session(send)
    s.launch()
    spoken = "Can I use a towel instead of the ball"
    s.say("FaqIntent", {"topic": {"name": "topic", "value": spoken}})
    assert content.for_locale("en-US").faq["no_ball"].answer in s.text


def test_help_fallback_stop_and_cancel_from_several_states(send, content):
    s = Session(send)
    s.launch()
    s.say("AMAZON.HelpIntent")
    assert say(content, "en-US", "help_equipment") in s.text and s.open
    s.say("AMAZON.NextIntent")
    s.say("AMAZON.HelpIntent")
    assert say(content, "en-US", "help_intro", number=1) in s.text and s.open
    s.say("AMAZON.FallbackIntent")
    assert say(content, "en-US", "fallback_intro") in s.text and s.open
    s.say("AMAZON.NextIntent")
    s.say("AMAZON.HelpIntent")
    assert say(content, "en-US", "help_after_set", number=1) in s.text
    s.say("AMAZON.StopIntent")
    assert say(content, "en-US", "goodbye_saved", number=1) in s.text and not s.open

    c = Session(send, user="canceller")
    c.launch()
    c.say("AMAZON.CancelIntent")
    assert not c.open and c.text


def test_go_to_step_and_equipment_slots(send, content):
    s = Session(send)
    s.launch()
    s.say("EquipmentIntent", custom_slot("equipment", "folded towel", "towel"))
    assert "Good, the towel." in s.text
    s.say("GoToStepIntent", number_slot("step", 4))
    assert "Step 4: Side-lying press." in s.text
    assert s.last["response"]["card"]["title"].endswith("Side-lying press")
    s.say("GoToStepIntent", number_slot("step", 7))
    assert say(content, "en-US", "invalid_step", total=5) in s.text


def test_delete_my_data_after_confirmation(send, tmp_path, content):
    s = Session(send, user="forgetful")
    run_to_the_end(s)
    again = Session(send, user="forgetful")
    again.launch()
    assert say(content, "en-US", "disclaimer") not in again.text  # remembered
    again.say("DeleteDataIntent")
    assert "Shall I delete it all?" in again.text
    again.say("AMAZON.NoIntent")
    assert "I haven't deleted anything" in again.text
    again.say("DeleteDataIntent")
    again.say("AMAZON.YesIntent")
    assert "I've deleted everything" in again.text and not again.open
    fresh = Session(send, user="forgetful")
    fresh.launch()
    assert say(content, "en-US", "disclaimer") in fresh.text  # a new user again


def test_session_ended_gets_an_empty_response(send):
    s = Session(send)
    s.launch()
    response = s.end("ERROR")
    assert response["response"] == {}


def test_an_unknown_locale_is_answered_in_english(send):
    s = Session(send, locale="fr-FR")
    s.launch()
    assert s.text.startswith("Welcome to Knee Routine")


def test_a_failing_store_gets_a_spoken_apology_and_a_reprompt(tmp_path):
    from skill.storage.record import Stored, StoreError

    class FullDisk:
        """Reads work; every write fails, as on a full disk."""

        def read(self, user_id, deadline):
            return Stored()

        def write(self, user_id, expected, gen, data, deadline):
            raise StoreError("disk full")

        def delete(self, user_id, deadline):
            raise StoreError("disk full")

        def probe(self, seconds=1.0):
            raise StoreError("disk full")

    with http_skill(tmp_path / "x.sqlite3", PERSISTENCE=FullDisk()) as (url, send):
        s = Session(send)
        s.launch()
        assert s.text == "Sorry, something went wrong on my side. Please say that again."
        assert s.open and s.attributes == {}
        health = requests.get(url.replace("/alexa", "/health"), timeout=5)
        assert health.status_code == 503


def test_persistence_survives_a_process_restart(tmp_path):
    """Pause in one process, relaunch in another: the same SQLite file remembers step 2."""
    db = tmp_path / "restart.sqlite3"
    script = textwrap.dedent("""
        import json, sys
        from skill.lambda_function import handler
        for line in sys.stdin:
            print(json.dumps(handler(json.loads(line), None), ensure_ascii=False), flush=True)
    """)
    env = {"KNEE_ROUTINE_DB": str(db), "PATH": "/usr/bin:/bin"}

    def run(envelopes):
        lines = "\n".join(json.dumps(e) for e in envelopes) + "\n"
        out = subprocess.run([sys.executable, "-c", script], input=lines, capture_output=True,
                             text=True, env=env, check=True, timeout=60)
        return [json.loads(line) for line in out.stdout.splitlines()]

    # Every turn runs in a new process: only the SQLite file carries what is remembered.
    s = Session(lambda e: run([e])[0], user="restart")
    s.launch()
    s.say("AMAZON.YesIntent")  # the equipment question: a ball
    for _ in range(3):
        s.say("AMAZON.NextIntent")
    s.say("AMAZON.StopIntent")
    assert "step 2" in s.text
    later = run([launch(user="restart")])[0]
    assert "Shall we go on from step 2?" in speech_text(later)
    with sqlite3.connect(db) as conn:
        (doc,) = conn.execute("SELECT attributes FROM user_attributes").fetchone()
    assert json.loads(doc)["profile"]["resume_at"] == [1, -1]


def test_two_users_at_the_same_time_never_mix(tmp_path):
    with http_skill(tmp_path / "shared.sqlite3") as (_, send):
        results = {}

        def routine(user, steps):
            s = Session(send, user=user)
            s.launch()
            s.say("AMAZON.YesIntent")  # the equipment question: a ball
            for _ in range(steps - 1):
                s.say("AMAZON.NextIntent")
            s.say("AMAZON.StopIntent")
            results[user] = s.text

        threads = [threading.Thread(target=routine, args=(f"user-{n}", 1 + 3 * (n % 3)))
                   for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for n in range(6):
            expected_step = {0: 1, 1: 2, 2: 3}[n % 3]
            assert f"step {expected_step}." in results[f"user-{n}"], results[f"user-{n}"]
