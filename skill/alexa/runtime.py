"""The composition root: builds the skill once per process for every entry point.

``build_skill(config)`` wires content, the persistence adapter, the handlers and the skill id
into an ASK ``CustomSkill``; ``SkillRuntime.handle`` takes a request envelope as JSON (a dict)
and returns the response envelope as JSON. The Lambda handler, the Flask app and the simulator
are each a few lines over it.

The request path skips the SDK's generic, reflective serializer both ways (it is about two
thirds of the hello-world skill's time per request): ``request_envelope`` builds the few ASK
objects the SDK and the persistence adapters read straight from the dict, and ``response_json``
writes the response objects out directly. The handlers read the raw request through ``Turn``.
Request types this skill does not answer still go through the SDK's serializer.

``AskSkill`` runs ask-sdk-core's dispatch (handlers, interceptors, exception handlers, attributes
and persistence) as ``CustomSkill.invoke`` does, without the Alexa service clients this skill does
not use: importing them is a fifth of a cold start.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ask_sdk_core.__version__ import __version__ as ask_sdk_version
from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter, AttributesManager
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import RESPONSE_FORMAT_VERSION, user_agent_info
from ask_sdk_model import (
    Application,
    Context,
    Device,
    IntentRequest,
    LaunchRequest,
    RequestEnvelope,
    ResponseEnvelope,
    Session,
    SessionEndedRequest,
    User,
)
from ask_sdk_model.dialog_state import DialogState
from ask_sdk_model.interfaces.system import SystemState
from ask_sdk_model.session_ended_reason import SessionEndedReason
from ask_sdk_runtime.dispatch import GenericRequestDispatcher
from ask_sdk_runtime.skill import RuntimeConfigurationBuilder
from ask_sdk_runtime.utils import UserAgentManager

from skill.alexa import envelope, handlers
from skill.alexa.consent import ConsentResponseHandler
from skill.alexa.conversation import Clock, Conversation, Turn, utc_now
from skill.content.loader import Content, load_content
from skill.output.screen import WireJson

log = logging.getLogger(__name__)


class BadRequest(ValueError):
    """The request is not an Alexa request envelope this skill can answer."""


@dataclass
class SkillConfig:
    persistence: AbstractPersistenceAdapter | None = None
    skill_id: str | None = None
    content: Content | None = None
    clock: Clock = field(default=utc_now)


class SkillRuntime:
    """A built skill: request envelope JSON in, response envelope JSON out."""

    def __init__(self, config: SkillConfig) -> None:
        self.config = config
        self.content = config.content or load_content()
        self.conversation = Conversation(self.content, config.clock)
        self.skill = build_skill(self.conversation, config)

    def handle(self, event: Any, lambda_context: Any = None) -> dict[str, Any]:
        """Answer one request envelope. Raises ``BadRequest`` for what is not one."""
        check_envelope(event)
        if event["request"]["type"] in FAST_REQUEST_TYPES:
            envelope = request_envelope(event)
        else:
            envelope = self.deserialize(event)
        if self.config.skill_id is not None and self.application_id(event) != self.config.skill_id:
            raise BadRequest("applicationId does not match this skill")
        response = self.skill.invoke(request_envelope=envelope, context=Turn(event, lambda_context))
        return response_json(response)

    def deserialize(self, event: Mapping[str, Any]) -> RequestEnvelope:
        """The SDK's own (slow, thorough) reading of a whole envelope."""
        from ask_sdk_core.serialize import DefaultSerializer

        try:
            return DefaultSerializer().deserialize(payload=json.dumps(event),
                                                   obj_type=RequestEnvelope)
        except Exception as e:  # the SDK raises several types for malformed envelopes
            raise BadRequest(f"malformed request envelope: {type(e).__name__}") from None

    @staticmethod
    def application_id(event: Mapping[str, Any]) -> str | None:
        return envelope.text(event, "context", "System", "application", "applicationId")


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
    """A ``RequestEnvelope`` holding what the SDK and the persistence adapters read (session,
    user, application, device, request type, id, time and locale), checked as strictly as the
    SDK's serializer checks them. Raises ``BadRequest``."""
    session = _object(event, "session")
    system = _object(_object(event, "context"), "System", "context.System")
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
    if kind == "IntentRequest":
        slots = _object(_object(req, "intent", "request.intent"), "slots", "request.intent.slots")
        if slots is not None and not all(isinstance(s, Mapping) for s in slots.values()):
            raise BadRequest("request.intent.slots has a slot that is not an object")
    if kind == "SessionEndedRequest":
        _object(req, "error", "request.error")
    return request_class(request_id=_str(req, "requestId"),
                         timestamp=_timestamp(req.get("timestamp")), locale=_str(req, "locale"))


