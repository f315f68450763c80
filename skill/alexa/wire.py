"""The Alexa wire format, requests: the JSON envelope to the ASK objects the SDK reads.

Both halves of the wire format (responses: ``skill.alexa.wire_response``) skip the SDK's
generic, reflective serializer (about two thirds of the hello-world skill's time per request).
``request_envelope`` builds complete ASK objects for what the SDK and the handlers read
(session, user, application, device, the request with its type, id, time, locale and, for an
intent, the intent with its slots and their resolutions), so the SDK's idioms
(``is_intent_name``, ``get_slot``, ``get_device_id``) work. ``tests/alexa/test_wire.py``
compares both halves with the SDK's own serializer. Request types, and parts of a request, that
the fast path does not know go through the SDK's deserializer.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any

from ask_sdk_model import (
    Application,
    Context,
    Device,
    Intent,
    IntentConfirmationStatus,
    IntentRequest,
    LaunchRequest,
    RequestEnvelope,
    Session,
    SessionEndedRequest,
    Slot,
    SlotConfirmationStatus,
    SupportedInterfaces,
    User,
)
from ask_sdk_model.dialog_state import DialogState
from ask_sdk_model.interfaces.system import SystemState
from ask_sdk_model.session_ended_reason import SessionEndedReason
from ask_sdk_model.simple_slot_value import SimpleSlotValue
from ask_sdk_model.slu.entityresolution import (
    Resolution,
    Resolutions,
    Status,
    StatusCode,
    Value,
    ValueWrapper,
)

from skill.alexa.memo import Memo, json_key
from skill.errors import BadRequest


def check_envelope(event: Any) -> None:
    """The shape checks the SDK does not do: raise ``BadRequest`` early and clearly."""
    if not isinstance(event, Mapping):
        raise BadRequest("the request body is not a JSON object")
    request = event.get("request")
    if not isinstance(request, Mapping):
        raise BadRequest("request is missing")
    if not isinstance(request.get("type"), str):
        raise BadRequest("request.type is missing")
    for key in ("session", "context"):
        if key in event and event[key] is not None and not isinstance(event[key], Mapping):
            raise BadRequest(f"{key} is not an object")


# -- request: JSON -> the ASK objects the SDK reads ----------------------------------------------

# The request types this skill answers: their ASK class, and the enum field the SDK checks.
FAST_REQUEST_TYPES: Mapping[str, tuple[type, str, frozenset[str]]] = {
    "LaunchRequest": (LaunchRequest, "", frozenset()),
    "IntentRequest": (IntentRequest, "dialogState", frozenset(e.value for e in DialogState)),
    "SessionEndedRequest": (SessionEndedRequest, "reason",
                            frozenset(e.value for e in SessionEndedReason)),
}


def request_envelope(event: Mapping[str, Any]) -> RequestEnvelope:
    """A ``RequestEnvelope`` holding what the SDK and the handlers read (session, user,
    application, device with its interfaces, the request with its intent and slots), checked
    as strictly as the SDK's serializer checks them. Raises ``BadRequest``."""
    session = _object(event, "session")
    system = _object(_object(event, "context"), "System", "context")
    req = event["request"]
    return RequestEnvelope(
        version=_str(event, "version"),
        session=None if session is None else Session(
            new=bool(session.get("new")), session_id=_str(session, "sessionId"),
            user=_user(session, "session"),
            attributes=_session_attributes(session),
            application=_application(session, "session")),
        context=None if system is None else Context(system=SystemState(
            application=_application(system, "context.System"),
            user=_user(system, "context.System"), device=_device(system),
            api_endpoint=_str(system, "apiEndpoint"),
            api_access_token=_str(system, "apiAccessToken"))),
        request=_request(req),
    )


def _request(req: Mapping[str, Any]) -> Any:
    kind = req["type"]
    request_class, enum_key, allowed = FAST_REQUEST_TYPES[kind]
    value = req.get(enum_key) if enum_key else None
    if value is not None and (not isinstance(value, str) or value not in allowed):
        raise BadRequest(f"request.{enum_key} is not one Alexa sends")
    common = {"request_id": _str(req, "requestId"), "timestamp": _timestamp(req.get("timestamp")),
              "locale": _str(req, "locale")}
    if kind == "IntentRequest":
        intent = _object(req, "intent", "request")
        slots = _object(intent, "slots", "request.intent")
        if slots is not None and not all(isinstance(s, Mapping) for s in slots.values()):
            raise BadRequest("request.intent.slots has a slot that is not an object")
        return IntentRequest(**common, dialog_state=None if value is None else DialogState(value),
                             intent=_intent(intent))
    if kind == "SessionEndedRequest":
        error = _object(req, "error", "request")
        return SessionEndedRequest(
            **common, reason=None if value is None else SessionEndedReason(value),
            error=_model(error, "ask_sdk_model.session_ended_error.SessionEndedError",
                         "request.error"))
    return request_class(**common)


