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
import re
from typing import Any

from skill.errors import UntrustedText

log = logging.getLogger(__name__)

MAX_ID_CHARS = 1024  # Alexa's user ids are about 200 characters
MAX_SLOT_CHARS = 500  # a spoken phrase
MAX_ATTRIBUTE_CHARS = 256  # the skill writes short keys and values to the session
MAX_ATTRIBUTE_NUMBER = 2**53  # a counter or a time in ms fits; 10**30 does not
MAX_DEPTH = 64  # as the web app's parser allows

_UNCLEAN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Where unclean characters can hide in raw JSON: only behind an escape (a raw control character
# or a surrogate is not valid JSON or UTF-8) or as U+FFFE/U+FFFF. None of these in the body: no
# string outside slots and attributes needs looking at (those are always looked at).
_UNCLEAN_ESCAPES = (b"\\u", b"\\b", b"\\f")  # behind a backslash (looked for first)
_NON_CHARACTERS = (b"\xef\xbf\xbe", b"\xef\xbf\xbf")  # U+FFFE, U+FFFF (behind \xef\xbf)


def _is_clean(text: str) -> bool:
    """No unclean character in ``text``. Printable text (the usual, in any script) has none;
    only text that is not (a tab, an ideographic space, ...) is searched."""
    return text.isprintable() or _UNCLEAN.search(text) is None


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

# By the object holding them, parents first (every object on the way, with or without ids):
# (the object's path, its parent's path, its key in the parent, the keys of ids in it).
_ID_GROUPS: tuple[tuple[tuple[str, ...], tuple[str, ...], str, tuple[str, ...]], ...] = tuple(
    (prefix, prefix[:-1], prefix[-1], tuple(path[-1] for path in ID_PATHS if path[:-1] == prefix))
    for prefix in sorted(dict.fromkeys(path[:n] for path in ID_PATHS
                                       for n in range(1, len(path))), key=len))


def check_request(event: Any, body: bytes | None = None) -> Any:
    """``event`` with unclean slots and session attributes dropped; raises ``UntrustedText``
    when text that identifies it, or any other text outside slots and attributes, is not
    clean. ``body``, the raw JSON when at hand, tells cheaply whether that other text needs
    looking at (only an escape can carry an unclean character in JSON)."""
    if type(event) is not dict:
        return event  # not an envelope: the runtime refuses it
    dropped: list[str] = []
    attributes = _at(event, "session", "attributes")
    if type(attributes) is dict:
        for key in [k for k, v in attributes.items()
                    if not _fits(k, v, MAX_ATTRIBUTE_CHARS)]:
            del attributes[key]
            dropped.append(f"session attribute {_name(key)}")
    slots = _at(event, "request", "intent", "slots")
    if type(slots) is dict:
        for name in [k for k, v in slots.items() if not _fits(k, v, MAX_SLOT_CHARS)]:
            del slots[name]
            dropped.append(f"slot {_name(name)}")
    holders: dict[tuple[str, ...], Any] = {(): event}
    for prefix, parent_path, name, keys in _ID_GROUPS:
        parent = holders[parent_path]
        holder = holders[prefix] = parent.get(name) if type(parent) is dict else None
        if type(holder) is not dict:
            continue
        for key in keys:
            value = holder.get(key)
            if type(value) is str and (len(value) > MAX_ID_CHARS or not _is_clean(value)):
                raise UntrustedText(f"{'.'.join((*prefix, key))} is not clean text")
    if _may_hold_unclean(body) and not _clean(event, (attributes, slots), 0):
        raise UntrustedText("the request holds text that is not clean (a control character "
                            "or a lone surrogate)")
    if dropped:
        log.warning("dropped from the request as unclean text: %s", ", ".join(dropped))
    return event


def _may_hold_unclean(body: bytes | None) -> bool:
    if body is None:
        return True  # a parsed event only (Lambda): look at every string
    # One byte (memchr) or two first: the usual body has no escape and no U+FFxx at all.
    return (b"\\" in body and any(part in body for part in _UNCLEAN_ESCAPES)) or \
        (b"\xef\xbf" in body and any(part in body for part in _NON_CHARACTERS))


def _fits(key: Any, value: Any, max_chars: int) -> bool:
    """Whether a slot or an attribute (``key``, ``value``) is clean and within bounds."""
    return _bounded(key, max_chars, 0) and _bounded(value, max_chars, 0)


def _bounded(node: Any, max_chars: int, depth: int) -> bool:
    kind = type(node)
    if kind is str:
        return len(node) <= max_chars and _is_clean(node)
    if kind is int or kind is float:  # NaN and infinities fail the comparison too
        return -MAX_ATTRIBUTE_NUMBER <= node <= MAX_ATTRIBUTE_NUMBER
    if kind is dict:
        if depth > MAX_DEPTH:
            return False
        for k, v in node.items():
            if len(k) > max_chars or not _is_clean(k) or not _bounded(v, max_chars, depth + 1):
                return False
    elif kind is list:
        if depth > MAX_DEPTH:
            return False
        for item in node:
            if not _bounded(item, max_chars, depth + 1):
                return False
    return True  # None, True, False, and what held only these


def _clean(node: Any, skip: tuple[Any, ...], depth: int) -> bool:
    """Whether every string (and key) under ``node``, outside ``skip``, is clean text."""
    kind = type(node)
    if kind is str:
        return _is_clean(node)
    if kind is dict:
        if depth > MAX_DEPTH:
            return False
        if node is skip[0] or node is skip[1]:
            return True
        for k, v in node.items():
            if (type(k) is str and not _is_clean(k)) or not _clean(v, skip, depth + 1):
                return False
    elif kind is list:
        if depth > MAX_DEPTH:
            return False
        for item in node:
            if not _clean(item, skip, depth + 1):
                return False
    return True


def _at(doc: Any, *keys: str) -> Any:
    for key in keys:
        if type(doc) is not dict:
            return None
        doc = doc.get(key)
    return doc


def _name(key: Any) -> str:
    """A dropped part's name for the log: short, ASCII, never the hostile text itself."""
    return ascii(key[:40]) if isinstance(key, str) else type(key).__name__
