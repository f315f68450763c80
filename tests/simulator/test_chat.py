"""``knee-routine chat``: whole conversations replayed from a script, as a reviewer runs them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from skill.content.loader import load_content
from skill.output import ssml
from skill.simulator.device import Device, Reply
from skill.simulator.speech import readable, speech_segments
from tests.support.skill_servers import http_skill

PAUSE = re.compile(r"\[\d+(?:\.\d)? s\]")
OPEN = "[session open: Alexa is listening]"
ENDED = "[session ended]"


def chat(*args: str, script: str) -> subprocess.CompletedProcess:
    """Run ``knee-routine chat`` with ``script`` on stdin (not a terminal)."""
    installed = Path(sys.executable).with_name("knee-routine")
    cmd = [str(installed)] if installed.exists() else [sys.executable, "-m", "skill.cli"]
    return subprocess.run([*cmd, "chat", *args], input=script, capture_output=True,
                          text=True, encoding="utf-8", timeout=120, check=False)


def turns(stdout: str) -> list[tuple[str, str]]:
    """(what the user said, everything printed for it), in order."""
    parts = re.split(r"^you> (.*)$", stdout, flags=re.M)
    return list(zip(parts[1::2], parts[2::2], strict=True))


def nexts_to_the_end() -> int:
    """How many "next"s take the routine from step 1's instructions to its end."""
    routine = load_content().routine
    return sum(routine.sets_in(i) for i in range(routine.total_steps)) + routine.total_steps - 1


SCRIPTS = {
    "en-US": {"open": "open knee routine", "start": "yes", "next": ["next", "Ready!", "done"],
              "faq": "I have a question about swelling or heat.", "faq_id": "swelling_heat"},
    "ja-JP": {"open": "ひざ トレーニングを開いて", "start": "はい、あります",
              "next": ["次へ。", "準備ＯＫ", "次"], "faq": "腫れや熱感があるときについて教えて",
              "faq_id": "swelling_heat"},
}


@pytest.mark.parametrize("locale", ["ja-JP", "en-US"])
def test_a_whole_routine_replayed_from_a_script(locale, tmp_path):
    words = SCRIPTS[locale]
    lc = load_content().for_locale(locale)
    count = nexts_to_the_end()
    said = [words["open"], words["start"]]
    for i in range(count):
        said.append(words["next"][i % len(words["next"])])
        if i == 2:
            said.append(words["faq"])  # a question mid-routine, then carry on
    script = "# a whole routine\n" + "\n".join(said) + "\n"

    result = chat("--locale", locale, "--db", str(tmp_path / "chat.sqlite3"), script=script)

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout.startswith(f"Knee Routine chat ({locale}, in-process")
    spoken = turns(result.stdout)
    assert [s for s, _ in spoken] == said  # every line was said, comments were not
    launch, start, *rest = (out for _, out in spoken)
    assert "  -> LaunchRequest" in launch and OPEN in launch and "  reprompt: " in launch
    assert "  -> AMAZON.YesIntent" in start and "  card: " in start

    faq = next(out for s, out in spoken if s == words["faq"])
    assert "  -> FaqIntent topic=" in faq and f"ER_SUCCESS_MATCH {words['faq_id']}" in faq
    nexts = [out for s, out in spoken[2:] if s != words["faq"]]
    assert len(nexts) == count
    assert all("  -> AMAZON.NextIntent" in out for out in nexts)

    # Every step is introduced, with its card, and the timed sets show their pauses.
    for step in lc.steps:
        assert any(step.title in out and "  card: " in out for _, out in spoken), step.title
    assert sum(bool(PAUSE.search(out)) for out in nexts) >= load_content().routine.total_steps

    # The session stays open, with a reprompt, until the routine is done.
    for _, out in spoken[:-1]:
        assert out.count(OPEN) == 1 and "  reprompt: " in out and ENDED not in out
    last = spoken[-1][1]
    assert lc.prompts["routine_done"][0] in last.replace("\n       ", " ")
    assert last.rstrip().endswith(ENDED) and "reprompt:" not in last


