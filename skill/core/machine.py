"""The routine's session state machine: pure, no I/O, no clock, no randomness, no ASK types.

``step(state, event, routine)`` returns an ``Outcome``: the next state and what to say, as prompt
keys with parameters (the renderer turns them into SSML). The date, when it matters, comes in the
event. ``python -m skill.core.machine`` prints the transition table for review.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from skill.content.loader import EQUIPMENT, PACE_STEPS, SIDES, Routine

DEFAULT_EQUIPMENT = "ball"  # the article's tool; "next" at the equipment question takes it
BRIEF_AFTER_DAYS = 3  # after this many routines, step intros shrink to the essentials
DAILY_ADVICE_AFTER_DAYS = 6  # "every other day at first"; after this, the advice for daily use
PACES = PACE_STEPS  # speech pace steps, slowest first
WEAKER_SIDE_ANSWERS = (*SIDES, "both")  # "both": neither leg is weaker


class Phase(StrEnum):
    """What the skill is waiting for."""

    WELCOME = "welcome"  # launched, not started
    EQUIPMENT = "equipment"  # asked: ball or towel?
    INTRO = "intro"  # a step was explained; waiting for "ready"
    AFTER_SET = "after_set"  # a timed set was narrated; waiting for "next"
    PAUSED = "paused"
    RESUME_OFFER = "resume_offer"  # launch: "last time you stopped at step 3: continue?"
    PAIN_CHECKIN = "pain_checkin"  # launch after a pain stop
    PAIN_SHARP = "pain_sharp"  # asked: is the pain sharp?
    PAIN_SWELLING = "pain_swelling"  # asked: swelling or heat?
    PAIN_MILD = "pain_mild"  # offered: gently, or skip
    CONFIRM_DELETE = "confirm_delete"
    ENDED = "ended"  # the session is over


class EventKind(StrEnum):
    LAUNCH = "launch"
    START = "start"
    NEXT = "next"  # also "ready"
    PREVIOUS = "previous"
    REPEAT = "repeat"
    SKIP = "skip"
    GO_TO_STEP = "go_to_step"
    START_OVER = "start_over"
    PAUSE = "pause"
    RESUME = "resume"
    PAIN = "pain"
    FAQ = "faq"
    EQUIPMENT = "equipment"
    HELP = "help"
    STOP = "stop"
    CANCEL = "cancel"
    FALLBACK = "fallback"
    YES = "yes"
    NO = "no"
    DELETE_DATA = "delete_data"
    SESSION_END = "session_end"
    SLOWER = "slower"
    FASTER = "faster"
    EXPLAIN = "explain"  # the full instructions of the current step
    WEAKER_SIDE = "weaker_side"
    PROGRESS = "progress"
    REMINDER = "reminder"  # carries what the reminders service answered


PAIN_PHASES = frozenset({Phase.PAIN_SHARP, Phase.PAIN_SWELLING, Phase.PAIN_MILD})


@dataclass(frozen=True)
class Event:
    kind: EventKind
    number: int | None = None  # go to step N (1-based, as spoken)
    topic: str | None = None  # FAQ topic id
    equipment: str | None = None  # "ball" | "towel"
    side: str | None = None  # weaker side: "left" | "right" | "both" (none weaker)
    reminder: str | None = None  # "set" | "no_permission" | "no_time" | "failed" | "declined"
    time: str | None = None  # reminder time, "HH:MM"
    today: str | None = None  # ISO date, for progress on completion


@dataclass(frozen=True)
class Prompt:
    key: str
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def args(self) -> dict[str, Any]:
        return dict(self.params)


def prompt(key: str, **params: Any) -> Prompt:
    return Prompt(key, tuple(sorted(params.items())))


@dataclass(frozen=True)
class Position:
    step: int = 0  # 0-based
    cursor: int = -1  # -1: at the step's intro; j: set j was narrated


@dataclass(frozen=True)
class Profile:
    """What is remembered across sessions (persisted per user)."""

    equipment: str | None = None
    disclaimer_heard: bool = False
    days_done: int = 0
    streak: int = 0
    last_day: str | None = None  # ISO date of the last completed routine
    pain_last: bool = False  # the last session stopped for pain
    resume_at: Position | None = None  # where an unfinished routine stands
    pace: int = 0  # speech pace, one of PACES
    weaker_side: str | None = None  # "left" | "right": an extra set on that side


@dataclass(frozen=True)
class State:
    phase: Phase = Phase.WELCOME
    pos: Position | None = None  # None until the routine starts
    gentle: bool = False  # after mild pain: go gently in this step
    back: Phase | None = None  # where "keep my data" returns to, from the delete question
    turn: int = 0  # turns in this session; the renderer varies wording with it
    today: str | None = None  # ISO date of this session, from the events
    last: tuple[tuple[Prompt, ...], tuple[Prompt, ...], int] | None = None  # for repeat
    profile: Profile = field(default_factory=Profile)


@dataclass(frozen=True)
class Outcome:
    state: State
    speech: tuple[Prompt, ...]
    reprompt: tuple[Prompt, ...]  # empty exactly when the session ends
    end_session: bool
    card: Prompt | None = None  # the Alexa app card: a step's instructions, or the welcome
    delete_data: bool = False  # effect for the adapter: delete this user's record
    ask_permission: bool = False  # effect: send the reminders consent card
    seed: int = -1  # picks wording variations; a repeat reuses the original's


# ---------------------------------------------------------------------------------------------
# The machine


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
    elif event.kind is not EventKind.REPEAT:
        remembered = (outcome.speech, outcome.reprompt, outcome.seed)
        outcome = replace(outcome, state=replace(outcome.state, last=remembered))
    return outcome


def _dispatch(s: State, e: Event, r: Routine) -> Outcome:
    k = e.kind
    # Global events first: these work from every phase, and pain always wins.
    if k is EventKind.SESSION_END:
        return Outcome(s, (), (), True)
    if k is EventKind.PAIN:
        return _pain(s)
    if k is EventKind.REPEAT:
        return _repeat(s, r)
    if k is EventKind.FAQ:
        return _detour(s, r, _faq(e.topic))
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
        return _launch(s, r)
    if k is EventKind.EQUIPMENT and e.equipment in EQUIPMENT and s.phase not in PAIN_PHASES:
        s = _with_profile(s, equipment=e.equipment)
        if s.phase is Phase.EQUIPMENT:
            return _begin(s, r, (prompt("equipment_set", tool=e.equipment),))
        return _detour(s, r, (prompt("equipment_set", tool=e.equipment),))
    return _PHASE_HANDLERS[s.phase](s, e, r)


# -- launch and start ---------------------------------------------------------------------------


def _launch(s: State, r: Routine) -> Outcome:
    p = s.profile
    if p.pain_last:
        return _ask(replace(s, phase=Phase.PAIN_CHECKIN, back=None), r, (prompt("pain_checkin"),))
    return _greet(s, r)


def _greet(s: State, r: Routine, lead: tuple[Prompt, ...] = ()) -> Outcome:
    """The welcome, with its card: what to prepare, the disclaimer, what can be said."""
    return replace(_welcome(s, r, lead), card=prompt("welcome_card"))


def _welcome(s: State, r: Routine, lead: tuple[Prompt, ...]) -> Outcome:
    """Resume offer, first-use disclaimer and equipment check, or welcome back."""
    p = s.profile
    if p.resume_at is not None and _valid(p.resume_at, p, r):
        pos = p.resume_at
        q = replace(s, phase=Phase.RESUME_OFFER, pos=pos, back=None)
        return _ask(q, r, lead + (prompt("resume_offer", **_step_args(pos.step)),))
    if not p.disclaimer_heard:
        q = replace(_with_profile(s, disclaimer_heard=True), phase=Phase.EQUIPMENT)
        first = (prompt("welcome_first"), prompt("disclaimer"), prompt("preparation"))
        return _ask(q, r, lead + first)
    return _ask(replace(s, phase=Phase.WELCOME), r, lead + (prompt("welcome_back"),))


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
    pos = Position(index, -1)
    q = replace(s, phase=Phase.INTRO, pos=pos, gentle=gentle, back=None)
    q = _with_profile(q, resume_at=pos)
    brief = not detailed and s.profile.days_done >= BRIEF_AFTER_DAYS
    intro = prompt("step_intro", step=index, brief=brief)
    return Outcome(q, lead + (intro, prompt("ask_intro")), (prompt("ask_intro"),),
                   False, card=prompt("step_card", step=index))


def _play_set(s: State, r: Routine, index: int, set_index: int,
              lead: tuple[Prompt, ...] = ()) -> Outcome:
    pos = Position(index, set_index)
    side = side_of(index, set_index, s.profile, r)
    narration = prompt("set", step=index, set=set_index, side=side, gentle=s.gentle)
    last_set = set_index == sets_in(index, s.profile, r) - 1
    if last_set and index == r.total_steps - 1:
        return _finish(s, r, lead + (narration,))
    q = _with_profile(replace(s, phase=Phase.AFTER_SET, pos=pos, back=None), resume_at=pos)
    ask = _ask_after_set(q, r)
    rest = r.steps[index].rest_seconds
    hint = (prompt("rest_hint", rest=rest),) if rest else ()
    done = (prompt("step_done", number=index + 1),) if last_set else ()
    return Outcome(q, lead + (narration,) + done + hint + ask, ask, False,
                   card=prompt("step_card", step=index))


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


def _advance(s: State, r: Routine, lead: tuple[Prompt, ...] = ()) -> Outcome:
    """Go on by one: intro -> first set -> next set -> next step's intro."""
    pos = s.pos or Position()
    if pos.cursor + 1 < sets_in(pos.step, s.profile, r):
        return _play_set(s, r, pos.step, pos.cursor + 1, lead)
    return _intro(replace(s, gentle=False), r, pos.step + 1, lead)


