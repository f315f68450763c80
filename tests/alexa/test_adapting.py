"""A coach that adapts: pace, brief mode, weaker side, progress, Echo Show screens, reminders."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from skill.content.loader import LOCALES
from skill.output.render import Renderer
from skill.output.screen import step_document
from skill.output.timing import ssml_seconds
from tests.support.envelopes import Session, custom_slot
from tests.support.skill_servers import http_skill

APL = {"Alexa.Presentation.APL": {"runtime": {"maxVersion": "2023.2"}}}


class Clock:
    """A clock the test moves: the time its requests carry."""

    def __init__(self, start: str = "2026-11-20T09:00:00+00:00") -> None:
        self.now = dt.datetime.fromisoformat(start)

    def __call__(self) -> dt.datetime:
        return self.now

    def next_day(self) -> None:
        self.now += dt.timedelta(days=1)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def skill(tmp_path, clock):
    """The skill, sent requests timestamped by ``clock`` (the day is the request's)."""
    with http_skill(tmp_path / "adapt.sqlite3") as (_, send):
        yield lambda doc: send({**doc, "request": {**doc["request"],
                                                   "timestamp": clock.now.isoformat()}})


def say(content, locale, key, **params):
    return content.for_locale(locale).prompt(key).format(**params)


def finish_routine(send, user, locale="en-US"):
    s = Session(send, user=user, locale=locale)
    s.launch()
    s.say("GoToStepIntent", {"step": {"name": "step", "value": "5"}})
    s.say("AMAZON.NextIntent")
    assert not s.open
    return s


# -- pace -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_slower_speech_is_remembered_and_used_everywhere(skill, content, locale):
    s = Session(skill, user="slow", locale=locale)
    s.launch()
    s.say("SlowerIntent")
    assert say(content, locale, "pace_slower") in s.text
    assert '<prosody rate="90%">' in s.last["response"]["outputSpeech"]["ssml"]
    s.say("SlowerIntent")
    s.say("SlowerIntent")
    assert say(content, locale, "pace_slowest") in s.text
    s.say("AMAZON.StopIntent")
    later = Session(skill, user="slow", locale=locale)
    later.launch()
    assert '<prosody rate="80%">' in later.last["response"]["outputSpeech"]["ssml"]
    later.say("FasterIntent")
    assert '<prosody rate="90%">' in later.last["response"]["reprompt"]["outputSpeech"]["ssml"]


def hold_timeline(fragment, rate_percent, speech_rate):
    """Seconds from the start of each cue to the start of the next one."""
    pieces = re.split(r"(?<=/>) (?=[^<])", fragment)
    speed = rate_percent / 100
    return [ssml_seconds(p, speech_rate) + (1 / speed - 1) * _speech_only(p, speech_rate)
            for p in pieces]


def _speech_only(piece, speech_rate):
    return ssml_seconds(re.sub(r"<break[^>]*/>", "", piece), speech_rate)


@pytest.mark.parametrize("locale", LOCALES)
def test_slower_pace_stretches_the_gaps_never_the_holds(content, locale):
    r = Renderer(content.for_locale(locale), content.routine)
    rate = content.for_locale(locale).rate
    normal = r.narrate_set(2, 0, "ball", rate=r.rate(0))
    slow = r.narrate_set(2, 0, "ball", rate=r.rate(-2))
    normal_steps = hold_timeline(normal, r.rate(0), rate)
    slow_steps = hold_timeline(slow, r.rate(-2), rate)
    assert len(normal_steps) == len(slow_steps)
    # Every hold and release (cue to next cue) lasts the same; the gaps around them grow:
    # the lead-in before the first cue, and the short rest before the closing line.
    assert slow_steps[0] > normal_steps[0] and slow_steps[-2] > normal_steps[-2]
    for a, b in zip(normal_steps[1:-2], slow_steps[1:-2], strict=True):
        assert b == pytest.approx(a, abs=0.05)


# -- brief mode ------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_regulars_get_brief_intros_and_can_ask_for_the_details(skill, content, clock, locale):
    lc = content.for_locale(locale)
    for _ in range(3):
        finish_routine(skill, "regular", locale)
        clock.next_day()
    step1 = lc.steps[0]
    s = Session(skill, user="regular", locale=locale)
    s.launch()
    s.say("StartRoutineIntent")
    ball = lc.tools["ball"]
    assert step1.brief.format(tool=ball) in s.text
    assert step1.purpose not in s.text and step1.setup[1].format(tool=ball) not in s.text
    s.say("ExplainIntent")
    assert step1.purpose in s.text and step1.tips[0] in s.text and s.open
    s.say("AMAZON.NextIntent")
    assert say(content, locale, "get_ready") in s.text


def test_new_users_hear_the_full_instructions(skill, content):
    s = Session(skill, user="newcomer")
    s.launch()
    s.say("AMAZON.YesIntent")
    step1 = content.for_locale("en-US").steps[0]
    assert all(line.format(tool="the ball") in s.text for line in step1.setup)


# -- weaker side ----------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_a_weaker_side_gets_an_extra_set_where_one_side_is_done_at_a_time(skill, content,
                                                                          locale):
    lc = content.for_locale(locale)
    s = Session(skill, user="lefty", locale=locale)
    s.launch()
    s.say("WeakerSideIntent", custom_slot("side", lc.sides["left"], "left"))
    assert say(content, locale, "weaker_side_set", side=lc.sides["left"]) in s.text
    s.say("AMAZON.YesIntent")  # the equipment question: yes, a ball
    sides = []
    for _ in range(4):  # right, left, and one more on the left
        s.say("AMAZON.NextIntent")
        sides.append(s.text)
    lead = say(content, locale, "how_to_stop") + " " + say(content, locale, "get_ready") + " "
    assert sides[0].startswith(lead + lc.side_titles["right"])
    assert sides[1].startswith(lc.side_titles["left"])
    assert say(content, locale, "ask_extra_side", side=lc.sides["left"]) in sides[1]
    assert sides[2].startswith(lc.side_titles["left"])
    assert any(v.format(number=1) in sides[2] for v in lc.prompts["step_done"])
    assert lc.steps[1].title in sides[3]  # then step 2, which alternates: no extra set


