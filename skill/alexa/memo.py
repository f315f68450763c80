"""What this process last decoded and checked, kept so the next turn need not do it again.

``Memo`` is a small bounded map, safe across the web server's threads: when full, the oldest
entry goes. Two uses:

- stored profiles (``skill.alexa.record``), keyed by ``json_key`` of the stored JSON and the
  day: a new string, so nothing changed later in the request reaches the memo, and a strict one
  (``1``, ``1.0`` and ``True`` stay apart, as the decoder keeps them apart);
- session conversations (``skill.alexa.conversation``), keyed by session, locale and turn, and
  kept with their JSON as written: reused only when the session sends that JSON back.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Any


class Memo:
    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: dict[Hashable, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        return self._entries.get(key)

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            entries = self._entries
            if key not in entries and len(entries) >= self.size:
                del entries[next(iter(entries))]  # the oldest (dicts keep insertion order)
            entries[key] = value

    def __len__(self) -> int:
        return len(self._entries)


def json_key(value: Any) -> str | None:
    """A memo key for a JSON value, or None where there is none (too deep to write)."""
    try:
        return repr(value)
    except RecursionError:
        return None
