"""Hostile text kept out of the skill, for both entry points (the web app and Lambda).

``check_request(event, body)`` runs after the JSON is parsed and before the skill sees it.
Clean text here is a string with no NUL or other control character (tab, newline and carriage
return aside), no lone surrogate (``"\\ud800"`` parses to one, and breaks every encoder after
it) and no non-character, within a length that fits where it is:

- text that identifies the request (its ids, type, locale, timestamp, intent name), or any text
  outside slots and session attributes, that is not clean: the request is refused
  (``UntrustedText``, a ``BadRequest``: HTTP 400 on the web, a warning line on Lambda);
- a slot whose text is not clean or is longer than a spoken phrase: the slot is dropped, as if
  Alexa had not heard it;
- a session attribute holding text that is not clean, text longer than the skill ever writes
  there, or a number out of bounds (prompt parameters come back from the session this way):
  the attribute is dropped and the conversation goes on from the stored record.

Whatever is dropped is named (never quoted) in one warning line per request.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any

from skill.hosting.errors import UntrustedText

log = logging.getLogger(__name__)

MAX_ID_CHARS = 1024  # Alexa's user ids are about 200 characters
MAX_SLOT_CHARS = 500  # a spoken phrase
MAX_ATTRIBUTE_CHARS = 256  # the skill writes short keys and values to the session
MAX_ATTRIBUTE_NUMBER = 10**9

_UNCLEAN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# The text that identifies a request: any of these not clean refuses it.
ID_PATHS: tuple[tuple[str, ...], ...] = (
    ("request", "requestId"), ("request", "type"), ("request", "locale"),
    ("request", "timestamp"), ("request", "intent", "name"), ("request", "dialogState"),
    ("request", "reason"),
    ("session", "sessionId"), ("session", "user", "userId"),
    ("session", "application", "applicationId"),
    ("context", "System", "user", "userId"), ("context", "System", "application",
                                                  "applicationId"),
    ("context", "System", "device", "deviceId"), ("context", "System", "person", "personId"),
    ("context", "System", "apiEndpoint"),
)


def check_request(event: Any, body: bytes | None = None) -> Any:
    """``event`` with unclean slots and session attributes dropped; raises ``UntrustedText``
    when text that identifies it is not clean. ``body``, the raw JSON when at hand, lets a body
    with no ``\\u`` escape skip the search for characters only an escape can carry."""
    if not isinstance(event, dict):
        return event  # not an envelope: the runtime refuses it
    escapes = body is None or b"\\u" in body
    dropped: list[str] = []
    attributes = _at(event, "session", "attributes")
    if isinstance(attributes, dict):
        for key in [k for k, v in attributes.items()
                    if _unclean_tree(k, v, MAX_ATTRIBUTE_CHARS, escapes)]:
            del attributes[key]
            dropped.append(f"session attribute {_name(key)}")
    slots = _at(event, "request", "intent", "slots")
    if isinstance(slots, dict):
        for name in [k for k, v in slots.items() if _unclean_tree(k, v, MAX_SLOT_CHARS, escapes)]:
            del slots[name]
            dropped.append(f"slot {_name(name)}")
    for path in ID_PATHS:
        value = _at(event, *path)
        if isinstance(value, str) and (len(value) > MAX_ID_CHARS or _unclean(value)):
            raise UntrustedText(f"{'.'.join(path)} is not clean text")
    if escapes and _unclean_tree("", event, None, True, skip=(attributes, slots)):
        raise UntrustedText("the request holds text that is not clean (a control character "
                            "or a lone surrogate)")
    if dropped:
        log.warning("dropped from the request as unclean text: %s", ", ".join(dropped))
    return event


def _unclean(text: str) -> bool:
    return _UNCLEAN.search(text) is not None


def _unclean_tree(key: str, value: Any, max_chars: int | None, escapes: bool,
                  skip: tuple[Any, ...] = ()) -> bool:
    """Whether ``key`` or any text, key or number under ``value`` breaks the rules."""
    stack = [key, value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if (max_chars is not None and len(node) > max_chars) or (escapes and _unclean(node)):
                return True
        elif isinstance(node, dict):
            if any(node is s for s in skip):
                continue
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, int | float) and not isinstance(node, bool) \
                and max_chars is not None \
                and not (math.isfinite(node) and abs(node) <= MAX_ATTRIBUTE_NUMBER):
            return True
    return False


def _at(doc: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(key)
    return doc


def _name(key: Any) -> str:
    """A dropped part's name for the log: short, ASCII, never the hostile text itself."""
    return ascii(key[:40]) if isinstance(key, str) else type(key).__name__