def _intent(data: Mapping[str, Any] | None) -> Intent | None:
    """The intent as the SDK builds it: directly for a name and plain slots (most turns), by
    the SDK's deserializer for anything richer (entity resolutions, slot values, odd types)."""
    if data is None:
        return None
    name, status, slots = data.get("name"), data.get("confirmationStatus"), data.get("slots")
    if (data.keys() <= _INTENT_KEYS and isinstance(name, str | None)
            and isinstance(status, str | None) and status in _INTENT_STATUSES
            and isinstance(slots, Mapping | None)):
        built = {} if slots is not None else None
        for key, slot in (slots or {}).items():
            plain = _plain_slot(slot)
            built[key] = plain if plain is not None else _model(
                slot, "ask_sdk_model.slot.Slot", "request.intent.slots")
        return Intent(name=name, slots=built,
                      confirmation_status=None if status is None else _INTENT_STATUSES[status])
    return _model(data, "ask_sdk_model.intent.Intent", "request.intent")


def _plain_slot(slot: Mapping[str, Any]) -> Slot | None:
    """A slot as Alexa usually sends it (a value, entity resolutions, a simple ``slotValue``),
    built directly; None for anything else (the SDK's deserializer reads it)."""
    name, value, status = slot.get("name"), slot.get("value"), slot.get("confirmationStatus")
    if not (slot.keys() <= _SLOT_KEYS and isinstance(name, str | None)
            and isinstance(value, str | None) and isinstance(status, str | None)
            and status in _SLOT_STATUSES):
        return None
    resolutions = _resolutions(slot.get("resolutions"))
    slot_value = _simple_slot_value(slot.get("slotValue"))
    if resolutions is _NOT_PLAIN or slot_value is _NOT_PLAIN:
        return None
    return Slot(name=name, value=value,
                confirmation_status=None if status is None else _SLOT_STATUSES[status],
                resolutions=resolutions, slot_value=slot_value)


def _resolutions(data: Any) -> Any:
    """Entity resolutions: authorities with a status code and values (name, id)."""
    if data is None:
        return None
    if type(data) is not dict or data.keys() != {"resolutionsPerAuthority"}:
        return _NOT_PLAIN
    authorities = data["resolutionsPerAuthority"]
    if type(authorities) is not list:
        return _NOT_PLAIN
    built = []
    for item in authorities:
        if type(item) is not dict or not item.keys() <= _AUTHORITY_KEYS:
            return _NOT_PLAIN
        authority, status, values = item.get("authority"), item.get("status"), item.get("values")
        code = status.get("code") if type(status) is dict else None
        if (not isinstance(authority, str | None) or type(status) not in (dict, type(None))
                or (status is not None and (status.keys() != {"code"}
                                            or code not in _STATUS_CODES))
                or type(values) not in (list, type(None))):
            return _NOT_PLAIN
        wrapped = None
        if values is not None:
            wrapped = []
            for v in values:
                inner = v.get("value") if type(v) is dict else None
                if (type(inner) is not dict or v.keys() != {"value"}
                        or not inner.keys() <= _VALUE_KEYS
                        or not all(isinstance(x, str | None) for x in inner.values())):
                    return _NOT_PLAIN
                wrapped.append(ValueWrapper(value=Value(name=inner.get("name"),
                                                        id=inner.get("id"))))
        built.append(Resolution(authority=authority, values=wrapped,
                                status=None if status is None
                                else Status(code=_STATUS_CODES[code])))
    return Resolutions(resolutions_per_authority=built)


def _simple_slot_value(data: Any) -> Any:
    """A ``slotValue`` of type Simple (a list of values goes to the SDK's deserializer)."""
    if data is None:
        return None
    if (type(data) is not dict or data.get("type") != "Simple"
            or not data.keys() <= _SIMPLE_VALUE_KEYS
            or not isinstance(data.get("value"), str | None)):
        return _NOT_PLAIN
    resolutions = _resolutions(data.get("resolutions"))
    if resolutions is _NOT_PLAIN:
        return _NOT_PLAIN
    return SimpleSlotValue(value=data.get("value"), resolutions=resolutions)


