"""The pure state machine: every (state, event) pair, pain from everywhere, a long random walk."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skill.alexa import codec
from skill.content.loader import LOCALES
from skill.core.machine import (
    AT_INTRO,
    Event,
    EventKind,
    Phase,
    Position,
    Profile,
    start_state,
    step,
)
from skill.core.transitions import explore, sample_events, sample_profiles
from tests.support.ssml_checks import ssml_problems

TODAY = "2026-11-25"
QUESTIONS = {Phase.PAIN_SHARP, Phase.PAIN_SWELLING}  # pain questions that need a yes or no


def keys(prompts):
    return [p.key for p in prompts]


@pytest.fixture(scope="module")
def transitions(routine):
    return list(explore(routine))


def check_outcome(state, event, outcome, renderers):
    """The invariants every turn keeps, whatever the state and event."""
    where = f"{state.phase.value} + {event.kind.value}"
    if event.kind is EventKind.SESSION_END:
        assert outcome.end_session and not outcome.speech, where
    else:
        assert outcome.speech, f"{where}: says nothing"
    if outcome.end_session:
        assert outcome.reprompt == (), f"{where}: a closed session has no reprompt"
    else:
        assert outcome.reprompt, f"{where}: an open session needs a reprompt"
    assert codec.state_from_dict(codec.state_to_dict(outcome.state)) == outcome.state, where
    for renderer in renderers.values():
        assert renderer.can_render(outcome.speech + outcome.reprompt), where


def test_every_reachable_state_and_event_gives_a_valid_outcome(transitions, renderers):
    assert len(transitions) > 10_000  # the exploration really covers the machine
    phases = {s.phase for s, _, _ in transitions}
    assert phases >= set(Phase) - {Phase.ENDED}
    for state, event, outcome in transitions:
        check_outcome(state, event, outcome, renderers)


def test_every_prompt_the_machine_emits_renders_in_both_locales(transitions, renderers):
    for state, event, outcome in transitions[:: max(1, len(transitions) // 3000)]:
        if not outcome.speech:
            continue
        for loc in LOCALES:
            rendered = renderers[loc].render(outcome, outcome.state.profile.equipment)
            for ssml in (rendered.ssml, rendered.reprompt):
                if ssml is not None:
                    assert ssml_problems(ssml) == [], (loc, state.phase, event.kind)


def test_pain_wins_from_every_state(transitions):
    pains = [(s, o) for s, e, o in transitions if e.kind is EventKind.PAIN]
    assert {s.phase for s, _ in pains} >= set(Phase) - {Phase.ENDED}
    for state, outcome in pains:
        assert keys(outcome.speech) == ["pain_stop", "ask_pain_sharp"], state.phase
        assert outcome.state.phase is Phase.PAIN_SHARP and not outcome.end_session
        assert outcome.state.profile == state.profile, "nothing about pain is stored"


def test_faq_and_help_return_to_where_the_user_was(transitions):
    for state, event, outcome in transitions:
        detour = event.kind in (EventKind.FAQ, EventKind.HELP, EventKind.FALLBACK)
        if detour and state.phase is not Phase.ENDED:
            assert outcome.state.phase is state.phase
            assert outcome.state.pos == state.pos
            assert not outcome.end_session


# -- conversations ------------------------------------------------------------------------------


def talk(routine, kinds, profile=None, first=EventKind.LAUNCH):
    state = start_state(profile or Profile())
    outcomes = []
    for kind in (first, *kinds):
        event = Event(kind, today=TODAY) if isinstance(kind, EventKind) else kind
        outcome = step(state, event, routine)
        outcomes.append(outcome)
        if outcome.end_session:
            break
        state = outcome.state
    return outcomes


def test_start_at_the_equipment_question_asks_again_and_chooses_nothing(routine):
    for kind in (EventKind.START, EventKind.RESUME):
        asked = talk(routine, [kind])[-1]
        assert asked.state.phase is Phase.EQUIPMENT and asked.state.profile.equipment is None
        assert keys(asked.speech) == ["equipment_first", "ask_equipment"] and not asked.end_session


def test_ready_at_the_equipment_question_takes_the_ball_and_says_so(routine):
    chose = talk(routine, [EventKind.NEXT])[-1]
    assert chose.state.profile.equipment == "ball"
    assert keys(chose.speech)[:2] == ["equipment_set", "step_intro"]


def test_a_user_who_says_yes_then_only_next_hears_the_whole_routine(routine):
    outcomes = talk(routine, [EventKind.YES] + [EventKind.NEXT] * 40)
    end = next(i for i, o in enumerate(outcomes) if o.end_session)
    said = [k for o in outcomes[: end + 1] for k in keys(o.speech)]
    sets = [p.args for o in outcomes for p in o.speech if p.key == "set"]
    expected = [(i, j) for i, t in enumerate(routine.steps) for j in range(t.sets)]
    assert [(a["step"], a["set"]) for a in sets] == expected
    assert said.count("step_intro") == routine.total_steps
    assert said[:3] == ["welcome_first", "disclaimer", "ask_equipment"]
    assert said[-4:] == ["routine_done", "progress_first", "advice_start", "goodbye_done"]
    final = outcomes[end].state.profile
    assert final.days_done == 1 and final.resume_at is None and final.equipment == "ball"


def test_equipment_answer_is_remembered(routine):
    outcomes = talk(routine, [EventKind.NO])  # "no ball" at the equipment question
    assert outcomes[-1].state.profile.equipment == "towel"
    towel = Event(EventKind.EQUIPMENT, equipment="towel", today=TODAY)
    outcomes = talk(routine, [towel])
    assert keys(outcomes[-1].speech)[:2] == ["equipment_set", "step_intro"]


def test_pause_saves_the_place_and_ends_and_the_next_launch_goes_on_with_the_next_set(routine):
    outcomes = talk(routine, [EventKind.NEXT, EventKind.NEXT, EventKind.PAUSE])
    paused = outcomes[-1]
    assert keys(paused.speech) == ["paused"] and paused.end_session
    assert paused.state.profile.resume_at == Position(0, 0)
    again = talk(routine, [EventKind.YES], profile=paused.state.profile)
    assert keys(again[0].speech) == ["welcome_back", "safety_launch", "resume_offer"]
    assert again[0].speech[-1].args["number"] == 1
    resumed = again[1]
    assert keys(resumed.speech)[:4] == ["resuming", "how_to_stop", "get_ready", "set"]
    assert resumed.speech[3].args == {"gentle": False, "set": 1, "side": "left", "step": 0}


def test_a_stopped_routine_is_offered_again_at_the_next_launch(routine):
    outcomes = talk(routine, [EventKind.NEXT, EventKind.NEXT, EventKind.NEXT, EventKind.STOP])
    profile = outcomes[-1].state.profile
    assert keys(outcomes[-1].speech) == ["goodbye_saved"] and outcomes[-1].end_session
    again = talk(routine, [EventKind.YES], profile=profile)
    assert keys(again[0].speech)[-1] == "resume_offer"
    assert again[0].speech[-1].args["number"] == 2  # step 1 was done: step 2 is next
    assert keys(again[1].speech) == ["resuming", "step_intro", "ask_intro"]
    assert again[1].state.pos == Position(1, AT_INTRO)


@pytest.mark.parametrize("detour", [EventKind.HELP, EventKind.FALLBACK,
                                    Event(EventKind.FAQ, topic="no_ball", today=TODAY)])
def test_repeat_after_help_a_question_or_a_fallback_repeats_the_set(routine, detour):
    outcomes = talk(routine, [EventKind.NEXT, EventKind.NEXT, EventKind.REPEAT, detour,
                              EventKind.REPEAT])
    set_turn, repeated, detour_turn, again = outcomes[2:]
    assert repeated.speech == set_turn.speech and repeated.seed == set_turn.seed
    assert repeated.state.pos == set_turn.state.pos
    assert "set" not in keys(detour_turn.speech)
    assert again.speech == set_turn.speech and again.seed == set_turn.seed


@pytest.mark.parametrize("sharp, swelling", [(True, None), (False, True)])
def test_sharp_pain_or_swelling_means_stop_and_see_a_doctor(routine, sharp, swelling):
    answers = [EventKind.YES if sharp else EventKind.NO]
    answers += [] if swelling is None else [EventKind.YES]
    outcomes = talk(routine, [EventKind.NEXT, EventKind.NEXT, EventKind.PAIN, *answers])
    said = keys(outcomes[-1].speech)
    assert said == ["pain_yes_sharp" if sharp else "pain_yes_swelling"]
    assert outcomes[-1].end_session
    assert outcomes[-1].state.profile == outcomes[-2].state.profile, "nothing about pain kept"
    later = talk(routine, [], profile=outcomes[-1].state.profile)[0]
    assert "safety_launch" in keys(later.speech)  # everyone hears it; nobody is singled out


def test_mild_discomfort_offers_a_gentler_set_or_a_skip(routine):
    base = [EventKind.NEXT, EventKind.NEXT, EventKind.PAIN, EventKind.NO, EventKind.NO]
    gentle = talk(routine, [*base, EventKind.YES])[-1]
    assert keys(gentle.speech)[0] == "pain_gentle" and "get_ready" in keys(gentle.speech)
    narrated = next(p for p in gentle.speech if p.key == "set")
    assert narrated.args["gentle"] is True and narrated.args["set"] == 0
    skipped = talk(routine, [*base, EventKind.SKIP])[-1]
    assert keys(skipped.speech)[:2] == ["pain_skip", "step_intro"]
    assert skipped.state.pos == Position(1, -1) and not skipped.state.gentle


def test_pain_questions_never_take_next_as_an_answer(routine):
    outcomes = talk(routine, [EventKind.NEXT, EventKind.PAIN, EventKind.NEXT, EventKind.NEXT])
    assert all(o.state.phase is Phase.PAIN_SHARP for o in outcomes[-2:])
    assert keys(outcomes[-1].speech) == ["yes_or_no", "ask_pain_sharp"]


def test_delete_asks_first_and_no_keeps_everything(routine):
    kept = talk(routine, [EventKind.NEXT, EventKind.DELETE_DATA, EventKind.NO])
    assert keys(kept[-2].speech) == ["confirm_delete", "ask_confirm_delete"]
    assert kept[-1].state.phase is Phase.INTRO and not kept[-1].delete_data
    gone = talk(routine, [EventKind.NEXT, EventKind.DELETE_DATA, EventKind.YES])[-1]
    assert gone.delete_data and gone.end_session and gone.state.profile == Profile()


def test_go_to_step_and_out_of_range_numbers(routine):
    go = talk(routine, [EventKind.NEXT, Event(EventKind.GO_TO_STEP, number=4)])[-1]
    assert go.state.pos == Position(3, -1)
    bad = talk(routine, [EventKind.NEXT, Event(EventKind.GO_TO_STEP, number=9)])[-1]
    assert keys(bad.speech)[0] == "invalid_step" and bad.state.pos == Position(0, -1)


def test_streak_counts_consecutive_days_and_once_per_day(routine):
    profile = Profile(disclaimer_heard=True, days_done=2, streak=2, last_day="2026-11-24")
    go_to_five = Event(EventKind.GO_TO_STEP, number=5, today=TODAY)
    done = talk(routine, [go_to_five, EventKind.NEXT], profile)
    p = done[-1].state.profile
    assert (p.days_done, p.streak, p.last_day) == (3, 3, TODAY)
    again = talk(routine, [Event(EventKind.GO_TO_STEP, number=5, today=TODAY), EventKind.NEXT], p)
    assert again[-1].state.profile.days_done == 3  # same day: counted once
    later = Event(EventKind.GO_TO_STEP, number=5, today="2026-11-28")
    gap = talk(routine, [later, Event(EventKind.NEXT, today="2026-11-28")], p)
    assert gap[-1].state.profile.streak == 1


# -- a long random walk -------------------------------------------------------------------------


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_walks_keep_every_invariant(routine, renderers, data):
    """100 walks of 100 events: 10,000 events in all."""
    events = sample_events(routine)
    state = start_state(data.draw(st.sampled_from(sample_profiles(routine))))
    for _ in range(100):
        event = data.draw(st.sampled_from(events))
        outcome = step(state, event, routine)
        check_outcome(state, event, outcome, renderers)
        if event.kind is EventKind.PAIN:
            assert outcome.state.phase is Phase.PAIN_SHARP
        moving_on = event.kind in (EventKind.NEXT, EventKind.START, EventKind.SKIP)
        if state.phase in QUESTIONS and moving_on:
            assert "set" not in keys(outcome.speech), "no exercise without an answer"
        state = outcome.state if not outcome.end_session else start_state(outcome.state.profile)


def test_replace_copies_with_changes_and_refuses_unknown_fields():
    import dataclasses

    from skill.core.model import Phase, Position, State, replace

    before = State(phase=Phase.INTRO, pos=Position(1, 0), turn=3)
    after = replace(before, phase=Phase.AFTER_SET, turn=4)
    assert after == dataclasses.replace(before, phase=Phase.AFTER_SET, turn=4)
    assert before.phase is Phase.INTRO and before.turn == 3  # the original is unchanged
    assert hash(after) == hash(dataclasses.replace(before, phase=Phase.AFTER_SET, turn=4))
    with pytest.raises(dataclasses.FrozenInstanceError):
        after.turn = 5  # still frozen
    with pytest.raises(TypeError, match="no field"):
        replace(before, phaze=Phase.INTRO)
