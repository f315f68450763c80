"""The composition root: builds the skill once per process for every entry point.

``SkillRuntime(config)`` wires content, the store, the clock, the Alexa API clients and the
handlers into ask-sdk-core's dispatch; ``SkillRuntime.handle`` takes a request envelope as JSON
(a dict) and returns the response envelope as JSON. The Lambda handler, the Flask app and the
simulator are each a few lines over it; ``skill.hosting.settings.store_from_env`` chooses the
store for all of them.

The wire format (JSON to complete ASK objects and back, without the SDK's reflective
serializer) is ``skill.alexa.wire``. ``AskSkill`` runs ask-sdk-core's dispatch (handlers,
exception handlers, attributes) as ``CustomSkill.invoke`` does, without the Alexa service
clients this skill does not use: importing them is a fifth of a cold start.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ask_sdk_core.__version__ import __version__ as ask_sdk_version
from ask_sdk_core.attributes_manager import AttributesManager
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import RESPONSE_FORMAT_VERSION, user_agent_info
from ask_sdk_model import RequestEnvelope, ResponseEnvelope
from ask_sdk_runtime.dispatch import GenericRequestDispatcher
from ask_sdk_runtime.skill import RuntimeConfigurationBuilder
from ask_sdk_runtime.utils import UserAgentManager

from skill.alexa import envelope, handlers, reminders
from skill.alexa.conversation import Conversation, ReminderClient
from skill.alexa.timezone import TimeZones
from skill.alexa.turn import Turn
from skill.alexa.wire import (
    FAST_REQUEST_TYPES,
    BadRequest,
    check_envelope,
    request_envelope,
)
from skill.alexa.wire_response import response_json
from skill.clock import Clock, utc_now
from skill.content.loader import Content, load_content
from skill.storage.record import Store

log = logging.getLogger(__name__)

__all__ = ["BadRequest", "SkillConfig", "SkillRuntime", "request_envelope", "response_json"]


@dataclass
class SkillConfig:
    persistence: Store | None = None  # the store of users' records; None: SQLite in memory
    skill_id: str | None = None
    content: Content | None = None
    clock: Clock = field(default=utc_now)  # for requests without a timestamp
    time_zones: TimeZones | None = None  # None: the Alexa Settings API, cached
    reminder_client: ReminderClient = reminders.create


class SkillRuntime:
    """A built skill: request envelope JSON in, response envelope JSON out."""

    def __init__(self, config: SkillConfig) -> None:
        self.config = config
        self.content = config.content or load_content()
        self.store = config.persistence or _memory_store()
        self.conversation = Conversation(self.content, self.store, config.clock,
                                         config.reminder_client, config.time_zones)
        self.skill = build_skill(self.conversation)

    def handle(self, event: Any, lambda_context: Any = None) -> dict[str, Any]:
        """Answer one request envelope. Raises ``BadRequest`` for what is not one."""
        check_envelope(event)
        if event["request"]["type"] in FAST_REQUEST_TYPES:
            request = request_envelope(event)
        else:
            request = self.deserialize(event)
        if self.config.skill_id is not None and self.application_id(event) != self.config.skill_id:
            raise BadRequest("applicationId does not match this skill")
        response = self.skill.invoke(request_envelope=request, context=Turn(event, lambda_context))
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


class AskSkill:
    """ask-sdk-core's request dispatch for one request envelope, as ``CustomSkill`` runs it."""

    def __init__(self, dispatcher: GenericRequestDispatcher) -> None:
        self.dispatcher = dispatcher
        UserAgentManager.register_component(user_agent_info(sdk_version=ask_sdk_version))

    def invoke(self, request_envelope: RequestEnvelope, context: Any) -> ResponseEnvelope:
        attributes = SessionAttributesOnRead(request_envelope)
        handler_input = HandlerInput(request_envelope=request_envelope,
                                     attributes_manager=attributes, context=context)
        response = self.dispatcher.dispatch(handler_input=handler_input)
        in_session = request_envelope.session is not None
        return ResponseEnvelope(
            response=response, version=RESPONSE_FORMAT_VERSION,
            session_attributes=attributes.session_attributes if in_session else None,
            user_agent=UserAgentManager.get_user_agent())


class SessionAttributesOnRead(AttributesManager):
    """The SDK's ``AttributesManager``, copying the request's session attributes when a handler
    first reads them rather than on every request: the turn writes new ones without reading
    these (it reads the request's), so most turns need no copy."""

    def __init__(self, request_envelope: RequestEnvelope) -> None:
        session = request_envelope.session
        sent = session.attributes if session is not None else None
        if session is not None:
            session.attributes = None  # the SDK's constructor then has nothing to copy
        try:
            super().__init__(request_envelope=request_envelope)
        finally:
            if session is not None:
                session.attributes = sent
        self._sent = sent
        self._copied = sent is None

    @property
    def session_attributes(self) -> dict[str, Any] | None:
        if not self._copied:
            self._session_attributes = copy.deepcopy(self._sent)
            self._copied = True
        return AttributesManager.session_attributes.fget(self)  # out of session: it raises

    @session_attributes.setter
    def session_attributes(self, value: dict[str, Any] | None) -> None:
        AttributesManager.session_attributes.fset(self, value)
        self._copied = True


def build_skill(conversation: Conversation) -> AskSkill:
    builder = RuntimeConfigurationBuilder()
    for handler in (
        handlers.TurnHandler(conversation),  # Launch, Intent, SessionEnded: the turn
        # Other request types this skill answers (e.g. Connections.Response) go here.
        handlers.OtherRequestHandler(),  # last: anything else gets an empty answer
    ):
        builder.add_request_handler(handler)
    builder.add_exception_handler(handlers.ApologyHandler(conversation))
    dispatcher = GenericRequestDispatcher(options=builder.get_runtime_configuration())
    return AskSkill(dispatcher)


def _memory_store() -> Store:
    from skill.storage.sqlite import SQLiteStore

    return SQLiteStore(":memory:")