def _finish(s: State, r: Routine, lead: tuple[Prompt, ...]) -> Outcome:
    p = replace(_progress(s.profile, s.today), resume_at=None, pain_last=False)
    speech = lead + (prompt("routine_done"), *_progress_report(p), prompt("goodbye_done"))
    return Outcome(replace(s, profile=p, pos=None, gentle=False), speech, (), True)


def _progress_report(p: Profile) -> tuple[Prompt, ...]:
    """Days done and the streak, with the article's guidance for where the user is. No nagging."""
    if p.days_done == 0:
        return (prompt("progress_none"), prompt("advice_start"))
    count = (prompt("progress", days=p.days_done, streak=p.streak) if p.days_done > 1
             else prompt("progress_first"))
    daily = p.days_done >= DAILY_ADVICE_AFTER_DAYS
    advice = prompt("advice_daily") if daily else prompt("advice_start")
    return (count, advice)


def _progress(p: Profile, today: str | None) -> Profile:
    """Count a completed routine: days with a routine done, and how many in a row."""
    if today is None:  # no date given: count the day, keep the streak
        return replace(p, days_done=p.days_done + 1, streak=max(p.streak, 1))
    if p.last_day == today:
        return p
    gap = None
    if p.last_day is not None:
        gap = (dt.date.fromisoformat(today) - dt.date.fromisoformat(p.last_day)).days
    streak = p.streak + 1 if gap == 1 else 1
    return replace(p, days_done=p.days_done + 1, streak=streak, last_day=today)


