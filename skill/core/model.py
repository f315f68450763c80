"""The machine's vocabulary: phases, events, prompts, positions, profile, state, outcome.

Pure data (named tuples for the small values, frozen dataclasses for profile, state and
outcome), JSON-serialisable through ``skill.alexa.codec``.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple, TypeVar

T = TypeVar("T")


def replace(obj: T, **changes: Any) -> T:
    """A copy of ``obj`` with ``changes``, for this module's values: its named tuples and
    frozen dataclasses (``dataclasses.replace`` without its per-call field walk: a machine step
    makes several). The dataclasses have no ``__post_init__`` and no fields outside
    ``__init__``, so the copy is what ``__init__`` would build; an unknown field name is a
    ``TypeError``, as with ``dataclasses.replace``."""
    if isinstance(obj, tuple):
        return obj._replace(**changes)  # type: ignore[attr-defined]
    cls = type(obj)
    if not changes.keys() <= _field_names(cls):
        unknown = sorted(changes.keys() - _field_names(cls))
        raise TypeError(f"{cls.__name__} has no field {', '.join(unknown)}")
    new = object.__new__(cls)
    fields = new.__dict__
    fields.update(obj.__dict__)
    fields.update(changes)
    return new


@functools.cache
def _field_names(cls: type) -> frozenset[str]:
    names = frozenset(f.name for f in dataclasses.fields(cls))
    if hasattr(cls, "__post_init__") or hasattr(cls, "__slots__"):
        raise TypeError(f"{cls.__name__}: use dataclasses.replace")
    return names


class Phase(StrEnum):
    """What the skill is waiting for."""

    WELCOME = "welcome"  # launched, not started
    EQUIPMENT = "equipment"  # asked: ball or towel?
    INTRO = "intro"  # a step was explained; waiting for "ready"
    AFTER_SET = "after_set"  # a timed set was narrated (and its rest held); waiting for "next"
    RESUME_OFFER = "resume_offer"  # launch: "continue from step 3?"
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


class Event(NamedTuple):
    kind: EventKind
    number: int | None = None  # go to step N (1-based, as spoken)
    topic: str | None = None  # FAQ topic id
    equipment: str | None = None  # "ball" | "towel"
    side: str | None = None  # weaker side: "left" | "right" | "both" (none weaker)
    reminder: str | None = None  # "set" | "no_permission" | "no_time" | "failed" | "declined"
    time: str | None = None  # reminder time, "HH:MM"
    today: str | None = None  # ISO date of the request, in the user's time zone


class Prompt(NamedTuple):
    key: str
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def args(self) -> dict[str, Any]:
        return dict(self.params)


def prompt(key: str, **params: Any) -> Prompt:
    if params:
        return Prompt(key, tuple(sorted(params.items())))
    bare = _BARE_PROMPTS.get(key)
    if bare is None:  # the keys come from this code: a few dozen
        bare = _BARE_PROMPTS[key] = Prompt(key)
    return bare


_BARE_PROMPTS: dict[str, Prompt] = {}  # prompts without parameters, made once (immutable)


AT_INTRO = -1  # Position.cursor while the step's intro is the last thing done


class Position(NamedTuple):
    step: int = 0  # 0-based
    cursor: int = AT_INTRO  # AT_INTRO, or j: set j was narrated (done)

    @property
    def at_intro(self) -> bool:
        return self.cursor == AT_INTRO


@dataclass(frozen=True)
class Profile:
    """What is remembered across sessions (persisted per user). Nothing about pain or health."""

    equipment: str | None = None
    disclaimer_heard: bool = False
    days_done: int = 0
    streak: int = 0
    last_day: str | None = None  # ISO date of the last completed routine
    resume_at: Position | None = None  # where an unfinished routine stands
    pace: int = 0  # speech pace, one of PACES
    weaker_side: str | None = None  # "left" | "right": an extra set on that side


class Said(NamedTuple):
    """The last routine words, kept for "repeat" (detours such as help are not kept)."""

    speech: tuple[Prompt, ...]
    reprompt: tuple[Prompt, ...]
    seed: int


@dataclass(frozen=True)
class State:
    phase: Phase = Phase.WELCOME
    pos: Position | None = None  # None until the routine starts
    gentle: bool = False  # after mild pain: go gently in this step
    back: Phase | None = None  # where "keep my data" returns to, from the delete question
    turn: int = 0  # turns in this session; the renderer varies wording with it
    today: str | None = None  # ISO date of this session, from the events
    last: Said | None = None  # for repeat
    told_stop: bool = False  # this session has said how to stop for pain during a set
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
    detour: bool = False  # an aside (help, a question, a fallback): "repeat" skips it
