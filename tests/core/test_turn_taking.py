"""The machine for how an Echo listens: rests and moves before the question, pause ends,
resume at the next set, how to stop for pain once a session, repeat skips detours, no pain kept."""

from __future__ import annotations

import dataclasses

import pytest

from skill.core.machine import (
    AT_INTRO,
    PAIN_PHASES,
    Event,
    EventKind,
    Phase,
    Position,
    Profile,
    start_state,
    step,
)
from skill.core.transitions import explore

TODAY = "2026-11-25"
NEXT = Event(EventKind.NEXT, today=TODAY)


def keys(prompts):
    return [p.key for p in prompts]


def run(routine, events, profile=None):
    state, outcomes = start_state(profile or Profile()), []
    for event in (Event(EventKind.LAUNCH, today=TODAY), *events):
        outcome = step(state, event, routine)
        outcomes.append(outcome)
        state = outcome.state
        if outcome.end_session:
            break
    return outcomes


@pytest.fixture(scope="module")
def transitions(routine):
    return list(explore(routine))


def test_nothing_about_pain_is_stored(transitions):
    assert not [f.name for f in dataclasses.fields(Profile) if "pain" in f.name]
    answers = (EventKind.PAIN, EventKind.YES, EventKind.NO, EventKind.STOP, EventKind.CANCEL)
    place = {"resume_at": None, "days_done": 0, "streak": 0, "last_day": None,
             "disclaimer_heard": False}  # the place, progress, the welcome: not health
    for state, event, outcome in transitions:
        if event.kind is EventKind.PAIN or (state.phase in PAIN_PHASES and event.kind in answers):
            before = dataclasses.replace(state.profile, **place)
            after = dataclasses.replace(outcome.state.profile, **place)
            assert after == before, (state.phase, event.kind)


def test_every_set_holds_its_rest_or_move_before_the_closing_question(routine):
    outcomes = run(routine, [NEXT] * 40)
    sets = [o for o in outcomes if "set" in keys(o.speech) and not o.end_session]
    assert len(sets) == sum(t.sets for t in routine.steps) - 1
    for o in sets:
        said = keys(o.speech)
        held = [k for k in said if k in ("rest", "move", "move_between")]
        assert said[-1] == o.reprompt[-1].key, "the question is the last thing said"
        pos = o.state.pos
        following = pos.step + 1 if pos.cursor + 1 == routine.sets_in(pos.step) else pos.step
        moving = following != pos.step and routine.steps[following].move_seconds
        if moving:
            assert held == ["move"]
            assert o.speech[said.index("move")].args == {
                "step": following, "seconds": routine.steps[following].move_seconds}
        elif routine.steps[pos.step].rest_seconds:
            assert len(held) == 1 and held[0] in ("rest", "move_between")
            assert said.index(held[0]) == len(said) - 2


def test_how_to_stop_is_said_at_the_first_set_of_each_session_only(routine):
    outcomes = run(routine, [NEXT] * 40)
    said = [k for o in outcomes for k in keys(o.speech)]
    assert said.count("how_to_stop") == 1
    first_set = next(o for o in outcomes if "set" in keys(o.speech))
    assert keys(first_set.speech)[:3] == ["how_to_stop", "get_ready", "set"]


def test_a_set_after_an_intro_a_move_or_a_resume_opens_with_get_ready(routine):
    outcomes = run(routine, [NEXT] * 40)
    for before, o in zip(outcomes, outcomes[1:], strict=False):
        if "set" not in keys(o.speech):
            continue
        after_intro = before.state.phase is Phase.INTRO
        after_turning = "move_between" in keys(before.speech)
        assert ("get_ready" in keys(o.speech)) == (after_intro or after_turning), keys(o.speech)