# -- detours: FAQ, help, fallback, repeat --------------------------------------------------------


def _detour(s: State, r: Routine, said: tuple[Prompt, ...]) -> Outcome:
    """Answer, then hand back to where the user was, asking its question again."""
    back = (prompt("faq_back"),) if s.phase in (Phase.INTRO, Phase.AFTER_SET, Phase.PAUSED) else ()
    ask = _question(s, r)
    return Outcome(s, said + back + ask, ask, False)


def _faq(topic: str | None) -> tuple[Prompt, ...]:
    if topic:
        return (prompt("faq_answer", topic=topic),)
    return (prompt("faq_unknown"),)


def _repeat(s: State, r: Routine) -> Outcome:
    if s.last is None or not s.last[0]:
        ask = _question(s, r)
        return Outcome(s, ask, ask, False)
    speech, reprompt, seed = s.last
    card = None
    if s.pos is not None and s.phase in (Phase.INTRO, Phase.AFTER_SET):
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
        return (prompt("ask_resume_offer", **_step_args(_pos(s).step)),)
    if ph is Phase.ENDED:
        return (prompt("ask_welcome"),)
    return (prompt(f"ask_{ph.value}"),)


def _ask(s: State, r: Routine, said: tuple[Prompt, ...]) -> Outcome:
    ask = _question(s, r)
    return Outcome(s, said + ask, ask, False)


# -- phase handlers ------------------------------------------------------------------------------


