"""The JSON logs: one line per request, written cheaply, and nothing about a user's health.

``configure_json_logging()`` makes every log line a JSON object (time, level, logger, message).
``install_request_log(app)`` adds one line per request: method, path, status, latency, request
id, type, locale, intent, step, whether the session ended, a refusal's reason, and a short hash
of the user id. Never the body, never a user id in clear, and nothing that tells what a user
answered about pain: no conversation phase, and no pain or yes/no intent (in a pain question,
"yes" is a health answer).

The request line is built as text (no ``json.dumps`` of a dict, no ``LogRecord`` formatting per
field); when the JSON handler of ``configure_json_logging`` is the only one listening, it is
written straight to its stream.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from contextlib import suppress
from json import dumps
from json.encoder import encode_basestring_ascii as _quote  # type: ignore[attr-defined]
from typing import Any

from flask import Flask, Response, g, request

from skill.hosting.turn_log import (
    REQUEST_LOGGER,
    request_log,
    turn_fields,
)


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
    # One write(2) of the whole line, with no lock held: a worker thread that waits for the
    # GIL after the write holds up no other thread (a held handler lock made them queue).
    # Lines are whole (ASCII, a few hundred bytes: atomic on a pipe, and on a file Linux keeps
    # the offset per write); other records' lines are flushed whole by their handler.
    data = (line + "\n").encode("ascii", "backslashreplace")
    with suppress(OSError):
        while data:
            data = data[os.write(fd, data):]


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
