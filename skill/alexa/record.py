"""The user's stored record in a turn: load it, and apply the turn's change to it.

The store holds the truth. A turn reads the record, steps the machine from it, and then applies
*the change it made* (a finished day, a new pace, a new place in the routine, equipment, detail,
the extra-set side, a delete) to the stored record with a version check; if another device wrote
in between, it re-reads and re-applies. Session attributes keep the conversation and the name of
the record's incarnation (``gen``): a session whose record was deleted (or replaced) elsewhere
stops writing, so it cannot bring the record back; a new launch starts a fresh one.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

from skill.alexa import codec
from skill.alexa.memo import Memo, json_key
from skill.core.machine import Profile, is_consistent, start_state
from skill.core.model import replace
from skill.core.routine import Routine
from skill.storage.record import Deadline, Store, Stored, new_gen

log = logging.getLogger(__name__)

RECORD_FORMAT = 2  # {"v": 2, "profile": {...}}
PROGRESS = ("days_done", "streak", "last_day")  # changed together, by a finished day
MAX_TRIES = 12  # writes of one turn against other devices' writes (then the turn apologises;
# the turn's store deadline bounds the time they take)
BACKOFF_SECONDS = 0.01  # after a conflict, a random wait up to this times the attempt
PROFILES_KEPT = 1024  # decoded profiles kept per process (a few hundred bytes each)


class WriteConflict(RuntimeError):
    """Other devices kept writing the record; this turn's change could not be applied."""


class DayDone(NamedTuple):
    """A routine finished on ``day``: what it added, and the progress it was counted from."""

    day: str | None
    added: int
    streak: int
    counted_from: str | None  # last_day before it


class Change(NamedTuple):
    """What a turn changed in the profile, to apply to whatever the store holds now."""

    values: tuple[tuple[str, Any], ...] = ()  # fields set to these values
    day_done: DayDone | None = None

    def __bool__(self) -> bool:
        return bool(self.values) or self.day_done is not None

    def applied_to(self, p: Profile) -> Profile:
        p = replace(p, **dict(self.values))
        d = self.day_done
        if d is None or (d.day is not None and p.last_day == d.day):  # counted already
            return p
        if p.last_day == d.counted_from:  # nobody finished a routine since
            return replace(p, days_done=p.days_done + d.added, streak=d.streak, last_day=d.day)
        later = d.day is not None and (p.last_day is None or d.day > p.last_day)
        return replace(p, days_done=p.days_done + d.added,
                       streak=d.streak if later else p.streak,
                       last_day=d.day if later else p.last_day)


_KEPT_FIELDS = tuple(f.name for f in dataclasses.fields(Profile) if f.name not in codec.NOT_KEPT)


def change_between(before: Profile, after: Profile, repairs: tuple[str, ...] = ()) -> Change:
    """The change from ``before`` to ``after`` (plus the fields to write back repaired)."""
    if before == after and not repairs:  # most turns
        return Change()
    values = []
    for name in _KEPT_FIELDS:
        new = getattr(after, name)
        if name in repairs or (name not in PROGRESS and getattr(before, name) != new):
            values.append((name, new))
    day_done = None
    if any(getattr(before, n) != getattr(after, n) for n in PROGRESS) and \
            after.days_done > before.days_done:
        day_done = DayDone(after.last_day, after.days_done - before.days_done, after.streak,
                           before.last_day)
    return Change(tuple(values), day_done)


class Loaded(NamedTuple):
    """A user's record as this turn found it."""

    profile: Profile
    stored: Stored
    repairs: tuple[str, ...] = ()  # values dropped as meaningless, to write back cleaned


class RecordKeeper:
    """Reads and writes the users' records in ``store`` for the turns."""

    def __init__(self, store: Store, routine: Routine) -> None:
        self.store = store
        self.routine = routine
        self.profiles = Memo(PROFILES_KEPT)  # a stored profile and its day -> profile_of's

    def load(self, user_id: str | None, today: str | None, deadline: Deadline) -> Loaded:
        if user_id is None:
            return Loaded(Profile(), Stored())
        stored = self.store.read(user_id, deadline)
        profile, repairs = self.profile_of(stored, today)
        return Loaded(profile, stored, repairs)

    def profile_of(self, stored: Stored, today: str | None) -> tuple[Profile, tuple[str, ...]]:
        """The stored profile, each value checked for meaning; the dropped ones named (and
        logged when this process first reads them)."""
        data = stored.data.get("profile")
        key = json_key(data)
        known = self.profiles.get((key, today)) if key is not None else None
        if known is not None:
            return known
        profile, dropped = codec.read_profile(data, today)
        if profile.resume_at is not None and not is_consistent(start_state(profile),
                                                               self.routine):
            profile, dropped = replace(profile, resume_at=None), (*dropped, "resume_at")
        if dropped:
            log.warning("stored values dropped as meaningless: %s", ", ".join(dropped))
        if key is not None:
            self.profiles.put((key, today), (profile, dropped))
        return profile, dropped

    def apply(self, user_id: str, change: Change, loaded: Loaded, session_gen: str | None,
              today: str | None, deadline: Deadline) -> str | None:
        """Apply ``change`` to the stored record; the record's gen after it, or None when the
        session's record was deleted or replaced elsewhere (then nothing is written)."""
        stored = loaded.stored
        for attempt in range(MAX_TRIES):
            if attempt:  # writers that met stop meeting again at once
                time.sleep(random.uniform(0, BACKOFF_SECONDS * attempt))
            if session_gen is not None and stored.gen != session_gen:
                return None  # deleted or replaced by another device: do not bring it back
            base, _ = self.profile_of(stored, today) if stored is not loaded.stored \
                else (loaded.profile, ())
            gen = stored.gen or new_gen()
            data = {"v": RECORD_FORMAT, "profile": codec.profile_to_dict(change.applied_to(base))}
            if self.store.write(user_id, stored, gen, data, deadline):
                return gen
            stored = self.store.read(user_id, deadline)  # someone wrote: again, on theirs
            if session_gen is None and stored.gen is not None:
                session_gen = stored.gen  # created by another device since: join it
        raise WriteConflict(f"the record changed {MAX_TRIES} times during one turn")

    def delete(self, user_id: str | None, deadline: Deadline) -> None:
        if user_id is not None:
            self.store.delete(user_id, deadline)


def session_record(attributes: Mapping[str, Any] | None) -> tuple[bool, str | None]:
    """From session attributes: whether the session is on a record, and that record's gen."""
    if not isinstance(attributes, Mapping) or "record" not in attributes:
        return False, None
    gen = attributes["record"]
    ok = isinstance(gen, str) and 0 < len(gen) <= 64 and gen.isascii() and gen.isalnum()
    return True, gen if ok else None

