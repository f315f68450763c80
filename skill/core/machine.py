"""The routine's session state machine: pure, no I/O, no clock, no randomness, no ASK types.

``step(state, event, routine)`` returns an ``Outcome``: the next state and what to say, as prompt
keys with parameters (the renderer turns them into SSML). The date, when it matters, comes in the
event. ``python -m skill.core.machine`` prints the transition table for review.

Built for how an Echo listens: after a response the microphone is open about 8 s, then the
reprompt, 8 s more, and the session ends. So a rest or a change of position is held as silence
inside the response, before its closing question; "pause" saves the place and ends the session.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from skill.content.loader import EQUIPMENT, PACE_STEPS, SIDES, Routine
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
)
from skill.core.progress import progress_report, record_day

__all__ = [
    "AT_INTRO", "PAIN_PHASES", "Event", "EventKind", "Outcome", "Phase", "Position", "Profile",
    "Prompt", "Said", "State", "prompt", "step", "start_state", "is_consistent", "sets_in",
    "side_of", "DEFAULT_EQUIPMENT", "BRIEF_AFTER_DAYS", "PACES", "WEAKER_SIDE_ANSWERS",
]

DEFAULT_EQUIPMENT = "ball"  # the article's tool; "next" at the equipment question takes it
BRIEF_AFTER_DAYS = 2  # from the third routine on, step intros shrink to the essentials
PACES = PACE_STEPS  # speech pace steps, slowest first
WEAKER_SIDE_ANSWERS = (*SIDES, "both")  # "both": neither leg is weaker
ROUTINE_PHASES = frozenset({Phase.INTRO, Phase.AFTER_SET})
GO_ON = frozenset({EventKind.NEXT, EventKind.YES, EventKind.START, EventKind.RESUME})


def is_consistent(s: State, routine: Routine) -> bool:
    """Whether a state (e.g. decoded from session attributes) fits ``routine``."""
    positions = (s.pos, s.profile.resume_at)
    return all(p is None or _valid(p, s.profile, routine) for p in positions)


def start_state(profile: Profile) -> State:
    """A new session's state for a user with ``profile``."""
    return State(profile=profile)


def step(state: State, event: Event, routine: Routine) -> Outcome:
    """The next state and what to say, for ``event`` in ``state``."""
    state = replace(state, turn=state.turn + 1, today=event.today or state.today)
    outcome = _dispatch(state, event, routine)
    if outcome.seed < 0:
        outcome = replace(outcome, seed=outcome.state.turn)
    if outcome.end_session:
        outcome = replace(outcome, reprompt=(), state=replace(outcome.state, phase=Phase.ENDED))
    elif event.kind is not EventKind.REPEAT and not outcome.detour:
        remembered = Said(outcome.speech, outcome.reprompt, outcome.seed)
        outcome = replace(outcome, state=replace(outcome.state, last=remembered))
    return outcome


def _dispatch(s: State, e: Event, r: Routine) -> Outcome:
    k = e.kind
    # Global events first: these work from every phase, and pain always wins.
    if k is EventKind.SESSION_END:  # the place is already saved (Profile.resume_at)
        return Outcome(s, (), (), True)
    if k is EventKind.PAIN:
        return _pain(s)
    if k is EventKind.REPEAT:
        return _repeat(s, r)
    if k is EventKind.FAQ:
        return _detour(s, r, _faq(e.topic), back=True)
    if k is EventKind.HELP:
        return _detour(s, r, (prompt(f"help_{_base(s).value}", **_here(s)),))
    if k is EventKind.FALLBACK:
        return _detour(s, r, (prompt(f"fallback_{_base(s).value}"),))
    if k is EventKind.DELETE_DATA and s.phase is not Phase.CONFIRM_DELETE:
        q = replace(s, phase=Phase.CONFIRM_DELETE, back=_base(s))
        return _ask(q, r, (prompt("confirm_delete"),))
    if k in _PREFERENCE_EVENTS:
        return _PREFERENCE_EVENTS[k](s, e, r)
    if k is EventKind.LAUNCH:
        return _greet(s, r)
    if k is EventKind.EQUIPMENT and e.equipment in EQUIPMENT and s.phase not in PAIN_PHASES:
        s = _with_profile(s, equipment=e.equipment)
        if s.phase is Phase.EQUIPMENT:
            return _begin(s, r, (prompt("equipment_set", tool=e.equipment),))
        return _detour(s, r, (prompt("equipment_set", tool=e.equipment),))
    return _PHASE_HANDLERS[s.phase](s, e, r)


