"""The routine's timing model: steps, their sets, reps and timed phases (pure data).

``content/routine.yaml`` holds the numbers; ``skill.content.loader`` reads and checks them into
these types, which the machine and the renderer share. They are named tuples (immutable, and
about a fifth of a frozen dataclass's cost to define at a cold start).
"""

from __future__ import annotations

from typing import NamedTuple

SIDES_KINDS = ("each", "alternate", "both")
SIDES = ("right", "left")
EQUIPMENT = ("ball", "towel")
PACE_STEPS = (-2, -1, 0, 1)  # speech pace steps, slowest first; each locale maps them to rates


class TimedPhase(NamedTuple):
    """A timed part of a rep: a cue, its seconds, a spoken countdown at its end."""

    cue: str
    seconds: float
    countdown: int = 0
    relax: bool = False  # a rest phase: cut short at the end of a set


class StepTiming(NamedTuple):
    """One exercise's timing: sides, sets, reps of timed phases, rests, the article's span."""

    id: str
    sides: str
    sets: int
    reps: int
    phases: tuple[TimedPhase, ...]
    set_seconds: float
    rest_seconds: int
    article_text: str
    article_min: float
    article_max: float
    article_per: str
    move_seconds: int = 0  # time to get into this step's position from the last step's
    between_move: bool = False  # the rest between sets is a change of position (turning over)

    @property
    def rep_seconds(self) -> float:
        return sum(p.seconds for p in self.phases)

    def side_of(self, set_index: int, rep: int = 0) -> str | None:
        """The leg a rep works on (None for both legs)."""
        if self.sides == "each":
            return SIDES[set_index % 2]
        if self.sides == "alternate":
            return SIDES[(set_index + rep) % 2]
        return None


class Routine(NamedTuple):
    """The five steps in order."""

    steps: tuple[StepTiming, ...]

    def sets_in(self, step: int) -> int:
        return self.steps[step].sets

    @property
    def total_steps(self) -> int:
        return len(self.steps)