class JsonAttributes(dict):
    """Session attributes as parsed from JSON. ``AttributesManager`` deep-copies them each turn;
    JSON needs no ``copy.deepcopy`` (its memo and dispatch): plain dicts and lists suffice."""

    __slots__ = ()

    def __deepcopy__(self, memo: Any) -> dict[str, Any]:
        return _json_copy(self)


def _json_copy(value: Any) -> Any:
    if type(value) is dict or type(value) is JsonAttributes:
        return {key: _json_copy(item) for key, item in value.items()}
    if type(value) is list:
        return [_json_copy(item) for item in value]
    return value  # str, int, float, bool, None: immutable (anything else is shared, as JSON is)


def _session_attributes(session: Mapping[str, Any]) -> JsonAttributes | None:
    attributes = _object(session, "attributes", "session.attributes")
    return None if attributes is None else JsonAttributes(attributes)


def _object(holder: Mapping[str, Any] | None, key: str, where: str | None = None) -> Any:
    value = holder.get(key) if holder is not None else None
    if value is not None and not isinstance(value, Mapping):
        raise BadRequest(f"{where or key} is not an object")
    return value


def _str(holder: Mapping[str, Any], key: str) -> str | None:
    value = holder.get(key)
    return value if isinstance(value, str) else None


def _user(holder: Mapping[str, Any], where: str) -> User | None:
    user = _object(holder, "user", f"{where}.user")
    return None if user is None else User(user_id=_str(user, "userId"),
                                          access_token=_str(user, "accessToken"))


def _application(holder: Mapping[str, Any], where: str) -> Application | None:
    app = _object(holder, "application", f"{where}.application")
    return None if app is None else Application(application_id=_str(app, "applicationId"))


def _device(system: Mapping[str, Any]) -> Device | None:
    device = _object(system, "device", "context.System.device")
    if device is not None:
        _object(device, "supportedInterfaces", "context.System.device.supportedInterfaces")
    return None if device is None else Device(device_id=_str(device, "deviceId"))


def _timestamp(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise BadRequest("request.timestamp is not an ISO 8601 time") from None


# -- response: the ASK objects -> JSON -----------------------------------------------------------


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
    if type(obj) is WireJson:
        return obj
    if obj is None or isinstance(obj, str | int | float | bytes):  # bool is an int
        return obj
    if isinstance(obj, dict):
        return {key: to_json(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(to_json(value) for value in obj)
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, dt.datetime | dt.date):
        return obj.isoformat()
    fields = _model_fields(type(obj))
    if fields is None:  # not an ASK model (e.g. Decimal): the SDK's serializer knows
        from ask_sdk_core.serialize import DefaultSerializer

        return DefaultSerializer().serialize(obj)
    out = {}
    for attr, key in fields:
        value = getattr(obj, attr)
        if value is not None:
            out[key] = to_json(value)
    return out


@functools.cache
def _model_fields(cls: type) -> tuple[tuple[str, str], ...] | None:
    types = getattr(cls, "deserialized_types", None)
    if not isinstance(types, dict):
        return None
    names = getattr(cls, "attribute_map", {})
    return tuple((attr, names.get(attr, attr)) for attr in types)


class AskSkill:
    """ask-sdk-core's request dispatch for one request envelope, as ``CustomSkill`` runs it."""

    def __init__(self, dispatcher: GenericRequestDispatcher,
                 persistence: AbstractPersistenceAdapter | None) -> None:
        self.dispatcher = dispatcher
        self.persistence = persistence
        UserAgentManager.register_component(user_agent_info(sdk_version=ask_sdk_version))

    def invoke(self, request_envelope: RequestEnvelope, context: Any) -> ResponseEnvelope:
        attributes = AttributesManager(request_envelope=request_envelope,
                                       persistence_adapter=self.persistence)
        handler_input = HandlerInput(request_envelope=request_envelope,
                                     attributes_manager=attributes, context=context)
        response = self.dispatcher.dispatch(handler_input=handler_input)
        in_session = request_envelope.session is not None
        return ResponseEnvelope(
            response=response, version=RESPONSE_FORMAT_VERSION,
            session_attributes=attributes.session_attributes if in_session else None,
            user_agent=UserAgentManager.get_user_agent())


def build_skill(conversation: Conversation, config: SkillConfig) -> AskSkill:
    builder = RuntimeConfigurationBuilder()
    for handler in (
        handlers.LaunchHandler(conversation),
        handlers.IntentHandler(conversation),
        handlers.SessionEndedHandler(conversation),
        ConsentResponseHandler(conversation),
        handlers.OtherRequestHandler(),
    ):
        builder.add_request_handler(handler)
    builder.add_global_request_interceptor(handlers.LoadState(conversation))
    builder.add_global_response_interceptor(handlers.SaveState(conversation))
    builder.add_exception_handler(handlers.ApologyHandler(conversation))
    dispatcher = GenericRequestDispatcher(options=builder.get_runtime_configuration())
    return AskSkill(dispatcher, config.persistence)