# -- launch and start ---------------------------------------------------------------------------


def _greet(s: State, r: Routine, lead: tuple[Prompt, ...] = ()) -> Outcome:
    """The welcome, with its card: what to prepare, the disclaimer, what can be said."""
    return replace(_welcome(s, r, lead), card=prompt("welcome_card"))


def _welcome(s: State, r: Routine, lead: tuple[Prompt, ...]) -> Outcome:
    """First use: welcome, disclaimer, the equipment question. Later: welcome back, a safety
    line for everyone, and the offer to continue (one sentence) when a routine was left."""
    p = s.profile
    if not p.disclaimer_heard:
        q = replace(_with_profile(s, disclaimer_heard=True), phase=Phase.EQUIPMENT)
        return _ask(q, r, lead + (prompt("welcome_first"), prompt("disclaimer")))
    hello = lead or (prompt("welcome_back"),)
    if p.resume_at is not None and _valid(p.resume_at, p, r):
        pos = p.resume_at
        q = replace(s, phase=Phase.RESUME_OFFER, pos=pos, back=None)
        offer = prompt("resume_offer", **_step_args(_resume_step(q, r)))
        return Outcome(q, hello + (prompt("safety_launch"), offer), _question(q, r), False)
    return _ask(replace(s, phase=Phase.WELCOME), r, hello + (prompt("safety_launch"),))


def _begin(s: State, r: Routine, lead: tuple[Prompt, ...] = ()) -> Outcome:
    """Start the routine at step 1 (after the first-use welcome when it is due)."""
    if not s.profile.disclaimer_heard:
        return _greet(s, r, lead)
    if s.profile.equipment is None:
        s = _with_profile(s, equipment=DEFAULT_EQUIPMENT)
    return _intro(s, r, 0, lead)


# -- positions ------------------------------------------------------------------------------------


def sets_in(step: int, profile: Profile, r: Routine) -> int:
    """Sets of a step: one more on the weaker side where the step works one side at a time."""
    extra = profile.weaker_side is not None and r.steps[step].sides == "each"
    return r.sets_in(step) + extra


def side_of(step: int, set_index: int, profile: Profile, r: Routine) -> str | None:
    """The leg a set starts on (the extra set is on the weaker side)."""
    if set_index >= r.sets_in(step):
        return profile.weaker_side
    return r.steps[step].side_of(set_index)


def _intro(s: State, r: Routine, index: int, lead: tuple[Prompt, ...] = (),
           detailed: bool = False) -> Outcome:
    gentle = s.gentle and s.pos is not None and s.pos.step == index
    pos = Position(index, AT_INTRO)
    q = replace(s, phase=Phase.INTRO, pos=pos, gentle=gentle, back=None)
    q = _with_profile(q, resume_at=pos)
    if detailed:
        intro = prompt("step_intro", step=index, detail=True)
    else:
        intro = prompt("step_intro", step=index, brief=s.profile.days_done >= BRIEF_AFTER_DAYS)
    ask = (prompt("ask_intro"),)
    return Outcome(q, lead + (intro,) + ask, ask, False, card=prompt("step_card", step=index))


def _play_set(s: State, r: Routine, index: int, set_index: int,
              lead: tuple[Prompt, ...] = (), ready: bool = False) -> Outcome:
    """One timed set, then the rest or the move that follows it, then the closing question.

    A set that opens the session, follows a resume, an intro or a move starts with a get-ready
    lead; the first set of a session says how to stop for pain.
    """
    pos = Position(index, set_index)
    side = side_of(index, set_index, s.profile, r)
    before = lead
    if not s.told_stop:
        before += (prompt("how_to_stop"),)
    if ready or not s.told_stop or _after_move(s, r, index, set_index):
        before += (prompt("get_ready"),)
    narration = prompt("set", step=index, set=set_index, side=side, gentle=s.gentle)
    s = replace(s, told_stop=True)
    last_set = set_index == sets_in(index, s.profile, r) - 1
    if last_set and index == r.total_steps - 1:
        return _finish(s, r, before + (narration,))
    q = _with_profile(replace(s, phase=Phase.AFTER_SET, pos=pos, back=None), resume_at=pos)
    done = (prompt("step_done", number=index + 1),) if last_set else ()
    ask = _ask_after_set(q, r)
    return Outcome(q, before + (narration,) + done + _pause_after(q, r) + ask, ask, False,
                   card=prompt("step_card", step=index))