def test_both_sides_the_same_removes_the_extra_set(skill):
    s = Session(skill, user="even")
    s.launch()
    s.say("WeakerSideIntent", custom_slot("side", "left", "left"))
    s.say("WeakerSideIntent", custom_slot("side", "both the same", "both"))
    assert "Both legs get the same number of sets." in s.text
    s.say("WeakerSideIntent", {"side": {"name": "side", "value": "middle"}})
    assert "Which side is weaker, left or right?" in s.text


# -- progress -------------------------------------------------------------------------------------


def test_progress_on_request_without_nagging(skill, clock, content):
    s = Session(skill, user="progress")
    s.launch()
    s.say("ProgressIntent")
    assert say(content, "en-US", "progress_none") in s.text and s.open
    finish_routine(skill, "progress")
    clock.next_day()
    done = finish_routine(skill, "progress")
    assert "You've now done the routine on 2 days, 2 days in a row." in done.text
    assert "every other day" in done.text and "weeks" not in done.text, "advice, no promise"
    again = Session(skill, user="progress", locale="ja-JP")
    again.launch()
    again.say("ProgressIntent")
    assert say(content, "ja-JP", "progress", days=2, streak=2) in again.text


# -- Echo Show ------------------------------------------------------------------------------------


def test_the_apl_document_has_the_shape_alexa_needs():
    doc = step_document()
    assert doc["type"] == "APL" and doc["mainTemplate"]["parameters"] == ["payload"]
    text = json.dumps(doc)
    for field in ("payload.knee.title", "payload.knee.side", "payload.knee.cues",
                  "payload.knee.seconds", "payload.knee.stepLabel"):
        assert field in text


