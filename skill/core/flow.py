"""The routine's flow, shared by the machine's handlers: the welcome, step intros, timed sets with
the rest or move held after them, going on by one, the finish, and the closing questions. Pure.

Built for how an Echo listens: after a response the microphone is open about 8 s, then the
reprompt, 8 s more, and the session ends. So a rest or a change of position is silence inside the
response, before its closing question, and the question is the last thing said.
"""

from __future__ import annotations

from typing import Any

from skill.core.model import (
    AT_INTRO,
    EventKind,
    Outcome,
    Phase,
    Position,
    Profile,
    Prompt,
    State,
    prompt,
    replace,
)
from skill.core.progress import progress_report, record_day
from skill.core.routine import Routine

DEFAULT_EQUIPMENT = "ball"  # the article's tool; "yes" or "ready" at the equipment question
BRIEF_AFTER_DAYS = 2  # from the third routine on, step intros shrink to the essentials
ROUTINE_PHASES = frozenset({Phase.INTRO, Phase.AFTER_SET})
GO_ON = frozenset({EventKind.NEXT, EventKind.YES, EventKind.START, EventKind.RESUME})  # "go on"


def greet(s: State, r: Routine, lead: tuple[Prompt, ...] = ()) -> Outcome:
    """The welcome, with its card: what to prepare, the disclaimer, what can be said."""
    return replace(welcome(s, r, lead), card=prompt("welcome_card"))


def welcome(s: State, r: Routine, lead: tuple[Prompt, ...]) -> Outcome:
    """First use: welcome, disclaimer, the equipment question. Later: welcome back, a safety
    line for everyone, and the offer to continue (one sentence) when a routine was left."""
    p = s.profile
    if not p.disclaimer_heard:
        q = replace(s, phase=Phase.EQUIPMENT, profile=replace(p, disclaimer_heard=True))
        return answer_and_ask(q, r, lead + (prompt("welcome_first"), prompt("disclaimer")))
    hello = lead or (prompt("welcome_back"),)
    if p.resume_at is not None and valid(p.resume_at, p, r):
        pos = p.resume_at
        q = replace(s, phase=Phase.RESUME_OFFER, pos=pos, back=None)
        offer = prompt("resume_offer", **step_args(resume_step(q, r)))
        return Outcome(q, hello + (prompt("safety_launch"), offer), question(q, r), False)
    return answer_and_ask(replace(s, phase=Phase.WELCOME), r, hello + (prompt("safety_launch"),))


def begin(s: State, r: Routine, lead: tuple[Prompt, ...] = ()) -> Outcome:
    """Start the routine at step 1 (after the first-use welcome when it is due)."""
    if not s.profile.disclaimer_heard:
        return greet(s, r, lead)
    if s.profile.equipment is None:
        s = with_profile(s, equipment=DEFAULT_EQUIPMENT)
    return intro(s, r, 0, lead)


def sets_in(step: int, profile: Profile, r: Routine) -> int:
    """Sets of a step: one more on the weaker side where the step works one side at a time."""
    extra = profile.weaker_side is not None and r.steps[step].sides == "each"
    return r.sets_in(step) + extra


def side_of(step: int, set_index: int, profile: Profile, r: Routine) -> str | None:
    """The leg a set starts on (the extra set is on the weaker side)."""
    if set_index >= r.sets_in(step):
        return profile.weaker_side
    return r.steps[step].side_of(set_index)


def intro(s: State, r: Routine, index: int, lead: tuple[Prompt, ...] = (),
           detailed: bool = False) -> Outcome:
    gentle = s.gentle and s.pos is not None and s.pos.step == index
    pos = Position(index, AT_INTRO)
    q = replace(s, phase=Phase.INTRO, pos=pos, gentle=gentle, back=None)
    q = with_profile(q, resume_at=pos)
    if detailed:
        intro = prompt("step_intro", step=index, detail=True)
    else:
        intro = prompt("step_intro", step=index, brief=s.profile.days_done >= BRIEF_AFTER_DAYS)
    ask = (prompt("ask_intro"),)
    return Outcome(q, lead + (intro,) + ask, ask, False, card=prompt("step_card", step=index))