def test_the_store_remembers_where_the_user_stopped(tmp_path):
    db = ["--locale", "en-US", "--db", str(tmp_path / "chat.sqlite3"), "--user", "amy"]
    first = chat(*db, script="open knee routine\nyes\nready\nstop\n")
    assert first.returncode == 0, first.stderr
    stop = turns(first.stdout)[-1][1]
    assert "  -> AMAZON.StopIntent" in stop and stop.rstrip().endswith(ENDED)

    again = chat(*db, script="open knee routine\n")
    title = load_content().for_locale("en-US").prompt("resume_offer").format(number=1)
    launch = turns(again.stdout)[0][1]
    assert title in launch and OPEN in launch

    stranger = chat(*db[:-1], "bob", script="open knee routine\n")
    assert title not in turns(stranger.stdout)[0][1]


def test_silence_reprompts_once_then_alexa_gives_up(tmp_path):
    script = "open knee routine\n/silence\n/silence\nhelp\n"
    result = chat("--locale", "en-US", "--db", str(tmp_path / "c.sqlite3"), script=script)
    assert result.returncode == 0, result.stderr
    (_, launch), (_, first), (_, second), (_, help_) = turns(result.stdout)
    reprompt = re.search(r"  reprompt: (.*)", launch).group(1)
    assert f"Alexa: {reprompt}" in first and OPEN in first
    assert "SessionEndedRequest (EXCEEDED_MAX_REPROMPTS)" in second and ENDED in second
    # With no session open, what is said goes to the skill as a one-shot in a new session.
    assert "no session was open" in help_ and "  -> AMAZON.HelpIntent" in help_
    assert "(you left)" in help_ and "SessionEndedRequest (USER_INITIATED)" in help_


def test_launching_again_replaces_the_open_session(tmp_path):
    script = "ひざトレーニングを開いて\nアレクサ、ひざトレーニングを開いて\n"
    result = chat("--db", str(tmp_path / "c.sqlite3"), script=script)
    assert result.returncode == 0, result.stderr
    second = turns(result.stdout)[1][1]
    assert "a new session replaces the open one" in second
    assert second.index("SessionEndedRequest (USER_INITIATED)") < second.index("-> LaunchRequest")


def test_over_http_against_a_running_skill(tmp_path):
    with http_skill(tmp_path / "served.sqlite3") as (url, _send):
        result = chat("--locale", "ja-JP", "--url", url, "--user", "http-user",
                      script="ひざトレーニングを開いて\nはい\nストップ\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Knee Routine chat (ja-JP, {url})")
    (_, launch), (_, start), (_, stop) = turns(result.stdout)
    assert "-> LaunchRequest" in launch and OPEN in launch
    title = load_content().for_locale("ja-JP").steps[0].title
    assert "-> AMAZON.YesIntent" in start and title in start
    assert "-> AMAZON.StopIntent" in stop and stop.rstrip().endswith(ENDED)


def test_an_unreachable_skill_is_a_clear_error(tmp_path):
    result = chat("--locale", "en-US", "--url", "http://127.0.0.1:9/alexa",
                  script="open knee routine\nyes\n")
    assert result.returncode == 1
    assert "error: could not reach http://127.0.0.1:9/alexa" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert len(turns(result.stdout)) == 1  # it stops at the first failure


# -- what is printed for speech ------------------------------------------------------------------


def test_pauses_are_shown_in_seconds_and_chained_breaks_are_summed():
    speech = ssml.speak(f"Squeeze, and hold. {ssml.pause(25)} Relax. {ssml.pause(0.4)} "
                        f"Again. {ssml.pause(1.5)}")
    assert ssml.pause(25).count("<break") == 3
    assert readable(speech_segments(speech)) == "Squeeze, and hold. [25 s]\nRelax. Again. [1.5 s]"