def _after_move(s: State, r: Routine, index: int, set_index: int) -> bool:
    """Whether the set follows a change of position: the step's first set (after its intro),
    or a set after a between-sets move (turning over)."""
    if s.pos is None or s.pos.step != index or s.pos.at_intro:
        return True
    turned = side_of(index, set_index, s.profile, r) != side_of(index, s.pos.cursor, s.profile, r)
    return set_index > 0 and r.steps[index].between_move and turned


def _pause_after(s: State, r: Routine) -> tuple[Prompt, ...]:
    """The rest or move after set ``s.pos``, held as silence before the closing question."""
    pos = _pos(s)
    timing = r.steps[pos.step]
    if pos.cursor + 1 < sets_in(pos.step, s.profile, r):
        if not timing.rest_seconds:
            return ()
        following = side_of(pos.step, pos.cursor + 1, s.profile, r)
        if timing.between_move and following != side_of(pos.step, pos.cursor, s.profile, r):
            return (prompt("move_between", step=pos.step, side=following,
                           seconds=timing.rest_seconds),)
        return (prompt("rest", seconds=timing.rest_seconds),)
    following = pos.step + 1
    if following < r.total_steps and r.steps[following].move_seconds:
        return (prompt("move", step=following, seconds=r.steps[following].move_seconds),)
    return (prompt("rest", seconds=timing.rest_seconds),) if timing.rest_seconds else ()


def _ask_after_set(s: State, r: Routine) -> tuple[Prompt, ...]:
    pos = _pos(s)
    following = pos.cursor + 1
    if following < sets_in(pos.step, s.profile, r):
        if following >= r.sets_in(pos.step):
            return (prompt("ask_extra_side", side=s.profile.weaker_side),)
        if r.steps[pos.step].sides == "each":
            return (prompt("ask_next_side", side=side_of(pos.step, following, s.profile, r)),)
        return (prompt("ask_next_set"),)
    return (prompt("ask_next_step", **_step_args(pos.step + 1)),)


def _advance(s: State, r: Routine, lead: tuple[Prompt, ...] = (), ready: bool = False) -> Outcome:
    """Go on by one: intro -> first set -> next set -> next step's intro."""
    pos = _pos(s)
    if pos.cursor + 1 < sets_in(pos.step, s.profile, r):
        return _play_set(s, r, pos.step, pos.cursor + 1, lead, ready)
    return _intro(replace(s, gentle=False), r, pos.step + 1, lead)


def _finish(s: State, r: Routine, lead: tuple[Prompt, ...]) -> Outcome:
    p = replace(record_day(s.profile, s.today), resume_at=None)
    speech = lead + (prompt("routine_done"), *progress_report(p), prompt("goodbye_done"))
    return Outcome(replace(s, profile=p, pos=None, gentle=False), speech, (), True)


# -- detours: FAQ, help, fallback, repeat --------------------------------------------------------


def _detour(s: State, r: Routine, said: tuple[Prompt, ...], back: bool = False) -> Outcome:
    """Answer, then hand back to where the user was, asking its question again. "Back to the
    routine" is said after an aside (a question answered) only while a routine is under way."""
    under_way = back and s.phase in ROUTINE_PHASES and s.pos is not None
    ask = _question(s, r)
    return Outcome(s, said + ((prompt("faq_back"),) if under_way else ()) + ask, ask, False,
                   detour=True)


def _faq(topic: str | None) -> tuple[Prompt, ...]:
    if topic:
        return (prompt("faq_answer", topic=topic),)
    return (prompt("faq_unknown"),)


def _repeat(s: State, r: Routine) -> Outcome:
    """The last routine instruction or set again (after help, a question or a fallback too)."""
    if s.last is None or not s.last[0]:
        ask = _question(s, r)
        return Outcome(s, ask, ask, False)
    speech, reprompt, seed = s.last
    card = None
    if s.pos is not None and s.phase in ROUTINE_PHASES:
        card = prompt("step_card", step=s.pos.step)
    return Outcome(s, speech, reprompt or _question(s, r), False, card=card, seed=seed)