def play_set(s: State, r: Routine, index: int, set_index: int,
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
    if ready or not s.told_stop or after_move(s, r, index, set_index):
        before += (prompt("get_ready"),)
    narration = prompt("set", step=index, set=set_index, side=side, gentle=s.gentle)
    last_set = set_index == sets_in(index, s.profile, r) - 1
    if last_set and index == r.total_steps - 1:
        return finish(replace(s, told_stop=True), r, before + (narration,))
    q = replace(s, told_stop=True, phase=Phase.AFTER_SET, pos=pos, back=None,
                profile=replace(s.profile, resume_at=pos))
    done = (prompt("step_done", number=index + 1),) if last_set else ()
    ask = ask_after_set(q, r)
    return Outcome(q, before + (narration,) + done + pause_after(q, r) + ask, ask, False,
                   card=prompt("step_card", step=index))


def after_move(s: State, r: Routine, index: int, set_index: int) -> bool:
    """Whether the set follows a change of position: the step's first set (after its intro),
    or a set after a between-sets move (turning over)."""
    if s.pos is None or s.pos.step != index or s.pos.at_intro:
        return True
    turned = side_of(index, set_index, s.profile, r) != side_of(index, s.pos.cursor, s.profile, r)
    return set_index > 0 and r.steps[index].between_move and turned


def pause_after(s: State, r: Routine) -> tuple[Prompt, ...]:
    """The rest or move after set ``s.pos``, held as silence before the closing question."""
    pos = pos_of(s)
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


def ask_after_set(s: State, r: Routine) -> tuple[Prompt, ...]:
    pos = pos_of(s)
    following = pos.cursor + 1
    if following < sets_in(pos.step, s.profile, r):
        if following >= r.sets_in(pos.step):
            return (prompt("ask_extra_side", side=s.profile.weaker_side),)
        if r.steps[pos.step].sides == "each":
            return (prompt("ask_next_side", side=side_of(pos.step, following, s.profile, r)),)
        return (prompt("ask_next_set"),)
    return (prompt("ask_next_step", **step_args(pos.step + 1)),)


def advance(s: State, r: Routine, lead: tuple[Prompt, ...] = (), ready: bool = False) -> Outcome:
    """Go on by one: intro -> first set -> next set -> next step's intro."""
    pos = pos_of(s)
    if pos.cursor + 1 < sets_in(pos.step, s.profile, r):
        return play_set(s, r, pos.step, pos.cursor + 1, lead, ready)
    if pos.step + 1 >= r.total_steps:  # a stale place after the very last set
        return finish(s, r, lead)
    return intro(replace(s, gentle=False), r, pos.step + 1, lead)


def finish(s: State, r: Routine, lead: tuple[Prompt, ...]) -> Outcome:
    p = replace(record_day(s.profile, s.today), resume_at=None)
    speech = lead + (prompt("routine_done"), *progress_report(p), prompt("goodbye_done"))
    return Outcome(replace(s, profile=p, pos=None, gentle=False), speech, (), True)


def detour(s: State, r: Routine, said: tuple[Prompt, ...], back: bool = False) -> Outcome:
    """Answer, then hand back to where the user was, asking its question again. "Back to the
    routine" is said after an aside (a question answered) only while a routine is under way."""
    under_way = back and s.phase in ROUTINE_PHASES and s.pos is not None
    ask = question(s, r)
    return Outcome(s, said + ((prompt("faq_back"),) if under_way else ()) + ask, ask, False,
                   detour=True)


def question(s: State, r: Routine) -> tuple[Prompt, ...]:
    """What the skill is waiting for in this phase: the closing question and the reprompt."""
    ph = s.phase
    if ph is Phase.INTRO:
        return (prompt("ask_intro"),)
    if ph is Phase.AFTER_SET and s.pos is not None:
        return ask_after_set(s, r)
    if ph is Phase.RESUME_OFFER:
        return (prompt("ask_resume_offer", **step_args(resume_step(s, r))),)
    if ph is Phase.ENDED:
        return (prompt("ask_welcome"),)
    return (prompt(f"ask_{ph.value}"),)


def answer_and_ask(s: State, r: Routine, said: tuple[Prompt, ...]) -> Outcome:
    ask = question(s, r)
    return Outcome(s, said + ask, ask, False)


def reask(s: State, r: Routine, said: tuple[Prompt, ...]) -> Outcome:
    """Not an answer for this phase: say so and ask again (an aside, not kept for repeat)."""
    return replace(answer_and_ask(s, r, said), detour=True)


def resume_step(s: State, r: Routine) -> int:
    """The step a resume goes on with: the saved one, or the next after its last set."""
    pos = pos_of(s)
    if not pos.at_intro and pos.cursor + 1 >= sets_in(pos.step, s.profile, r):
        return min(pos.step + 1, r.total_steps - 1)
    return pos.step


def base_phase(s: State) -> Phase:
    return Phase.WELCOME if s.phase is Phase.ENDED else s.phase


def pos_of(s: State) -> Position:
    return s.pos if s.pos is not None else Position()


def valid(pos: Position, profile: Profile, r: Routine) -> bool:
    return (0 <= pos.step < r.total_steps
            and AT_INTRO <= pos.cursor < sets_in(pos.step, profile, r))


def with_profile(s: State, **changes: Any) -> State:
    return replace(s, profile=replace(s.profile, **changes))


def step_args(index: int) -> dict[str, int]:
    return {"number": index + 1, "step": index}


def here(s: State, r: Routine) -> dict[str, int]:
    """The step help speaks of: where the user is, or where a resume would go on."""
    if s.phase is Phase.RESUME_OFFER:
        return {"number": resume_step(s, r) + 1}
    return {"number": pos_of(s).step + 1}



def skip_step(s: State, r: Routine, lead: tuple[Prompt, ...] = (prompt("skip_step"),)) -> Outcome:
    """On to the next step's intro (or the end after the last step)."""
    pos = pos_of(s)
    q = replace(s, gentle=False)
    if pos.step + 1 >= r.total_steps:
        return finish(q, r, lead)
    return intro(q, r, pos.step + 1, lead)


def go_to_step(s: State, r: Routine, number: int | None) -> Outcome:
    """Step ``number`` (as spoken, 1-based) from its intro; a number out of range is re-asked."""
    if number is None or not 1 <= number <= r.total_steps:
        return reask(s, r, (prompt("invalid_step", total=r.total_steps),))
    if s.profile.equipment is None:
        s = with_profile(s, equipment=DEFAULT_EQUIPMENT)
    if not s.profile.disclaimer_heard:
        s = with_profile(s, disclaimer_heard=True)
        return intro(replace(s, gentle=False), r, number - 1, (prompt("disclaimer"),))
    return intro(replace(s, gentle=False), r, number - 1)
