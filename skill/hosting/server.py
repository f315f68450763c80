"""The production web server: waitress with limits chosen for Alexa's 8 s deadline.

``serve(app, host=..., port=...)`` runs waitress (README, "Production web service"). Before it
serves, it turns on ``faulthandler``, so a fatal signal (SIGSEGV, or SIGBUS when SQLite's WAL
index cannot be mapped) writes "Fatal Python error" and every thread's traceback to stderr
instead of killing the process without a word, and it rate-limits waitress's "Task queue depth"
warnings (under a sustained overload they came several times a second, for hours). SIGTERM
stops it as Ctrl-C does, the request lines still queued written first. Its
connections are ``QuietChannel``s: the main loop does not spin while a worker writes a response.
The JSON logs live in ``skill.hosting.request_log``.
"""

from __future__ import annotations

import faulthandler
import functools
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask

from skill.hosting.request_log import flush_request_lines

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
    enable_fault_traceback()
    limit_queue_warnings()
    server = create_server(app, host=host, port=port, threads=threads)
    stop_on_sigterm()
    server.print_listen("Serving on http://{}:{}")
    server.run()  # until SIGTERM or Ctrl-C
    flush_request_lines()


def stop_on_sigterm() -> None:
    """SIGTERM (``systemctl stop``, ``docker stop``) stops the server as Ctrl-C does: waitress
    lets its workers finish the requests they are answering (up to 5 s; any still waiting in its
    queue are not answered), then the queued request lines are written."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)  # KeyboardInterrupt


def create_server(app: Any, *, host: str, port: int, threads: int | None = None) -> Any:
    """waitress's server with ``WAITRESS_SETTINGS``, its connections ``QuietChannel``s."""
    from waitress.server import BaseWSGIServer
    from waitress.server import create_server as waitress_server

    settings = {**WAITRESS_SETTINGS, **({"threads": threads} if threads else {})}
    server = waitress_server(app, host=host, port=port, **settings)
    listeners = [server] if isinstance(server, BaseWSGIServer) else \
        [s for s in server.map.values() if isinstance(s, BaseWSGIServer)]
    for listener in listeners:
        listener.channel_class = quiet_channel_class()
    return server


@functools.cache
def quiet_channel_class() -> type:
    """waitress's connection, not polled for writing while its worker thread writes it.

    A worker sends its response itself, holding the connection's output lock (``send_bytes``
    is 1); the ``send`` releases the GIL, and the worker must get it back before it lets go of the
    lock. Meanwhile waitress's main loop saw the connection writable, polled, found the lock
    taken, and polled again at once, over and over, holding the GIL the worker was waiting for:
    at 64 connections the server spent most of its time in that loop and its throughput
    collapsed. Here a connection whose worker holds the lock is not writable; the worker wakes
    the main loop when it is done with the request (``pull_trigger``), as it always did, and
    anything it left unsent is written then."""
    from waitress.channel import HTTPChannel

    class QuietChannel(HTTPChannel):
        def writable(self) -> bool:
            if self.total_outbufs_len and self.requests and not (
                    self.will_close or self.close_when_flushed):
                lock = self.outbuf_lock
                if not lock.acquire(False):
                    return False  # the worker is writing: handle_write could not take it
                lock.release()
            return bool(super().writable())

    return QuietChannel


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
