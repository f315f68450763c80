"""What the request log says about one turn, for the web server and for Lambda alike.

The web service writes it as one JSON line per request (``skill.hosting.server``); on Lambda,
``skill.lambda_function`` passes the same fields to the runtime's JSON log format. Read
defensively from untrusted JSON; never the body, never a user id in clear.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from skill.alexa.envelope import part, text

request_log = logging.getLogger("knee_routine.requests")


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
    end = part(reply, "response").get("shouldEndSession")
    if isinstance(end, bool):
        fields["end_session"] = end
    return fields


def user_hash(user_id: str) -> str:
    """A short, stable pseudonym: the same user is one id across lines, never in clear."""
    return hashlib.sha256(user_id.encode("utf-8", "replace")).hexdigest()[:16]

