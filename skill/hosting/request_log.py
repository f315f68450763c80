"""The JSON logs: one line per request, written cheaply, and nothing about a user's health.

``configure_json_logging()`` makes every log line a JSON object (time, level, logger, message).
``install_request_log(app)`` adds one line per request: method, path, status, latency, request
id, type, locale, intent, step, whether the session ended, a refusal's reason, and a short hash
of the user id. Never the body, never a user id in clear, and nothing that tells what a user
answered about pain: no conversation phase, and no pain or yes/no intent (in a pain question,
"yes" is a health answer).

The request line is built as text (no ``json.dumps`` of a dict, no ``LogRecord`` formatting per
field); when the JSON handler of ``configure_json_logging`` is the only one listening, it goes
straight to that handler's file descriptor, in batches (``LineBatches``): a worker thread only
queues its line, and a writer thread writes what has gathered every ``BATCH_SECONDS``, so the
request does not make a system call that hands the interpreter lock to another thread.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import threading
import time
from collections import deque
from contextlib import suppress
from json import dumps
from json.encoder import encode_basestring_ascii as _quote  # type: ignore[attr-defined]
from typing import Any

from flask import Flask, Response, g, request

from skill.hosting.turn_log import REQUEST_LOGGER, request_log, turn_fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and a record's ``fields``; a
    record that carries a prebuilt ``json_line`` is written as it is."""

    def format(self, record: logging.LogRecord) -> str:
        line = getattr(record, "json_line", None)
        if line is not None:
            return line
        doc: dict[str, Any] = {
            "time": _stamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        doc.update(getattr(record, "fields", {}))
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        # ASCII: no raw line separators (U+2028, NEL) or lone surrogates from request fields
        return dumps(doc, ensure_ascii=True, default=str)


class JsonHandler(logging.StreamHandler):
    """The handler ``configure_json_logging`` installs (to stderr)."""


def configure_json_logging(level: int = logging.INFO) -> None:
    handler = JsonHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def install_request_log(app: Flask) -> None:
    """Log every request as one line. ``POST /alexa`` leaves ``g.event``, ``g.reply`` and
    ``g.rejected`` for it to read. The clock starts as the request enters the app (a WSGI
    wrapper: no Flask hook to run for it)."""
    app.wsgi_app = _Clocked(app.wsgi_app)  # type: ignore[method-assign]

    @app.after_request
    def log_request(response: Response) -> Response:
        if request_log.isEnabledFor(logging.INFO):
            req = request._get_current_object()  # type: ignore[attr-defined]
            started = req.environ.get(_STARTED)
            latency = (time.perf_counter() - started) * 1000 if started is not None else None
            ctx = g._get_current_object()  # type: ignore[attr-defined]
            write_request_line(req.method, req.path, response.status_code, latency,
                               getattr(ctx, "event", None), getattr(ctx, "reply", None),
                               getattr(ctx, "rejected", None))
        return response


_STARTED = "knee_routine.started"


class _Clocked:
    """A WSGI app that notes in the environ when each request reached it."""

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ[_STARTED] = time.perf_counter()
        return self.wsgi_app(environ, start_response)


def write_request_line(method: str, path: str, status: int, latency_ms: float | None,
                       event: Any, reply: Any, rejected: str | None) -> None:
    fields = request_fields(method, path, status, latency_ms, event, reply, rejected)
    line = request_line(time.time(), fields)
    handler = _only_json_handler()
    if handler is None:  # someone else listens too (tests, an embedding app): the usual way
        request_log.info("request", extra={"fields": fields, "json_line": line})
        return
    fd = _descriptor(handler)
    if fd is None:
        with handler.lock:  # type: ignore[union-attr]
            handler.stream.write(line + "\n")
            handler.flush()
        return
    # ASCII, whole lines: other records' lines are flushed whole by their handler.
    _batches_for(fd).add((line + "\n").encode("ascii", "backslashreplace"))


BATCH_SECONDS = 0.05  # how long a request line may wait to be written
MAX_QUEUED_LINES = 10_000  # beyond this (the output is stuck) a worker writes them itself
ATOMIC_BYTES = 4096  # PIPE_BUF: a write this long is not interleaved with other writers'
EXIT_FLUSH_SECONDS = 5.0  # at exit, how long to wait for a flush already writing


class LineBatches:
    """Lines for one file descriptor, written by a thread of its own in batches: at most
    ``BATCH_SECONDS`` after they were added, whole lines in writes of up to ``ATOMIC_BYTES`` (so
    no other writer's text lands inside a line on a pipe), in the order they came. One flush at
    a time: ``flush()`` returns once what was queued before it is written, whoever wrote it.
    No line is lost to a stuck output or a stop: past ``MAX_QUEUED_LINES`` the adding thread
    flushes itself, and ``flush_request_lines()`` (at exit, and when ``server.serve`` stops on
    SIGTERM or Ctrl-C) writes what is left, waiting at most ``EXIT_FLUSH_SECONDS`` for an
    output that does not take it."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._queued: deque[bytes] = deque()  # append and popleft are atomic: no lock
        self._wake = threading.Event()
        self._flushing = threading.Lock()
        self._writer = threading.Thread(target=self._run, name="request-log", daemon=True)
        self._writer.start()

    def add(self, line: bytes) -> None:
        queued = self._queued
        queued.append(line)
        if len(queued) > MAX_QUEUED_LINES:
            self.flush()
        elif not self._wake.is_set():
            self._wake.set()

    def flush(self, timeout_s: float = -1) -> bool:
        """Writes every queued line; False if another flush held on past ``timeout_s``."""
        if not self._flushing.acquire(timeout=timeout_s):
            return False
        try:
            queued = self._queued
            chunk: list[bytes] = []
            size = 0
            with suppress(IndexError):
                while True:
                    line = queued.popleft()
                    if size + len(line) > ATOMIC_BYTES and chunk:
                        self._write(b"".join(chunk))
                        chunk, size = [], 0
                    chunk.append(line)
                    size += len(line)
            if chunk:
                self._write(b"".join(chunk))
        finally:
            self._flushing.release()
        return True

    def _write(self, data: bytes) -> None:
        with suppress(OSError):  # a closed or broken output: the lines cannot be written
            while data:
                data = data[os.write(self.fd, data):]

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            time.sleep(BATCH_SECONDS)  # let a batch gather
            self.flush()


def _batches_for(fd: int) -> LineBatches:
    batches = _batches.get(fd)
    if batches is None:
        with _batches_lock:
            batches = _batches.get(fd)
            if batches is None:
                batches = _batches[fd] = LineBatches(fd)
    return batches


_batches: dict[int, LineBatches] = {}
_batches_lock = threading.Lock()


@atexit.register
def flush_request_lines() -> None:
    """Writes every request line still queued (at exit, or before the server stops)."""
    for batches in list(_batches.values()):
        batches.flush(EXIT_FLUSH_SECONDS)


# A child process (nothing here forks, but an embedding app may) starts with no queued lines:
# its parent writes them, and the child's writer thread did not survive the fork.
os.register_at_fork(after_in_child=_batches.clear)


def _descriptor(handler: logging.Handler) -> int | None:
    """The file descriptor under the handler's stream; None when it has none (in memory)."""
    stream = getattr(handler, "stream", None)
    cached, fd = _fd_cache[0]  # one tuple: threads never see half an update
    if stream is not cached:
        try:
            fd = stream.fileno()  # type: ignore[union-attr]
        except (AttributeError, OSError, ValueError):
            fd = None
        _fd_cache[0] = (stream, fd)
    return fd


_fd_cache: list[tuple[Any, int | None]] = [(None, None)]  # the stream, and its descriptor


def request_fields(method: str, path: str, status: int, latency_ms: float | None, event: Any,
                   reply: Any, rejected: str | None) -> dict[str, Any]:
    """What is worth logging about one request, read defensively from untrusted JSON."""
    fields: dict[str, Any] = {"method": method, "path": path, "status": status}
    if latency_ms is not None:
        fields["latency_ms"] = round(latency_ms, 2)
    if event is not None:
        fields.update(turn_fields(event, reply))
    if rejected:  # not Alexa's, or not readable: no user in the log at all
        fields["reason"] = rejected
        fields.pop("user", None)
    return fields


def request_line(created: float, fields: dict[str, Any]) -> str:
    """The JSON line for a request: as ``JsonFormatter`` would write it, built as text."""
    out = ['{"time": "', _stamp(created), _HEAD]
    append = out.append
    for key, value in fields.items():
        if isinstance(value, str):
            append(f', "{key}": {_quote(value)}')
        elif isinstance(value, bool):
            append(f', "{key}": true' if value else f', "{key}": false')
        else:  # int or float
            append(f', "{key}": {value!r}')
    append("}")
    return "".join(out)


_HEAD = f'", "level": "info", "logger": "{REQUEST_LOGGER}", "message": "request"'


_last_second: list[tuple[int, str]] = [(-1, "")]  # the last second stamped, and its text


def _stamp(created: float) -> str:
    """ISO 8601 with milliseconds in UTC; the date and time part is made once a second."""
    whole = int(created)
    second, prefix = _last_second[0]  # one tuple: threads never see half an update
    if second != whole:
        prefix = dt.datetime.fromtimestamp(whole, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _last_second[0] = (whole, prefix)
    return f"{prefix}.{int((created - whole) * 1000):03d}+00:00"


def _only_json_handler() -> logging.Handler | None:
    """The JSON handler, when it is the only handler a request line would reach."""
    if request_log.handlers or not request_log.propagate:
        return None
    handlers = logging.getLogger().handlers
    if len(handlers) == 1 and type(handlers[0]) is JsonHandler:
        return handlers[0]
    return None
