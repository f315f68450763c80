"""What happens when someone says their knee hurts: the triage, in one place to review.

The article's advice: stop at once; sharp pain, or swelling or heat, means stop for today, rest the
knee and see a doctor (an orthopaedic clinic) if it goes on; mild discomfort means go gentler or
skip the step. No diagnosis, and nothing of it is stored: the answers live only in the phase of
this session's conversation.
"""

from __future__ import annotations

from skill.core.flow import (
    GO_ON,
    go_to_step,
    greet,
    intro,
    play_set,
    pos_of,
    question,
    reask,
    skip_step,
)
from skill.core.model import Event, EventKind, Outcome, Phase, Prompt, State, prompt, replace
from skill.core.routine import Routine


def start(s: State) -> Outcome:
    """Stop now, then ask about sharp pain."""
    q = replace(s, phase=Phase.PAIN_SHARP, back=None)
    ask = (prompt("ask_pain_sharp"),)
    return Outcome(q, (prompt("pain_stop"),) + ask, ask, False)


def in_sharp(s: State, e: Event, r: Routine) -> Outcome:
    return _question(s, e, r, Phase.PAIN_SWELLING, ())


def in_swelling(s: State, e: Event, r: Routine) -> Outcome:
    if s.pos is None and e.kind is EventKind.NO:  # not exercising: nothing to make gentler
        return greet(replace(s, back=None), r, (prompt("pain_mild_ok"),))
    return _question(s, e, r, Phase.PAIN_MILD, (prompt("pain_mild"),))


def _question(s: State, e: Event, r: Routine, on_no: Phase,
                   said: tuple[Prompt, ...]) -> Outcome:
    k = e.kind
    if k is EventKind.YES:  # said once, plainly: stop today, rest, a doctor if it goes on
        return Outcome(s, (prompt(f"pain_yes_{s.phase.value.removeprefix('pain_')}"),), (), True)
    if k is EventKind.NO:
        q = replace(s, phase=on_no)
        ask = question(q, r)
        return Outcome(q, said + ask, ask, False)
    if k in (EventKind.STOP, EventKind.CANCEL, EventKind.PAUSE):
        return Outcome(s, (prompt("pain_goodbye"),), (), True)
    return reask(s, r, (prompt("yes_or_no"),))


def in_mild(s: State, e: Event, r: Routine) -> Outcome:
    k = e.kind
    pos = pos_of(s)
    if k in GO_ON:
        q = replace(s, gentle=True, back=None)
        if pos.at_intro:
            return intro(q, r, pos.step, (prompt("pain_gentle"),))
        return play_set(q, r, pos.step, pos.cursor, (prompt("pain_gentle"),), ready=True)
    if k in (EventKind.NO, EventKind.SKIP):
        return skip_step(s, r, (prompt("pain_skip"),))
    if k in (EventKind.STOP, EventKind.CANCEL, EventKind.PAUSE):
        return Outcome(s, (prompt("pain_goodbye"),), (), True)
    if k is EventKind.GO_TO_STEP:
        return go_to_step(s, r, e.number)
    return reask(s, r, (prompt("fallback_pain_mild"),))