@pytest.mark.parametrize("locale", LOCALES)
def test_echo_show_gets_a_screen_for_each_step(tmp_path, content, locale):
    with http_skill(tmp_path / "show.sqlite3") as (_, send):
        def show(envelope):
            envelope["context"]["System"]["device"]["supportedInterfaces"] = APL
            return send(envelope)

        s = Session(show, locale=locale)
        s.launch()
        intro = s.say("AMAZON.YesIntent")
        directive = intro["response"]["directives"][0]
        assert directive["type"] == "Alexa.Presentation.APL.RenderDocument"
        data = directive["datasources"]["knee"]
        lc = content.for_locale(locale)
        assert data["title"] == lc.steps[0].title and data["seconds"] == 0
        timed = s.say("AMAZON.NextIntent")
        data = timed["response"]["directives"][0]["datasources"]["knee"]
        assert data["side"] == lc.prompt("screen_side").format(Side=lc.side_titles["right"])
        assert data["cues"][0] == lc.steps[0].cues["press"].format(tool=lc.tools["ball"])
        declared = content.routine.steps[0].set_seconds
        assert abs(data["seconds"] - declared) <= declared * 0.1


def test_devices_without_a_screen_get_nothing_extra(skill):
    s = Session(skill)
    s.launch()
    s.say("AMAZON.YesIntent")
    assert "directives" not in s.last["response"]


# -- reminders ------------------------------------------------------------------------------------


def reminder_session(send, endpoint, locale="en-US"):
    def with_api(envelope):
        envelope["context"]["System"]["apiEndpoint"] = endpoint
        return send(envelope)
    return Session(with_api, locale=locale, user="reminded")


@pytest.mark.parametrize("locale, spoken", [("en-US", "7:30 a.m."), ("ja-JP", "午前7時30分")])
def test_a_daily_reminder_is_created_through_the_reminders_api(skill, alexa_api, locale,
                                                               spoken):
    url, api = alexa_api
    s = reminder_session(skill, url, locale)
    s.launch()
    s.say("ReminderIntent", {"time": {"name": "time", "value": "07:30"}})
    assert spoken in s.text and s.open
    (call,) = api.calls
    assert call["path"] == "/v1/alerts/reminders"
    assert call["auth"] == "Bearer test-token" and call["type"] == "application/json"
    trigger = call["body"]["trigger"]
    assert trigger["type"] == "SCHEDULED_ABSOLUTE"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT07:30:00\.000", trigger["scheduledTime"])
    assert not trigger["scheduledTime"].endswith("Z")
    assert trigger["recurrence"]["recurrenceRules"] == [
        "FREQ=DAILY;BYHOUR=7;BYMINUTE=30;BYSECOND=0;INTERVAL=1;"]
    content = call["body"]["alertInfo"]["spokenInfo"]["content"][0]
    assert content["locale"] == locale and content["text"]


@pytest.mark.parametrize("status", [401, 403])
def test_without_permission_alexa_asks_for_consent(skill, alexa_api, status):
    """By voice first (tests/alexa/test_reminder_consent.py: the answer, and the card where
    Alexa cannot ask by voice)."""
    url, api = alexa_api
    api.status = status
    s = reminder_session(skill, url)
    s.launch()
    s.say("ReminderIntent", {"time": {"name": "time", "value": "09:00"}})
    (directive,) = s.last["response"]["directives"]
    assert directive["type"] == "Connections.SendRequest" and directive["name"] == "AskFor"
    assert directive["payload"]["permissionScope"] == "alexa::alerts:reminders:skill:readwrite"
    assert s.last["response"]["shouldEndSession"] is True


def test_reminder_failures_are_explained(skill, alexa_api):
    url, api = alexa_api
    api.status = 500
    s = reminder_session(skill, url)
    s.launch()
    s.say("ReminderIntent", {"time": {"name": "time", "value": "09:00"}})
    assert "couldn't set the reminder" in s.text and s.open
    s.say("ReminderIntent", {"time": {"name": "time", "value": "MO"}})
    assert "At what time?" in s.text
    down = reminder_session(skill, "http://127.0.0.1:9")  # nothing listens there
    down.launch()
    down.say("ReminderIntent", {"time": {"name": "time", "value": "09:00"}})
    assert "couldn't set the reminder" in down.text
