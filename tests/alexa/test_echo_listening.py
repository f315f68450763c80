"""Fits how an Echo listens (issue 12), through the skill's entry points with Alexa envelopes.

Durations are the project's speech-time estimate (``skill.output.timing``) of the SSML sent: speech
at the locale's stated rate plus every break. Budgets are held with a margin (an outside check
uses its own, calmer estimate).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pytest

from skill.content.loader import LOCALES
from skill.output.timing import ssml_seconds
from tests.support.envelopes import Session, custom_slot, speech_text
from tests.support.skill_servers import http_skill, lambda_skill

MARGIN = 0.9  # budgets are held with this much to spare
FIRST_LAUNCH, RETURNING_LAUNCH, INTRO, BRIEF_INTRO, FAQ = 20, 8, 25, 10, 20
MINUTES = (8, 12)  # a regular's whole routine, as heard


def seconds(content, locale, response) -> float:
    ssml = response["response"]["outputSpeech"]["ssml"]
    return ssml_seconds(ssml, content.for_locale(locale).rate)


def line(content, locale, key, **params) -> str:
    return content.for_locale(locale).prompt(key).format(**params)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"[。．.!?！？]", text) if s.strip()]


class Days:
    """The request's day and the server's clock, moved together, one day at a time."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def next_day(self) -> None:
        self.now += dt.timedelta(days=1)

    def stamp(self, send):
        def stamped(envelope: dict) -> dict:
            envelope["request"]["timestamp"] = self.now.strftime("%Y-%m-%dT%H:%M:%SZ")
            return send(envelope)
        return stamped


@pytest.fixture
def days():
    return Days()


@pytest.fixture
def skill(tmp_path, days):
    with http_skill(tmp_path / "echo.sqlite3", CLOCK=days) as (_, send):
        yield days.stamp(send)


@pytest.fixture
def send(tmp_path, monkeypatch):
    with lambda_skill(tmp_path / "lambda.sqlite3", monkeypatch) as send:
        yield send


def whole_routine(s: Session) -> list[dict]:
    """Launch, then "next" at once after every answer, to the end."""
    turns = [s.launch()]
    if s.last["sessionAttributes"]["state"]["phase"] == "equipment":
        turns.append(s.say("AMAZON.YesIntent"))  # yes, a ball
    while s.open and len(turns) < 40:
        turns.append(s.say("AMAZON.NextIntent"))
    assert not s.open
    return turns


def is_intro(content, locale, response) -> bool:
    card = response["response"].get("card", {})
    asks = content.for_locale(locale).prompts["ask_intro"]
    return "title" in card and any(speech_text(response).endswith(a) for a in asks)


# -- launches, intros, the ten minutes ---------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_budgets_and_the_whole_routine_for_a_newcomer_and_a_regular(skill, content, days,
                                                                    locale):
    totals = {}
    for day in range(3):
        s = Session(skill, user="daily", locale=locale)
        turns = whole_routine(s)
        launch = seconds(content, locale, turns[0])
        intros = [seconds(content, locale, t) for t in turns if is_intro(content, locale, t)]
        assert len(intros) == 5
        if day == 0:
            assert launch <= FIRST_LAUNCH * MARGIN, f"first launch {launch:.1f} s"
            assert max(intros) <= INTRO * MARGIN, f"intros {intros}"
            totals["first time"] = sum(seconds(content, locale, t) for t in turns)
        else:
            assert launch <= RETURNING_LAUNCH * MARGIN, f"returning launch {launch:.1f} s"
        if day == 2:  # a regular: brief intros, the whole routine in 8 to 12 minutes
            assert max(intros) <= BRIEF_INTRO * MARGIN, f"brief intros {intros}"
            totals["regular"] = sum(seconds(content, locale, t) for t in turns)
        days.next_day()
    for mode, total in totals.items():
        print(f"{locale} {mode}: {total / 60:.1f} minutes as heard")
    low, high = MINUTES
    assert low * 60 <= totals["regular"] <= high * 60
    said = re.search(r"(\d+)|(\w+) minutes", line(content, locale, "welcome_first"))
    assert said is not None, "the first launch says how long the first time takes"
    words = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14}
    minutes = int(said.group(1)) if said.group(1) else words[said.group(2)]
    assert abs(minutes - totals["first time"] / 60) <= 1, "the real time, not a promise"