def _question(s: State, r: Routine) -> tuple[Prompt, ...]:
    """What the skill is waiting for in this phase: the closing question and the reprompt."""
    ph = s.phase
    if ph is Phase.INTRO:
        return (prompt("ask_intro"),)
    if ph is Phase.AFTER_SET and s.pos is not None:
        return _ask_after_set(s, r)
    if ph is Phase.RESUME_OFFER:
        return (prompt("ask_resume_offer", **_step_args(_resume_step(s, r))),)
    if ph is Phase.ENDED:
        return (prompt("ask_welcome"),)
    return (prompt(f"ask_{ph.value}"),)


def _ask(s: State, r: Routine, said: tuple[Prompt, ...]) -> Outcome:
    ask = _question(s, r)
    return Outcome(s, said + ask, ask, False)


def _reask(s: State, r: Routine, said: tuple[Prompt, ...]) -> Outcome:
    """Not an answer for this phase: say so and ask again (an aside, not kept for repeat)."""
    return replace(_ask(s, r, said), detour=True)


# -- phase handlers ------------------------------------------------------------------------------


def _in_welcome(s: State, e: Event, r: Routine) -> Outcome:
    k = e.kind
    if k in GO_ON or k is EventKind.START_OVER:
        if s.turn == 1 and s.profile.resume_at:
            return _greet(s, r)  # a one-shot start still offers to resume
        return _begin(s, r)
    if k is EventKind.GO_TO_STEP:
        return _go_to(s, r, e.number)
    if k in (EventKind.STOP, EventKind.CANCEL, EventKind.NO, EventKind.PAUSE):
        return _goodbye(s)
    if k in (EventKind.PREVIOUS, EventKind.SKIP):
        return _reask(s, r, (prompt("not_started"),))
    return _reask(s, r, (prompt("fallback_welcome"),))


def _in_equipment(s: State, e: Event, r: Routine) -> Outcome:
    k = e.kind
    if k in GO_ON:
        choice = DEFAULT_EQUIPMENT
    elif k is EventKind.NO:
        choice = "towel"
    elif k is EventKind.GO_TO_STEP:
        return _go_to(s, r, e.number)
    elif k in (EventKind.STOP, EventKind.CANCEL, EventKind.PAUSE):
        return _goodbye(s)
    elif k is EventKind.START_OVER:
        choice = s.profile.equipment or DEFAULT_EQUIPMENT
    else:  # previous, skip, an equipment slot we did not understand
        return _reask(s, r, (prompt("fallback_equipment"),))
    s = _with_profile(s, equipment=choice)
    return _begin(s, r, (prompt("equipment_set", tool=choice),))


def _in_routine(s: State, e: Event, r: Routine) -> Outcome:
    """INTRO and AFTER_SET: the routine is under way."""
    k = e.kind
    pos = _pos(s)
    if k in GO_ON:
        return _advance(s, r, ready=k is EventKind.RESUME)
    if k is EventKind.NO:
        return _reask(s, r, (prompt("take_your_time"),))
    if k is EventKind.PREVIOUS:
        if not pos.at_intro:
            return _intro(s, r, pos.step)
        if pos.step == 0:
            return _intro(s, r, 0, (prompt("first_step_already"),))
        return _intro(replace(s, gentle=False), r, pos.step - 1)
    if k is EventKind.SKIP:
        return _skip(s, r)
    if k is EventKind.GO_TO_STEP:
        return _go_to(s, r, e.number)
    if k is EventKind.START_OVER:
        return _intro(replace(s, gentle=False), r, 0, (prompt("start_over"),))
    if k is EventKind.PAUSE:  # the place is saved; the session ends, saying how to come back
        return Outcome(s, (prompt("paused", number=pos.step + 1),), (), True)
    if k in (EventKind.STOP, EventKind.CANCEL):
        return _goodbye(s)
    return _reask(s, r, (prompt(f"fallback_{s.phase.value}"),))


def _resume_step(s: State, r: Routine) -> int:
    """The step a resume goes on with: the saved one, or the next after its last set."""
    pos = _pos(s)
    if not pos.at_intro and pos.cursor + 1 >= sets_in(pos.step, s.profile, r):
        return min(pos.step + 1, r.total_steps - 1)
    return pos.step


def _resume(s: State, r: Routine) -> Outcome:
    """Go on from the saved place: the intro it stopped at, or the set after the one done."""
    pos = _pos(s)
    lead = (prompt("resuming", number=_resume_step(s, r) + 1),)
    if pos.at_intro:
        return _intro(s, r, pos.step, lead)
    return _advance(s, r, lead, ready=True)


