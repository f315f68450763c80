"""The Alexa wire format, responses: the ASK response objects to JSON.

``response_json`` writes a response envelope as the SDK's ``DefaultSerializer.serialize`` would,
without its per-call reflection (``tests/alexa/test_wire.py`` compares them). JSON already in
wire form (``WireJson``: the Echo Show's document) passes through as it is, and ASK objects that
many responses share (``written_once``: a rendered answer's words, reprompt and card) are
written once and handed out as copies.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from typing import Any, TypeVar

from ask_sdk_model import ResponseEnvelope

from skill.alexa.memo import Memo
from skill.alexa.wire import json_copy, sdk_serializer
from skill.output.screen import WireJson

T = TypeVar("T")


def response_json(envelope: ResponseEnvelope) -> dict[str, Any]:
    """The response envelope as JSON, keys in the SDK's order. Session attributes are JSON
    already (``skill.alexa.codec`` writes them) and pass through as they are."""
    out: dict[str, Any] = {"version": envelope.version}
    if envelope.session_attributes is not None:
        out["sessionAttributes"] = envelope.session_attributes
    if envelope.user_agent is not None:
        out["userAgent"] = envelope.user_agent
    if envelope.response is not None:
        out["response"] = to_json(envelope.response)
    return out


def to_json(obj: Any) -> Any:
    """What the SDK's ``DefaultSerializer.serialize`` returns, without its per-call reflection:
    model attributes that are None are left out; enums become values, times ISO strings. JSON
    already in wire form (the Echo Show's document) passes through as it is."""
    kind = type(obj)
    if kind in _AS_IS:
        return obj
    fields = _model_fields(kind)
    if fields is not None:  # an ASK model object (the usual case after plain values)
        written = _WRITTEN.get(id(obj))
        if written is not None and written[0] is obj:
            return json_copy(written[1])
        out = {}
        for attr, key in fields:
            value = getattr(obj, attr)
            if value is not None:
                out[key] = value if type(value) in _AS_IS else to_json(value)
        return out
    if obj is None or isinstance(obj, str | int | float | bytes):  # bool is an int
        return obj
    if isinstance(obj, dict):
        return {key: to_json(value) for key, value in obj.items()}
    if kind is list:
        return [value if type(value) in _AS_IS else to_json(value) for value in obj]
    if isinstance(obj, list | tuple):
        return kind(to_json(value) for value in obj)
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, dt.datetime | dt.date):
        return obj.isoformat()
    return sdk_serializer().serialize(obj)  # not an ASK model (e.g. Decimal): the SDK knows


_AS_IS = frozenset({str, int, float, bool, bytes, WireJson})  # written out as they are


def written_once(obj: T) -> T:
    """``obj``, an ASK model object that many responses share and nobody changes, with its
    JSON written now: ``to_json`` hands out copies of that instead of walking it each time.
    The memo holds the object, so its ``id`` names it while it is there."""
    _WRITTEN.put(id(obj), (obj, to_json(obj)))
    return obj


_WRITTEN = Memo(4096)  # id -> (the object, its JSON)


@functools.cache
def _model_fields(cls: type) -> tuple[tuple[str, str], ...] | None:
    types = getattr(cls, "deserialized_types", None)
    if not isinstance(types, dict):
        return None
    names = getattr(cls, "attribute_map", {})
    return tuple((attr, names.get(attr, attr)) for attr in types)