@pytest.mark.parametrize("locale", LOCALES)
def test_a_returning_launch_offers_to_continue_in_one_sentence_after_a_safety_line(
        send, content, locale):
    s = Session(send, user="back", locale=locale)
    s.launch()
    s.say("AMAZON.YesIntent")  # the equipment question: the ball
    s.say("AMAZON.NextIntent")  # step 1, right leg
    s.say("AMAZON.StopIntent")
    again = Session(send, user="back", locale=locale)
    launch = again.launch()
    assert seconds(content, locale, launch) <= RETURNING_LAUNCH * MARGIN
    offer = line(content, locale, "resume_offer", number=1)
    assert again.text.endswith(offer) and len(sentences(offer)) == 1
    assert line(content, locale, "safety_launch") in again.text


@pytest.mark.parametrize("locale", LOCALES)
def test_faq_answers_fit_in_twenty_seconds(send, content, locale):
    s = Session(send, locale=locale)
    s.launch()
    for topic in content.for_locale(locale).faq.values():
        answer = s.say("FaqIntent", custom_slot("topic", topic.phrasings[0], topic.id))
        question = ssml_seconds(answer["response"]["reprompt"]["outputSpeech"]["ssml"],
                                content.for_locale(locale).rate)
        assert seconds(content, locale, answer) - question <= FAQ * MARGIN, topic.id


# -- rests and moves held as silence before the question ----------------------------------------


def held_seconds(content, locale, response) -> float:
    """The time between the end of the set (its praise) and the closing question."""
    ssml = response["response"]["outputSpeech"]["ssml"]
    question = response["response"]["reprompt"]["outputSpeech"]["ssml"][len("<speak>"):-8]
    assert ssml.endswith(question + "</speak>"), "the question is the last thing said"
    praise = max((p for p in content.for_locale(locale).prompts["set_end"] if p in ssml),
                 key=ssml.rfind)
    between = ssml[ssml.rfind(praise) + len(praise):len(ssml) - len(question) - 8]
    return ssml_seconds(between, content.for_locale(locale).rate)


@pytest.mark.parametrize("locale", LOCALES)
def test_a_rest_is_held_as_silence_before_the_question_which_is_said_last(send, content,
                                                                         routine, locale):
    s = Session(send, locale=locale)
    s.launch()
    s.say("AMAZON.YesIntent")
    first_set = s.say("AMAZON.NextIntent")  # step 1, right leg, then the rest
    question = line(content, locale, "ask_next_side", side=content.for_locale(locale).sides["left"])
    assert s.text.endswith(question)
    assert line(content, locale, "rest_final", rest=5) in s.text, "a quiet 'five more seconds'"
    rest = routine.steps[0].rest_seconds
    assert held_seconds(content, locale, first_set) >= rest - 0.05
    ssml = first_set["response"]["outputSpeech"]["ssml"]
    assert all(int(ms) <= 10_000 for ms in re.findall(r'<break time="(\d+)ms"/>', ssml))


@pytest.mark.parametrize("locale", LOCALES)
def test_moving_to_the_next_position_gets_its_time_and_a_plain_cue(send, content, routine,
                                                                    locale):
    lc = content.for_locale(locale)
    s = Session(send, locale=locale)
    s.launch()
    s.say("AMAZON.YesIntent")  # the equipment question: a ball
    for _ in range(2):  # step 1 right, step 1 left (the last set of the step)
        s.say("AMAZON.NextIntent")
    assert lc.steps[1].move in s.text
    assert s.text.endswith(line(content, locale, "ask_next_step", number=2,
                                title=lc.steps[1].title))
    assert held_seconds(content, locale, s.last) >= routine.steps[1].move_seconds - 0.05


# -- pause, silence, resume ------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_pause_saves_the_place_ends_and_says_how_to_come_back(send, content, locale):
    s = Session(send, user="pauser", locale=locale)
    s.launch()
    s.say("AMAZON.YesIntent")
    s.say("AMAZON.NextIntent")  # step 1, right leg: done
    s.say("AMAZON.PauseIntent")
    assert not s.open and s.text == line(content, locale, "paused", number=1)
    assert ("アレクサ、ひざトレーニングを開いて" if locale == "ja-JP"
            else "Alexa, open knee routine") in s.text
    back = Session(send, user="pauser", locale=locale)
    back.launch()
    assert back.text.endswith(line(content, locale, "resume_offer", number=1))
    resumed = back.say("AMAZON.YesIntent")
    lc = content.for_locale(locale)
    assert lc.side_titles["left"] in speech_text(resumed), "the next set, not the one done"
    assert line(content, locale, "get_ready") in back.text
    assert back.text.index(line(content, locale, "get_ready")) < back.text.index(
        lc.side_titles["left"])


