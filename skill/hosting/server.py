"""The production web server (waitress) and the JSON logs.

``serve(app, host=..., port=...)`` runs waitress with limits chosen for Alexa's 8 s deadline
(README, "Production web service"). ``install_request_log(app)`` writes one JSON line per
request: request id, type, intent, locale, phase and step after the turn, status, latency and
a hash of the user id. No intent or phase for a turn about pain (a health answer); never the
body, never a user id in clear.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from typing import Any

from flask import Flask, Response, g

from skill.alexa.envelope import part, text

request_log = logging.getLogger("knee_routine.requests")

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


def serve(app: Flask, *, host: str, port: int, threads: int | None = None) -> None:
    from waitress.server import create_server

    settings = {**WAITRESS_SETTINGS, **({"threads": threads} if threads else {})}
    server = create_server(app, host=host, port=port, **settings)
    server.print_listen("Serving on http://{}:{}")
    server.run()


# -- logs ---------------------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and a record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC)
            .isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        doc.update(getattr(record, "fields", {}))
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        # ASCII: no raw line separators (U+2028, NEL) or lone surrogates from request fields
        return json.dumps(doc, ensure_ascii=True, default=str)


def configure_json_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def install_request_log(app: Flask) -> None:
    """Log every request as one line. ``POST /alexa`` leaves ``g.event``, ``g.reply`` and
    ``g.rejected`` for it to read."""

    @app.before_request
    def start_clock() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def log_request(response: Response) -> Response:
        from flask import request

        fields: dict[str, Any] = {"method": request.method, "path": request.path,
                                  "status": response.status_code}
        started = g.get("started")
        if started is not None:
            fields["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
        fields.update(turn_fields(g.get("event"), g.get("reply")))
        if g.get("rejected"):  # not Alexa's, or not readable: no user in the log at all
            fields["reason"] = g.rejected
            fields.pop("user", None)
        request_log.info("request", extra={"fields": fields})
        return response


def turn_fields(event: Any, reply: Any) -> dict[str, Any]:
    """What is worth logging about one turn, read defensively from untrusted JSON."""
    fields: dict[str, Any] = {}
    request = part(event, "request")
    for key, name in (("requestId", "request_id"), ("type", "type"), ("locale", "locale")):
        if isinstance(request.get(key), str):
            fields[name] = request[key][:100]
    intent = text(request, "intent", "name")
    if intent is not None:
        fields["intent"] = intent[:100]
    before = text(event, "session", "attributes", "state", "phase")
    user = (text(event, "context", "System", "user", "userId")
            or text(event, "session", "user", "userId"))
    if user is not None:
        fields["user"] = user_hash(user)
    state = part(reply, "sessionAttributes", "state")
    if isinstance(state.get("phase"), str):
        fields["phase"] = state["phase"]
    pos = state.get("pos")
    if isinstance(pos, list) and pos and isinstance(pos[0], int):
        fields["step"] = pos[0] + 1
    if _about_pain(intent, before, fields.get("phase")):  # no health answer in the log
        fields.pop("intent", None)
        fields.pop("phase", None)
    end = part(reply, "response").get("shouldEndSession")
    if isinstance(end, bool):
        fields["end_session"] = end
    return fields


def _about_pain(intent: str | None, *phases: str | None) -> bool:
    """A turn that reports pain or answers a pain question: its intent (yes, no) and phase
    would tell a reader of the log about the user's health."""
    return intent == "PainIntent" or any(p is not None and p.startswith("pain") for p in phases)


def user_hash(user_id: str) -> str:
    """A short, stable pseudonym: the same user is one id across lines, never in clear."""
    return hashlib.sha256(user_id.encode("utf-8", "replace")).hexdigest()[:16]

