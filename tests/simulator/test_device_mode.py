"""Device mode: the simulators keep time as an Echo does (speaking, 8 s, reprompt, 8 s, the end).

The skill runs in-process on SQLite; time is a ``ScriptClock``, so a 60-second set takes no time.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from skill.content.loader import load_content
from skill.simulator.device import Device
from skill.simulator.listening import (
    CLOSED,
    LISTENING,
    LISTENING_AGAIN,
    REPROMPTING,
    SPEAKING,
    Echo,
    ScriptClock,
    Window,
    starts_with_wake_word,
)
from skill.simulator.nlu import for_locale
from skill.simulator.senders import in_process
from skill.simulator.speech import spoken_seconds

from .test_chat import chat, turns

WORDS = {
    "ja-JP": {"wake": "アレクサ、", "open": "アレクサ、ひざトレーニングを開いて", "start": "はい",
              "next": "次へ", "pain": "アレクサ、膝が痛い"},
    "en-US": {"wake": "Alexa, ", "open": "Alexa, open knee routine", "start": "yes",
              "next": "next", "pain": "Alexa, my knee hurts"},
}


class Recording:
    """The real skill in-process; every envelope it was sent is kept."""

    def __init__(self, db) -> None:
        self.skill = in_process(db)
        self.sent: list[dict] = []

    def __call__(self, envelope: dict) -> dict:
        self.sent.append(envelope)
        return self.skill(envelope)

    def requests(self) -> list[str]:
        return [e["request"].get("intent", {}).get("name") or e["request"]["type"]
                for e in self.sent]


def echo_for(locale: str, tmp_path) -> tuple[Echo, Recording]:
    skill = Recording(tmp_path / "device.sqlite3")
    device = Device(skill, locale, user_id="amzn1.ask.account.device-mode")
    return Echo(device, load_content().for_locale(locale).rate, ScriptClock()), skill


def kinds(happenings) -> list[str]:
    return [h.kind for h in happenings]


# -- the listening window on its own -----------------------------------------------------------


def test_the_window_after_a_response():
    window = Window(start=100.0, speech=12.0, reprompt=3.0)
    assert [window.phase(t) for t in (100, 111.9, 112, 119.9, 120, 122.9, 123, 130.9, 131)] == [
        SPEAKING, SPEAKING, LISTENING, LISTENING, REPROMPTING, REPROMPTING, LISTENING_AGAIN,
        LISTENING_AGAIN, CLOSED]
    assert window.marks() == [(112, LISTENING), (120, REPROMPTING), (123, LISTENING_AGAIN),
                              (131, CLOSED)]
    silent = Window(start=0.0, speech=5.0, reprompt=0.0, has_reprompt=False)
    assert silent.marks() == [(5, LISTENING), (13, CLOSED)] and silent.phase(13) == CLOSED


@pytest.mark.parametrize("locale, text, woke", [
    ("ja-JP", "アレクサ、次へ", True), ("ja-JP", "あれくさ 次へ", True),
    ("ja-JP", "アレクサ", True),
    ("ja-JP", "次へ", False), ("ja-JP", "次へ、アレクサ", False),
    ("en-US", "Alexa, next", True), ("en-US", "ALEXA next", True), ("en-US", "alexa", True),
    ("en-US", "next", False), ("en-US", "Alexander, next", False), ("en-US", "next, Alexa", False),
])
def test_only_a_line_that_starts_with_the_wake_word_wakes_it(locale, text, woke):
    assert starts_with_wake_word(for_locale(locale), text) is woke


# -- conversations ---------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["ja-JP", "en-US"])
def test_silence_after_the_launch_reprompts_then_ends_the_session(locale, tmp_path):
    echo, skill = echo_for(locale, tmp_path)
    words = WORDS[locale]
    said = echo.say(words["open"])
    assert kinds(said) == ["exchange", "said"]
    reply = said[0].exchange.reply
    speech = spoken_seconds(reply.ssml, echo.rate)
    assert said[1].seconds == pytest.approx(speech) and speech > 5

    # 5 s of silence after Alexa stops: still listening, nothing sent.
    assert kinds(echo.wait(speech + 5)) == [LISTENING] and echo.phase == LISTENING
    # 9 s: it said the reprompt (and, once that is said, listens again).
    reprompt = spoken_seconds(reply.reprompt_ssml, echo.rate)
    happened = echo.wait(4)
    assert kinds(happened) == [REPROMPTING] and happened[0].reprompt == reply.reprompt
    assert kinds(echo.wait(reprompt)) == [LISTENING_AGAIN] and echo.device.session_open
    assert skill.requests() == ["LaunchRequest"]

    # Silent to the end of the second window: the session ends and the skill is told why.
    assert echo.wait(6.9) == []  # 7.9 s into the second window
    happened = echo.wait(0.2)
    assert kinds(happened) == [CLOSED] and not echo.device.session_open
    assert skill.sent[-1]["request"] == {**skill.sent[-1]["request"],
                                         "type": "SessionEndedRequest",
                                         "reason": "EXCEEDED_MAX_REPROMPTS"}
    assert skill.sent[-1]["session"]["sessionId"] == skill.sent[0]["session"]["sessionId"]

    # Without a session, only the wake word is heard, and only a request that names the skill
    # reaches it ("Alexa, next" is Alexa's own business).
    assert [h.reason for h in echo.say(words["next"])] == ["idle"]
    assert [h.reason for h in echo.say(words["wake"] + words["next"])] == ["unnamed"]
    assert skill.requests() == ["LaunchRequest", "SessionEndedRequest"]
    assert kinds(echo.say(words["open"])) == ["exchange", "said"]
    assert skill.requests()[-1] == "LaunchRequest"


@pytest.mark.parametrize("locale", ["ja-JP", "en-US"])
def test_while_alexa_speaks_only_the_wake_word_is_heard(locale, tmp_path):
    echo, skill = echo_for(locale, tmp_path)
    words = WORDS[locale]
    echo.say(words["open"])
    echo.say(words["start"])  # not heard: Alexa is still speaking the welcome
    assert skill.requests() == ["LaunchRequest"]
    echo.wait_for_speech_end()
    echo.say(words["start"])
    echo.wait_for_speech_end()
    said = echo.say(words["next"])  # the first timed set
    set_seconds = said[-1].seconds
    assert said[-1].kind == "said" and set_seconds > 20

    echo.wait(3)
    not_heard = echo.say(words["next"][:2] if locale == "ja-JP" else "stop")
    assert kinds(not_heard) == ["not heard"] and not_heard[0].reason == "speaking"
    sent = len(skill.sent)
    pain = echo.say(words["pain"])  # 3 s into the set: heard, and it interrupts
    assert kinds(pain)[:2] == ["interrupted", "exchange"] and pain[0].seconds == pytest.approx(3)
    assert pain[1].exchange.heard.intent == "PainIntent" and len(skill.sent) == sent + 1


def test_the_wake_word_alone_stops_the_speech_and_opens_the_microphone(tmp_path):
    echo, skill = echo_for("en-US", tmp_path)
    echo.say("Alexa, open knee routine")
    echo.wait(2)
    assert kinds(echo.say("Alexa")) == ["interrupted", LISTENING]
    assert echo.phase == LISTENING and skill.requests() == ["LaunchRequest"]
    assert kinds(echo.say("help"))[0] == "exchange"  # heard without the wake word now


def test_request_timestamps_follow_the_clock(tmp_path):
    echo, skill = echo_for("en-US", tmp_path)
    echo.say("Alexa, open knee routine")
    echo.wait(600)
    echo.say("Alexa, open knee routine")
    first, *_, last = (dt.datetime.fromisoformat(e["request"]["timestamp"]) for e in skill.sent)
    assert (last - first).total_seconds() == pytest.approx(600, abs=1)


# -- knee-routine chat --device ------------------------------------------------------------------


def test_chat_in_device_mode_prints_what_happened(tmp_path):
    script = "\n".join([
        "open knee routine",  # no wake word, no session: not heard
        "Alexa, open knee routine",
        "start",  # said when Alexa has finished speaking
        "/at 3",
        "next",  # 3 s into step 1's instructions: not heard
        "/silence",  # no answer: listening, the reprompt, listening again
        "/silence",
    ]) + "\n"
    result = chat("--locale", "en-US", "--device", "--db", str(tmp_path / "c.sqlite3"),
                  script=script)
    assert result.returncode == 0, result.stderr
    assert "device mode (script time" in result.stdout.splitlines()[0]
    said = turns(result.stdout)
    assert [s for s, _ in said] == script.split("\n")[:-1]
    out = dict(said)
    assert "(not heard: no session is open" in out["open knee routine"]
    assert "-> LaunchRequest" in out["Alexa, open knee routine"]
    assert re.search(r"\(Alexa is speaking: about \d+(\.\d)? s\)\n  \(listening… 8 s\)\n$",
                     out["Alexa, open knee routine"])
    assert "-> StartRoutineIntent" in out["start"]
    assert out["next"].strip() == "(not heard: Alexa was speaking)"
    silence, again = (o for s, o in said if s == "/silence")
    assert silence.lstrip("\n").startswith("  (listening… 8 s)\n  (reprompt)\nAlexa: ")
    assert silence.rstrip().endswith("(listening… 8 s)")
    assert again.lstrip("\n").startswith("  (session ended: no answer)\n")
    assert "SessionEndedRequest (EXCEEDED_MAX_REPROMPTS)" in again
    assert "Traceback" not in result.stdout + result.stderr


def test_a_script_that_ends_walks_away_from_the_echo(tmp_path):
    result = chat("--locale", "ja-JP", "--device", "--db", str(tmp_path / "c.sqlite3"),
                  script="アレクサ、ひざトレーニングを開いて\n/wait 2\n/wait abc\n")
    assert result.returncode == 0, result.stderr
    tail = turns(result.stdout)[-1][1]
    assert "(say how long: /wait 12)" in tail
    assert "(you walked away)" in tail and "(reprompt)" in tail
    assert tail.rstrip().endswith("[session ended]")
    assert "SessionEndedRequest (EXCEEDED_MAX_REPROMPTS)" in tail and "USER_INITIATED" not in tail


def test_wait_outside_device_mode_says_it_does_nothing(tmp_path):
    result = chat("--locale", "en-US", "--db", str(tmp_path / "c.sqlite3"),
                  script="open knee routine\n/wait 30\nhelp\n")
    assert result.returncode == 0, result.stderr
    said = dict(turns(result.stdout))
    assert "time only matters in device mode" in said["/wait 30"]
    assert "-> AMAZON.HelpIntent" in said["help"]


def test_at_a_terminal_the_echo_acts_while_the_user_types_nothing(tmp_path):
    import io
    import os

    from skill.simulator.chat import converse, timed_utterances
    from skill.simulator.terminal import Printer

    echo, skill = echo_for("en-US", tmp_path)
    echo.say("Alexa, open knee routine")
    echo.clock.skip(echo.window.closes - echo.clock.now())  # time passed: the window is over
    read, write = os.pipe()
    with os.fdopen(read) as keyboard, os.fdopen(write, "w") as typing:
        out = io.StringIO()
        lines = timed_utterances(keyboard, echo, Printer(out, device=True))
        assert next(lines) is None  # nothing typed, but the Echo has things to do
        typing.write("Alexa, ask knee routine for help\n")
        typing.close()
        printer = Printer(out, device=True)
        assert converse(echo.device, lines, printer, echo) == 0
    printed = out.getvalue()
    assert skill.requests() == ["LaunchRequest", "SessionEndedRequest", "AMAZON.HelpIntent",
                                "SessionEndedRequest"]
    assert printed.index("(session ended: no answer)") < printed.index("-> AMAZON.HelpIntent")
    assert "(you walked away)" in printed
    assert [e["request"]["reason"] for e in skill.sent if "reason" in e["request"]] == [
        "EXCEEDED_MAX_REPROMPTS", "EXCEEDED_MAX_REPROMPTS"]


@pytest.mark.parametrize("locale", ["ja-JP", "en-US"])
def test_a_script_stays_silent_and_interrupts_a_set(locale, tmp_path):
    words = WORDS[locale]
    script = "\n".join([
        words["open"],
        "/wait 5",  # silent 5 s after the welcome: still listening
        "/wait 35",  # 40 s: the reprompt was said, and the second window is over
        words["open"],
        words["start"],
        words["next"],  # the first timed set
        "/at 3",
        words["pain"],  # 3 s into the set: the wake word interrupts it
        "/at 2",  # into the pain question
        "/at 1",  # too late for that
    ]) + "\n"
    result = chat("--locale", locale, "--device", "--db", str(tmp_path / "c.sqlite3"),
                  script=script)
    assert result.returncode == 0, result.stderr
    said = turns(result.stdout)
    five, twenty = said[1][1], said[2][1]
    assert five.strip() == "(listening… 8 s)"
    assert "(reprompt)" in twenty and "(session ended: no answer)" in twenty
    assert twenty.count("(listening… 8 s)") == 1  # the second window; the first was printed
    pain = said[7][1]
    assert pain.startswith("\n  (the wake word interrupts Alexa 3 s into its speech)\n")
    assert "-> PainIntent" in pain
    assert "(that moment has passed: it is 2 s into the answer)" in said[9][1]