def _in_resume_offer(s: State, e: Event, r: Routine) -> Outcome:
    k = e.kind
    if k in (EventKind.YES, EventKind.RESUME, EventKind.NEXT):
        s = _with_profile(s, equipment=s.profile.equipment or DEFAULT_EQUIPMENT)
        return _resume(s, r)
    if k in (EventKind.NO, EventKind.START_OVER, EventKind.START):
        s = _with_profile(replace(s, pos=None), resume_at=None)
        return _begin(s, r, (prompt("resume_declined"),))
    if k is EventKind.GO_TO_STEP:
        return _go_to(s, r, e.number)
    if k in (EventKind.SKIP, EventKind.PREVIOUS):
        return _in_routine(replace(s, phase=Phase.INTRO), e, r)
    if k in (EventKind.STOP, EventKind.CANCEL, EventKind.PAUSE):
        return _goodbye(s)
    return _reask(s, r, (prompt("fallback_resume_offer"),))


# -- pain: nothing of it is stored ---------------------------------------------------------------


def _pain(s: State) -> Outcome:
    """Stop now, then ask about sharp pain."""
    q = replace(s, phase=Phase.PAIN_SHARP, back=None)
    ask = (prompt("ask_pain_sharp"),)
    return Outcome(q, (prompt("pain_stop"),) + ask, ask, False)


def _in_pain_sharp(s: State, e: Event, r: Routine) -> Outcome:
    return _pain_question(s, e, r, Phase.PAIN_SWELLING, ())


def _in_pain_swelling(s: State, e: Event, r: Routine) -> Outcome:
    if s.pos is None and e.kind is EventKind.NO:  # not exercising: nothing to make gentler
        return _greet(replace(s, back=None), r, (prompt("pain_mild_ok"),))
    return _pain_question(s, e, r, Phase.PAIN_MILD, (prompt("pain_mild"),))


def _pain_question(s: State, e: Event, r: Routine, on_no: Phase,
                   said: tuple[Prompt, ...]) -> Outcome:
    k = e.kind
    if k is EventKind.YES:  # said once, plainly: stop today, rest, a doctor if it goes on
        return Outcome(s, (prompt(f"pain_yes_{s.phase.value.removeprefix('pain_')}"),), (), True)
    if k is EventKind.NO:
        q = replace(s, phase=on_no)
        ask = _question(q, r)
        return Outcome(q, said + ask, ask, False)
    if k in (EventKind.STOP, EventKind.CANCEL, EventKind.PAUSE):
        return Outcome(s, (prompt("pain_goodbye"),), (), True)
    return _reask(s, r, (prompt("yes_or_no"),))


def _in_pain_mild(s: State, e: Event, r: Routine) -> Outcome:
    k = e.kind
    pos = _pos(s)
    if k in GO_ON:
        q = replace(s, gentle=True, back=None)
        if pos.at_intro:
            return _intro(q, r, pos.step, (prompt("pain_gentle"),))
        return _play_set(q, r, pos.step, pos.cursor, (prompt("pain_gentle"),), ready=True)
    if k in (EventKind.NO, EventKind.SKIP):
        return _skip(s, r, (prompt("pain_skip"),))
    if k in (EventKind.STOP, EventKind.CANCEL, EventKind.PAUSE):
        return Outcome(s, (prompt("pain_goodbye"),), (), True)
    if k is EventKind.GO_TO_STEP:
        return _go_to(s, r, e.number)
    return _reask(s, r, (prompt("fallback_pain_mild"),))


def _skip(s: State, r: Routine, lead: tuple[Prompt, ...] = (prompt("skip_step"),)) -> Outcome:
    pos = _pos(s)
    q = replace(s, gentle=False)
    if pos.step + 1 >= r.total_steps:
        return _finish(q, r, lead)
    return _intro(q, r, pos.step + 1, lead)


# -- delete, goodbye, navigation -----------------------------------------------------------------


