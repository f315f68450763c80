"""The Echo Show's screen data and the step cards come from the renderer, built once, and agree
with the speech they go with."""

from __future__ import annotations

import itertools
import json

import pytest

from skill.content.loader import LOCALES
from skill.core.machine import Outcome, State, prompt
from skill.output import screen
from skill.output.timing import ssml_seconds
from tests.support.envelopes import Session
from tests.support.skill_servers import http_skill

APL = {"Alexa.Presentation.APL": {"runtime": {"maxVersion": "2023.2"}}}


def _sets(routine):
    for step, timing in enumerate(routine.steps):
        for index in range(timing.sets + (timing.sides == "each")):
            yield step, index


@pytest.mark.parametrize("locale", LOCALES)
def test_a_sets_length_is_counted_as_it_is_built_and_matches_its_ssml(renderers, routine,
                                                                       content, locale):
    r, lc = renderers[locale], content.for_locale(locale)
    for (step, index), tool, pace, gentle, side in itertools.product(
            _sets(routine), lc.tools, lc.pace_rates, (False, True), (None, "left")):
        narrated = r.narrated_set(step, index, tool, gentle, side, r.rate(pace))
        assert narrated.ssml == r.narrate_set(step, index, tool, gentle, side, r.rate(pace))
        assert narrated.seconds == pytest.approx(ssml_seconds(narrated.ssml, lc.rate), abs=1e-6)


def _outcome(*prompts):
    return Outcome(state=State(), speech=tuple(prompts), reprompt=(), end_session=False)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_countdown_shows_the_length_of_the_set_being_said(renderers, routine, content,
                                                              locale):
    r = renderers[locale]
    for step, index in _sets(routine):
        for pace in (0, min(content.for_locale(locale).pace_rates)):
            said = _outcome(prompt("set", step=step, set=index))
            data = r.screen(said, "towel", pace)
            speech = r.render(said, "towel", pace).ssml
            assert data["seconds"] == round(ssml_seconds(r.narrate_set(
                step, index, "towel", rate=r.rate(pace)), content.for_locale(locale).rate))
            assert data["title"] == content.for_locale(locale).steps[step].title
            assert speech.startswith("<speak>") and speech.count("<speak>") == 1


def test_an_intro_shows_the_setup_without_a_countdown(renderers, content):
    data = renderers["en-US"].screen(_outcome(prompt("step_intro", step=0)), "towel")
    assert data["seconds"] == 0 and data["side"] == ""
    assert len(data["cues"]) == len(content.for_locale("en-US").steps[0].setup)
    assert renderers["en-US"].screen(_outcome(prompt("help"))) is None


def test_a_screen_changed_by_its_caller_does_not_change_the_next_one(renderers):
    said = _outcome(prompt("set", step=0, set=0))
    first = renderers["en-US"].screen(said, "towel")
    first["cues"].append("changed")
    first["title"] = "changed"
    again = renderers["en-US"].screen(said, "towel")
    assert "changed" not in again["cues"] and again["title"] != "changed"


def test_a_steps_card_names_the_equipment_asked_for(renderers, content):
    r, lc = renderers["en-US"], content.for_locale("en-US")
    for tool, name in lc.tools.items():
        cards = [r.step_card(step, tool).text for step in range(len(lc.steps))]
        assert any(name in text for text in cards), tool
        assert cards == [r.step_card(step, tool).text for step in range(len(lc.steps))]


def test_an_echo_show_gets_the_document_as_the_file_says_and_a_speaker_gets_none(tmp_path):
    document = json.loads(screen.DOCUMENT_PATH.read_text(encoding="utf-8"))
    with http_skill(tmp_path / "screen.sqlite3") as (_, send):
        def show(envelope):
            envelope["context"]["System"]["device"]["supportedInterfaces"] = APL
            return send(envelope)

        for user in ("first", "second"):  # the second is served from the caches
            s = Session(show, user=user)
            s.launch()
            s.say("AMAZON.YesIntent")  # step 1's intro
            shown = s.say("AMAZON.NextIntent")["response"]["directives"]  # its first set
            assert [d["type"] for d in shown] == ["Alexa.Presentation.APL.RenderDocument"]
            assert shown[0]["document"] == document
            assert shown[0]["datasources"]["knee"]["seconds"] > 0
        speaker = Session(send, user="speaker")
        speaker.launch()
        speaker.say("AMAZON.YesIntent")
        assert "directives" not in speaker.say("AMAZON.NextIntent")["response"]