def test_side_lying_turns_over_between_sides_but_not_for_an_extra_set_on_the_same_side(routine):
    index = next(i for i, t in enumerate(routine.steps) if t.between_move)
    go = Event(EventKind.GO_TO_STEP, number=index + 1, today=TODAY)
    for weaker, turns in (("right", 2), ("left", 1)):
        profile = Profile(disclaimer_heard=True, equipment="ball", weaker_side=weaker)
        outcomes = run(routine, [go, NEXT, NEXT, NEXT], profile)
        said = [k for o in outcomes for k in keys(o.speech)]
        assert said.count("move_between") == turns, weaker


def test_pause_ends_the_session_with_the_place_saved_in_every_routine_phase(transitions):
    for state, event, outcome in transitions:
        if event.kind is EventKind.PAUSE and state.phase in (Phase.INTRO, Phase.AFTER_SET):
            assert outcome.end_session and keys(outcome.speech) == ["paused"]
            assert outcome.state.profile.resume_at == state.pos


def test_silence_keeps_the_place(transitions):
    for state, event, outcome in transitions:
        if event.kind is EventKind.SESSION_END:
            assert outcome.state.profile == state.profile and outcome.speech == ()


@pytest.mark.parametrize("cursor", [AT_INTRO, 0, 1])
def test_resume_goes_on_with_what_is_not_yet_done(routine, cursor):
    profile = Profile(disclaimer_heard=True, equipment="ball", resume_at=Position(0, cursor))
    offer, resumed = run(routine, [Event(EventKind.YES, today=TODAY)], profile)
    if cursor == AT_INTRO:
        assert resumed.state.pos == Position(0, AT_INTRO)
        assert offer.speech[-1].args["number"] == 1
    elif cursor == 0:
        narrated = next(p for p in resumed.speech if p.key == "set")
        assert narrated.args["set"] == 1 and "get_ready" in keys(resumed.speech)
    else:  # the step's last set was done: the next step
        assert offer.speech[-1].args["number"] == 2
        assert resumed.state.pos == Position(1, AT_INTRO)


def test_detours_are_not_kept_for_repeat(transitions):
    detours = (EventKind.HELP, EventKind.FAQ, EventKind.FALLBACK, EventKind.PROGRESS)
    for state, event, outcome in transitions:
        if event.kind in detours and not outcome.end_session:
            assert outcome.state.last == state.last, (state.phase, event.kind)


def test_back_to_the_routine_is_said_only_when_something_was_left(transitions):
    for state, event, outcome in transitions:
        if "faq_back" in keys(outcome.speech):
            assert state.phase in (Phase.INTRO, Phase.AFTER_SET) and state.pos is not None
        if event.kind in (EventKind.HELP, EventKind.FALLBACK):
            assert "faq_back" not in keys(outcome.speech)


def test_the_sharp_pain_answer_is_one_line_after_yes(transitions):
    for state, event, outcome in transitions:
        if state.phase in (Phase.PAIN_SHARP, Phase.PAIN_SWELLING) and event.kind is EventKind.YES:
            assert len(outcome.speech) == 1 and outcome.end_session
            assert outcome.speech[0].key.startswith("pain_yes_")


def test_a_saved_place_after_the_very_last_set_resumes_at_the_last_step(routine):
    last = routine.total_steps - 1
    profile = Profile(disclaimer_heard=True, resume_at=Position(last, routine.sets_in(last) - 1))
    offer, resumed = run(routine, [Event(EventKind.YES, today=TODAY)], profile)
    assert offer.speech[-1].args["number"] == last + 1
    assert resumed.state.pos == Position(last, AT_INTRO) and not resumed.end_session


def test_pause_and_stop_name_the_step_that_comes_next(routine):
    step_one_done = [NEXT, NEXT, NEXT]  # equipment, right leg, left leg
    for leave in (EventKind.PAUSE, EventKind.STOP):
        said = run(routine, [*step_one_done, Event(leave, today=TODAY)])[-1]
        assert said.end_session and said.speech[0].args["number"] == 2, leave
