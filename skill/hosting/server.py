"""The production web server: waitress with limits chosen for Alexa's 8 s deadline.

``serve(app, host=..., port=...)`` runs waitress (README, "Production web service"). Before it
serves, it turns on ``faulthandler``, so a fatal signal (SIGSEGV, or SIGBUS when SQLite's WAL
index cannot be mapped) writes "Fatal Python error" and every thread's traceback to stderr
instead of killing the process without a word, and it rate-limits waitress's "Task queue depth"
warnings (under a sustained overload they came several times a second, for hours).
The JSON logs live in ``skill.hosting.request_log``.
"""

from __future__ import annotations

import faulthandler
import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask

log = logging.getLogger("knee_routine")

# waitress: its async front end reads whole requests and writes whole responses, so a slow
# client never holds a worker thread; the threads only run the skill (a few ms per turn).
WAITRESS_SETTINGS: dict[str, Any] = {
    "threads": 8,  # turns are short and mostly CPU; threads cover SQLite and certificate waits
    "connection_limit": 100,  # beyond this, connections wait in the listen backlog
    "channel_timeout": 10,  # an idle connection closes after 10 s: Alexa gave up after 8 s
    "cleanup_interval": 2,  # how often idle connections are looked for
    "max_request_header_size": 32 * 1024,
    "max_request_body_size": 1024 * 1024,  # hard cap; the app answers 413 above 256 KB
    "asyncore_use_poll": True,  # no select() limit on open sockets
    "ident": "knee-routine",
}
QUEUE_WARNING_INTERVAL_S = 60.0


def serve(app: Flask, *, host: str, port: int, threads: int | None = None) -> None:
    from waitress.server import create_server

    enable_fault_traceback()
    limit_queue_warnings()
    settings = {**WAITRESS_SETTINGS, **({"threads": threads} if threads else {})}
    server = create_server(app, host=host, port=port, **settings)
    server.print_listen("Serving on http://{}:{}")
    server.run()


def enable_fault_traceback() -> None:
    """A fatal signal leaves a traceback on stderr, not just a dead process."""
    if not faulthandler.is_enabled():
        faulthandler.enable(file=sys.stderr, all_threads=True)
    log.info("faulthandler on: a fatal signal (SIGSEGV, SIGBUS, SIGABRT) writes the Python "
             "traceback of every thread to stderr before the process dies")


class EveryInterval(logging.Filter):
    """Lets one record through per ``interval_s``; the next one says how many were held back."""

    def __init__(self, interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval_s = interval_s
        self.clock = clock
        self._next = float("-inf")
        self._held = 0
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        now = self.clock()
        with self._lock:
            if now < self._next:
                self._held += 1
                return False
            self._next = now + self.interval_s
            held, self._held = self._held, 0
        if held:
            record.msg = f"{record.msg} ({held} more like this in the last " \
                         f"{self.interval_s:g} s not logged)"
        return True


def limit_queue_warnings(interval_s: float = QUEUE_WARNING_INTERVAL_S) -> None:
    """At most one waitress "Task queue depth is N" warning per ``interval_s``."""
    queue_log = logging.getLogger("waitress.queue")
    if not any(isinstance(f, EveryInterval) for f in queue_log.filters):
        queue_log.addFilter(EveryInterval(interval_s))