def _in_welcome(s: State, e: Event, r: Routine) -> Outcome:
    k = e.kind
    if k in (EventKind.START, EventKind.NEXT, EventKind.YES, EventKind.RESUME,
             EventKind.START_OVER):
        if s.turn == 1 and (s.profile.pain_last or s.profile.resume_at):
            return _launch(s, r)  # a one-shot start still checks in and offers to resume
        return _begin(s, r)
    if k is EventKind.GO_TO_STEP:
        return _go_to(s, r, e.number)
    if k in (EventKind.STOP, EventKind.CANCEL, EventKind.NO):
        return _goodbye(s)
    if k in (EventKind.PREVIOUS, EventKind.SKIP, EventKind.PAUSE):
        return _ask(s, r, (prompt("not_started"),))
    return _ask(s, r, (prompt("fallback_welcome"),))


def _in_equipment(s: State, e: Event, r: Routine) -> Outcome:
    k = e.kind
    if k in (EventKind.YES, EventKind.NEXT, EventKind.START, EventKind.RESUME):
        choice = DEFAULT_EQUIPMENT
    elif k is EventKind.NO:
        choice = "towel"
    elif k is EventKind.GO_TO_STEP:
        return _go_to(s, r, e.number)
    elif k in (EventKind.STOP, EventKind.CANCEL):
        return _goodbye(s)
    elif k is EventKind.START_OVER:
        choice = s.profile.equipment or DEFAULT_EQUIPMENT
    else:  # previous, skip, pause, an equipment slot we did not understand
        return _ask(s, r, (prompt("fallback_equipment"),))
    s = _with_profile(s, equipment=choice)
    return _begin(s, r, (prompt("equipment_set", tool=choice),))


def _in_routine(s: State, e: Event, r: Routine) -> Outcome:
    """INTRO and AFTER_SET: the routine is under way."""
    k = e.kind
    pos = _pos(s)
    if k in (EventKind.NEXT, EventKind.YES, EventKind.START, EventKind.RESUME):
        return _advance(s, r)
    if k is EventKind.NO:
        return _ask(s, r, (prompt("take_your_time"),))
    if k is EventKind.PREVIOUS:
        if pos.cursor >= 0:
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
    if k is EventKind.PAUSE:
        # Alexa gives no playback position: a pause after a set resumes at that set's start.
        q = replace(s, phase=Phase.PAUSED)
        return _ask(q, r, (prompt("paused", number=pos.step + 1),))
    if k in (EventKind.STOP, EventKind.CANCEL):
        return _goodbye(s)
    return _ask(s, r, (prompt(f"fallback_{s.phase.value}"),))


def _in_paused(s: State, e: Event, r: Routine) -> Outcome:
    k = e.kind
    if k in (EventKind.RESUME, EventKind.NEXT, EventKind.YES, EventKind.START):
        return _resume(s, r)
    if k in (EventKind.STOP, EventKind.CANCEL, EventKind.NO):
        return _goodbye(s)
    if k is EventKind.PAUSE:
        return _ask(s, r, (prompt("paused", number=_pos(s).step + 1),))
    if k is EventKind.GO_TO_STEP:
        return _go_to(s, r, e.number)
    if k in (EventKind.PREVIOUS, EventKind.SKIP, EventKind.START_OVER):
        return _in_routine(replace(s, phase=Phase.INTRO), e, r)
    return _ask(s, r, (prompt("fallback_paused"),))


def _resume(s: State, r: Routine) -> Outcome:
    pos = _pos(s)
    lead = (prompt("resuming", number=pos.step + 1),)
    if pos.cursor < 0:
        return _intro(s, r, pos.step, lead)
    return _play_set(s, r, pos.step, pos.cursor, lead)


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
    if k in (EventKind.STOP, EventKind.CANCEL):
        return _goodbye(s)
    return _ask(s, r, (prompt("fallback_resume_offer"),))


def _in_pain_checkin(s: State, e: Event, r: Routine) -> Outcome:
    k = e.kind
    if k in (EventKind.YES, EventKind.NEXT, EventKind.START, EventKind.RESUME):
        return _greet(_with_profile(s, pain_last=False), r, (prompt("pain_checkin_ok"),))
    if k in (EventKind.NO, EventKind.STOP, EventKind.CANCEL):
        return Outcome(s, (prompt("pain_checkin_rest"),), (), True)
    return _ask(s, r, (prompt("yes_or_no"),))


# -- pain ----------------------------------------------------------------------------------------


def _pain(s: State) -> Outcome:
    """Stop now, then ask about sharp pain. Remembered, so the next launch checks in."""
    q = _with_profile(replace(s, phase=Phase.PAIN_SHARP, back=None), pain_last=True)
    ask = (prompt("ask_pain_sharp"),)
    return Outcome(q, (prompt("pain_stop"),) + ask, ask, False)


