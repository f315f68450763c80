"""The routine's session state machine: pure, no I/O, no clock, no randomness, no ASK types.

``step(state, event, routine)`` returns an ``Outcome``: the next state and what to say, as prompt
keys with parameters (the renderer turns them into SSML). The date, when it matters, comes in the
event. ``python -m skill.core.machine`` prints the transition table for review.

Built for how an Echo listens: after a response the microphone is open about 8 s, then the
reprompt, 8 s more, and the session ends. So a rest or a change of position is held as silence
inside the response, before its closing question; "pause" saves the place and ends the session.
"""

from __future__ import annotations

from skill.core import pain
from skill.core.flow import (
    BRIEF_AFTER_DAYS,
    DEFAULT_EQUIPMENT,
    GO_ON,
    ROUTINE_PHASES,
    advance,
    answer_and_ask,
    base_phase,
    begin,
    detour,
    go_to_step,
    greet,
    here,
    intro,
    pos_of,
    question,
    reask,
    resume_step,
    sets_in,
    side_of,
    skip_step,
    valid,
    with_profile,
)
from skill.core.model import (
    AT_INTRO,
    PAIN_PHASES,
    Event,
    EventKind,
    Outcome,
    Phase,
    Position,
    Profile,
    Prompt,
    Said,
    State,
    prompt,
    replace,
)
from skill.core.progress import progress_report
from skill.core.routine import EQUIPMENT, PACE_STEPS, SIDES, Routine

__all__ = [
    "AT_INTRO", "PAIN_PHASES", "Event", "EventKind", "Outcome", "Phase", "Position", "Profile",
    "Prompt", "Said", "State", "prompt", "step", "start_state", "is_consistent", "sets_in",
    "side_of", "DEFAULT_EQUIPMENT", "BRIEF_AFTER_DAYS", "PACES", "WEAKER_SIDE_ANSWERS",
]

PACES = PACE_STEPS  # speech pace steps, slowest first
WEAKER_SIDE_ANSWERS = (*SIDES, "both")  # "both": neither leg is weaker


def is_consistent(s: State, routine: Routine) -> bool:
    """Whether a state (e.g. decoded from session attributes) fits ``routine``."""
    positions = (s.pos, s.profile.resume_at)
    return all(p is None or valid(p, s.profile, routine) for p in positions)


def start_state(profile: Profile) -> State:
    """A new session's state for a user with ``profile``."""
    return State(profile=profile)


def step(state: State, event: Event, routine: Routine) -> Outcome:
    """The next state and what to say, for ``event`` in ``state``."""
    state = replace(state, turn=state.turn + 1, today=event.today or state.today)
    outcome = _dispatch(state, event, routine)
    seed = outcome.seed if outcome.seed >= 0 else outcome.state.turn
    if outcome.end_session:
        return replace(outcome, seed=seed, reprompt=(),
                       state=replace(outcome.state, phase=Phase.ENDED))
    if event.kind is not EventKind.REPEAT and not outcome.detour:
        remembered = Said(outcome.speech, outcome.reprompt, seed)
        return replace(outcome, seed=seed, state=replace(outcome.state, last=remembered))
    return outcome if seed == outcome.seed else replace(outcome, seed=seed)


def _dispatch(s: State, e: Event, r: Routine) -> Outcome:
    k = e.kind
    # Global events first: these work from every phase, and pain always wins.
    if k is EventKind.SESSION_END:  # the place is already saved (Profile.resume_at)
        return Outcome(s, (), (), True)
    if k is EventKind.PAIN:
        return pain.start(s)
    if k is EventKind.REPEAT:
        return _repeat(s, r)
    if k is EventKind.FAQ:
        return detour(s, r, _faq(e.topic), back=True)
    if k is EventKind.HELP:
        return detour(s, r, (prompt(f"help_{base_phase(s).value}", **here(s, r)),))
    if k is EventKind.FALLBACK:
        return detour(s, r, (prompt(f"fallback_{base_phase(s).value}"),))
    if k is EventKind.DELETE_DATA and s.phase is not Phase.CONFIRM_DELETE:
        q = replace(s, phase=Phase.CONFIRM_DELETE, back=base_phase(s))
        return answer_and_ask(q, r, (prompt("confirm_delete"),))
    if k in _PREFERENCE_EVENTS:
        return _PREFERENCE_EVENTS[k](s, e, r)
    if k is EventKind.LAUNCH:
        return greet(s, r)
    if k is EventKind.EQUIPMENT and e.equipment in EQUIPMENT and s.phase not in PAIN_PHASES:
        s = with_profile(s, equipment=e.equipment)
        if s.phase is Phase.EQUIPMENT:
            return begin(s, r, (prompt("equipment_set", tool=e.equipment),))
        return detour(s, r, (prompt("equipment_set", tool=e.equipment),))
    return _PHASE_HANDLERS[s.phase](s, e, r)


# -- detours: FAQ, help, fallback, repeat --------------------------------------------------------


def _faq(topic: str | None) -> tuple[Prompt, ...]:
    if topic:
        return (prompt("faq_answer", topic=topic),)
    return (prompt("faq_unknown"),)