def _in_confirm_delete(s: State, e: Event, r: Routine) -> Outcome:
    k = e.kind
    if k is EventKind.YES:
        fresh = State(phase=Phase.ENDED, turn=s.turn)
        return Outcome(fresh, (prompt("delete_done"),), (), True, delete_data=True)
    if k in (EventKind.NO, EventKind.CANCEL, EventKind.NEXT, EventKind.RESUME):
        q = replace(s, phase=s.back or Phase.WELCOME, back=None)
        return _ask(q, r, (prompt("delete_kept"),))
    if k in (EventKind.STOP, EventKind.PAUSE):
        return _goodbye(replace(s, phase=s.back or Phase.WELCOME, back=None))
    return _reask(s, r, (prompt("yes_or_no"),))


def _goodbye(s: State) -> Outcome:
    pos = s.profile.resume_at
    if pos is not None:
        return Outcome(s, (prompt("goodbye_saved", number=pos.step + 1),), (), True)
    return Outcome(s, (prompt("goodbye"),), (), True)


def _go_to(s: State, r: Routine, number: int | None) -> Outcome:
    if number is None or not 1 <= number <= r.total_steps:
        return _reask(s, r, (prompt("invalid_step", total=r.total_steps),))
    if s.profile.equipment is None:
        s = _with_profile(s, equipment=DEFAULT_EQUIPMENT)
    if not s.profile.disclaimer_heard:
        s = _with_profile(s, disclaimer_heard=True)
        return _intro(replace(s, gentle=False), r, number - 1, (prompt("disclaimer"),))
    return _intro(replace(s, gentle=False), r, number - 1)


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
    return _detour(_with_profile(s, pace=PACES[j]), r, (prompt(key),))


def _explain(s: State, e: Event, r: Routine) -> Outcome:
    if s.pos is None or s.phase not in ROUTINE_PHASES:
        return _detour(s, r, (prompt(f"help_{_base(s).value}", **_here(s)),))
    if s.phase is Phase.INTRO:
        return _intro(s, r, s.pos.step, detailed=True)
    said = (prompt("step_intro", step=s.pos.step, detail=True),)
    return replace(_detour(s, r, said), card=prompt("step_card", step=s.pos.step))


def _weaker_side(s: State, e: Event, r: Routine) -> Outcome:
    if e.side not in WEAKER_SIDE_ANSWERS:
        return _detour(s, r, (prompt("weaker_side_which"),))
    side = None if e.side == "both" else e.side
    q = _with_profile(s, weaker_side=side)
    if q.pos is not None and not is_consistent(q, r):  # an extra set that no longer exists
        q = replace(q, pos=Position(q.pos.step, sets_in(q.pos.step, q.profile, r) - 1))
        q = _with_profile(q, resume_at=q.pos)
    said = prompt("weaker_side_set", side=side) if side else prompt("weaker_side_cleared")
    return _detour(q, r, (said,))


def _progress_asked(s: State, e: Event, r: Routine) -> Outcome:
    return _detour(s, r, progress_report(s.profile))


def _reminder(s: State, e: Event, r: Routine) -> Outcome:
    if e.reminder == "set" and e.time:
        return _detour(s, r, (prompt("reminder_set", time=e.time),))
    if e.reminder == "no_permission":
        return replace(_detour(s, r, (prompt("reminder_permission"),)), ask_permission=True)
    if e.reminder == "no_time":
        return _detour(s, r, (prompt("reminder_need_time"),))
    return _detour(s, r, (prompt("reminder_failed"),))


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
    Phase.PAIN_SHARP: _in_pain_sharp,
    Phase.PAIN_SWELLING: _in_pain_swelling,
    Phase.PAIN_MILD: _in_pain_mild,
    Phase.CONFIRM_DELETE: _in_confirm_delete,
    Phase.ENDED: _ended,
}


# -- helpers -------------------------------------------------------------------------------------


def _base(s: State) -> Phase:
    return Phase.WELCOME if s.phase is Phase.ENDED else s.phase


def _pos(s: State) -> Position:
    return s.pos if s.pos is not None else Position()


def _valid(pos: Position, profile: Profile, r: Routine) -> bool:
    return (0 <= pos.step < r.total_steps
            and AT_INTRO <= pos.cursor < sets_in(pos.step, profile, r))


def _with_profile(s: State, **changes: Any) -> State:
    return replace(s, profile=replace(s.profile, **changes))


def _step_args(index: int) -> dict[str, int]:
    return {"number": index + 1, "step": index}


def _here(s: State) -> dict[str, int]:
    return {"number": _pos(s).step + 1}


if __name__ == "__main__":  # python -m skill.core.machine: print the transition table
    import sys

    from skill.core.transitions import main

    sys.exit(main())
