"""What the request log says about one turn, for the web server and for Lambda alike.

The web service writes it as one JSON line per request (``skill.hosting.request_log``); on
Lambda, ``skill.lambda_function`` passes the same fields to the runtime's JSON log format. Read
defensively from untrusted JSON; never the body, never a user id in clear, and nothing that
tells what a user answered about pain: no conversation phase, and no pain or yes/no intent (in
a pain question, "yes" is a health answer).
"""

from __future__ import annotations

import logging
from typing import Any

from skill.alexa.intents import INTENT_EVENTS
from skill.core.machine import EventKind

REQUEST_LOGGER = "knee_routine.requests"
request_log = logging.getLogger(REQUEST_LOGGER)

# Intents whose name alone (or with the line before it) tells a health answer.
PRIVATE_INTENTS = frozenset(name for name, kind in INTENT_EVENTS.items()
                            if kind in (EventKind.PAIN, EventKind.YES, EventKind.NO))


def turn_fields(event: Any, reply: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    req = _get(event, "request")
    for key, name in (("requestId", "request_id"), ("type", "type"), ("locale", "locale")):
        value = req.get(key)
        if type(value) is str:
            fields[name] = value[:100]
    intent = _get(req, "intent").get("name")
    if type(intent) is str and intent not in PRIVATE_INTENTS:
        fields["intent"] = intent[:100]
    user = (_get(_get(_get(event, "context"), "System"), "user").get("userId")
            or _get(_get(event, "session"), "user").get("userId"))
    if type(user) is str:
        fields["user"] = user_hash(user)
    pos = _get(_get(reply, "sessionAttributes"), "state").get("pos")
    if type(pos) is list and pos and type(pos[0]) is int:
        fields["step"] = pos[0] + 1
    end = _get(reply, "response").get("shouldEndSession")
    if type(end) is bool:
        fields["end_session"] = end
    return fields


def _get(doc: Any, key: str) -> dict[str, Any]:
    """``doc[key]`` when both are JSON objects, else an empty one (untrusted JSON)."""
    value = doc.get(key) if type(doc) is dict else None
    return value if type(value) is dict else _EMPTY


_EMPTY: dict[str, Any] = {}


def user_hash(user_id: str) -> str:
    """A short, stable pseudonym: the same user is one id across lines, never in clear."""
    hashed = _hashes.get(user_id)
    if hashed is None:
        import hashlib  # only when requests are logged: loading OpenSSL's costs a cold start

        hashed = hashlib.sha256(user_id.encode("utf-8", "replace")).hexdigest()[:16]
        if len(_hashes) >= 4096:
            _hashes.clear()  # a bound, not an LRU: active users come back at once
        _hashes[user_id] = hashed
    return hashed


_hashes: dict[str, str] = {}