def test_ssml_is_shown_as_written():
    speech = ('<speak><sub alias="ないそくこうきん">内側広筋</sub>を&amp;鍛えます。'
              '<break strength="x-strong"/><prosody rate="90%">ゆっくり。</prosody>'
              '<audio src="https://example.com/a.mp3"><desc>chime</desc></audio></speak>')
    segments = speech_segments(speech)
    assert readable(segments) == "内側広筋を&鍛えます。 [1 s]\nゆっくり。 [audio]"
    assert [s.rate for s in segments if s.text] == [100, 90, 100]


def test_plain_text_and_cards_are_read_too():
    reply = Reply.of({"response": {
        "outputSpeech": {"type": "PlainText", "text": "Hi <there>"},
        "card": {"type": "Simple", "title": "T", "content": "Body"},
        "shouldEndSession": True}})
    assert readable(reply.speech) == "Hi <there>"
    assert reply.card == {"type": "Simple", "title": "T", "text": "Body"}
    assert reply.session_open is False


# -- the envelopes sent ----------------------------------------------------------------------------


class Recorder:
    """A skill stand-in: records envelopes, counts turns in a session attribute."""

    def __init__(self, end_after: int = 99) -> None:
        self.sent: list[dict] = []
        self.end_after = end_after

    def __call__(self, envelope: dict) -> dict:
        self.sent.append(envelope)
        turn = envelope["session"]["attributes"].get("turn", 0) + 1
        return {"version": "1.0", "sessionAttributes": {"turn": turn},
                "response": {"outputSpeech": {"type": "SSML", "ssml": "<speak>ok</speak>"},
                             "shouldEndSession": turn >= self.end_after}}


def test_envelopes_keep_the_session_like_an_echo():
    skill = Recorder(end_after=3)
    device = Device(skill, "en-US", user_id="amzn1.ask.account.me")
    for text in ["open knee routine", "start", "next", "next"]:
        device.hear(text)
    first, second, third, fourth = skill.sent
    assert first["request"]["type"] == "LaunchRequest"
    assert [e["request"]["intent"]["name"] for e in (second, third, fourth)] == [
        "StartRoutineIntent", "AMAZON.NextIntent", "AMAZON.NextIntent"]
    ids = [e["session"]["sessionId"] for e in skill.sent]
    assert ids[0] == ids[1] == ids[2] != ids[3]  # the skill ended the session on turn 3
    assert [e["session"]["new"] for e in skill.sent] == [True, False, False, True]
    assert [e["session"]["attributes"] for e in skill.sent] == [{}, {"turn": 1}, {"turn": 2}, {}]
    for e in skill.sent:
        assert e["version"] == "1.0" and e["request"]["locale"] == "en-US"
        assert e["session"]["user"] == e["context"]["System"]["user"] == {
            "userId": "amzn1.ask.account.me"}
        assert e["session"]["application"] == e["context"]["System"]["application"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", e["request"]["timestamp"])
    assert len({e["request"]["requestId"] for e in skill.sent}) == 4


# -- a miss shows the closest listed samples -------------------------------------------------------


def test_a_miss_shows_the_closest_listed_samples():
    import dataclasses
    import io

    from skill.simulator.device import Exchange, closest_samples
    from skill.simulator.nlu import Understanding, for_locale
    from skill.simulator.terminal import Printer

    @dataclasses.dataclass(frozen=True)
    class Missed(Understanding):  # the field the NLU fills on a fallback
        closest: tuple[str, ...] = ()

    nlu = for_locale("en-US")
    heard = nlu.understand("purple elephant marmalade", in_session=True)
    assert heard.intent == "AMAZON.FallbackIntent"
    samples = tuple(nlu.sample_texts["AMAZON.NextIntent"][:2])
    missed = Missed(**{f.name: getattr(heard, f.name) for f in dataclasses.fields(heard)
                       if f.name != "closest"}, closest=samples)
    out = io.StringIO()
    Printer(out).exchange(Exchange(missed, {"request": {"type": "IntentRequest"}}, None))
    printed = out.getvalue()
    assert "-> AMAZON.FallbackIntent" in printed
    assert printed.index("closest samples:") < printed.index(samples[0]) < printed.index(
        samples[1])
    assert closest_samples(heard) == tuple(getattr(heard, "closest", ()))