_NOT_PLAIN = object()  # a part the fast path does not build
_INTENT_KEYS = frozenset({"name", "slots", "confirmationStatus"})
_SLOT_KEYS = frozenset({"name", "value", "confirmationStatus", "resolutions", "slotValue"})
_AUTHORITY_KEYS = frozenset({"authority", "status", "values"})
_VALUE_KEYS = frozenset({"name", "id"})
_SIMPLE_VALUE_KEYS = frozenset({"type", "value", "resolutions"})
_STATUS_CODES: Mapping[Any, Any] = {e.value: e for e in StatusCode}
_INTENT_STATUSES: Mapping[Any, Any] = {None: None, **{e.value: e for e in IntentConfirmationStatus}}
_SLOT_STATUSES: Mapping[Any, Any] = {None: None, **{e.value: e for e in SlotConfirmationStatus}}


def _model(data: Mapping[str, Any] | None, model: str, where: str) -> Any:
    """A nested part (an intent and its slots, an error, the supported interfaces) read by the
    SDK's own deserializer, so that it is exactly what the SDK would build."""
    if data is None:
        return None
    try:
        return _sdk_read(data, model)
    except Exception:  # the SDK raises several types for malformed parts
        raise BadRequest(f"{where} is not what Alexa sends") from None


@functools.cache
def sdk_serializer() -> Any:
    """The SDK's own serializer, for what the fast paths do not know (imported when needed)."""
    from ask_sdk_core.serialize import DefaultSerializer

    return DefaultSerializer()


def _sdk_read(data: Any, model: str) -> Any:
    return sdk_serializer()._DefaultSerializer__deserialize(data, model)  # no JSON round trip


class JsonAttributes(dict):
    """Session attributes as parsed from JSON. ``AttributesManager`` deep-copies them each turn;
    JSON needs no ``copy.deepcopy`` (its memo and dispatch): plain dicts and lists suffice."""

    __slots__ = ()

    def __deepcopy__(self, memo: Any) -> dict[str, Any]:
        return json_copy(self)


def json_copy(value: Any) -> Any:
    """A copy of a JSON value (its dicts and lists new)."""
    if type(value) is dict or type(value) is JsonAttributes:
        return {key: json_copy(item) for key, item in value.items()}
    if type(value) is list:
        return [json_copy(item) for item in value]
    return value  # str, int, float, bool, None: immutable (anything else is shared, as JSON is)


def _session_attributes(session: Mapping[str, Any]) -> JsonAttributes | None:
    attributes = _object(session, "attributes", "session")
    return None if attributes is None else JsonAttributes(attributes)


def _object(holder: Mapping[str, Any] | None, key: str, where: str | None = None) -> Any:
    """``holder[key]``, an object or None (``where``: the holder's path, for the error)."""
    value = holder.get(key) if holder is not None else None
    if value is None or type(value) is dict or isinstance(value, Mapping):
        return value
    raise BadRequest(f"{where}.{key} is not an object" if where else f"{key} is not an object")


def _str(holder: Mapping[str, Any], key: str) -> str | None:
    value = holder.get(key)
    return value if isinstance(value, str) else None


def _user(holder: Mapping[str, Any], where: str) -> User | None:
    user = _object(holder, "user", where)
    return None if user is None else User(user_id=_str(user, "userId"),
                                          access_token=_str(user, "accessToken"))


def _application(holder: Mapping[str, Any], where: str) -> Application | None:
    app = _object(holder, "application", where)
    return None if app is None else Application(application_id=_str(app, "applicationId"))


def _device(system: Mapping[str, Any]) -> Device | None:
    device = _object(system, "device", "context.System")
    if device is None:
        return None
    interfaces = _object(device, "supportedInterfaces", "context.System.device")
    if not interfaces:  # none (a speaker): no need for the SDK's reflection
        supported = None if interfaces is None else SupportedInterfaces()
    else:
        supported = _supported_interfaces(interfaces)
    return Device(device_id=_str(device, "deviceId"), supported_interfaces=supported)


def _supported_interfaces(interfaces: Mapping[str, Any]) -> SupportedInterfaces:
    """The SDK's reading of a device's interfaces, once per distinct set (a few kinds of device
    send them all): the SDK's deserializer is a third of an Echo Show turn. Shared read-only."""
    key = json_key(interfaces)
    supported = _INTERFACES.get(key) if key is not None else None
    if supported is None:
        supported = _model(interfaces, "ask_sdk_model.supported_interfaces.SupportedInterfaces",
                           "context.System.device.supportedInterfaces")
        if key is not None and len(key) <= _INTERFACES_KEY_CHARS:
            _INTERFACES.put(key, supported)
    return supported


_INTERFACES = Memo(64)  # devices come in a few kinds
_INTERFACES_KEY_CHARS = 4096


def _timestamp(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise BadRequest("request.timestamp is not an ISO 8601 time") from None
