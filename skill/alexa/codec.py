"""JSON shapes of the machine's state and profile (session attributes and stored records).

Decoding is strict: anything that is not what ``encode`` produced raises ``ValueError``, so a
tampered session or a damaged record is detected instead of half-trusted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skill.content.loader import EQUIPMENT, SIDES
from skill.core.machine import PACES, Phase, Position, Profile, Prompt, Said, State

VERSION = 1
_SCALARS = (str, int, float, bool, type(None))


def profile_to_dict(p: Profile) -> dict[str, Any]:
    return {
        "equipment": p.equipment,
        "disclaimer_heard": p.disclaimer_heard,
        "days_done": p.days_done,
        "streak": p.streak,
        "last_day": p.last_day,
        "resume_at": _pos_to_list(p.resume_at),
        "pace": p.pace,
        "weaker_side": p.weaker_side,
    }


def profile_from_dict(d: Mapping[str, Any]) -> Profile:
    _need(isinstance(d, Mapping), "profile is not an object")
    return Profile(
        equipment=_choice(d.get("equipment"), (*EQUIPMENT, None), "equipment"),
        disclaimer_heard=_bool(d.get("disclaimer_heard", False), "disclaimer_heard"),
        days_done=_int(d.get("days_done", 0), "days_done"),
        streak=_int(d.get("streak", 0), "streak"),
        last_day=_opt_str(d.get("last_day"), "last_day"),
        resume_at=_pos_from(d.get("resume_at")),
        pace=_choice(d.get("pace", 0), PACES, "pace"),
        weaker_side=_choice(d.get("weaker_side"), (*SIDES, None), "weaker_side"),
    )


def state_to_dict(s: State) -> dict[str, Any]:
    last = None
    if s.last is not None:
        speech, reprompt, seed = s.last
        last = {"speech": _prompts_to(speech), "reprompt": _prompts_to(reprompt), "seed": seed}
    return {
        "v": VERSION,
        "phase": s.phase.value,
        "pos": _pos_to_list(s.pos),
        "gentle": s.gentle,
        "back": s.back.value if s.back else None,
        "turn": s.turn,
        "today": s.today,
        "last": last,
        "told_stop": s.told_stop,
        "profile": profile_to_dict(s.profile),
    }


def state_from_dict(d: Any) -> State:
    """The state ``state_to_dict`` produced; ``ValueError`` for anything else."""
    try:
        _need(isinstance(d, Mapping) and d.get("v") == VERSION, "not a saved state")
        last = d.get("last")
        if last is not None:
            _need(isinstance(last, Mapping), "last is not an object")
            last = Said(_prompts_from(last.get("speech")), _prompts_from(last.get("reprompt")),
                        _int(last.get("seed"), "last.seed"))
        back = d.get("back")
        return State(
            phase=Phase(d.get("phase")),
            pos=_pos_from(d.get("pos")),
            gentle=_bool(d.get("gentle", False), "gentle"),
            back=Phase(back) if back is not None else None,
            turn=_int(d.get("turn", 0), "turn"),
            today=_opt_str(d.get("today"), "today"),
            last=last,
            told_stop=_bool(d.get("told_stop", False), "told_stop"),
            profile=profile_from_dict(d.get("profile")),
        )
    except (TypeError, KeyError, AttributeError) as e:
        raise ValueError(f"not a saved state: {e}") from None


# -- pieces ---------------------------------------------------------------------------------------


def _pos_to_list(pos: Position | None) -> list[int] | None:
    return None if pos is None else [pos.step, pos.cursor]


def _pos_from(v: Any) -> Position | None:
    if v is None:
        return None
    _need(isinstance(v, list) and len(v) == 2, "position is not [step, cursor]")
    return Position(_int(v[0], "pos.step"), _int(v[1], "pos.cursor", minimum=-1))


def _prompts_to(prompts: tuple[Prompt, ...]) -> list[list[Any]]:
    return [[p.key, dict(p.params)] for p in prompts]


def _prompts_from(v: Any) -> tuple[Prompt, ...]:
    _need(isinstance(v, list) and len(v) <= 32, "prompts are not a list")
    out = []
    for item in v:
        _need(isinstance(item, list) and len(item) == 2, "prompt is not [key, params]")
        key, params = item
        _need(isinstance(key, str) and isinstance(params, dict), "bad prompt")
        _need(all(isinstance(k, str) and isinstance(x, _SCALARS) for k, x in params.items()),
              "bad prompt parameter")
        out.append(Prompt(key, tuple(sorted(params.items()))))
    return tuple(out)


def _need(ok: bool, problem: str) -> None:
    if not ok:
        raise ValueError(problem)


def _int(v: Any, name: str, minimum: int = 0) -> int:
    _need(isinstance(v, int) and not isinstance(v, bool) and minimum <= v < 1_000_000, name)
    return v


def _bool(v: Any, name: str) -> bool:
    _need(isinstance(v, bool), name)
    return v


def _opt_str(v: Any, name: str) -> str | None:
    _need(v is None or (isinstance(v, str) and len(v) <= 32), name)
    return v


def _choice(v: Any, options: tuple[Any, ...], name: str) -> Any:
    _need(v in options, name)
    return v