def _repeat(s: State, r: Routine) -> Outcome:
    """The last routine instruction or set again (after help, a question or a fallback too)."""
    if s.last is None or not s.last.speech:
        ask = question(s, r)
        return Outcome(s, ask, ask, False)
    speech, reprompt, seed = s.last.speech, s.last.reprompt, s.last.seed
    card = None
    if s.pos is not None and s.phase in ROUTINE_PHASES:
        card = prompt("step_card", step=s.pos.step)
    return Outcome(s, speech, reprompt or question(s, r), False, card=card, seed=seed)


# -- phase handlers ------------------------------------------------------------------------------


def _in_welcome(s: State, e: Event, r: Routine) -> Outcome:
    k = e.kind
    if k in GO_ON or k is EventKind.START_OVER:
        if s.turn == 1 and s.profile.resume_at:
            return greet(s, r)  # a one-shot start still offers to resume
        return begin(s, r)
    if k is EventKind.GO_TO_STEP:
        return go_to_step(s, r, e.number)
    if k in (EventKind.STOP, EventKind.CANCEL, EventKind.NO, EventKind.PAUSE):
        return _goodbye(s, r)
    if k in (EventKind.PREVIOUS, EventKind.SKIP):
        return reask(s, r, (prompt("not_started"),))
    return reask(s, r, (prompt("fallback_welcome"),))


def _in_equipment(s: State, e: Event, r: Routine) -> Outcome:
    k = e.kind
    if k in (EventKind.YES, EventKind.NEXT):  # "yes, I have one", "ready": the ball, said back
        choice = DEFAULT_EQUIPMENT
    elif k in GO_ON:  # "start", "continue" do not answer the question: ask it again
        return reask(s, r, (prompt("equipment_first"),))
    elif k is EventKind.NO:
        choice = "towel"
    elif k is EventKind.GO_TO_STEP:
        return go_to_step(s, r, e.number)
    elif k in (EventKind.STOP, EventKind.CANCEL, EventKind.PAUSE):
        return _goodbye(s, r)
    elif k is EventKind.START_OVER:
        choice = s.profile.equipment or DEFAULT_EQUIPMENT
    else:  # previous, skip, an equipment slot we did not understand
        return reask(s, r, (prompt("fallback_equipment"),))
    s = with_profile(s, equipment=choice)
    return begin(s, r, (prompt("equipment_set", tool=choice),))


def _in_routine(s: State, e: Event, r: Routine) -> Outcome:
    """INTRO and AFTER_SET: the routine is under way."""
    k = e.kind
    pos = pos_of(s)
    if k in GO_ON:
        return advance(s, r, ready=k is EventKind.RESUME)
    if k is EventKind.NO:
        return reask(s, r, (prompt("take_your_time"),))
    if k is EventKind.PREVIOUS:
        if not pos.at_intro:
            return intro(s, r, pos.step)
        if pos.step == 0:
            return intro(s, r, 0, (prompt("first_step_already"),))
        return intro(replace(s, gentle=False), r, pos.step - 1)
    if k is EventKind.SKIP:
        return skip_step(s, r)
    if k is EventKind.GO_TO_STEP:
        return go_to_step(s, r, e.number)
    if k is EventKind.START_OVER:
        return intro(replace(s, gentle=False), r, 0, (prompt("start_over"),))
    if k is EventKind.PAUSE:  # the place is saved; the session ends, saying how to come back
        return Outcome(s, (prompt("paused", number=resume_step(s, r) + 1),), (), True)
    if k in (EventKind.STOP, EventKind.CANCEL):
        return _goodbye(s, r)
    return reask(s, r, (prompt(f"fallback_{s.phase.value}"),))


def _resume(s: State, r: Routine) -> Outcome:
    """Go on from the saved place: the intro it stopped at, or the set after the one done."""
    pos = pos_of(s)
    going_on = resume_step(s, r)
    lead = (prompt("resuming", number=going_on + 1),)
    if pos.at_intro or going_on == pos.step and pos.cursor + 1 >= sets_in(pos.step, s.profile, r):
        return intro(s, r, going_on, lead)  # (nothing left after the last set: its step again)
    return advance(s, r, lead, ready=True)


def _in_resume_offer(s: State, e: Event, r: Routine) -> Outcome:
    k = e.kind
    if k in (EventKind.YES, EventKind.RESUME, EventKind.NEXT):
        s = with_profile(s, equipment=s.profile.equipment or DEFAULT_EQUIPMENT)
        return _resume(s, r)
    if k in (EventKind.NO, EventKind.START_OVER, EventKind.START):
        s = with_profile(replace(s, pos=None), resume_at=None)
        return begin(s, r, (prompt("resume_declined"),))
    if k is EventKind.GO_TO_STEP:
        return go_to_step(s, r, e.number)
    if k in (EventKind.SKIP, EventKind.PREVIOUS):
        return _in_routine(replace(s, phase=Phase.INTRO), e, r)
    if k in (EventKind.STOP, EventKind.CANCEL, EventKind.PAUSE):
        return _goodbye(s, r)
    return reask(s, r, (prompt("fallback_resume_offer"),))