@pytest.mark.parametrize("locale", LOCALES)
def test_silence_saves_the_place_for_the_next_launch(send, content, locale):
    s = Session(send, user="quiet", locale=locale)
    s.launch()
    s.say("AMAZON.YesIntent")  # the equipment question: the ball
    for _ in range(2):
        s.say("AMAZON.NextIntent")  # right leg, left leg: step 1 done
    s.end("EXCEEDED_MAX_REPROMPTS")
    assert s.last["response"] == {}
    back = Session(send, user="quiet", locale=locale)
    back.launch()
    assert back.text.endswith(line(content, locale, "resume_offer", number=2))


def test_continue_in_session_after_a_set_plays_a_different_set(send, content):
    s = Session(send, locale="ja-JP")
    s.launch()
    s.say("AMAZON.YesIntent")
    done = s.say("AMAZON.NextIntent")
    after = s.say("AMAZON.ResumeIntent")
    assert speech_text(after) != speech_text(done)
    assert speech_text(after).startswith(line(content, "ja-JP", "get_ready") + " 左足")


# -- how to interrupt, repeat, sentences said once -----------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_the_first_set_of_a_session_says_how_to_stop_for_pain_and_help_says_it(send, content,
                                                                               locale):
    stop = line(content, locale, "how_to_stop")
    assert ("アレクサ、膝が痛い" if locale == "ja-JP" else "Alexa, my knee hurts") in stop
    s = Session(send, locale=locale)
    s.launch()
    s.say("AMAZON.YesIntent")
    first = s.say("AMAZON.NextIntent")
    assert speech_text(first).startswith(stop)
    second = s.say("AMAZON.NextIntent")
    assert stop not in speech_text(second)
    s.say("AMAZON.HelpIntent")
    assert stop in s.text


@pytest.mark.parametrize("locale", LOCALES)
def test_repeat_after_help_or_a_fallback_repeats_the_set(send, locale):
    s = Session(send, locale=locale)
    s.launch()
    s.say("AMAZON.YesIntent")
    narrated = speech_text(s.say("AMAZON.NextIntent"))
    for detour in ("AMAZON.HelpIntent", "AMAZON.FallbackIntent"):
        s.say(detour)
        assert speech_text(s.say("AMAZON.RepeatIntent")) == narrated


@pytest.mark.parametrize("locale", LOCALES)
def test_the_sharp_pain_answer_is_said_once_plainly(send, content, locale):
    s = Session(send, locale=locale)
    s.launch()
    s.say("AMAZON.YesIntent")
    s.say("AMAZON.NextIntent")
    s.say("PainIntent")
    s.say("AMAZON.YesIntent")
    assert s.text == line(content, locale, "pain_yes_sharp") and not s.open
    if locale == "ja-JP":
        assert "整形外科などの医療機関" in s.text
    assert Counter(sentences(s.text)).most_common(1)[0][1] == 1


@pytest.mark.parametrize("locale", LOCALES)
def test_no_answer_says_a_sentence_twice(skill, content, locale):
    """Every answer of a routine, timed sets included, with help and a question on the way:
    the same sentence never twice; praise once per set."""
    lc = content.for_locale(locale)
    praise = set(lc.prompts["set_end"])
    topic = next(iter(lc.faq.values()))
    s = Session(skill, locale=locale)
    answers = [s.launch()]
    while s.open and len(answers) < 60:
        answers.append(s.say("AMAZON.HelpIntent"))
        answers.append(s.say("FaqIntent", custom_slot("topic", topic.phrasings[0], topic.id)))
        answers.append(s.say("AMAZON.NextIntent"))
    assert not s.open
    for answer in answers:
        text = speech_text(answer)
        assert sum(text.count(p) for p in praise) <= 1, text
        spoken = [x.replace(" ", "") for x in sentences(text)]
        assert [x for x, n in Counter(spoken).items() if n > 1] == [], text
