"""The one clock: what time it is, as a function that tests and simulators replace."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """Now, in UTC (aware)."""
    return dt.datetime.now(dt.UTC)