def _in_pain_sharp(s: State, e: Event, r: Routine) -> Outcome:
    return _pain_question(s, e, r, Phase.PAIN_SWELLING, (prompt("ask_pain_swelling"),))


def _in_pain_swelling(s: State, e: Event, r: Routine) -> Outcome:
    if s.pos is None and e.kind is EventKind.NO:  # not exercising: nothing to make gentler
        return _after_mild(s, r)
    return _pain_question(s, e, r, Phase.PAIN_MILD, (prompt("pain_mild"), prompt("ask_pain_mild")))


def _pain_question(s: State, e: Event, r: Routine, on_no: Phase,
                   said: tuple[Prompt, ...]) -> Outcome:
    k = e.kind
    if k is EventKind.YES:
        return Outcome(s, (prompt("pain_see_doctor"), prompt("pain_goodbye")), (), True)
    if k is EventKind.NO:
        q = replace(s, phase=on_no)
        return Outcome(q, said, _question(q, r), False)
    if k in (EventKind.STOP, EventKind.CANCEL):
        return Outcome(s, (prompt("pain_goodbye"),), (), True)
    return _ask(s, r, (prompt("yes_or_no"),))


def _after_mild(s: State, r: Routine) -> Outcome:
    """Mild discomfort before the routine started: back to the welcome."""
    return _greet(replace(s, back=None), r, (prompt("pain_checkin_ok"),))


def _in_pain_mild(s: State, e: Event, r: Routine) -> Outcome:
    k = e.kind
    pos = _pos(s)
    if k in (EventKind.YES, EventKind.NEXT, EventKind.RESUME, EventKind.START):
        q = replace(s, gentle=True, back=None)
        if pos.cursor < 0:
            return _intro(q, r, pos.step, (prompt("pain_gentle"),))
        return _play_set(q, r, pos.step, pos.cursor, (prompt("pain_gentle"),))
    if k in (EventKind.NO, EventKind.SKIP):
        return _skip(s, r, (prompt("pain_skip"),))
    if k in (EventKind.STOP, EventKind.CANCEL):
        return Outcome(s, (prompt("pain_goodbye"),), (), True)
    if k is EventKind.GO_TO_STEP:
        return _go_to(s, r, e.number)
    return _ask(s, r, (prompt("fallback_pain_mild"),))


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
    if k is EventKind.STOP:
        return _goodbye(replace(s, phase=s.back or Phase.WELCOME, back=None))
    return _ask(s, r, (prompt("yes_or_no"),))


def _goodbye(s: State) -> Outcome:
    pos = s.profile.resume_at
    if pos is not None:
        return Outcome(s, (prompt("goodbye_saved", number=pos.step + 1),), (), True)
    return Outcome(s, (prompt("goodbye"),), (), True)


def _go_to(s: State, r: Routine, number: int | None) -> Outcome:
    if number is None or not 1 <= number <= r.total_steps:
        return _ask(s, r, (prompt("invalid_step", total=r.total_steps),))
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
    if s.pos is None or s.phase not in (Phase.INTRO, Phase.AFTER_SET, Phase.PAUSED):
        return _detour(s, r, (prompt(f"help_{_base(s).value}", **_here(s)),))
    if s.phase is Phase.INTRO:
        return _intro(s, r, s.pos.step, detailed=True)
    said = (prompt("step_intro", step=s.pos.step, brief=False),)
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
    return _detour(s, r, _progress_report(s.profile))


def _reminder(s: State, e: Event, r: Routine) -> Outcome:
    if e.reminder == "set" and e.time:
        return _detour(s, r, (prompt("reminder_set", time=e.time),))
    if e.reminder == "no_permission":
        return replace(_detour(s, r, (prompt("reminder_permission"),)), ask_permission=True)
    if e.reminder == "no_time":
        return _detour(s, r, (prompt("reminder_need_time"),))
    if e.reminder == "declined":  # the user said no to Alexa's voice consent
        return _detour(s, r, (prompt("reminder_declined"),))
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
    Phase.PAUSED: _in_paused,
    Phase.RESUME_OFFER: _in_resume_offer,
    Phase.PAIN_CHECKIN: _in_pain_checkin,
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
    return 0 <= pos.step < r.total_steps and -1 <= pos.cursor < sets_in(pos.step, profile, r)


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