# -- delete, goodbye, navigation -----------------------------------------------------------------


def _in_confirm_delete(s: State, e: Event, r: Routine) -> Outcome:
    k = e.kind
    if k is EventKind.YES:
        fresh = State(phase=Phase.ENDED, turn=s.turn)
        return Outcome(fresh, (prompt("delete_done"),), (), True, delete_data=True)
    if k in (EventKind.NO, EventKind.CANCEL, EventKind.NEXT, EventKind.RESUME):
        q = replace(s, phase=s.back or Phase.WELCOME, back=None)
        return answer_and_ask(q, r, (prompt("delete_kept"),))
    if k in (EventKind.STOP, EventKind.PAUSE):
        return _goodbye(replace(s, phase=s.back or Phase.WELCOME, back=None), r)
    return reask(s, r, (prompt("yes_or_no"),))


def _goodbye(s: State, r: Routine) -> Outcome:
    """Goodbye; with the step that comes next when a routine was left part way."""
    pos = s.profile.resume_at
    if pos is not None:
        going_on = resume_step(replace(s, pos=pos), r)
        return Outcome(s, (prompt("goodbye_saved", number=going_on + 1),), (), True)
    return Outcome(s, (prompt("goodbye"),), (), True)


def _ended(s: State, e: Event, r: Routine) -> Outcome:
    """A request after the session ended (a stale session): treat it as a fresh start."""
    return _dispatch(replace(s, phase=Phase.WELCOME, pos=None, back=None), e, r)


# -- preferences: pace, detail, weaker side, progress, reminder ---------------------------------


def _pace(s: State, e: Event, r: Routine) -> Outcome:
    step_by = -1 if e.kind is EventKind.SLOWER else 1
    i = PACES.index(s.profile.pace) if s.profile.pace in PACES else PACES.index(0)
    j = min(max(i + step_by, 0), len(PACES) - 1)
    if i == j:
        key = "pace_slowest" if step_by < 0 else "pace_fastest"
    else:
        key = "pace_slower" if step_by < 0 else "pace_faster"
    return detour(with_profile(s, pace=PACES[j]), r, (prompt(key),))


def _explain(s: State, e: Event, r: Routine) -> Outcome:
    if s.pos is None or s.phase not in ROUTINE_PHASES:
        return detour(s, r, (prompt(f"help_{base_phase(s).value}", **here(s, r)),))
    if s.phase is Phase.INTRO:
        return intro(s, r, s.pos.step, detailed=True)
    said = (prompt("step_intro", step=s.pos.step, detail=True),)
    return replace(detour(s, r, said), card=prompt("step_card", step=s.pos.step))


def _weaker_side(s: State, e: Event, r: Routine) -> Outcome:
    if e.side not in WEAKER_SIDE_ANSWERS:
        return detour(s, r, (prompt("weaker_side_which"),))
    side = None if e.side == "both" else e.side
    q = with_profile(s, weaker_side=side)
    if q.pos is not None and not is_consistent(q, r):  # an extra set that no longer exists
        q = replace(q, pos=Position(q.pos.step, sets_in(q.pos.step, q.profile, r) - 1))
        q = with_profile(q, resume_at=q.pos)
    said = prompt("weaker_side_set", side=side) if side else prompt("weaker_side_cleared")
    return detour(q, r, (said,))


def _progress_asked(s: State, e: Event, r: Routine) -> Outcome:
    return detour(s, r, progress_report(s.profile))


def _reminder(s: State, e: Event, r: Routine) -> Outcome:
    if e.reminder == "set" and e.time:
        return detour(s, r, (prompt("reminder_set", time=e.time),))
    if e.reminder == "no_permission":
        return replace(detour(s, r, (prompt("reminder_permission"),)), ask_permission=True)
    if e.reminder == "no_time":
        return detour(s, r, (prompt("reminder_need_time"),))
    if e.reminder == "declined":  # the user said no to Alexa's voice consent
        return detour(s, r, (prompt("reminder_declined"),))
    return detour(s, r, (prompt("reminder_failed"),))


_PREFERENCE_EVENTS = {
    EventKind.SLOWER: _pace,
    EventKind.FASTER: _pace,
    EventKind.EXPLAIN: _explain,
    EventKind.WEAKER_SIDE: _weaker_side,
    EventKind.PROGRESS: _progress_asked,
    EventKind.REMINDER: _reminder,
}

_PHASE_HANDLERS = {
    Phase.WELCOME: _in_welcome,
    Phase.EQUIPMENT: _in_equipment,
    Phase.INTRO: _in_routine,
    Phase.AFTER_SET: _in_routine,
    Phase.RESUME_OFFER: _in_resume_offer,
    Phase.PAIN_SHARP: pain.in_sharp,
    Phase.PAIN_SWELLING: pain.in_swelling,
    Phase.PAIN_MILD: pain.in_mild,
    Phase.CONFIRM_DELETE: _in_confirm_delete,
    Phase.ENDED: _ended,
}




if __name__ == "__main__":  # python -m skill.core.machine: print the transition table
    import sys

    from skill.core.transitions import main

    sys.exit(main())
