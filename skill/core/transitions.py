"""Explore the machine: every reachable state against every event, and the transition table.

``python -m skill.core.transitions`` (or ``python -m skill.core.machine``) prints the table for
review: one row per phase and event, with the phases it leads to and what is said.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Iterator

from skill.core.machine import (
    AT_INTRO,
    Event,
    EventKind,
    Outcome,
    Position,
    Profile,
    State,
    start_state,
    step,
)
from skill.core.model import replace
from skill.core.routine import EQUIPMENT, Routine

TODAY = "2026-11-25"


def sample_events(routine: Routine) -> tuple[Event, ...]:
    """Every event kind, with the slot values that matter (valid, invalid and missing)."""
    events = []
    for kind in EventKind:
        if kind is EventKind.GO_TO_STEP:
            numbers = (None, 0, 1, routine.total_steps, routine.total_steps + 1)
            events += [Event(kind, number=n, today=TODAY) for n in numbers]
        elif kind is EventKind.FAQ:
            events += [Event(kind, topic=t, today=TODAY) for t in (None, "no_ball")]
        elif kind is EventKind.EQUIPMENT:
            events += [Event(kind, equipment=e, today=TODAY) for e in (None, *EQUIPMENT)]
        elif kind is EventKind.WEAKER_SIDE:
            events += [Event(kind, side=side, today=TODAY) for side in (None, "left", "both")]
        elif kind is EventKind.REMINDER:
            results = (("set", "07:30"), ("no_permission", "07:30"), ("no_time", None),
                       ("failed", "07:30"))
            events += [Event(kind, reminder=r, time=t, today=TODAY) for r, t in results]
        else:
            events.append(Event(kind, today=TODAY))
    return tuple(events)


def sample_profiles(routine: Routine) -> tuple[Profile, ...]:
    """New user, a regular (brief intros, slow speech, a weaker side), one who stopped part
    way, one who stopped at the last step's intro."""
    last = routine.total_steps - 1
    return (
        Profile(),
        Profile(disclaimer_heard=True, equipment="towel", days_done=3, streak=2,
                last_day="2026-11-24", pace=-2, weaker_side="right"),
        Profile(disclaimer_heard=True, equipment="ball", resume_at=Position(2, 0)),
        Profile(disclaimer_heard=True, resume_at=Position(last, AT_INTRO)),
    )


def _key(s: State) -> State:
    """A state without what only varies by history or only changes the wording
    (turn counter, last words, progress, pace)."""
    p = replace(s.profile, days_done=0, streak=0, last_day=None, pace=0)
    return replace(s, turn=0, last=None, today=None, profile=p)


def explore(routine: Routine, limit: int = 50_000) -> Iterator[tuple[State, Event, Outcome]]:
    """Every (state, event, outcome) reachable from a new session, breadth first."""
    events = sample_events(routine)
    queue = deque(start_state(p) for p in sample_profiles(routine))
    seen = {_key(s) for s in queue}
    while queue and len(seen) < limit:
        state = queue.popleft()
        for event in events:
            outcome = step(state, event, routine)
            yield state, event, outcome
            if outcome.end_session:
                continue  # the session is over: a new one starts from the profile
            nxt = _key(outcome.state)
            if nxt not in seen:
                seen.add(nxt)
                queue.append(outcome.state)


def table(routine: Routine) -> list[tuple[str, str, str, str]]:
    """Rows of (phase, event, next phase(s), prompt keys), deduplicated and sorted."""
    rows: dict[tuple[str, str], dict[str, set[str]]] = {}
    for state, event, outcome in explore(routine):
        label = event.kind.value
        detail = event.number or event.topic or event.equipment or event.side or event.reminder
        if detail is not None:
            label += f"({detail})"
        cell = rows.setdefault((state.phase.value, label), {"next": set(), "said": set()})
        cell["next"].add("END" if outcome.end_session else outcome.state.phase.value)
        cell["said"].add(" ".join(p.key for p in outcome.speech) or "(silence)")
    return [(ph, ev, " | ".join(sorted(c["next"])), " | ".join(sorted(c["said"])))
            for (ph, ev), c in sorted(rows.items())]


def format_table(rows: list[tuple[str, str, str, str]]) -> str:
    """The table as aligned text, one row a line (tests/core/golden/transitions.txt keeps it)."""
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(f"{phase:<{widths[0]}}  {event:<{widths[1]}}  -> {nxt:<{widths[2]}}  {said}"
                     .rstrip() for phase, event, nxt, said in rows) + "\n"


def main() -> int:
    from skill.content.loader import load_content  # the command reads the packaged content

    sys.stdout.write(format_table(table(load_content().routine)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
