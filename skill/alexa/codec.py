"""JSON shapes of the machine's state and profile (session attributes and stored records).

A session's state is decoded strictly: anything that is not what ``state_to_dict`` produced
raises ``ValueError``, so a tampered session is detected instead of half-trusted. A stored
profile is read value by value (``read_profile``): a value that fails a check of meaning is
dropped and named, and the rest is kept.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from skill.core.machine import PACES, Phase, Position, Profile, Prompt, Said, State
from skill.core.routine import EQUIPMENT, SIDES

VERSION = 1
_SCALARS = (str, int, float, bool, type(None))


# What is kept per user. Nothing about pain or health: an older record's pain flag is dropped.
MAX_DAYS = 36_600  # a century of daily routines; more is not a count of days
NOT_KEPT = frozenset({"pain_last"})


def profile_to_dict(p: Profile) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _PROFILE_FIELDS:
        if name in NOT_KEPT:
            continue
        value = getattr(p, name)
        out[name] = _pos_to_list(value) if name == "resume_at" else value
    return out


def profile_from_dict(d: Mapping[str, Any], today: str | None = None) -> Profile:
    """The profile in ``d``; a value that is not what it should be is left at its default."""
    return read_profile(d, today)[0]


def read_profile(d: Any, today: str | None = None) -> tuple[Profile, tuple[str, ...]]:
    """The profile in ``d`` and the names of the values dropped because they fail a check of
    meaning: dates are dates and not after ``today`` (the request's day), counts are in bounds,
    the streak is not longer than the days done. Positions are checked against the routine by
    the caller. Unknown keys (e.g. an old record's pain flag) are ignored."""
    if not isinstance(d, Mapping):
        return Profile(), ("profile",) if d is not None else ()
    values: dict[str, Any] = {}
    dropped: list[str] = []
    for name in _PROFILE_FIELDS:
        if name not in d or name in NOT_KEPT:
            continue
        try:
            values[name] = _CHECKS.get(name, _LIKE_DEFAULT[name])(d[name])
        except (ValueError, TypeError):
            dropped.append(name)
    day = values.get("last_day")
    if day is not None and today is not None and day > today:
        dropped.append("last_day")
        del values["last_day"]
    if values.get("streak", 0) > values.get("days_done", 0):
        dropped.append("streak")
        del values["streak"]
    return Profile(**values), tuple(dropped)


def is_day(v: Any) -> bool:
    """Whether ``v`` is an ISO date (YYYY-MM-DD)."""
    if not isinstance(v, str) or len(v) != 10:
        return False
    try:
        dt.date.fromisoformat(v)
    except ValueError:
        return False
    return True


def _day(v: Any) -> str | None:
    _need(v is None or is_day(v), "not a date")
    return v


_CHECKS = {
    "equipment": lambda v: _choice(v, (*EQUIPMENT, None), "equipment"),
    "disclaimer_heard": lambda v: _bool(v, "disclaimer_heard"),
    "days_done": lambda v: _int(v, "days_done", maximum=MAX_DAYS),
    "streak": lambda v: _int(v, "streak", maximum=MAX_DAYS),
    "last_day": _day,
    "resume_at": lambda v: _pos_from(v),
    "pace": lambda v: _choice(v, PACES, "pace"),
    "weaker_side": lambda v: _choice(v, (*SIDES, None), "weaker_side"),
    "detail": lambda v: _choice(v, (True, False, None, "brief", "full"), "detail"),
}
_PROFILE_FIELDS = tuple(f.name for f in dataclasses.fields(Profile))


def _like(default: Any) -> Any:
    """For a profile field without a check of its own: a value of its default's type."""
    def check(v: Any) -> Any:
        _need(v is None or type(v) is type(default) and isinstance(v, str | int | bool), "type")
        return v
    return check


_LIKE_DEFAULT = {f.name: _like(getattr(Profile(), f.name)) for f in dataclasses.fields(Profile)}


def state_to_dict(s: State, *, profile: bool = True) -> dict[str, Any]:
    """The state as JSON; without the profile (``profile=False``) for session attributes, where
    the conversation is kept and the profile is the store's."""
    last = None
    if s.last is not None:
        last = {"speech": _prompts_to(s.last.speech), "reprompt": _prompts_to(s.last.reprompt),
                "seed": s.last.seed}
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
        **({"profile": profile_to_dict(s.profile)} if profile else {}),
    }


def state_from_dict(d: Any, profile: Profile | None = None) -> State:
    """The state ``state_to_dict`` produced, with ``profile`` (else the one in ``d``);
    ``ValueError`` for anything else."""
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
            today=_day(d.get("today")),
            last=last,
            told_stop=_bool(d.get("told_stop", False), "told_stop"),
            profile=profile if profile is not None else profile_from_dict(d.get("profile")),
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


def _int(v: Any, name: str, minimum: int = 0, maximum: int = 999_999) -> int:
    _need(isinstance(v, int) and not isinstance(v, bool) and minimum <= v <= maximum, name)
    return v


def _bool(v: Any, name: str) -> bool:
    _need(isinstance(v, bool), name)
    return v


def _choice(v: Any, options: tuple[Any, ...], name: str) -> Any:
    _need(v in options, name)
    return v
